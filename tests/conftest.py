"""Shared fixtures: where the real data and the field cases live, and one Prefect
test harness for the whole session (each temporary Prefect server costs seconds)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Telemetry off before Prefect is imported anywhere in the test session.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEDGERFLOW_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data. CI always has it, so its absence is a failure, not a skip."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.fail(f"{path}: the real data folder is missing (set LEDGERFLOW_SHARED)")
    return path


@pytest.fixture(scope="session")
def cases_dir() -> Path:
    """../shared/cases: small inputs reproducing faults from the field."""
    path = SHARED / "cases"
    if not path.is_dir():
        pytest.fail(f"{path}: the cases folder is missing (set LEDGERFLOW_SHARED)")
    return path


@pytest.fixture(scope="session")
def online_retail_rows(shared_data) -> tuple[list, list[list]]:
    """(header, rows) of the Online Retail sheet as python-calamine gives them.

    The second method of many real-data tests; the 24 MB workbook is loaded once
    per session. Treat the rows as read-only.
    """
    from python_calamine import CalamineWorkbook

    path = shared_data / "uci-online-retail" / "derived" / "Online Retail.xlsx"
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Online Retail")
    header, *body = rows.to_python()
    return header, body


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One temporary Prefect server for every test that runs a flow."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
