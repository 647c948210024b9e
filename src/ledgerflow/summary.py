"""A short run summary for people: summary.md next to the workbooks, Prefect artifacts.

Rules:

- Headline figures only: revenue and gross profit of the month and the year to date,
  receivables open and overdue at the month's end, partners in the master, files
  read and refused, rows rejected. Amounts are whole currency units.
- No personal data: no partner names, contacts or notes; inputs are named by file.
- The same figures go to the Markdown file and to the flow run's table artifact, so
  what the Prefect UI shows and what lies in the folder agree.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from ledgerflow.labels import phrase
from ledgerflow.report.atomic import atomic_path

log = logging.getLogger(__name__)

SUMMARY_NAME = "summary.md"


def _whole(value) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else round(number)


def headline_figures(
    run: dict, month_total: dict, ytd_total: dict, n_partners: int
) -> list[tuple[str, int | None]]:
    """(key, value) pairs of the headline; None where the inputs give no figure."""
    inputs = run["inputs"]
    return [
        ("revenue_month", _whole(month_total.get("revenue"))),
        ("gross_profit_month", _whole(month_total.get("gross_profit"))),
        ("revenue_ytd", _whole(ytd_total.get("revenue"))),
        ("gross_profit_ytd", _whole(ytd_total.get("gross_profit"))),
        ("receivable_balance", _whole(month_total.get("receivable_balance"))),
        ("overdue_amount", _whole(month_total.get("overdue_amount"))),
        ("partners", n_partners),
        ("files_read", len(inputs)),
        ("files_refused", sum(1 for i in inputs if i.get("refused"))),
        ("rows_rejected", sum(i["rows"]["rejected"] for i in inputs)),
    ]


def _shown(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def render_markdown(run: dict, figures: list[tuple[str, int | None]], lang: str) -> str:
    """summary.md: title, the headline table, inputs with their row account, outputs."""
    lines = [
        f"# {phrase('summary_title', lang, period=run['period'])}",
        "",
        phrase(run["period_reason"], lang),
        "",
        f"| {phrase('summary_figure', lang)} | {phrase('summary_value', lang)} |",
        "|---|---:|",
    ]
    lines += [f"| {phrase('figure_' + k, lang)} | {_shown(v)} |" for k, v in figures]
    lines += ["", f"## {phrase('summary_inputs', lang)}", ""]
    for entry in run["inputs"]:
        rows = entry["rows"]
        if entry.get("refused"):
            refused = entry["refused"]
            why = refused.get("reason") or refused.get("rule", "")
            refused_text = phrase("summary_refused", lang)
            lines.append(f"- {entry['name']}: {refused_text} ({why})")
        else:
            lines.append(
                f"- {entry['name']}: "
                + phrase("summary_rows", lang, **{k: rows[k] for k in rows})
            )
    lines += ["", f"## {phrase('summary_outputs', lang)}", ""]
    lines += [f"- [{name}]({name})" for name in run["outputs"]]
    return "\n".join(lines) + "\n"


def write_summary(out_dir: Path, text: str) -> Path:
    """Write summary.md into ``out_dir`` atomically; return its path."""
    path = Path(out_dir) / SUMMARY_NAME
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path


def publish_artifacts(
    run: dict, figures: list[tuple[str, int | None]], out_dir: Path, lang: str
) -> None:
    """The headline table and the output list as artifacts of the current flow run.

    Outside a flow run Prefect has nowhere to attach them; nothing is created then.
    """
    from prefect.artifacts import create_markdown_artifact, create_table_artifact
    from prefect.context import FlowRunContext

    if FlowRunContext.get() is None:
        log.debug("artifacts: not in a flow run; none created")
        return
    key = f"ledgerflow-{run['period']}"
    create_table_artifact(
        table=[
            {"figure": phrase("figure_" + k, lang), "key": k, "value": v}
            for k, v in figures
        ],
        key=f"{key}-figures",
        description=phrase("summary_title", lang, period=run["period"]),
    )
    folder = Path(out_dir).resolve()
    links = "\n".join(
        f"- [{name}]({(folder / name).as_uri()})" for name in run["outputs"]
    )
    create_markdown_artifact(
        markdown=f"## {phrase('summary_outputs', lang)}\n\n{folder}\n\n{links}\n",
        key=f"{key}-outputs",
        description=str(folder),
    )
