"""What one run hands over: the workbooks of the month and the run summary.

Keeps the list of outputs and the run summary in one place so the flow stays wiring.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ledgerflow import insights_report, runinfo
from ledgerflow.assemble import FileOutcome, rule_counts
from ledgerflow.evaluation import Evaluation
from ledgerflow.period import Period
from ledgerflow.report import atomic, outputs
from ledgerflow.report import evaluation as evaluation_report
from ledgerflow.report import profitability as profitability_report

log = logging.getLogger(__name__)


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
) -> list[Path]:
    """Write the workbooks of ``period`` into ``out_dir``; return their paths.

    Document dates are fixed to the period's end so that re-running a month gives the
    same bytes. ``contacts`` (contacts.contact_history) goes to the partner master
    only.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    # The flow holds the run lock here, so leftovers are a killed run's, not ours.
    for folder in (out_dir, out_dir / "scorecards"):
        if swept := atomic.sweep_leftovers(folder):
            log.warning(
                "outputs %s: removed %d leftover temporary files", folder, swept
            )
    created = period.end.to_pydatetime()
    paths = [
        out_dir / "partner_master.xlsx",
        out_dir / f"profitability_{period}.xlsx",
        out_dir / f"evaluation_{period.year}.xlsx",
        out_dir / f"rejects_{period}.xlsx",
        out_dir / f"insights_{period}.xlsx",
    ]
    outputs.write_partner_master(
        master_result.master,
        paths[0],
        lang=lang,
        created=created,
        conflicts=master_result.conflicts,
        links=master_result.links,
        changes=master_result.changes,
        contacts=contacts,
    )
    profitability_report.write_profitability_workbook(
        profitability,
        paths[1],
        lang=lang,
        period=period,
        created=created,
        period_reason=period_reason,
    )
    evaluation_report.write_evaluation(evaluation, paths[2], lang=lang, created=created)
    limit = int(evaluation.scorecard.attrs.get("scorecard_partners", 20))
    paths += evaluation_report.write_scorecards(
        evaluation, out_dir / "scorecards", lang=lang, created=created, limit=limit
    )
    if suppliers is not None:
        paths.append(out_dir / f"evaluation_suppliers_{period.year}.xlsx")
        evaluation_report.write_evaluation(
            suppliers, paths[-1], lang=lang, created=created
        )
    outputs.write_rejects(
        [r for o in outcomes for r in o.rejects],
        [s for o in outcomes for s in o.skipped],
        [o.read.refused for o in outcomes if o.read.refused is not None],
        paths[3],
        lang=lang,
        created=created,
    )
    insights_report.write_insights(
        insights, paths[4], lang=lang, period=period, created=created
    )
    log.info("outputs %s: %d workbooks written", out_dir, len(paths))
    return paths


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
