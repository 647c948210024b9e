"""`ledgerflow watch`: settling, debouncing, idempotency, NFD names, a real loop."""

from __future__ import annotations

import hashlib
import json
import os
import time
import unicodedata
from pathlib import Path

from ledgerflow import watch

A, B = Path("in/a.csv"), Path("in/b.csv")


def test_batch_waits_for_files_to_stop_growing_and_for_quiet():
    batcher = watch.Batcher(settle_seconds=10, debounce_seconds=30)
    assert batcher.observe(0, {A: (100, 1)}) is None
    assert batcher.observe(5, {A: (200, 2)}) is None  # still growing
    assert batcher.observe(20, {A: (200, 2), B: (50, 3)}) is None  # b lands
    assert batcher.observe(49, {A: (200, 2), B: (50, 3)}) is None  # 29 s quiet
    assert batcher.observe(50, {A: (200, 2), B: (50, 3)}) == [A, B]  # one batch


def test_settle_time_counts_per_file():
    batcher = watch.Batcher(settle_seconds=10, debounce_seconds=0)
    assert batcher.observe(0, {A: (1, 1)}) is None
    assert batcher.observe(9, {A: (1, 1)}) is None
    assert batcher.observe(10, {A: (1, 1)}) == [A]


def test_a_batch_dealt_with_does_not_trigger_again_until_a_file_changes():
    batcher = watch.Batcher(settle_seconds=0, debounce_seconds=5)
    snap = {A: (1, 1)}
    assert batcher.observe(0, snap) is None
    assert batcher.observe(5, snap) == [A]
    batcher.done(snap)
    assert batcher.observe(100, snap) is None
    assert batcher.observe(101, {A: (1, 2)}) is None  # touched: debounce again
    assert batcher.observe(106, {A: (1, 2)}) == [A]


def test_run_key_is_order_free_and_content_based():
    one, two = "a" * 64, "b" * 64
    assert watch.run_key([one, two]) == watch.run_key([two, one])
    expected = hashlib.sha256(f"{one}\n{two}".encode("ascii")).hexdigest()
    assert watch.run_key([two, one]) == expected


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _watcher(tmp_path, archive, runs):
    clock = _Clock()

    def runner():
        runs.append(sorted(p.name for p in watch.snapshot(tmp_path / "input")))
        return {"period": "2024-03"}

    return clock, watch.Watcher(
        input_dir=tmp_path / "input",
        state_dir=tmp_path / "output" / ".state",
        runner=runner,
        batcher=watch.Batcher(settle_seconds=1, debounce_seconds=2),
        archive=archive,
        lang="en",
        clock=clock,
    )


def test_same_content_never_runs_twice_without_archiving(tmp_path):
    inbox = tmp_path / "input"
    inbox.mkdir()
    nfd = unicodedata.normalize("NFD", "2024년 03월")
    (inbox / nfd).mkdir()
    (inbox / nfd / "매출.csv").write_bytes(b"sales")
    (inbox / "~$매출.xlsx").write_bytes(b"lock")  # Excel lock file: never looked at
    runs: list = []
    clock, watcher = _watcher(tmp_path, False, runs)
    assert watcher.step() is None
    clock.now = 3
    key = watcher.step()
    assert runs == [["매출.csv"]]
    assert key == watch.run_key([hashlib.sha256(b"sales").hexdigest()])

    # rewritten with the same bytes: a new mtime, the same key, no second run
    (inbox / nfd / "매출.csv").write_bytes(b"sales")

    os.utime(inbox / nfd / "매출.csv", ns=(1, 1))
    clock.now = 4
    watcher.step()
    clock.now = 10
    assert watcher.step() is None and len(runs) == 1
    state = json.loads((tmp_path / "output/.state/watch.json").read_text("utf-8"))
    assert list(state["runs"]) == [key]


def test_a_duplicate_drop_is_set_aside_when_archiving(tmp_path):
    inbox = tmp_path / "input"
    inbox.mkdir()
    runs: list = []
    clock, watcher = _watcher(tmp_path, True, runs)
    (inbox / "sales.csv").write_bytes(b"march")
    watcher.step()
    clock.now = 3
    watcher.step()
    (inbox / "sales.csv").rename(tmp_path / "moved-by-the-run.csv")  # archived

    (inbox / "sales copy.csv").write_bytes(b"march")  # the same export again
    clock.now = 4
    watcher.step()
    clock.now = 7
    assert watcher.step() is None and runs == [["sales.csv"]]
    note = (inbox / "rejected" / "sales copy.csv.txt").read_text("utf-8")
    assert note.startswith("sales copy.csv\nSame content as a file already processed")
    assert "sales.csv (" in note


def test_a_failed_run_does_not_stop_the_watcher(tmp_path, caplog):
    inbox = tmp_path / "input"
    inbox.mkdir()
    (inbox / "a.csv").write_bytes(b"x")

    def failing():
        raise OSError("disk full")

    clock = _Clock()
    watcher = watch.Watcher(
        inbox, tmp_path / "state", failing, watch.Batcher(0, 0), False, clock=clock
    )
    assert watcher.step() is None
    assert "run failed (disk full); it runs again when a file changes" in caplog.text
    assert not (tmp_path / "state" / "watch.json").exists()


def test_real_polling_loop_runs_once_for_a_batch(tmp_path):
    """Real clock, real files: two files written in steps make one run."""
    inbox = tmp_path / "input"
    inbox.mkdir()
    runs: list = []

    def runner():
        runs.append(sorted(p.name for p in watch.snapshot(inbox)))
        return {"period": "2024-03"}

    watcher = watch.Watcher(
        inbox, tmp_path / "state", runner, watch.Batcher(0.3, 0.3), True
    )
    with open(inbox / "a.csv", "wb") as handle:
        handle.write(b"part one,")
        handle.flush()
        watcher.step()
        time.sleep(0.1)
        handle.write(b"part two\n")
    (inbox / "b.csv").write_bytes(b"b\n")
    started = time.monotonic()
    watcher.loop(0.05, max_runs=1)
    assert runs == [["a.csv", "b.csv"]]
    assert 0.25 < time.monotonic() - started < 5
