"""What one run hands over: the workbooks of the month and the run summary.

Keeps the list of outputs and the run summary in one place so the flow stays wiring.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ledgerflow import insights_report, runinfo
from ledgerflow.assemble import FileOutcome, rule_counts
from ledgerflow.evaluation import Evaluation
from ledgerflow.period import Period
from ledgerflow.report import atomic, lines_export, outputs, parallel
from ledgerflow.report import evaluation as evaluation_report
from ledgerflow.report import profitability as profitability_report

log = logging.getLogger(__name__)

# The [output] settings when a caller gives none (defaults.toml documents them).
OUTPUT_DEFAULTS = {"write_workers": "auto", "lines_export": "parquet"}


def write_all(
    *,
    out_dir: Path,
    period: Period,
    period_reason: str,
    lang: str,
    master_result,
    profitability,
    evaluation: Evaluation,
    insights,
    outcomes: list[FileOutcome],
    suppliers: Evaluation | None = None,
    contacts=None,
    sales: pd.DataFrame | None = None,
    settings: dict | None = None,
) -> list[Path]:
    """Write the outputs of ``period`` into ``out_dir``; return their paths.

    Rules:
    - Document dates are fixed to the period's end so that re-running a month gives
      the same bytes. ``contacts`` (contacts.contact_history) goes to the partner
      master only.
    - ``settings`` is the config's [output] section: ``write_workers`` says how many
      processes write the workbooks (report/parallel.py; the bytes are the same
      either way), ``lines_export`` the format of the month's used ``sales`` lines
      (report/lines_export.py; no export without ``sales``).
    - Paths come back in a fixed order: partner master, profitability, evaluation,
      rejects, insights, then the scorecards, the supplier evaluation, the export.
    """
    settings = {**OUTPUT_DEFAULTS, **(settings or {})}
    out_dir.mkdir(parents=True, exist_ok=True)
    # The flow holds the run lock here, so leftovers are a killed run's, not ours.
    for folder in (out_dir, out_dir / "scorecards"):
        if swept := atomic.sweep_leftovers(folder):
            log.warning(
                "outputs %s: removed %d leftover temporary files", folder, swept
            )
    jobs = _workbook_jobs(
        out_dir=out_dir,
        period=period,
        period_reason=period_reason,
        lang=lang,
        master_result=master_result,
        profitability=profitability,
        evaluation=evaluation,
        insights=insights,
        outcomes=outcomes,
        suppliers=suppliers,
        contacts=contacts,
    )
    workers = parallel.worker_count(
        settings["write_workers"], [job.cells for job in jobs]
    )
    kind = lines_export.check_format(settings["lines_export"])

    def export() -> Path | None:
        if sales is None or kind == "none":
            return None
        return lines_export.write_lines(sales, period, out_dir, kind)

    log.debug(
        "outputs %s: %d workbook jobs, %d process(es), about %d cells",
        out_dir,
        len(jobs),
        workers,
        sum(job.cells for job in jobs),
    )
    results, exported = parallel.run_jobs(jobs, workers, meanwhile=export)
    by_path = dict(zip([job.path for job in jobs], results, strict=True))
    paths = [
        out_dir / "partner_master.xlsx",
        out_dir / f"profitability_{period}.xlsx",
        out_dir / f"evaluation_{period.year}.xlsx",
        out_dir / f"rejects_{period}.xlsx",
        out_dir / f"insights_{period}.xlsx",
    ]
    paths += by_path[out_dir / "scorecards"]
    if suppliers is not None:
        paths.append(out_dir / f"evaluation_suppliers_{period.year}.xlsx")
    workbooks = len(paths)
    if exported is not None:
        paths.append(exported)
    log.info(
        "outputs %s: %d workbooks written%s",
        out_dir,
        workbooks,
        f", sales lines in {exported.name}" if exported else "",
    )
    return paths


def _workbook_jobs(
    *,
    out_dir: Path,
    period: Period,
    period_reason: str,
    lang: str,
    master_result,
    profitability,
    evaluation: Evaluation,
    insights,
    outcomes: list[FileOutcome],
    suppliers: Evaluation | None = None,
    contacts=None,
) -> list[parallel.WriteJob]:
    """One job per workbook (the scorecards make one), in the order of writing in
    one process; each job carries only what its writer reads."""
    created = period.end.to_pydatetime()
    master_path = out_dir / "partner_master.xlsx"
    master_frames = {
        "conflicts": master_result.conflicts,
        "links": master_result.links,
        "changes": master_result.changes,
        "contacts": contacts,
    }
    jobs = [
        parallel.WriteJob(
            master_path,
            outputs.write_partner_master,
            (master_result.master, master_path),
            {"lang": lang, "created": created, **master_frames},
        ),
        parallel.WriteJob(
            out_dir / f"profitability_{period}.xlsx",
            profitability_report.write_profitability_workbook,
            (profitability, out_dir / f"profitability_{period}.xlsx"),
            {
                "lang": lang,
                "period": period,
                "created": created,
                "period_reason": period_reason,
            },
        ),
        parallel.WriteJob(
            out_dir / f"evaluation_{period.year}.xlsx",
            evaluation_report.write_evaluation,
            (evaluation, out_dir / f"evaluation_{period.year}.xlsx"),
            {"lang": lang, "created": created},
        ),
    ]
    limit = int(evaluation.scorecard.attrs.get("scorecard_partners", 20))
    # A scorecard holds one partner's rows of the breakdown.
    share = min(limit, len(evaluation.scorecard)) / max(len(evaluation.scorecard), 1)
    jobs.append(
        parallel.WriteJob(
            out_dir / "scorecards",
            evaluation_report.write_scorecards,
            (evaluation, out_dir / "scorecards"),
            {"lang": lang, "created": created, "limit": limit},
            cells=int(parallel.estimate_cells(evaluation.breakdown) * share),
        )
    )
    if suppliers is not None:
        path = out_dir / f"evaluation_suppliers_{period.year}.xlsx"
        jobs.append(
            parallel.WriteJob(
                path,
                evaluation_report.write_evaluation,
                (suppliers, path),
                {"lang": lang, "created": created},
            )
        )
    path = out_dir / f"rejects_{period}.xlsx"
    jobs.append(
        parallel.WriteJob(
            path,
            outputs.write_rejects,
            (
                [r for o in outcomes for r in o.rejects],
                [s for o in outcomes for s in o.skipped],
                [o.read.refused for o in outcomes if o.read.refused is not None],
                path,
            ),
            {"lang": lang, "created": created},
        )
    )
    path = out_dir / f"insights_{period}.xlsx"
    jobs.append(
        parallel.WriteJob(
            path,
            insights_report.write_insights,
            (insights, path),
            {"lang": lang, "period": period, "created": created},
        )
    )
    for job in jobs:
        if not job.cells:
            job.cells = parallel.estimate_cells(job.args, job.kwargs)
    return jobs


def run_summary(
    period: Period,
    period_reason: str,
    outcomes: list[FileOutcome],
    written: list[Path],
    timings: dict[str, float],
) -> dict:
    """The content of run.json: period, every input with its row account, outputs."""
    inputs = [
        runinfo.input_entry(
            o.read,
            used=o.rows_used,
            skipped=len(o.skipped),
            rejected=o.rows_rejected,
            skip_reasons=rule_counts(o.skipped),
            reject_rules=rule_counts(o.rejects),
        )
        for o in outcomes
    ]
    return {
        "period": str(period),
        "period_reason": period_reason,
        "inputs": inputs,
        # Paths relative to the month's folder (scorecards sit in a subfolder).
        "outputs": [
            p.relative_to(written[0].parent).as_posix() if written else p.name
            for p in written
        ]
        + ["run.json"],
        "versions": runinfo.library_versions(),
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
