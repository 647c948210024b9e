"""One run at a time: the lock file in output/.state."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from ledgerflow import runlock


def test_lock_holds_pid_and_is_released(tmp_path):
    with runlock.run_lock(tmp_path) as path:
        holder = json.loads(path.read_text("utf-8"))
        assert holder["pid"] == os.getpid()
        assert holder["host"] == socket.gethostname()
    assert not path.exists()


def test_second_run_gives_up_with_a_clear_message(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "run.lock").write_text(
            json.dumps(
                {"pid": other.pid, "host": socket.gethostname(), "started": "T0"}
            ),
            encoding="utf-8",
        )
        ticks = iter([0.0, 0.0, 1.0, 2.0, 3.0])
        with pytest.raises(runlock.RunLocked) as info:
            runlock.acquire(
                tmp_path, 2, clock=lambda: next(ticks), sleep=lambda s: None
            )
    finally:
        other.kill()
        other.wait()
    message = str(info.value)
    assert f"another ledgerflow run (PID {other.pid} on " in message
    assert "started T0" in message and "waited 2 s; wait for it to finish" in message


def test_second_run_waits_until_the_first_is_done(tmp_path):
    path = runlock.acquire(tmp_path)
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        runlock.release(path)  # the first run finishes while the second waits

    taken = runlock.acquire(tmp_path, 60, clock=lambda: 0.0, sleep=sleep)
    assert taken == path and waits == [1.0]
    runlock.release(taken)


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path, caplog):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "run.lock").write_text(
        json.dumps({"pid": dead.pid, "host": socket.gethostname()}), encoding="utf-8"
    )
    path = runlock.acquire(tmp_path)
    assert json.loads(path.read_text("utf-8"))["pid"] == os.getpid()
    assert f"stale lock of PID {dead.pid}" in caplog.text
    runlock.release(path)


def test_lock_of_another_host_is_never_stale(tmp_path):
    holder = {"pid": 1, "host": "another-machine", "started": "T0"}
    assert not runlock.is_stale(holder, alive=lambda pid: False)
    (tmp_path / "run.lock").write_text(json.dumps(holder), encoding="utf-8")
    with pytest.raises(runlock.RunLocked, match=r"delete .*run\.lock"):
        runlock.acquire(tmp_path)


def test_garbled_lock_is_stale():
    assert runlock.is_stale({})
