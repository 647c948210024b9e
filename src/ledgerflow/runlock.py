"""One run at a time: a lock file holding the PID of the run that writes the outputs.

Two runs writing the same output folder (a scheduled run and a manual `ledgerflow
run`, or two watcher batches) would interleave their workbooks and the partner-id
registry. Every run therefore takes ``output/.state/run.lock`` first.

Rules:

- The lock file is created with O_CREAT | O_EXCL, so exactly one process wins even
  on a network share; it holds the PID, the host name and the start time.
- A second run waits up to ``wait_seconds`` (0 = not at all) for the lock, then
  raises RunLocked naming the PID, host and start time of the holder and what to do.
- A lock is stale when it was written on this host by a PID that no longer runs;
  it is removed with a warning and taken over. A lock from another host is never
  judged stale (its PID means nothing here): the message says how to remove it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ledgerflow.errors import LedgerflowError

log = logging.getLogger(__name__)

LOCK_NAME = "run.lock"


class RunLocked(LedgerflowError, RuntimeError):
    """Another run holds the lock of this output folder."""


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists but belongs to another user
    except OSError:
        return False
    return True


def read_holder(path: Path) -> dict | None:
    """The content of the lock file, or None when there is none (or it is garbled)."""
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


def is_stale(holder: dict, alive: Callable[[int], bool] = pid_alive) -> bool:
    """A lock written on this host by a process that is gone (or unreadable)."""
    if not holder:
        return True  # an empty or garbled lock: the writer died mid-write
    if holder.get("host") != socket.gethostname():
        return False
    return not alive(int(holder.get("pid", 0)))


def _try_create(path: Path) -> bool:
    payload = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    return True


def _locked_message(path: Path, holder: dict, waited: float) -> str:
    who = f"PID {holder.get('pid')} on {holder.get('host')}"
    since = holder.get("started", "an unknown time")
    fix = (
        "wait for it to finish"
        if holder.get("host") == socket.gethostname()
        else f"if that machine no longer runs ledgerflow, delete {path}"
    )
    return (
        f"{path}: another ledgerflow run ({who}, started {since}) is writing this "
        f"output folder; waited {waited:.0f} s; {fix} and run again"
    )


def acquire(
    state_dir: Path,
    wait_seconds: float = 0,
    *,
    poll_seconds: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Path:
    """Take the lock of ``state_dir``; return the lock file's path (module rules)."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_NAME
    started = clock()
    while True:
        if _try_create(path):
            log.debug("%s: lock taken by PID %d", path, os.getpid())
            return path
        holder = read_holder(path)
        if holder is None:
            continue  # released between our two calls: try again at once
        if is_stale(holder):
            log.warning(
                "%s: stale lock of PID %s (no longer running) removed",
                path,
                holder.get("pid"),
            )
            path.unlink(missing_ok=True)
            continue
        waited = clock() - started
        if waited >= wait_seconds:
            raise RunLocked(_locked_message(path, holder, waited))
        sleep(min(poll_seconds, max(wait_seconds - waited, 0.01)))


def release(path: Path) -> None:
    """Remove the lock file if this process holds it."""
    holder = read_holder(path)
    if holder and holder.get("pid") == os.getpid():
        Path(path).unlink(missing_ok=True)


@contextmanager
def run_lock(state_dir: Path, wait_seconds: float = 0) -> Iterator[Path]:
    """Hold the lock of ``state_dir`` for the body of a with-statement."""
    path = acquire(state_dir, wait_seconds)
    try:
        yield path
    finally:
        release(path)
