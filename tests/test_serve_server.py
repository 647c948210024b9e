"""`ledgerflow serve` against a real `prefect server start` on loopback (case 20).

The one test module that starts a persistent Prefect server: schedules only fire
there. It registers the deployments, checks cron, time zone and next run times,
triggers a run scheduled for 2024-04-01 07:00 KST and reads what it wrote.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.prefect

BIN = Path(sys.executable).parent
UTC = dt.UTC


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, seconds: float, what: str, proc=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: process exited with {proc.returncode}")
        try:
            result = predicate()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(1)
    pytest.fail(f"{what}: not within {seconds} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real Prefect server on 127.0.0.1, with its own PREFECT_HOME."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = _free_port()
    env = os.environ | {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    env.pop("PREFECT_API_URL", None)
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            *(str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1"),
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait(
            lambda: httpx.get(f"{url}/health", timeout=2).status_code == 200,
            120,
            "prefect server start",
            proc,
        )
        yield url, home
    finally:
        _stop(proc)
        log.close()


def _deployments(url: str) -> dict:
    response = httpx.post(f"{url}/deployments/filter", json={}, timeout=10)
    response.raise_for_status()
    return {d["name"]: d for d in response.json()}


def test_serve_registers_schedules_and_a_scheduled_run_closes_march(
    prefect_server, cases_dir, tmp_path
):
    url, home = prefect_server
    shutil.copytree(
        cases_dir / "20-prefect-serve-schedule-paths" / "inbox", tmp_path / "input"
    )
    env = os.environ | {
        "PREFECT_API_URL": url,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [str(BIN / "ledgerflow"), "serve", "--input", "input", "--output", "output"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        found = _wait(
            lambda: (d := _deployments(url)).keys() >= {"monthly", "annual"} and d,
            120,
            "ledgerflow serve registering deployments",
            serve,
        )

        # the schedules as the server holds them
        (monthly,) = found["monthly"]["schedules"]
        assert monthly["active"] is True
        assert monthly["schedule"]["cron"] == "0 7 1 * *"
        assert monthly["schedule"]["timezone"] == "Asia/Seoul"
        (annual,) = found["annual"]["schedules"]
        assert annual["schedule"]["cron"] == "0 9 2 1 *"
        assert found["monthly"]["parameters"]["period"] == "scheduled"
        assert found["monthly"]["parameters"]["input_dir"] == str(tmp_path / "input")

        from prefect.server.schemas.schedules import CronSchedule

        schedule = CronSchedule(**monthly["schedule"])
        runs = asyncio.run(
            schedule.get_dates(n=2, start=dt.datetime(2024, 3, 15, tzinfo=UTC))
        )
        assert [dt.datetime.fromisoformat(r.isoformat()) for r in runs] == [
            dt.datetime(2024, 3, 31, 22, 0, tzinfo=UTC),  # 2024-04-01 07:00 KST
            dt.datetime(2024, 4, 30, 22, 0, tzinfo=UTC),  # 2024-05-01 07:00 KST
        ]

        # a run due 2024-04-01 07:00 KST, executed now by the serving process
        # A busy SQLite-backed server may answer 503 for a moment: ask again.
        for _ in range(10):
            created = httpx.post(
                f"{url}/deployments/{found['monthly']['id']}/create_flow_run",
                json={
                    "state": {
                        "type": "SCHEDULED",
                        "state_details": {"scheduled_time": "2024-03-31T22:00:00Z"},
                    }
                },
                timeout=10,
            )
            if created.status_code != 503:
                break
            time.sleep(2)
        created.raise_for_status()
        run_id = created.json()["id"]

        def finished():
            state = httpx.get(f"{url}/flow_runs/{run_id}", timeout=10).json()["state"]
            return state["type"] in ("COMPLETED", "FAILED", "CRASHED") and state

        state = _wait(finished, 240, "the triggered flow run", serve)
        assert state["type"] == "COMPLETED", (tmp_path / "serve.log").read_text()

        # March, from the scheduled time; the NFD file read and archived in NFC
        out = tmp_path / "output" / "2024-03"
        run = json.loads((out / "run.json").read_text("utf-8"))
        assert run["period"] == "2024-03" and run["period_reason"] == "period_requested"
        (entry,) = run["inputs"]
        assert entry["name"] == "매출 현황 (최종).csv"
        assert entry["rows"]["used"] == 3
        assert "| 당월 매출 | 23,195,000 |" in (out / "summary.md").read_text("utf-8")
        archived = tmp_path / "input" / "archive" / "2024-03"
        assert [p.name for p in archived.iterdir()] == [
            unicodedata.normalize("NFC", "매출 현황 (최종).csv")
        ]

        artifacts = httpx.post(
            f"{url}/artifacts/filter",
            json={"artifacts": {"flow_run_id": {"any_": [run_id]}}},
            timeout=10,
        ).json()
        assert {a["key"] for a in artifacts} == {
            "ledgerflow-2024-03-figures",
            "ledgerflow-2024-03-outputs",
        }
    finally:
        _stop(serve)
        log.close()

    # stopping serve leaves the schedule active (PrefectHQ/prefect#16363)
    (monthly,) = _deployments(url)["monthly"]["schedules"]
    assert monthly["active"] is True
