"""Faults found by attacking the speed paths of issue 8 (writer processes, export).

Each test here failed when it was written; its name says the fault. The fix
belongs to report/parallel.py; both are fixed there (workers watch the run's
process; an interrupt cancels the jobs not started).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time

# A program that writes two "outputs" with two worker processes; each job notes
# its process id, then takes a minute (a big workbook being written).
_WRITER = textwrap.dedent(
    """
    import os
    import sys
    import time
    from pathlib import Path

    from ledgerflow.report import parallel


    def slow(path):
        Path(path).write_text(str(os.getpid()))
        time.sleep(60)


    if __name__ == "__main__":
        folder = Path(sys.argv[1])
        jobs = [
            parallel.WriteJob(path=folder / f"{i}.pid", function=slow,
                              args=(str(folder / f"{i}.pid"),))
            for i in range(2)
        ]
        parallel.run_jobs(jobs, 2)
    """
)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, already ended, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_killed_run_leaves_no_orphan_writer_processes(tmp_path):
    """A run killed while its workers write (SIGKILL, or SIGTERM, which Python
    does not handle: a scheduler's timeout, the OOM killer) must not leave its
    worker processes behind. They waited forever on the call queue, whose write
    end each worker holds itself, with pandas loaded (about 150 MB each)."""
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    parent = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)],
        start_new_session=True,  # its own process group, cleaned up below
        stderr=subprocess.DEVNULL,
    )
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(pids) < 2 and time.monotonic() < deadline:
            pids = [
                int(p.read_text()) for p in tmp_path.glob("*.pid") if p.stat().st_size
            ]
            time.sleep(0.1)
        assert len(pids) == 2, "the two jobs did not start"
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 5
        while any(map(_alive, pids)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(map(_alive, pids)), "writer processes outlived the run"
    finally:
        parent.kill()
        # the run's own group: its forkserver, workers and resource tracker
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)


_INTERRUPTED = textwrap.dedent(
    """
    import os
    import sys
    import time
    from pathlib import Path

    from ledgerflow.report import parallel


    def slow(path):
        Path(path).write_text(str(os.getpid()))
        time.sleep(1.5)


    if __name__ == "__main__":
        folder = Path(sys.argv[1])
        jobs = [
            parallel.WriteJob(path=folder / f"{i}.pid", function=slow,
                              args=(str(folder / f"{i}.pid"),))
            for i in range(8)
        ]
        parallel.run_jobs(jobs, 2)
    """
)


def test_interrupted_run_starts_no_more_writer_jobs(tmp_path):
    """Ctrl-C sent to the run alone (kill -INT, a service manager) while its
    workers write: the run went on to write and publish every remaining output
    before it stopped. At most the jobs already handed to the workers may still
    start: 2 running + the executor's call queue (max_workers + 1 = 3) = 5 of 8."""
    script = tmp_path / "writer.py"
    script.write_text(_INTERRUPTED)
    parent = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)],
        start_new_session=True,  # its own process group, cleaned up below
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("*.pid"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        parent.send_signal(signal.SIGINT)
        parent.wait(timeout=30)
        started = len(list(tmp_path.glob("*.pid")))
        assert started <= 5, f"{started} of 8 jobs started after the interrupt"
    finally:
        parent.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)
