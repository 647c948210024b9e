"""The evaluation workbook (evaluation_<YYYY>.xlsx) and the shareable scorecards.

Sheets of the workbook, in order: the scorecard (score, grade, rank and its change,
prune candidates highlighted, strategy, one sentence on why, and the decision column
with a drop-down plus a comment column), the breakdown per partner and criterion,
the prune simulation, partners gained this year, and next month's anniversaries.

Rules:
- Everything goes through report.workbook's safe writer (text from inputs is never
  a formula; missing figures are empty cells); headers from the label catalogue.
- No contact data anywhere (checked on write).
- A scorecard for a partner holds only that partner's own figures and grade: no
  rank, no other partner, no portfolio total.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import pandas as pd

from ledgerflow import labels
from ledgerflow.evaluation import DECISIONS, Evaluation
from ledgerflow.report.outputs import (
    check_shareable,
    translate_codes,
    translate_note,
    words_column,
)
from ledgerflow.report.workbook import SheetSpec, open_workbook, write_workbook

log = logging.getLogger(__name__)

SCORECARD_COLUMNS = [
    "partner_id",
    "partner_code",
    "partner_name",
    "evaluation_year",
    "revenue",
    "gross_profit",
    "gross_margin",
    "contribution_amount",
    "on_time_share",
    "growth",
    "overdue_share_year_end",
    "quality_score",
    "score",
    "grade",
    "rank",
    "grade_previous",
    "rank_change",
    "is_prune_candidate",
    "prune_reason",
    "guard_reason",
    "strategy",
    "strategy_rule",
    "size_class",
    "industry",
    "region",
    "why",
    "decision",
    "decision_comment",
]
BREAKDOWN_SHOWN = ["partner_code", "partner_name", "criterion", "measured_value"]
BREAKDOWN_SHOWN += ["points", "weight", "contribution"]
SIMULATION_SHOWN = ["measure", "candidates", "portfolio", "share"]
GAINED_SHOWN = ["partner_code", "partner_name", "first_activity_date", "revenue"]
ANNIVERSARY_SHOWN = ["partner_code", "partner_name", "founded_date"]
ANNIVERSARY_SHOWN += ["anniversary_date", "years_founded"]
PARTNER_CARD = ["criterion", "measured_value", "points", "weight", "contribution"]


def criterion_name(code, lang: str) -> str:
    return labels.phrase(f"criterion_{code}", lang) if pd.notna(code) else ""


# what the why sentence is made of, in the order of _why_sentence's arguments
WHY_KEYS = ("grade", "score", "best_criterion", "_best_points")
WHY_KEYS += ("worst_criterion", "_worst_points")


def why(row: pd.Series, lang: str) -> str:
    """One sentence on why the partner got its grade."""
    if pd.isna(row.get("grade")):
        return labels.phrase("why_no_grade", lang)
    return _why_sentence(*(row[key] for key in WHY_KEYS), lang=lang)


def _why_sentence(grade, score, best, best_points, worst, worst_points, *, lang):
    if pd.isna(grade):
        return labels.phrase("why_no_grade", lang)
    return labels.phrase(
        "why_grade",
        lang,
        grade=grade,
        score=f"{float(score):.1f}",
        best=criterion_name(best, lang),
        best_points=f"{float(best_points):.0f}",
        worst=criterion_name(worst, lang),
        worst_points=f"{float(worst_points):.0f}",
    )


def _why_column(frame: pd.DataFrame, lang: str) -> list[str]:
    """why() of every row, read column by column rather than row by row."""
    if "grade" not in frame.columns:
        return [labels.phrase("why_no_grade", lang)] * len(frame)
    columns = [frame[key].tolist() for key in WHY_KEYS]
    return [_why_sentence(*row, lang=lang) for row in zip(*columns, strict=True)]


def _points_of(frame: pd.DataFrame, column: str) -> pd.Series:
    """Per row, the points of the criterion ``column`` names: points_<criterion>
    (empty when it names none, or one without a points column)."""
    codes = frame[column]
    points = pd.array([pd.NA] * len(frame), dtype="Float64")
    for code in codes.dropna().unique():
        key = f"points_{code}"
        if key in frame.columns:
            rows = (codes == code).to_numpy(dtype=bool, na_value=False)
            points[rows] = frame[key].astype("Float64").array[rows]
    return pd.Series(points, index=frame.index)


def shown_scorecard(result: Evaluation, lang: str) -> pd.DataFrame:
    """The scorecard with codes as words in ``lang`` and the why sentence."""
    return _shown(result.scorecard, result.year, lang)


def _shown(scorecard: pd.DataFrame, year: int, lang: str) -> pd.DataFrame:
    """Rows of a scorecard shown as in shown_scorecard (each row on its own)."""
    frame = scorecard.copy()
    frame["evaluation_year"] = pd.array([year] * len(frame), dtype="Int64")
    frame["_best_points"] = _points_of(frame, "best_criterion")
    frame["_worst_points"] = _points_of(frame, "worst_criterion")
    frame["why"] = pd.array(_why_column(frame, lang), dtype="string")
    for key in ("prune_reason", "guard_reason"):
        frame[key] = words_column(
            frame[key], lambda codes: translate_codes(codes, lang), keep_missing=True
        )
    coded = [("strategy", "strategy_"), ("decision", "decision_")]
    coded += [("size_class", "size_class_"), ("strategy_rule", "strategy_rule_")]
    for key, prefix in coded:
        if key not in frame.columns:
            continue
        frame[key] = words_column(
            frame[key],
            lambda code, p=prefix: _word(p + str(code), lang, code),
            keep_missing=True,
        )
    return frame


def _word(key: str, lang: str, fallback) -> str:
    return labels.phrase(key, lang) if labels.has("phrases", key) else str(fallback)


def _revenue_note(side: str, lang: str) -> list[str]:
    return [labels.phrase("supplier_side", lang)] if side == "supplier" else []


def write_evaluation(
    result: Evaluation,
    path: Path,
    *,
    lang: str,
    created: dt.datetime | dt.date,
) -> Path:
    """Write the evaluation workbook of ``result`` to ``path`` (atomically)."""
    check_shareable(SCORECARD_COLUMNS + BREAKDOWN_SHOWN, "evaluation workbook")
    scorecard = shown_scorecard(result, lang)
    highlight = scorecard["is_prune_candidate"].astype("boolean").fillna(False)
    notes = [
        labels.phrase("evaluation_year", lang, year=result.year),
        *_revenue_note(result.side, lang),
        labels.phrase("decision_howto", lang),
        *(translate_note(note, lang) for note in result.notes),
    ]
    breakdown = result.breakdown.copy()
    breakdown["criterion"] = words_column(
        breakdown["criterion"], lambda c: criterion_name(c, lang)
    )
    simulation = result.simulation.copy()
    simulation["measure"] = (
        simulation["measure"]
        .map(lambda m: labels.phrase(f"simulation_{m}", lang))
        .astype("string")
    )
    specs = [
        SheetSpec(
            "evaluation",
            scorecard,
            SCORECARD_COLUMNS,
            highlight=highlight,
            notes=notes,
            title_values={"year": result.year},
        ),
        SheetSpec("evaluation_breakdown", breakdown, BREAKDOWN_SHOWN),
        SheetSpec(
            "prune_simulation",
            simulation,
            SIMULATION_SHOWN,
            notes=[labels.phrase("simulation_note", lang)],
        ),
        SheetSpec(
            "partners_gained",
            result.gained,
            GAINED_SHOWN,
            title_values={"year": result.year},
        ),
        SheetSpec("anniversaries", result.anniversaries, ANNIVERSARY_SHOWN),
    ]
    _write_with_dropdown(path, specs, lang, created)
    return path


def _write_with_dropdown(path: Path, specs, lang: str, created) -> None:
    """write_workbook's sheets, plus a drop-down list on the decision column."""
    path = Path(path)
    with open_workbook(path, lang=lang, created=created) as writer:
        for spec in specs:
            sheet = writer.add_sheet(spec)
            if spec.title_key == "evaluation" and len(spec.frame):
                _add_dropdown(sheet, spec, lang)
    log.info("%s: %d sheet(s) written", path.name, len(specs))


def _add_dropdown(sheet, spec: SheetSpec, lang: str) -> None:
    shown = [key for key in spec.columns if key in spec.frame.columns]
    col = shown.index("decision")
    words = [labels.phrase(f"decision_{code}", lang) for code in DECISIONS]
    sheet.data_validation(
        1,
        col,
        len(spec.frame),
        col,
        {
            "validate": "list",
            "source": words,
            "input_title": labels.label("decision", lang)[:32],
            "input_message": labels.phrase("decision_howto", lang)[:255],
        },
    )


_UNSAFE_NAME = re.compile(r"[^0-9A-Za-z가-힣._-]+")


def write_scorecards(
    result: Evaluation,
    folder: Path,
    *,
    lang: str,
    created: dt.datetime | dt.date,
    limit: int,
) -> list[Path]:
    """One small workbook per partner (the ``limit`` best ranked, graded ones), each
    with that partner's own criteria, points and grade only."""
    if limit <= 0:
        return []
    # the rows chosen first: only they are translated and explained
    graded = result.scorecard[result.scorecard["grade"].notna()].head(limit)
    chosen = _shown(graded, result.year, lang)
    breakdown = result.breakdown
    breakdown = breakdown[breakdown["partner_id"].isin(chosen["partner_id"])]
    written = []
    stems: set[str] = set()
    for _, row in chosen.iterrows():
        mine = breakdown[breakdown["partner_id"] == row["partner_id"]]
        mine = mine.copy()
        # its own revenue, never its share of the portfolio
        mine.loc[mine["criterion"] == "sales", "measured_value"] = row["revenue"]
        mine["criterion"] = (
            mine["criterion"].map(lambda c: criterion_name(c, lang)).astype("string")
        )
        code = str(row["partner_code"] if pd.notna(row["partner_code"]) else "")
        stem = _UNSAFE_NAME.sub("_", code or str(row["partner_id"]))
        if stem.casefold() in stems:
            # "A/1" and "A:1" (or "a1" and "A1" on Windows) would share one file:
            # the master's ID, unique by construction, tells them apart
            stem = f"{stem}_{_UNSAFE_NAME.sub('_', str(row['partner_id']))}"
        stems.add(stem.casefold())
        path = Path(folder) / f"scorecard_{result.year}_{stem}.xlsx"
        notes = [
            labels.phrase(
                "scorecard_head",
                lang,
                name=str(row["partner_name"])
                if pd.notna(row["partner_name"])
                else code,
                year=result.year,
                grade=row["grade"],
                score=f"{float(row['score']):.1f}",
            ),
            str(row["why"]),
        ]
        written.append(
            write_workbook(
                path,
                [
                    SheetSpec(
                        "scorecard",
                        mine,
                        PARTNER_CARD,
                        notes=notes,
                        title_values={"year": result.year},
                    )
                ],
                lang=lang,
                created=created,
            )
        )
    log.info("scorecards %s: %d written", folder, len(written))
    return written
