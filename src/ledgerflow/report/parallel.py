"""Write several output files at once, each in a worker process of its own.

Writing workbooks is pure Python (xlsxwriter), so threads do not overlap it; worker
processes do. A run of a few thousand partners spends most of its time here
(issue 8), and on two cores the largest workbook (insights) can be written while
the others are.

Rules:
- Each output is one ``WriteJob``: a module-level writer function and what it needs
  (only that is pickled and sent).
- ``write_workers`` "auto" uses processes only when the estimated saving in cells
  (``overlap_cells``) pays for starting them (PARALLEL_MIN_CELLS); small runs and
  the test suite stay in this process. An int N forces N processes (1 = here).
- Processes come from the "forkserver" context ("spawn" where there is none):
  never fork, as the flow runs inside Prefect with threads.
- The largest job is submitted first; results come back in the jobs' order.
- An error in a worker comes back as the same exception (an OutputError naming the
  file stays one), with the worker's traceback as its cause and a note naming the
  file; when several jobs fail, the first in the jobs' order is raised, as in
  this process.
- Log records and Python warnings of a worker are replayed here, through the
  loggers of this process (so Prefect's run log gets them), when the job ends.
- As with any multiprocessing, a worker imports the main module of the program
  first: a script that writes with processes needs the usual
  ``if __name__ == "__main__":`` guard (the CLI and the flow file have it).
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import pickle
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ledgerflow.config import valid_write_workers
from ledgerflow.errors import ConfigError, OutputError

log = logging.getLogger(__name__)

# Estimated table cells a second process must take off the longest one before
# "auto" starts processes: starting one (importing pandas and xlsxwriter) costs
# about as much as writing 100,000 cells, so below twice that it is not worth it.
PARALLEL_MIN_CELLS = 200_000

# Imported once by the fork server, so its workers start with them loaded.
WORKER_PRELOAD = [
    "__main__",
    "ledgerflow.insights_report",
    "ledgerflow.report.evaluation",
    "ledgerflow.report.outputs",
    "ledgerflow.report.profitability",
]


@dataclass
class WriteJob:
    """One output file: ``function(*args, **kwargs)`` writes ``path``.

    ``function`` must be importable by name (a module-level function) so that a
    worker process can run it; ``cells`` is the estimated size (estimate_cells).
    """

    path: Path
    function: Callable[..., Any]
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    cells: int = 0


class WorkerTraceback(Exception):
    """The traceback of an error raised in a worker process (set as its cause)."""

    def __str__(self) -> str:
        return "\n" + self.args[0] if self.args else ""


# ----------------------------------------------------------------- how many workers


def estimate_cells(*objects: Any) -> int:
    """Table cells held by ``objects``: rows x columns of every DataFrame found in
    them, through dataclasses, dicts, lists and tuples (records in a list count
    their fields each)."""
    seen: set[int] = set()

    def walk(value: Any, depth: int) -> int:
        if depth > 4 or id(value) in seen:
            return 0
        seen.add(id(value))
        if isinstance(value, pd.DataFrame):
            return len(value) * max(len(value.columns), 1)
        if isinstance(value, pd.Series):
            return len(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return sum(
                walk(getattr(value, f.name), depth + 1)
                for f in dataclasses.fields(value)
            )
        if isinstance(value, dict):
            return sum(walk(v, depth + 1) for v in value.values())
        if isinstance(value, list | tuple) and value:
            first = value[0]
            if dataclasses.is_dataclass(first) and not _holds_frames(first):
                return len(value) * len(dataclasses.fields(first))
            return sum(walk(v, depth + 1) for v in value)
        return 0

    return sum(walk(o, 0) for o in objects)


def _holds_frames(record: Any) -> bool:
    return any(
        isinstance(getattr(record, f.name), pd.DataFrame | list | dict)
        for f in dataclasses.fields(record)
    )


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def longest_share(cells: Sequence[int], workers: int) -> int:
    """The cells of the busiest worker when jobs go, largest first, each to the
    least loaded of ``workers`` (the time the parallel write takes, in cells)."""
    loads = [0] * max(workers, 1)
    for size in sorted(cells, reverse=True):
        loads[loads.index(min(loads))] += size
    return max(loads)


def overlap_cells(cells: Sequence[int], workers: int) -> int:
    """Cells of writing saved by ``workers`` processes against one."""
    return sum(cells) - longest_share(cells, workers)


def worker_count(setting: Any, cells: Sequence[int]) -> int:
    """How many processes write ``cells`` (one entry per job); 1 = this process.

    Rules:
    - an int N >= 1 is used as given (never more than there are jobs);
    - "auto": the fewest processes (up to the usable CPUs) that give the shortest
      longest share, when that saves at least PARALLEL_MIN_CELLS; else 1.
    """
    if not valid_write_workers(setting):
        raise ConfigError(
            f'output.write_workers: expected "auto" or a whole number of 1 or '
            f"more (got {setting!r}); fix it in ledgerflow.toml"
        )
    jobs = max(len(cells), 1)
    if setting != "auto":
        return min(setting, jobs)
    best = 1
    for workers in range(2, min(usable_cpus(), jobs) + 1):
        if longest_share(cells, workers) < longest_share(cells, best):
            best = workers
    if overlap_cells(cells, best) < PARALLEL_MIN_CELLS:
        return 1
    return best


# ------------------------------------------------------------------------ run jobs


def run_jobs(
    jobs: Sequence[WriteJob],
    workers: int,
    meanwhile: Callable[[], Any] | None = None,
) -> tuple[list[Any], Any]:
    """Run ``jobs`` with ``workers`` processes (1 = here, one after another).

    Returns (the jobs' results in the jobs' order, the result of ``meanwhile``):
    ``meanwhile`` runs in this process while the workers write (after the jobs
    when workers is 1).
    """
    workers = min(workers, len(jobs))
    if workers <= 1:
        results = [_run_here(job) for job in jobs]
        return results, meanwhile() if meanwhile else None
    level = logging.getLogger("ledgerflow").getEffectiveLevel()
    largest_first = sorted(range(len(jobs)), key=lambda i: -jobs[i].cells)
    context = _context()
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_end_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        futures: dict[int, Future] = {
            i: pool.submit(
                _in_worker, jobs[i].function, jobs[i].args, jobs[i].kwargs, level
            )
            for i in largest_first
        }
        log.debug("outputs: %d files written by %d processes", len(jobs), workers)
        try:
            extra = meanwhile() if meanwhile else None
        except BaseException:
            _cancel(futures.values())
            raise
        try:
            _cancel_after_first_failure(list(futures.values()))
        except BaseException:
            # Ctrl-C (KeyboardInterrupt) while waiting: start no further workbook
            _cancel(futures.values())
            raise
    # the pool has ended: every future is finished or cancelled
    return _results(jobs, [futures[i] for i in range(len(jobs))]), extra


def _context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # only taken into account until the fork server of this process has started
    context.set_forkserver_preload(WORKER_PRELOAD)
    return context


def _end_with_parent(parent: int) -> None:
    """Runs first in each worker: a thread that ends the worker when the run's
    process is gone.

    A run killed outright (SIGKILL, or SIGTERM, which Python does not turn into an
    exception) cannot tell its workers; each would wait forever on its job queue,
    whose write end it holds itself. Polling the parent is portable (a pidfd is
    Linux-only) and costs nothing measurable once a second.
    """

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent and not _alive(parent):
                os._exit(1)

    threading.Thread(target=watch, name="ledgerflow-parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else (pid reused)
        return False
    return True


def _cancel(futures) -> None:
    for future in futures:
        future.cancel()


def _cancel_after_first_failure(futures: list[Future]) -> None:
    """Wait for the jobs; once one fails, start no more (running ones finish)."""
    for future in as_completed(futures):
        if future.cancelled():
            continue
        if future.exception() is not None or future.result().error is not None:
            _cancel(futures)
            return


def _run_here(job: WriteJob) -> Any:
    try:
        return job.function(*job.args, **job.kwargs)
    except Exception as exc:
        exc.add_note(f"while writing {job.path}")
        raise


def _results(jobs: Sequence[WriteJob], futures: list[Future]) -> list[Any]:
    """The jobs' results in order, their records replayed; the first error in the
    jobs' order raised as it was raised in the worker."""
    results: list[Any] = []
    failure: BaseException | None = None
    for job, future in zip(jobs, futures, strict=True):
        results.append(None)
        if future.cancelled():  # only after another job failed
            continue
        try:
            outcome = future.result()
        except BrokenProcessPool as exc:
            broken = OutputError(
                f"{job.path}: not written: a process writing the outputs ended "
                "abruptly (out of memory?); run again with [output] "
                "write_workers = 1",
            )
            broken.__cause__ = exc
            failure = failure or broken
            continue
        _replay(outcome)
        if outcome.error is not None and failure is None:
            failure = outcome.error
            failure.add_note(f"while writing {job.path} (in a worker process)")
            failure.__cause__ = WorkerTraceback(outcome.traceback)
        results[-1] = outcome.value
    if failure is not None:
        raise failure
    return results


# ------------------------------------------------------------ inside the worker


@dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None
    traceback: str = ""
    records: list[logging.LogRecord] = field(default_factory=list)
    warned: list[tuple[str, type[Warning], str, int]] = field(default_factory=list)


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # plain text only: arguments and tracebacks may not pickle
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
        self.records.append(record)


def _in_worker(
    function: Callable[..., Any], args: tuple, kwargs: dict, level: int
) -> _Outcome:
    """Run one job in a worker; catch its log records, warnings and error."""
    logger = logging.getLogger("ledgerflow")
    keep = _Keep()
    # only kept, to be replayed by the parent: not printed or sent from here
    handlers, logger.handlers = logger.handlers, [keep]
    logger.setLevel(level)
    logger.propagate = False
    outcome = _Outcome()
    try:
        with warnings.catch_warnings(record=True) as caught:
            try:
                outcome.value = function(*args, **kwargs)
            except Exception as exc:
                outcome.error = _picklable(exc)
                outcome.traceback = "".join(traceback.format_exception(exc))
        outcome.warned = [
            (str(w.message), w.category, w.filename, w.lineno) for w in caught
        ]
    finally:
        logger.handlers = handlers
    outcome.records = keep.records
    return outcome


def _picklable(exc: Exception) -> Exception:
    """``exc`` when it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _replay(outcome: _Outcome) -> None:
    for record in outcome.records:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)
    for message, category, filename, lineno in outcome.warned:
        warnings.warn_explicit(message, category, filename, lineno)
