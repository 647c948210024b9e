"""Scheduled runs: the months they close, the server they need, the deployments.

Business rules:

- A scheduled monthly run closes the month *before* its scheduled start time, taken
  in the schedule's time zone: the run due 2024-04-01 07:00 Asia/Seoul reports
  2024-03 even when it starts late, is retried on 2024-04-02, or the server's clock
  is in UTC (where it is still 2024-03-31). The clock of the machine is never used.
- The annual evaluation run (in January) closes the previous calendar year: it
  reports the December before its scheduled time, whose workbooks carry the
  evaluation of the whole year.
- Schedules fire only on a persistent Prefect server. `ledgerflow serve` therefore
  refuses to start unless PREFECT_API_URL points at a server that answers its
  health check; the message says how to start one (``prefect server start``).
- Deployments are served with pause_on_shutdown off, so stopping and restarting
  the service leaves the schedules active (PrefectHQ/prefect#16363).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from ledgerflow.errors import ConfigError, LedgerflowError
from ledgerflow.period import Period

log = logging.getLogger(__name__)

SCHEDULED = "scheduled"  # the `period` parameter of a deployment: use the schedule
MONTHLY_DEPLOYMENT = "monthly"
ANNUAL_DEPLOYMENT = "annual"


class ServerUnavailable(LedgerflowError, RuntimeError):
    """No persistent Prefect server to register schedules with."""


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (e.g. Asia/Seoul), or a ConfigError saying so."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"schedule.timezone {name!r}: not a known time zone; use an IANA name "
            "such as Asia/Seoul"
        ) from exc


def _local(when: dt.datetime, timezone: str) -> dt.datetime:
    if when.tzinfo is None:
        raise ValueError("scheduled time without a time zone")  # a bug, not data
    return when.astimezone(zone(timezone))


def monthly_period(scheduled: dt.datetime, timezone: str) -> Period:
    """The month a monthly run scheduled at ``scheduled`` reports: the one before."""
    local = _local(scheduled, timezone)
    return Period(local.year, local.month).previous()


def annual_period(scheduled: dt.datetime, timezone: str) -> Period:
    """The December a January run reports: the last month of the previous year."""
    return Period(_local(scheduled, timezone).year - 1, 12)


def scheduled_start_time() -> dt.datetime:
    """The scheduled start of the current flow run (now, outside a flow run)."""
    from prefect.runtime import flow_run

    return flow_run.scheduled_start_time


def resolve_period(period: str | None, config: dict, *, annual: bool = False):
    """``period`` unless it is "scheduled"; then the month the schedule closes."""
    if period != SCHEDULED:
        return period
    timezone = config["schedule"]["timezone"]
    scheduled = scheduled_start_time()
    chosen = (annual_period if annual else monthly_period)(scheduled, timezone)
    log.info("period %s: from the scheduled start %s", chosen, scheduled.isoformat())
    return str(chosen)


def next_runs(
    cron: str, timezone: str, after: dt.datetime, count: int = 2
) -> list[dt.datetime]:
    """The next ``count`` times ``cron`` fires in ``timezone`` at or after ``after``.

    Computed with Prefect's own schedule model, so it agrees with the server.
    """
    from prefect.server.schemas.schedules import CronSchedule

    zone(timezone)
    schedule = CronSchedule(cron=cron, timezone=timezone)
    dates = asyncio.run(schedule.get_dates(n=count, start=after))
    return [dt.datetime.fromisoformat(d.isoformat()) for d in dates]


def check_server(api_url: str | None = None, timeout: float = 5.0) -> str:
    """The API URL of a reachable Prefect server, or ServerUnavailable saying why."""
    api_url = api_url or os.environ.get("PREFECT_API_URL", "")
    if not api_url:
        from prefect.settings import PREFECT_API_URL

        api_url = PREFECT_API_URL.value() or ""
    how = (
        "start one with `prefect server start` (it listens on "
        "http://127.0.0.1:4200) and set PREFECT_API_URL=http://127.0.0.1:4200/api "
        "before `ledgerflow serve`; see 'Running unattended' in the README"
    )
    if not api_url:
        raise ServerUnavailable(
            "PREFECT_API_URL is not set: schedules only fire on a persistent Prefect "
            f"server, not on the temporary one a single run starts; {how}"
        )
    try:
        response = httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise ServerUnavailable(
            f"PREFECT_API_URL={api_url}: no Prefect server answers there ({exc}); {how}"
        ) from exc
    return api_url


def build_deployments(
    config: dict,
    *,
    input_dir: str,
    output_dir: str,
    config_path: str | None,
    monthly_flow,
    annual_flow,
) -> list:
    """The monthly and annual deployments with their cron schedules from ``config``.

    Folders are made absolute: the served runs must not depend on the directory the
    service was started from.
    """
    from prefect.schedules import Cron

    settings = config["schedule"]
    zone(settings["timezone"])
    parameters = {
        "input_dir": os.path.abspath(input_dir),
        "output_dir": os.path.abspath(output_dir),
        "period": SCHEDULED,
        "config_path": os.path.abspath(config_path) if config_path else None,
        "archive": config["archive"]["scheduled"],
    }
    plan = [
        (monthly_flow, MONTHLY_DEPLOYMENT, settings["monthly_cron"]),
        (annual_flow, ANNUAL_DEPLOYMENT, settings["annual_cron"]),
    ]
    deployments = []
    for flow, name, cron in plan:
        if not cron:
            log.info("deployment %s: no cron set; not registered", name)
            continue
        deployments.append(
            flow.to_deployment(
                name=name,
                schedules=[Cron(cron, timezone=settings["timezone"])],
                parameters=parameters,
                tags=["ledgerflow"],
            )
        )
    return deployments


def serve_forever(deployments: list) -> None:
    """Register ``deployments`` and execute their runs until interrupted."""
    from prefect import serve

    serve(*deployments, pause_on_shutdown=False, print_starting_message=True)
