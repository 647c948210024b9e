"""Prefect flow `annual-evaluation`: the year's scorecard, run in January.

The evaluation of a year is part of the workbooks of its December
(evaluation_<YYYY>.xlsx covers every month of the year), so this flow runs the
monthly report for December of the year before its scheduled start, as a subflow.
A separate deployment gives it its own schedule (after the year's last invoices
are in) and its own entry in the Prefect UI.

Run it with `ledgerflow serve`, or by hand with a period "YYYY-12".
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from ledgerflow import schedule
from ledgerflow.config import load_config
from ledgerflow.paths import load_flow_module


@flow(name="annual-evaluation", log_prints=False)
def annual_evaluation(
    input_dir: str = "input",
    output_dir: str = "output",
    period: str | None = None,
    lang: str | None = None,
    config_path: str | None = None,
    archive: bool | None = None,
) -> dict:
    """The workbooks of December of the evaluated year.

    period "scheduled": December of the year before the run's scheduled start.
    ``archive`` is accepted so both deployments take the same parameters, and
    ignored: inputs are archived by the monthly runs only.
    """
    config = load_config(Path(config_path) if config_path else None)
    period = schedule.resolve_period(period, config, annual=True)
    monthly = load_flow_module("monthly_partner_report").monthly_partner_report
    return monthly(
        input_dir=input_dir,
        output_dir=output_dir,
        period=period,
        lang=lang,
        config_path=config_path,
        archive=False,
    )
