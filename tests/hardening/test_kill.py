"""A run killed with SIGKILL while reading or writing loses nothing.

A child process runs the stages (tests/hardening/stages.py) on the demo and is
killed at a point chosen from the clock; afterwards every output of the previous
run is intact and readable, no temporary file is taken for an output, and the next
run completes.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from hardening.stages import run_stages

TESTS = Path(__file__).resolve().parents[1]


def _child(input_dir: Path, output_dir: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    return subprocess.Popen(
        [sys.executable, "-m", "hardening.stages", str(input_dir), str(output_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".tmp")
    }


def test_killed_runs_leave_previous_outputs_intact(demo_copy, tmp_path):
    output = tmp_path / "output"
    summary = run_stages(demo_copy, output)
    out = output / summary["period"]
    before = _snapshot(out)
    assert before

    # how long a whole run takes in a child, then kills spread over it: some land
    # while reading (imports and reading come first), some while writing
    started = time.monotonic()
    child = _child(demo_copy, output)
    assert child.wait(timeout=180) == 0, child.stderr.read().decode()[-2000:]
    whole = time.monotonic() - started
    _assert_whole(out, before)
    rng = random.Random(9)
    for share in (0.5, 0.85, rng.uniform(0.6, 0.98)):
        child = _child(demo_copy, output)
        time.sleep(whole * share)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        _assert_whole(out, before)

    # the next run completes and cleans nothing it should not
    again = run_stages(demo_copy, output)
    assert again["period"] == summary["period"]
    _assert_whole(out, before)
    # A killed run's hidden temporaries (.partner_master.<random>.tmp) are swept by
    # the next run, which holds the run lock while it writes.
    assert [p.name for p in out.rglob("*.tmp")] == []


def _assert_whole(out: Path, before: dict[str, bytes]) -> None:
    """Every output is there and whole: its previous bytes or a complete new file.

    (A run reads some of its previous outputs, such as decisions typed into the
    evaluation workbook, so a later run may write other bytes.)
    """
    files = _snapshot(out)
    assert set(files) == set(before)
    for name, data in files.items():
        if data == before[name]:
            continue
        if name.endswith(".xlsx"):
            with zipfile.ZipFile(out / name) as archive:
                assert archive.testzip() is None, name
                assert "xl/workbook.xml" in archive.namelist(), name
        elif name.endswith(".json"):
            json.loads(data.decode("utf-8"))
