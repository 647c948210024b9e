"""The insights workbook: insights_<YYYY-MM>.xlsx from an Insights (see insights.py).

Sheets, in order: a summary (segments now and last month, lapsing partners, revenue
at stake), segment moves, lapsing partners, top items, top item groups, rhythm and
RFM, seasonality, lapsed items, suggestions, tags, then one proposal sheet per
selected partner that prints on one A4 page.

Rules:
- Every table goes through report.workbook's safe writer: text from inputs is never
  a formula or a link, missing figures are empty cells, headers come from the label
  catalogue in ``lang``.
- No contact data: the column lists hold no phone or e-mail (checked on write).
- Proposal sheets are free layouts (WorkbookWriter.raw_sheet with an A4 PageSetup),
  and every cell goes through the writer's ``write_cell``, so they are as safe as
  the tables.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ledgerflow import labels
from ledgerflow.insights import Insights, Settings, suggestion_reasons
from ledgerflow.period import Period
from ledgerflow.report.outputs import check_shareable, words_of
from ledgerflow.report.workbook import (
    A4,
    ColumnSum,
    PageSetup,
    SheetSpec,
    WorkbookWriter,
    open_workbook,
    table_cells,
    write_cell,
)

log = logging.getLogger(__name__)

PARTNER = ["partner_code", "partner_name"]
SUMMARY_COLUMNS = [
    "rfm_segment",
    "partners_previous",
    "partners_now",
    "partners_change",
]
MOVES_COLUMNS = [*PARTNER, "segment_previous_month", "segment_now", "revenue_12m"]
MOVES_COLUMNS += ["days_since_last_order"]
LAPSING_COLUMNS = [*PARTNER, "rfm_segment", "days_since_last_order", "last_order_date"]
LAPSING_COLUMNS += ["orders_12m", "revenue_12m", "lapsed_items", "revenue_at_stake"]
TOP_ITEMS_COLUMNS = [*PARTNER, "window", "rank", "item_code", "item_name", "revenue"]
TOP_ITEMS_COLUMNS += ["revenue_share", "qty", "qty_rank"]
TOP_GROUPS_COLUMNS = [*PARTNER, "window", "rank", "item_group", "revenue"]
TOP_GROUPS_COLUMNS += ["revenue_share", "qty", "qty_rank"]
RHYTHM_COLUMNS = [
    *PARTNER,
    "rfm_segment",
    "rfm_r",
    "rfm_f",
    "rfm_m",
    "orders_12m",
    "orders_per_month",
    "mean_days_between_orders",
    "days_since_last_order",
    "first_order_date",
    "last_order_date",
    "revenue_12m",
    "n_items_12m",
    "buying_concentration",
]
MONTH_KEYS = [f"month_{month:02d}" for month in range(1, 13)]
SEASONALITY_COLUMNS = [*PARTNER, *MONTH_KEYS, "usual_months"]
LAPSED_COLUMNS = [*PARTNER, "item_code", "item_name", "last_bought"]
LAPSED_COLUMNS += ["months_bought_prev_12m", "revenue_at_stake"]
SUGGESTION_COLUMNS = [*PARTNER, "rank", "item_code", "item_name", "reason"]
SUGGESTION_COLUMNS += ["suggestion_score", "n_both", "n_anchor", "anchor_item_code"]
TAG_COLUMNS = [*PARTNER, "tag", "tag_rule"]

# Proposal sheet: rows per block, and A4 portrait page setup.
PROPOSAL_TOP_ITEMS = 10
PROPOSAL_LAPSED = 8
PROPOSAL_MARGINS = {"left": 0.5, "right": 0.5, "top": 0.6, "bottom": 0.6}
PROPOSAL_PAGE = PageSetup(
    paper=A4, fit_height=1, margins=PROPOSAL_MARGINS, center_horizontally=True
)
PROPOSAL_WIDTHS = [8, 14, 44, 16, 14]
TOP_KEYS = ["rank", "item_code", "item_name", "revenue", "revenue_share"]
LAPSED_KEYS = ["last_bought", "item_code", "item_name", "revenue_at_stake"]
LAPSED_KEYS += ["months_bought_prev_12m"]
SUGGESTION_KEYS = ["rank", "item_code", "item_name", "reason"]


def segment_name(segment, lang: str) -> str:
    """A segment's label; a segment defined only in the config shows its own name."""
    if segment is None or pd.isna(segment):
        return labels.phrase("segment_none", lang)
    key = f"segment_{segment}"
    return labels.phrase(key, lang) if labels.has("phrases", key) else str(segment)


def tag_name(tag, lang: str) -> str:
    """A tag's label in ``lang``."""
    key = f"tag_{tag}"
    return labels.phrase(key, lang) if labels.has("phrases", key) else str(tag)


def _reason_template(lang: str) -> str:
    """The suggestion_reason sentence in ``lang`` with its placeholders kept."""
    keep = {name: "{" + name + "}" for name in ("n_both", "n_anchor", "anchor")}
    return labels.phrase("suggestion_reason", lang, **keep)


def _money_text(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _note(note: str, insights: Insights, lang: str) -> str:
    """A "code: text" note of compute_insights in ``lang`` when the code is known."""
    code, _, text = note.partition(": ")
    key = f"insights_note_{code}"
    if not labels.has("phrases", key):
        return note
    count = text.split(" ", 1)[0]
    as_of = f"{insights.as_of:%Y-%m-%d}" if insights.as_of is not None else ""
    return labels.phrase(key, lang, count=count, as_of=as_of)


def _sum(values: pd.Series) -> float | None:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return float(numbers.sum()) if len(numbers) else None


def proposal_partners_of(insights: Insights, count: int) -> pd.DataFrame:
    """The ``count`` partners with the largest positive revenue of the last 12
    months (ties by partner_id): the ones given a proposal sheet."""
    chosen = insights.rhythm[insights.rhythm["revenue_12m"] > 0]
    chosen = chosen.sort_values(
        ["revenue_12m", "partner_id"], ascending=[False, True], kind="stable"
    )
    return chosen.head(count)


def write_insights(
    insights: Insights,
    path: Path,
    *,
    lang: str,
    period: Period,
    created: dt.datetime,
    proposal_partners: int | None = None,
) -> Path:
    """Write the insights workbook to ``path`` atomically and return ``path``.

    ``proposal_partners`` (default: [insights] proposal_partners) partners with the
    largest revenue in the last 12 months get a proposal sheet each.
    """
    path = Path(path)
    cfg = insights.settings or Settings()
    count = cfg.proposal_partners if proposal_partners is None else proposal_partners
    specs = summary_sheets(insights, lang, period, cfg) + table_sheets(insights, lang)
    for spec in specs:
        check_shareable(spec.columns, path.name)
    chosen = proposal_partners_of(insights, count)

    with open_workbook(
        path, lang=lang, created=created, cells=table_cells(specs)
    ) as writer:
        for spec in specs:
            writer.add_sheet(spec)
        proposal = _Proposal(
            writer, insights, lang, period, chosen["partner_id"].tolist()
        )
        for partner in chosen.itertuples(index=False):
            title = labels.sheet_title(
                "insights_proposal", lang, code=partner.partner_code
            )
            proposal.write(writer.raw_sheet(title, PROPOSAL_PAGE), partner)
    log.info("%s: %d tables, %d proposal sheets", path.name, len(specs), len(chosen))
    return path


# ------------------------------------------------------------------ the tables


def summary_sheets(
    insights: Insights, lang: str, period: Period, cfg: Settings
) -> list[SheetSpec]:
    """The summary (segments now and last month), segment moves, lapsing partners."""
    moves = insights.segment_moves
    previous = moves["segment_previous_month"].value_counts()
    now = moves["segment_now"].value_counts()
    order = [rule["name"] for rule in cfg.rfm_segments] + [cfg.rfm_default_segment]
    order += sorted((set(previous.index) | set(now.index)) - set(order))
    segments = [s for s in dict.fromkeys(order) if s in previous or s in now]
    summary = pd.DataFrame(
        {
            "rfm_segment": [segment_name(s, lang) for s in segments],
            "partners_previous": [int(previous.get(s, 0)) for s in segments],
            "partners_now": [int(now.get(s, 0)) for s in segments],
        }
    )
    summary["partners_change"] = summary["partners_now"] - summary["partners_previous"]
    summary_lapsing = pd.Series([s in cfg.lapsing_segments for s in segments])

    # lapsing partners, with what they stopped buying
    rhythm = insights.rhythm
    lapsed = insights.lapsed_items
    is_lapsing = rhythm["rfm_segment"].isin(list(cfg.lapsing_segments)).fillna(False)
    lapsing = rhythm[is_lapsing.to_numpy(dtype=bool)]
    per_partner = lapsed.groupby("partner_id").agg(
        lapsed_items=("item_code", "size"), revenue_at_stake=("revenue_at_stake", "sum")
    )
    lapsing = lapsing.join(per_partner, on="partner_id")
    lapsing = lapsing.sort_values("revenue_12m", ascending=False, kind="stable")
    lapsing["rfm_segment"] = words_of(
        lapsing["rfm_segment"], lambda s: segment_name(s, lang)
    )

    # partners whose segment changed; a move into a lapsing segment is highlighted
    before = moves["segment_previous_month"].astype("string").fillna("")
    changed = moves[(before != moves["segment_now"].astype("string").fillna(""))]
    changed = changed.merge(
        rhythm[["partner_id", "revenue_12m", "days_since_last_order"]],
        on="partner_id",
        how="left",
    ).sort_values("revenue_12m", ascending=False, kind="stable")
    into_lapsing = changed["segment_now"].isin(list(cfg.lapsing_segments))
    for column in ("segment_previous_month", "segment_now"):
        changed[column] = words_of(changed[column], lambda s: segment_name(s, lang))

    segments_text = ", ".join(segment_name(s, lang) for s in cfg.lapsing_segments)
    as_of = insights.as_of if insights.as_of is not None else period.end
    notes = [
        labels.phrase("insights_as_of", lang, as_of=f"{as_of:%Y-%m-%d}"),
        labels.phrase("insights_moves", lang, count=len(changed)),
        labels.phrase(
            "insights_lapsing_partners",
            lang,
            segments=segments_text,
            count=len(lapsing),
            revenue=_money_text(float(lapsing["revenue_12m"].sum())),
        ),
        labels.phrase(
            "insights_lapsed_items",
            lang,
            count=len(lapsed),
            partners=lapsed["partner_id"].nunique(),
            revenue=_money_text(float(lapsed["revenue_at_stake"].sum())),
        ),
        labels.phrase(
            "insights_lapse_rule",
            lang,
            min_months=cfg.lapse_min_months,
            months=cfg.lapse_months,
        ),
    ]
    total = {
        key: ColumnSum(int(summary[key].sum()))
        for key in ("partners_previous", "partners_now", "partners_change")
    }
    return [
        SheetSpec(
            "insights_summary",
            summary,
            SUMMARY_COLUMNS,
            highlight=summary_lapsing.astype(bool),
            total=total,
            notes=notes + [_note(note, insights, lang) for note in insights.notes],
            title_values={"period": str(period)},
        ),
        SheetSpec(
            "insights_moves",
            changed.reset_index(drop=True),
            MOVES_COLUMNS,
            highlight=pd.Series(into_lapsing.fillna(False).to_numpy(dtype=bool)),
        ),
        SheetSpec(
            "insights_lapsing",
            lapsing.reset_index(drop=True),
            LAPSING_COLUMNS,
            total={"revenue_at_stake": ColumnSum(_sum(lapsing["revenue_at_stake"]))},
        ),
    ]


def table_sheets(insights: Insights, lang: str) -> list[SheetSpec]:
    """The detail tables, with windows, segments, tags and reasons in ``lang``."""
    cfg = insights.settings or Settings()
    window = {w: labels.phrase(f"window_{w}", lang) for w in ("period", "last_12m")}
    top_items = insights.top_items.assign(
        window=insights.top_items["window"].map(window)
    )
    top_groups = insights.top_groups.assign(
        window=insights.top_groups["window"].map(window)
    )
    rhythm = insights.rhythm.assign(
        rfm_segment=words_of(
            insights.rhythm["rfm_segment"], lambda s: segment_name(s, lang)
        )
    )
    suggestions = insights.suggestions.rename(columns={"score": "suggestion_score"})
    if len(suggestions):
        suggestions["reason"] = suggestion_reasons(suggestions, _reason_template(lang))
    tags = insights.tags.assign(
        tag=words_of(insights.tags["tag"], lambda t: tag_name(t, lang)),
        rule=words_of(
            insights.tags["rule"],
            lambda r: labels.render(r, lang) if pd.notna(r) else r,
        ),
    ).rename(columns={"rule": "tag_rule"})
    rule = (
        labels.phrase("insights_group_first_word", lang)
        if cfg.item_group == "name_first_word"
        else labels.phrase(
            "insights_group_code_prefix", lang, length=cfg.item_group_prefix_length
        )
    )
    lapsed_total = ColumnSum(_sum(insights.lapsed_items["revenue_at_stake"]))
    return [
        SheetSpec("insights_top_items", top_items, TOP_ITEMS_COLUMNS),
        SheetSpec(
            "insights_top_groups",
            top_groups,
            TOP_GROUPS_COLUMNS,
            notes=[labels.phrase("insights_groups_rule", lang, rule=rule)],
        ),
        SheetSpec("insights_rhythm", rhythm, RHYTHM_COLUMNS),
        SheetSpec(
            "insights_seasonality",
            seasonality_grid(insights.seasonality),
            SEASONALITY_COLUMNS,
        ),
        SheetSpec(
            "insights_lapsed",
            insights.lapsed_items,
            LAPSED_COLUMNS,
            total={"revenue_at_stake": lapsed_total},
        ),
        SheetSpec("insights_suggestions", suggestions, SUGGESTION_COLUMNS),
        SheetSpec("insights_tags", tags, TAG_COLUMNS),
    ]


def seasonality_grid(seasonality: pd.DataFrame) -> pd.DataFrame:
    """One row per partner: revenue per calendar month and its usual months."""
    if seasonality.empty:
        return pd.DataFrame(columns=["partner_id", *PARTNER, *MONTH_KEYS])
    grid = seasonality.pivot_table(
        index="partner_id", columns="calendar_month", values="revenue", aggfunc="sum"
    )
    grid = grid.reindex(columns=range(1, 13))
    grid.columns = MONTH_KEYS
    usual = seasonality[seasonality["is_usual_month"].fillna(False).to_numpy(bool)]
    usual = usual[usual["partner_id"].notna().to_numpy(dtype=bool)]
    months: dict = {}
    pairs = zip(usual["partner_id"], usual["calendar_month"], strict=True)
    for partner_id, month in pairs:
        months.setdefault(partner_id, []).append(int(month))
    usual_text = pd.Series(
        {key: ", ".join(map(str, sorted(found))) for key, found in months.items()},
        dtype=object,
    )
    grid["usual_months"] = usual_text.reindex(grid.index).astype("string")
    names = seasonality.drop_duplicates("partner_id").set_index("partner_id")[PARTNER]
    return names.join(grid).reset_index()


# ------------------------------------------------------------- proposal sheets


class _Proposal:
    """One A4 page per partner: profile, top items, lapsed items, suggestions."""

    def __init__(
        self,
        writer: WorkbookWriter,
        insights: Insights,
        lang: str,
        period: Period,
        partner_ids: Sequence[str],
    ):
        self.insights = insights
        self.lang = lang
        self.period = period
        self.title = writer.add_format({"bold": True, "font_size": 14})
        self.heading = writer.add_format({"bold": True, "top": 1})
        self.header = writer.add_format(
            {"bold": True, "bg_color": "#D9E1F2", "text_wrap": True}
        )
        self.wrap = writer.add_format({"text_wrap": True, "valign": "top"})
        self.formats = {
            kind: writer.add_format({"num_format": code, "valign": "top"})
            for kind, code in {
                "money": "#,##0",
                "money2": "#,##0.00",
                "int": "#,##0",
                "number": "#,##0.0",
                "percent": "0.0%",
                "date": "yyyy-mm-dd",
            }.items()
        }
        self.blocks = proposal_blocks(insights, partner_ids)
        top = insights.top_items
        money = pd.concat([top["revenue"], insights.rhythm["revenue_12m"]]).dropna()
        self.money = "money" if (money.round() == money).all() else "money2"

    def write(self, sheet, partner) -> None:
        """Lay out ``partner`` (a row of Insights.rhythm) on ``sheet``, one A4 page."""
        lang = self.lang
        for col, width in enumerate(PROPOSAL_WIDTHS):
            sheet.set_column(col, col, width)

        name = "" if pd.isna(partner.partner_name) else str(partner.partner_name)
        title = labels.phrase(
            "insights_proposal_title", lang, code=partner.partner_code, name=name
        )
        as_of = self.insights.as_of if self.insights.as_of is not None else None
        as_of = as_of if as_of is not None else self.period.end
        period_line = labels.phrase(
            "insights_proposal_period",
            lang,
            period=str(self.period),
            as_of=f"{as_of:%Y-%m-%d}",
        )
        write_cell(sheet, 0, 0, " ".join(title.split()), self.title)
        write_cell(sheet, 1, 0, period_line, None)
        row = self._profile(sheet, 3, partner)

        key = partner.partner_id
        heading = labels.phrase("insights_top_items_12m", lang)
        top = self.blocks["top"].get(key)
        if top is not None:
            top = top[top["revenue"] > 0].sort_values("rank")
        row = self._table(sheet, row + 1, heading, top, TOP_KEYS, PROPOSAL_TOP_ITEMS)
        heading = labels.sheet_title("insights_lapsed", lang)
        lapsed = self.blocks["lapsed"].get(key)
        row = self._table(
            sheet, row + 1, heading, lapsed, LAPSED_KEYS, PROPOSAL_LAPSED,
            empty="insights_no_lapsed",
        )  # fmt: skip
        suggestions = self.blocks["suggestions"].get(key)
        if suggestions is not None:
            template = _reason_template(lang)
            suggestions = suggestions.assign(
                reason=suggestion_reasons(suggestions, template)
            )
        heading = labels.sheet_title("insights_suggestions", lang)
        self._table(
            sheet, row + 1, heading, suggestions, SUGGESTION_KEYS, None,
            empty="insights_no_suggestions",
        )  # fmt: skip

    def _heading(self, sheet, row: int, text: str) -> None:
        write_cell(sheet, row, 0, text, self.heading)
        for col in range(1, len(PROPOSAL_WIDTHS)):
            sheet.write_blank(row, col, None, self.heading)

    def _profile(self, sheet, row: int, partner) -> int:
        lang = self.lang
        self._heading(sheet, row, labels.phrase("insights_profile", lang))
        tags = self.blocks["tags"].get(partner.partner_id)
        usual = self.blocks["usual"].get(partner.partner_id)
        facts = [
            ("rfm_segment", segment_name(partner.rfm_segment, lang)),
            ("revenue_12m", partner.revenue_12m),
            ("orders_12m", partner.orders_12m),
            ("orders_per_month", partner.orders_per_month),
            ("mean_days_between_orders", partner.mean_days_between_orders),
            ("last_order_date", partner.last_order_date),
            ("days_since_last_order", partner.days_since_last_order),
            ("buying_concentration", partner.buying_concentration),
            (
                "usual_months",
                ", ".join(str(int(m)) for m in usual["calendar_month"])
                if usual is not None
                else "",
            ),
            (
                "tags",
                ", ".join(tag_name(t, lang) for t in tags["tag"])
                if tags is not None
                else "",
            ),
        ]
        for offset, (key, value) in enumerate(facts, start=1):
            write_cell(sheet, row + offset, 1, labels.label(key, lang), None)
            self._cell(sheet, row + offset, 3, key, value)
        return row + len(facts) + 1

    def _table(self, sheet, row, heading, frame, keys: Sequence[str], limit, empty=""):
        """A heading, the header row and up to ``limit`` rows; the next free row."""
        self._heading(sheet, row, heading)
        if frame is None or frame.empty:
            if empty:
                write_cell(sheet, row + 1, 0, labels.phrase(empty, self.lang), None)
            return row + 2
        for col, key in enumerate(keys):
            write_cell(sheet, row + 1, col, labels.label(key, self.lang), self.header)
        rows = frame if limit is None else frame.head(limit)
        for offset, record in enumerate(rows[list(keys)].itertuples(index=False)):
            for col, (key, value) in enumerate(zip(keys, record, strict=True)):
                self._cell(sheet, row + 2 + offset, col, key, value)
        return row + 2 + len(rows)

    def _cell(self, sheet, row: int, col: int, key: str, value) -> None:
        """One value formatted by its column kind; text always written as text."""
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return
        kind = labels.kind(key)
        if kind == "money":
            kind = self.money
        if kind == "text" or isinstance(value, str):
            write_cell(sheet, row, col, str(value), self.wrap)
        elif kind == "date":
            when = pd.Timestamp(value).to_pydatetime()
            write_cell(sheet, row, col, when, self.formats["date"])
        elif isinstance(value, bool | np.bool_):
            write_cell(sheet, row, col, bool(value), None)
        else:
            write_cell(sheet, row, col, float(value), self.formats.get(kind))


def proposal_blocks(
    insights: Insights, partner_ids: Sequence[str]
) -> dict[str, dict[str, pd.DataFrame]]:
    """The rows a proposal sheet shows, per block and partner, for ``partner_ids``.

    Blocks: "top" (top items of the last 12 months), "lapsed" (lapsed items),
    "suggestions", "tags" and "usual" (the usual calendar months). Each maps a
    partner_id to its rows in the order of the insights table; a partner without
    rows in a block is absent from it. Only the proposal partners are split out:
    they are a handful, the tables hold every partner.
    """
    wanted = list(dict.fromkeys(partner_ids))
    top = insights.top_items
    seasonality = insights.seasonality
    usual = seasonality["is_usual_month"].fillna(False).to_numpy(dtype=bool)
    return {
        "top": _by_partner(top[top["window"] == "last_12m"], wanted),
        "lapsed": _by_partner(insights.lapsed_items, wanted),
        "suggestions": _by_partner(insights.suggestions, wanted),
        "tags": _by_partner(insights.tags, wanted),
        "usual": _by_partner(seasonality[usual], wanted),
    }


def _by_partner(frame: pd.DataFrame, wanted: list[str]) -> dict[str, pd.DataFrame]:
    mine = frame[frame["partner_id"].isin(wanted).to_numpy(dtype=bool, na_value=False)]
    return dict(tuple(mine.groupby("partner_id", sort=False)))
