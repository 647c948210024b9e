"""Workbooks written by worker processes: same bytes, same errors, same log."""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path

import pandas as pd
import pytest

from hardening.stages import run_stages
from ledgerflow import publish
from ledgerflow.demo import generate_demo
from ledgerflow.errors import ConfigError, OutputError
from ledgerflow.report import parallel
from ledgerflow.report.parallel import WriteJob
from ledgerflow.tables import Reject


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> dict:
    """What write_all was given in one run of the stages over a small demo."""
    root = tmp_path_factory.mktemp("parallel")
    generate_demo(root / "input", partners=40, months=14)
    captured: dict = {}
    real = publish.write_all

    def keep(**kwargs):
        captured.update(kwargs)
        return real(**kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(publish, "write_all", keep)
        run_stages(root / "input", root / "output")
    return captured


def _write(plan: dict, folder: Path, workers) -> list[Path]:
    settings = {**plan["settings"], "write_workers": workers}
    return publish.write_all(**{**plan, "out_dir": folder, "settings": settings})


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ------------------------------------------------------------ the same outputs


def test_two_processes_write_the_same_bytes_in_the_same_order(plan, tmp_path):
    one = _write(plan, tmp_path / "one", 1)
    two = _write(plan, tmp_path / "two", 2)
    assert [p.relative_to(tmp_path / "one") for p in one] == [
        p.relative_to(tmp_path / "two") for p in two
    ]
    digests = _digests(tmp_path / "one")
    # five workbooks, the scorecards and the export; nothing left over
    assert len(digests) == len(one) >= 7
    assert [p.name for p in one[:5]] == [
        "partner_master.xlsx",
        "profitability_2026-11.xlsx",
        "evaluation_2026.xlsx",
        "rejects_2026-11.xlsx",
        "insights_2026-11.xlsx",
    ]
    assert one[-1].name == "lines_2026-11.parquet"
    assert _digests(tmp_path / "two") == digests


def test_auto_keeps_a_small_run_in_this_process(plan):
    jobs = publish._workbook_jobs(
        **{k: v for k, v in plan.items() if k not in ("sales", "settings")}
    )
    cells = [job.cells for job in jobs]
    assert max(cells) == jobs[-1].cells  # insights is the largest
    assert parallel.worker_count("auto", cells) == 1


# ------------------------------------------------------------ errors and logs


def test_an_output_error_in_a_worker_is_the_one_raised_here(plan, tmp_path):
    """A folder in the way of the insights workbook: the same OutputError, naming
    the file, with one process or two; the other workbooks are written."""
    caught = {}
    for workers in (1, 2):
        folder = tmp_path / str(workers)
        (folder / "insights_2026-11.xlsx").mkdir(parents=True)
        with pytest.raises(OutputError) as error:
            _write(plan, folder, workers)
        caught[workers] = error.value
        assert (folder / "partner_master.xlsx").is_file()
        assert not list(folder.rglob("*.tmp"))
    assert type(caught[2]) is type(caught[1])
    assert str(caught[2]) == str(caught[1]).replace("/1/", "/2/")
    assert "insights_2026-11.xlsx: cannot write the file" in str(caught[2])
    assert "close it in Excel" in str(caught[2])
    assert isinstance(caught[2].__cause__, parallel.WorkerTraceback)
    assert "Traceback" in str(caught[2].__cause__)
    assert any("insights_2026-11.xlsx" in note for note in caught[2].__notes__)


def test_the_first_failing_job_in_order_is_raised(tmp_path):
    jobs = [
        WriteJob(tmp_path / "a.xlsx", int, ("12",)),
        WriteJob(tmp_path / "b.xlsx", int, ("not a number",)),
        WriteJob(tmp_path / "c.xlsx", float, ("also not",)),
    ]
    with pytest.raises(ValueError, match="'not a number'") as error:
        parallel.run_jobs(jobs, 2)
    assert error.value.__notes__ == [
        f"while writing {tmp_path / 'b.xlsx'} (in a worker process)"
    ]


def test_a_worker_that_dies_is_an_output_error_naming_the_file(tmp_path):
    jobs = [
        WriteJob(tmp_path / "a.xlsx", os._exit, (3,)),
        WriteJob(tmp_path / "b.xlsx", int, ("2",)),
    ]
    with pytest.raises(OutputError) as error:
        parallel.run_jobs(jobs, 2)
    assert str(error.value) == (
        f"{tmp_path / 'a.xlsx'}: not written: a process writing the outputs ended "
        "abruptly (out of memory?); run again with [output] write_workers = 1"
    )


def test_results_come_back_in_the_jobs_order(tmp_path):
    jobs = [
        WriteJob(tmp_path / "small", int, ("1",), cells=1),
        WriteJob(tmp_path / "large", int, ("2",), cells=1000),
        WriteJob(tmp_path / "middle", int, ("3",), cells=10),
    ]
    assert parallel.run_jobs(jobs, 2, meanwhile=lambda: "here") == ([1, 2, 3], "here")
    assert parallel.run_jobs(jobs, 1, meanwhile=lambda: "here") == ([1, 2, 3], "here")


def test_log_records_and_warnings_of_a_worker_reach_this_process(tmp_path, caplog):
    worker_log = logging.getLogger("ledgerflow.report.somewhere")
    jobs = [
        WriteJob(tmp_path / "a.xlsx", worker_log.warning, ("%s: %d rows cut", "a", 3)),
        WriteJob(tmp_path / "b.xlsx", worker_log.debug, ("never shown",)),
        WriteJob(tmp_path / "c.xlsx", warnings.warn, ("careful", FutureWarning)),
    ]
    caplog.set_level(logging.INFO, logger="ledgerflow")
    with pytest.warns(FutureWarning, match="careful"):
        parallel.run_jobs(jobs, 2)
    shown = [
        (r.name, r.levelname, r.getMessage())
        for r in caplog.records
        if r.name == "ledgerflow.report.somewhere"
    ]
    assert shown == [("ledgerflow.report.somewhere", "WARNING", "a: 3 rows cut")]
    assert [r.process for r in caplog.records if r.name.endswith("somewhere")] != [
        os.getpid()
    ]


# ------------------------------------------------------------ how many workers


def test_estimated_cells_are_rows_times_columns_of_every_frame():
    frame = pd.DataFrame({"a": range(3), "b": range(3), "c": range(3)})
    rejects = [Reject("f.xlsx", "s", i, "c", "v", "rule") for i in range(4)]
    assert parallel.estimate_cells(frame) == 9
    # a frame held twice is sent (and counted) once
    assert parallel.estimate_cells({"x": frame, "y": [frame, frame.head(1)]}) == 12
    assert parallel.estimate_cells(rejects) == 4 * 7
    assert parallel.estimate_cells((frame, frame), {"k": frame}) == 9  # once each
    assert parallel.estimate_cells("text", 3, None) == 0


def test_longest_share_puts_the_largest_first_on_the_least_loaded():
    # 5 -> A, 4 -> B, 3 -> B (7), 3 -> A (8), 3 -> B (10)
    assert parallel.longest_share([3, 5, 3, 4, 3], 2) == 10
    assert parallel.overlap_cells([3, 5, 3, 4, 3], 2) == 18 - 10
    assert parallel.longest_share([3, 5, 3, 4, 3], 1) == 18


def test_auto_uses_only_the_processes_that_shorten_the_write(monkeypatch):
    cells = [1_000_000, 500_000, 300_000, 100_000]
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 8)
    # 2 -> 1.0 M and 0.9 M; 3 or more cannot beat the 1.0 M of the largest
    assert parallel.worker_count("auto", cells) == 2
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 1)
    assert parallel.worker_count("auto", cells) == 1
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    # saving 150,000 cells does not pay for starting a process
    assert parallel.worker_count("auto", [150_000, 150_000, 1000]) == 1
    assert parallel.worker_count("auto", [300_000, 200_000]) == 2


def test_a_number_of_workers_is_used_as_given_up_to_the_jobs():
    assert parallel.worker_count(1, [10**9, 10**9]) == 1
    assert parallel.worker_count(3, [10, 10, 10, 10]) == 3
    assert parallel.worker_count(6, [10, 10]) == 2


@pytest.mark.parametrize("setting", [0, -2, "two", "Auto", 1.5, True, None])
def test_a_wrong_write_workers_setting_says_what_to_write(setting):
    with pytest.raises(ConfigError) as error:
        parallel.worker_count(setting, [1])
    assert str(error.value) == (
        'output.write_workers: expected "auto" or a whole number of 1 or more '
        f"(got {setting!r}); fix it in ledgerflow.toml"
    )


def test_the_shipped_defaults_document_both_settings():
    from ledgerflow.config import load_defaults

    assert (
        load_defaults()["output"]
        == publish.OUTPUT_DEFAULTS
        == {
            "write_workers": "auto",
            "lines_export": "parquet",
        }
    )
