"""The monthly run's stages called directly, without Prefect, for the hardening tests.

Mirrors flows/monthly_partner_report.py step for step (the flow is wiring only), so
a fault found here is a fault of the stage functions the flow calls. Also runnable as
a script (``python -m tests.hardening.stages INPUT OUTPUT``), which the kill tests use
as the body of a child process.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledgerflow import (
    assemble,
    evaluation,
    insights,
    master,
    metrics,
    publish,
    read,
    runinfo,
    validate,
)
from ledgerflow.config import load_config


def run_stages(
    input_dir: Path, output_dir: Path, period: str | None = None, lang: str = "ko"
) -> dict:
    """Read, validate, master, metrics, write: what one `ledgerflow run` does."""
    config = load_config(None)
    paths = read.list_inputs(Path(input_dir))
    file_reads = [read.read_file(p, config) for p in paths]
    schemas = validate.load_table_schemas()
    outcomes = [
        assemble.account_file(
            f, [validate.validate_table(t, config, schemas) for t in f.tables]
        )
        for f in file_reads
    ]
    sales = assemble.combine(outcomes, "sales_lines")
    receivables = assemble.combine(outcomes, "receivables")
    partners = assemble.combine(outcomes, "partners")
    chosen, why = assemble.choose_period(period, sales, receivables)
    out_dir = Path(output_dir)
    registry = out_dir / ".state" / "partner_ids.csv"
    if not config["master"]["as_of"]:
        config["master"]["as_of"] = str(chosen.end.date())
    previous = master.load_id_registry(registry)
    result = master.build_master(partners, sales, receivables, previous, config)
    sales = assemble.attach_partner_ids(sales, result.code_map)
    receivables = assemble.attach_partner_ids(receivables, result.code_map)
    profit = metrics.profitability(sales, receivables, result.master, chosen, config)
    scored = evaluation.evaluate(sales, receivables, result.master, chosen.year, config)
    patterns = insights.compute_insights(
        sales, result.master, chosen, config, receivables
    )
    written = publish.write_all(
        out_dir=out_dir / str(chosen),
        period=chosen,
        period_reason=why,
        lang=lang,
        master_result=result,
        profitability=profit,
        evaluation=scored,
        insights=patterns,
        outcomes=outcomes,
        sales=sales,
        settings=config["output"],
    )
    master.save_id_registry(result, registry)
    summary = publish.run_summary(chosen, why, outcomes, written, {})
    runinfo.write_run_json(out_dir / str(chosen) / "run.json", summary)
    return summary


if __name__ == "__main__":
    run_stages(Path(sys.argv[1]), Path(sys.argv[2]))
