"""Scale-out: the monthly flow on a Dask cluster gives the outputs of a plain run.

One flow run in this process, one on a LocalCluster of two worker processes that
listens on loopback only; both share the session's Prefect server. Everything a person
reads is compared: run.json's row account of every input, and every cell of every
workbook written.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from distributed.diagnostics.plugin import SchedulerPlugin

from ledgerflow import cli
from ledgerflow.demo import generate_demo

pytestmark = pytest.mark.prefect


def _cells(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {
            sheet.title: list(sheet.iter_rows(values_only=True))
            for sheet in book.worksheets
        }
    finally:
        book.close()


class _Finished(SchedulerPlugin):
    """A Dask scheduler plugin noting the key of every task that finished."""

    name = "ledgerflow-test-finished"

    def __init__(self):
        self.keys: list[str] = []

    def transition(self, key, start, finish, *args, **kwargs):
        if finish == "memory":
            self.keys.append(str(key))


@pytest.fixture(scope="module")
def runs(prefect_harness, tmp_path_factory):
    from distributed import LocalCluster
    from prefect_dask import DaskTaskRunner

    flow = cli._load_flow_module("monthly_partner_report").monthly_partner_report
    base = tmp_path_factory.mktemp("dask")
    generate_demo(base / "input")
    plain = flow(
        input_dir=str(base / "input"),
        output_dir=str(base / "plain"),
        lang="en",
        use_store=False,
    )
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # no fixed port, loopback only
    ) as cluster:
        finished = _Finished()
        cluster.scheduler.add_plugin(finished)
        on_dask = flow.with_options(
            task_runner=DaskTaskRunner(address=cluster.scheduler_address)
        )(input_dir=str(base / "input"), output_dir=str(base / "dask"), lang="en")
    return base, plain, on_dask, finished.keys


def test_files_were_read_on_the_cluster(runs):
    base, _, on_dask, finished = runs
    # Prefect names each Dask task after the Prefect task it runs.
    dask_tasks = [key for key in finished if key.startswith("read_validate_file")]
    assert len(dask_tasks) == len(on_dask["inputs"]) == 5, finished
    # The workers wrote the store: one entry per input file.
    assert len(list((base / "dask" / ".state" / "store").rglob("meta.json"))) == 5


def test_run_json_accounts_are_the_same(runs):
    base, plain, on_dask, _ = runs
    assert on_dask["period"] == plain["period"]
    assert on_dask["inputs"] == plain["inputs"]
    assert on_dask["outputs"] == plain["outputs"]
    for name in ("plain", "dask"):
        written = json.loads(
            (base / name / plain["period"] / "run.json").read_text("utf-8")
        )
        assert [i["rows"] for i in written["inputs"]] == [
            i["rows"] for i in plain["inputs"]
        ]


def test_every_workbook_cell_is_the_same(runs):
    base, plain, _, _ = runs
    books = sorted((base / "plain" / plain["period"]).glob("*.xlsx"))
    assert len(books) >= 5
    for book in books:
        other = base / "dask" / plain["period"] / book.name
        assert _cells(book) == _cells(other), book.name


def test_workers_option_builds_a_loopback_local_cluster():
    flow = cli._load_flow_module("monthly_partner_report").monthly_partner_report
    assert cli._with_task_runner(flow, 0, None) is flow
    local = cli._with_task_runner(flow, 3, None).task_runner
    assert type(local).__name__ == "DaskTaskRunner"
    assert local.cluster_kwargs["n_workers"] == 3
    assert local.cluster_kwargs["host"] == "127.0.0.1"
    assert local.cluster_kwargs["dashboard_address"].startswith("127.0.0.1:")
    remote = cli._with_task_runner(flow, 0, "tcp://127.0.0.1:8786").task_runner
    assert remote.address == "tcp://127.0.0.1:8786"


def test_negative_workers_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("x\n1\n", encoding="utf-8")
    code = cli.main(["run", "--input", str(tmp_path / "in"), "--workers", "-1"])
    assert code == cli.EXIT_USAGE
    assert "--workers -1" in capsys.readouterr().err
