"""What a run costs before its stages: the CLI's imports, Prefect's settings for a run,
and the flow body run with and without Prefect (bench/perf_bench.py times the two;
these tests check that they do the same work)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledgerflow import cli, demo


def _modules_after(code: str, cwd: Path) -> set[str]:
    """The heavy modules a fresh interpreter holds after running ``code``."""
    probe = (
        f"import sys\n{code}\n"
        "print(' '.join(m for m in ('prefect', 'pandas', 'numpy', 'pandera') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split("\n")[-2].split())


def test_help_imports_neither_prefect_nor_pandas(tmp_path):
    code = (
        "from ledgerflow import cli\n"
        "try:\n    cli.main(['run', '--help'])\nexcept SystemExit:\n    pass"
    )
    assert _modules_after(code, tmp_path) == set()


def _tiny_export(folder: Path) -> Path:
    """Five sales lines of five partners in November 2026 (the bench's tiny case)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [",".join(demo.SALES_HEADER)]
    for day in range(1, 6):
        supply = 1000 * day
        lines.append(
            f"2026-11-0{day},2026110{day}-0001,0012{day},(주)벤치{day},A001,볼트,"
            f"{day},1000,{supply},{supply // 10},{supply + supply // 10},{supply // 2}"
        )
    path = folder / "sales.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_check_does_not_import_prefect(tmp_path):
    path = _tiny_export(tmp_path / "in")
    code = f"from ledgerflow import cli\nassert cli.main(['check', {str(path)!r}]) == 0"
    assert _modules_after(code, tmp_path) == {"pandas", "numpy", "pandera"}


def test_run_settings_turn_flow_heartbeats_off(monkeypatch):
    from prefect.settings import get_current_settings

    monkeypatch.delenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", raising=False)
    before = get_current_settings().flows.heartbeat_frequency
    with cli._run_settings():
        assert get_current_settings().flows.heartbeat_frequency is None
    assert get_current_settings().flows.heartbeat_frequency == before


def test_run_settings_keep_heartbeats_the_user_asks_for(monkeypatch):
    from prefect.settings import get_current_settings

    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")
    before = get_current_settings().flows.heartbeat_frequency
    with cli._run_settings():
        assert get_current_settings().flows.heartbeat_frequency == before


def _digests(month_dir: Path) -> dict[str, str]:
    return {
        str(p.relative_to(month_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(month_dir.rglob("*.xlsx"))
    }


def _task_run_names(flow_run_id) -> list[str]:
    """Names of the flow run's task runs, once the server has recorded them all.

    Task runs reach the server as events, recorded a moment after the flow ends.
    """
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    runs: list = []
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            if len(runs) >= 7 and all(r.state and r.state.is_final() for r in runs):
                break
            time.sleep(0.5)
    return sorted(r.name.rsplit("-", 1)[0] for r in runs)


@pytest.mark.prefect
def test_the_body_without_prefect_writes_what_the_flow_writes(
    prefect_harness, tmp_path
):
    """report_month outside a flow run (bench/perf_bench.py's "plain") does the same
    work as the flow, and the flow reads its one file in one task run."""
    module = cli._load_flow_module("monthly_partner_report")
    source = _tiny_export(tmp_path / "in").parent
    plain = module.report_month(
        str(source), str(tmp_path / "plain"), None, "en", None, use_store=False
    )
    state = module.monthly_partner_report(
        input_dir=str(source),
        output_dir=str(tmp_path / "flow"),
        lang="en",
        use_store=False,
        return_state=True,
    )
    flowed = state.result()
    assert plain["period"] == flowed["period"] == "2026-11"
    assert plain["inputs"] == flowed["inputs"]
    assert [i["rows"] for i in plain["inputs"]] == [
        {"read": 5, "used": 5, "skipped": 0, "rejected": 0}
    ]
    assert plain["outputs"] == flowed["outputs"]
    written = _digests(tmp_path / "plain" / "2026-11")
    assert "partner_master.xlsx" in written
    assert written == _digests(tmp_path / "flow" / "2026-11")
    assert _task_run_names(state.state_details.flow_run_id) == [
        "build-master",
        "evaluate",
        "insights",
        "profitability",
        "read-validate-files",
        "share-run",
        "write-workbooks",
    ]
