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
    # two runs: the second starts from the partner ID registry, as every later one
    run_stages(demo_copy, output)
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
    assert _snapshot(out) == before  # same inputs, same bytes
    rng = random.Random(9)
    for share in (0.55, 0.8, 0.9, rng.uniform(0.6, 0.98)):
        child = _child(demo_copy, output)
        time.sleep(whole * share)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        files = _snapshot(out)
        # every output is whole: the previous bytes, or a complete new workbook
        assert set(files) == set(before)
        for name in files:
            if name.endswith(".xlsx"):
                assert zipfile.ZipFile(out / name).testzip() is None, name
        json.loads((out / "run.json").read_text("utf-8"))

    # the next run completes and cleans nothing it should not
    again = run_stages(demo_copy, output)
    assert again["period"] == summary["period"]
    assert _snapshot(out) == before
