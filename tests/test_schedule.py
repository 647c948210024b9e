"""Scheduled runs: the month a run closes, next run times, refusing without a server."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from ledgerflow import cli, schedule
from ledgerflow.errors import ConfigError
from ledgerflow.period import Period

UTC = dt.UTC
SEOUL = "Asia/Seoul"


def test_monthly_run_closes_the_month_before_its_scheduled_time():
    # due 2024-04-01 07:00 KST == 2024-03-31 22:00 UTC: still March in UTC
    due = dt.datetime(2024, 3, 31, 22, 0, tzinfo=UTC)
    assert schedule.monthly_period(due, SEOUL) == Period(2024, 3)


def test_a_late_or_retried_run_keeps_its_month():
    # a retry on 2 April still carries the 1 April scheduled start; the month does
    # not depend on when it really starts
    assert schedule.monthly_period(
        dt.datetime(2024, 4, 1, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))), SEOUL
    ) == Period(2024, 3)


def test_january_run_closes_december_of_the_year_before():
    due = dt.datetime(2023, 12, 31, 22, 0, tzinfo=UTC)  # 2024-01-01 07:00 KST
    assert schedule.monthly_period(due, SEOUL) == Period(2023, 12)
    annual = dt.datetime(2024, 1, 2, 0, 0, tzinfo=UTC)  # 2024-01-02 09:00 KST
    assert schedule.annual_period(annual, SEOUL) == Period(2023, 12)


def test_without_the_time_zone_the_month_would_be_wrong():
    due = dt.datetime(2024, 3, 31, 22, 0, tzinfo=UTC)
    assert schedule.monthly_period(due, "UTC") == Period(2024, 2)


def test_resolve_period_passes_a_given_period_through():
    config = {"schedule": {"timezone": SEOUL}}
    assert schedule.resolve_period("2024-02", config) == "2024-02"
    assert schedule.resolve_period(None, config) is None


def test_next_runs_in_seoul_time():
    runs = schedule.next_runs("0 7 1 * *", SEOUL, dt.datetime(2024, 3, 15, tzinfo=UTC))
    assert [r.astimezone(UTC) for r in runs] == [
        dt.datetime(2024, 3, 31, 22, 0, tzinfo=UTC),
        dt.datetime(2024, 4, 30, 22, 0, tzinfo=UTC),
    ]
    assert runs[0].utcoffset() == dt.timedelta(hours=9)


def test_unknown_time_zone_is_a_config_error():
    with pytest.raises(ConfigError, match=r"schedule\.timezone 'Asia/Seul'"):
        schedule.zone("Asia/Seul")


def test_no_server_url_says_to_start_one(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(
        "prefect.settings.PREFECT_API_URL.value", lambda: None, raising=False
    )
    with pytest.raises(schedule.ServerUnavailable) as info:
        schedule.check_server()
    assert "PREFECT_API_URL is not set" in str(info.value)
    assert "prefect server start" in str(info.value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_is_refused(monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}/api"
    with pytest.raises(schedule.ServerUnavailable) as info:
        schedule.check_server(url, timeout=2)
    assert f"PREFECT_API_URL={url}: no Prefect server answers there" in str(info.value)


def test_serve_refuses_without_a_server(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{_closed_port()}/api")
    code = cli.main(["serve"])
    assert code == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "no Prefect server answers there" in err and "prefect server start" in err
