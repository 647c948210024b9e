"""The profitability workbook: profitability_<YYYY-MM>.xlsx from metrics.Profitability.

Sheets, in order: a summary (the period, headline figures with their change on the
year, charts of revenue and contribution by month, the Pareto curve, aging by bucket,
top and bottom partners by contribution), the month, the year to date, the last 12
months, growth, totals by month, Pareto, receivables and credit, partner lifecycle,
and the assumptions and data gaps.

Rules:
- Every table goes through report.workbook's safe writer (text never becomes a
  formula, a missing figure is an empty cell, headers from the label catalogue).
- Total rows take the totals computed by the metrics stage: sums as =SUM() caching
  the value, margins as the ratio of two total cells, never an average of rows.
- Conditional formats: negative gross profit or contribution, overdue amounts and
  a high credit risk are coloured.
- Every sheet prints on A4 landscape, one page wide, with the header row repeated.
- No contact data (checked on write).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell

from ledgerflow import labels
from ledgerflow.contacts import SHARED_KEYS
from ledgerflow.metrics import Profitability
from ledgerflow.period import Period
from ledgerflow.profitability_detail import (
    GROWTH_COLUMNS,
    LIFECYCLE_COLUMNS,
    MONTHLY_COLUMNS,
    PARETO_COLUMNS,
    WINDOW_COLUMNS,
)
from ledgerflow.report.outputs import check_shareable, translate_note, words_column
from ledgerflow.report.workbook import (
    A4,
    ColumnSum,
    ConditionalFormat,
    PageSetup,
    Ratio,
    SheetSpec,
    WorkbookWriter,
    open_workbook,
    table_cells,
    write_cell,
)

log = logging.getLogger(__name__)

RED_FILL = "#FFC7CE"
RED_TEXT = "#9C0006"
AMBER_FILL = "#FFEB9C"
AMBER_TEXT = "#9C5700"
# The month sheet leads with the columns the first wave showed, English headers
# "Partner code", "Revenue", ... "Overdue amount" kept.
FIRST_COLUMNS = [
    "partner_id",
    "partner_code",
    "partner_name",
    "revenue",
    "cost",
    "gross_profit",
    "gross_margin",
    "receivable_balance",
    "overdue_amount",
]
MONTH_COLUMNS = [
    *FIRST_COLUMNS,
    *[c for c in WINDOW_COLUMNS if c not in FIRST_COLUMNS],
    # contact log counts; only the month frame has them
    *SHARED_KEYS,
]
WINDOW_SHEET_COLUMNS = [c for c in MONTH_COLUMNS if c not in ("receivable_balance",)]
WINDOW_SHEET_COLUMNS = [c for c in WINDOW_SHEET_COLUMNS if c != "overdue_amount"]
RATIOS = {
    "gross_margin": ("gross_profit", "revenue"),
    "contribution_margin": ("contribution_amount", "revenue"),
}
NEGATIVE_RED = ("gross_profit", "contribution_amount", "contribution_ytd")
OVERDUE_AMBER = ("overdue_amount", "aging_month_4_6", "aging_month_7_plus")
TOP_BOTTOM = 10
CHART_ROWS = 16  # rows one chart takes on the summary sheet
RED = {"bg_color": RED_FILL, "font_color": RED_TEXT}
AMBER = {"bg_color": AMBER_FILL, "font_color": AMBER_TEXT}
# every sheet: A4 landscape, one page wide, header row repeated, page n / m
PAGE = PageSetup(
    paper=A4,
    landscape=True,
    margins={"left": 0.4, "right": 0.4, "top": 0.5, "bottom": 0.5},
    repeat_header=True,
    footer="&C&P / &N",
)


def write_profitability_workbook(
    profit: Profitability,
    path: Path,
    *,
    lang: str,
    period: Period,
    created: dt.datetime | dt.date,
    period_reason: str | None = None,
) -> Path:
    """Write the profitability workbook of ``period`` to ``path`` atomically."""
    path = Path(path)
    detail = profit.detail
    if detail is None:
        raise ValueError(
            "profitability workbook: the Profitability has no detail; build it with "
            "metrics.profitability()"
        )
    notes = _all_notes(profit, lang, period, period_reason)
    specs = _table_specs(profit, lang, period, notes)
    for spec in specs:
        check_shareable(spec.columns, path.name)

    with open_workbook(
        path, lang=lang, created=created, cells=table_cells(specs)
    ) as writer:
        formats = _formats(writer)
        title = labels.sheet_title("profitability_summary", lang, period=period)
        summary = writer.raw_sheet(title, PAGE)
        names = {spec.title_key: writer.add_sheet(spec).get_name() for spec in specs}
        _Summary(writer, summary, profit, lang, period, formats, names).write()
    log.info("%s: summary and %d sheets written", path.name, len(specs))
    return path


# ------------------------------------------------------------------- the tables


def _total(frame: pd.DataFrame, given: dict[str, Any], columns: Sequence[str]):
    """Given totals as written cells: sums as ColumnSum, margins as Ratio."""
    out: dict[str, Any] = {}
    for key in columns:
        if key not in frame.columns or key not in given:
            continue
        value = given[key]
        missing = value is None or (not isinstance(value, str) and pd.isna(value))
        if key in RATIOS:
            top, bottom = RATIOS[key]
            out[key] = Ratio(top, bottom, None if missing else float(value))
        elif missing:
            out[key] = None
        elif labels.kind(key) in ("money", "int") and key != "avg_order":
            out[key] = ColumnSum(float(value))
        else:
            out[key] = value
    return out


def _shown(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Codes shown as words: lifecycle status and credit risk grade."""
    out = frame.copy()
    for key, prefix in (("lifecycle_status", "lifecycle_"), ("risk_grade", "risk_")):
        if key in out:
            out[key] = words_column(
                out[key], lambda s, p=prefix: _word(p, s, lang), keep_missing=True
            )
    return out


def _word(prefix: str, code, lang: str) -> str:
    key = f"{prefix}{code}"
    return labels.phrase(key, lang) if labels.has("phrases", key) else str(code)


def _table_specs(
    profit: Profitability, lang: str, period: Period, notes: list[str]
) -> list[SheetSpec]:
    detail = profit.detail
    values = {
        "period": str(period),
        "year": period.year,
        "month": f"{period.month:02d}",
    }
    specs = []
    for key, title, columns in (
        ("month", "profitability_month", MONTH_COLUMNS),
        ("ytd", "profitability_ytd", MONTH_COLUMNS),
        ("last_12m", "profitability_last_12m", WINDOW_SHEET_COLUMNS),
    ):
        frame = detail.windows[key]
        specs.append(
            SheetSpec(
                title,
                frame,
                columns,
                total=_total(frame, detail.totals[key], columns),
                title_values=values,
                notes=[_window_line(key, period, lang)],
            )
        )
    specs.append(
        SheetSpec(
            "profitability_growth",
            detail.growth,
            GROWTH_COLUMNS,
            total=_total(detail.growth, detail.growth_total, GROWTH_COLUMNS),
            notes=[labels.phrase("trend_rule", lang)],
        )
    )
    monthly = detail.monthly
    specs.append(
        SheetSpec(
            "profitability_monthly",
            monthly,
            MONTHLY_COLUMNS,
            total={
                k: ColumnSum(float(monthly[k].sum()))
                for k in ("revenue", "cost_to_serve", "n_orders")
            },
        )
    )
    specs.append(
        SheetSpec(
            "profitability_pareto",
            detail.pareto,
            PARETO_COLUMNS,
            notes=[labels.phrase("abc_rule", lang)],
        )
    )
    if detail.receivables is not None:
        frame = _shown(detail.receivables, lang)
        columns = list(frame.columns)
        sums = {
            k: ColumnSum(float(pd.to_numeric(frame[k]).sum()))
            for k in columns
            if k in frame and labels.kind(k) == "money" and k != "credit_limit"
        }
        specs.append(SheetSpec("profitability_receivables", frame, columns, total=sums))
    specs.append(
        SheetSpec(
            "profitability_lifecycle",
            _shown(detail.lifecycle, lang),
            LIFECYCLE_COLUMNS,
            notes=[_lifecycle_line(detail.lifecycle_counts, lang)],
        )
    )
    specs.append(
        SheetSpec(
            "profitability_notes",
            pd.DataFrame({"note": pd.array(notes, dtype="string")}),
            ["note"],
        )
    )
    for spec in specs:
        spec.page = PAGE
        spec.conditional_formats = _colours(spec.columns, lang)
    return specs


def _window_line(key: str, period: Period, lang: str) -> str:
    from ledgerflow.partner_windows import windows

    window = windows(period)[key]
    before = windows(period)[f"{key}_prev_year"]
    return (
        f"{labels.phrase('window_' + key, lang)}: {window.start:%Y-%m-%d} ~ "
        f"{window.end:%Y-%m-%d} ({labels.label('same_period_last_year', lang)}: "
        f"{before.start:%Y-%m-%d} ~ {before.end:%Y-%m-%d})"
    )


def _lifecycle_line(counts: dict[str, int], lang: str) -> str:
    keys = ("new", "repeat", "active", "dormant", "lost", "lost_in_period")
    return labels.phrase(
        "lifecycle_summary", lang, **{k: counts.get(k, 0) for k in keys}
    )


def _all_notes(profit: Profitability, lang: str, period: Period, reason) -> list[str]:
    """Every assumption and data gap, in ``lang``: the rules first, then the notes
    of the metrics stage."""
    from ledgerflow.partner_windows import windows

    spans = {
        key: f"{w.start:%Y-%m-%d}~{w.end:%Y-%m-%d}"
        for key, w in windows(period).items()
    }
    out = []
    if reason:
        out.append(translate_note(f"{reason}: {period}", lang))
    out += [
        labels.phrase("window_rule", lang, **spans),
        labels.phrase("returns_rule", lang),
        labels.phrase("contribution_rule", lang),
        labels.phrase("abc_rule", lang),
        labels.phrase("trend_rule", lang),
    ]
    detail = profit.detail
    counts = detail.lifecycle_counts
    out.append(_lifecycle_line(counts, lang))
    dormant, lost = detail.lifecycle_days
    out.append(labels.phrase("lifecycle_rule", lang, dormant=dormant, lost=lost))
    if detail.receivables is not None:
        out.append(labels.phrase("payment_window", lang))
        # the grade in words (risk_<grade>); column names are the setting's own
        rules = "; ".join(
            f"{_risk_word(r['grade'], lang)}: {r['column']} {r['op']} {r['value']}"
            for r in detail.risk_rules
        )
        if rules:
            out.append(labels.phrase("risk_rule", lang, rules=rules))
    if detail.concentration.get("warning"):
        out.append(labels.phrase("concentration_warning", lang))
    out += [translate_note(note, lang) for note in profit.notes]
    return [line for line in out if line]


def _risk_word(grade, lang: str) -> str:
    key = f"risk_{grade}"
    return labels.phrase(key, lang) if labels.has("phrases", key) else str(grade)


# ------------------------------------------------------- formats and page setup


def _formats(writer: WorkbookWriter) -> dict[str, Any]:
    add = writer.add_format
    return {
        "red": add(RED),
        "amber": add(AMBER),
        "title": add({"bold": True, "font_size": 14}),
        "bold": add({"bold": True}),
        "header": add({"bold": True, "bg_color": "#D9E1F2", "bottom": 1}),
        "money": add({"num_format": "#,##0"}),
        "money2": add({"num_format": "#,##0.00"}),
        "percent": add({"num_format": "0.0%"}),
        "number": add({"num_format": "#,##0.000"}),
        "warning": add({"bold": True, "font_color": RED_TEXT}),
    }


def _colours(columns: Sequence[str], lang: str) -> list[ConditionalFormat]:
    """Negative profit red, overdue amounts amber, a high risk red, lost amber."""
    rules = []
    for key in columns:
        if key in NEGATIVE_RED:
            rules.append(ConditionalFormat(key, "<", 0, RED))
        elif key in OVERDUE_AMBER:
            rules.append(ConditionalFormat(key, ">", 0, AMBER))
        elif key == "risk_grade":
            rules.append(
                ConditionalFormat(key, "==", _word("risk_", "high", lang), RED)
            )
        elif key == "lifecycle_status":
            lost = _word("lifecycle_", "lost", lang)
            rules.append(ConditionalFormat(key, "==", lost, AMBER))
    return rules


# --------------------------------------------------------------- summary sheet


class _Summary:
    """Headline figures with the change on the year, and four charts."""

    def __init__(self, writer, sheet, profit, lang, period, formats, names):
        self.writer = writer
        self.sheet = sheet
        self.profit = profit
        self.detail = profit.detail
        self.lang = lang
        self.period = period
        self.f = formats
        self.names = names
        totals = self.detail.totals["month"]
        whole = all(
            float(v).is_integer()
            for v in (totals.get("revenue"), totals.get("sales_amount"))
            if v is not None and not pd.isna(v)
        )
        self.money = formats["money"] if whole else formats["money2"]

    def write(self) -> None:
        sheet, lang = self.sheet, self.lang
        sheet.set_column(0, 0, 34)
        sheet.set_column(1, 6, 16)
        title = labels.sheet_title("profitability_summary", lang, period=self.period)
        write_cell(sheet, 0, 0, title, self.f["title"])
        write_cell(
            sheet,
            1,
            0,
            labels.phrase(
                "period_month",
                lang,
                period=str(self.period),
                start=f"{self.period.start:%Y-%m-%d}",
                end=f"{self.period.end:%Y-%m-%d}",
            ),
            None,
        )
        row = self._headline(3)
        row = self._status_lines(row + 1)
        data_col = 10
        monthly_rows = self._chart_data(data_col)
        self._charts(row + 1, data_col, monthly_rows)
        # the chart data to the right stays on screen but off the printed page
        sheet.print_area(0, 0, row + 5 + CHART_ROWS * 2, data_col - 1)

    def _headline(self, row: int) -> int:
        lang, sheet = self.lang, self.sheet
        header = [
            labels.label("figure", lang),
            labels.phrase("window_month", lang),
            labels.label("same_period_last_year", lang),
            labels.label("change_on_year", lang),
            labels.phrase("window_ytd", lang),
            labels.label("same_period_last_year", lang),
            labels.label("change_on_year", lang),
        ]
        for col, text in enumerate(header):
            write_cell(sheet, row, col, text, self.f["header"])
        totals = self.detail.totals
        figures = [
            ("headline_revenue", "revenue", "money"),
            ("headline_gross_profit", "gross_profit", "money"),
            ("headline_gross_margin", "gross_margin", "percent"),
            ("headline_cost_to_serve", "cost_to_serve", "money"),
            ("headline_contribution", "contribution_amount", "money"),
            ("headline_orders", "n_orders", "int"),
        ]
        # a year earlier is unknown (not 0) when the sales lines start later
        start = self.detail.history_start
        seen = {
            w: start is not None and start <= self.detail.window_starts[w]
            for w in ("month_prev_year", "ytd_prev_year")
        }
        for offset, (phrase, key, kind) in enumerate(figures, start=1):
            r = row + offset
            write_cell(sheet, r, 0, labels.phrase(phrase, lang), None)
            for col, window in ((1, "month"), (4, "ytd")):
                now = totals[window].get(key)
                before = totals[f"{window}_prev_year"].get(key)
                before = before if seen[f"{window}_prev_year"] else None
                self._cell(r, col, now, kind)
                self._cell(r, col + 1, before, kind)
                if kind != "percent":
                    self._cell(r, col + 2, _change(now, before), "percent")
        r = row + len(figures) + 1
        active = [
            (len(self.detail.windows[w][self.detail.windows[w]["n_lines"] > 0]))
            for w in ("month", "month_prev_year", "ytd", "ytd_prev_year")
        ]
        write_cell(sheet, r, 0, labels.phrase("headline_partners", lang), None)
        active[1] = active[1] if seen["month_prev_year"] else None
        active[3] = active[3] if seen["ytd_prev_year"] else None
        for col, value in zip((1, 2, 4, 5), active, strict=True):
            self._cell(r, col, value, "int")
        self._cell(r, 3, _change(active[0], active[1]), "percent")
        self._cell(r, 6, _change(active[2], active[3]), "percent")
        r += 1
        for phrase, key in (
            ("headline_receivables", "receivable_balance"),
            ("headline_overdue", "overdue_amount"),
        ):
            write_cell(sheet, r, 0, labels.phrase(phrase, lang), None)
            self._cell(r, 1, totals["month"].get(key), "money")
            r += 1
        conc = self.detail.concentration
        write_cell(
            sheet,
            r,
            0,
            labels.phrase("headline_top_share", lang, top_n=conc.get("top_n", 10)),
            None,
        )
        self._cell(r, 1, conc.get("top_share"), "percent")
        write_cell(sheet, r + 1, 0, labels.phrase("headline_hhi", lang), None)
        self._cell(r + 1, 1, conc.get("hhi"), "number")
        return r + 2

    def _status_lines(self, row: int) -> int:
        lines = [_lifecycle_line(self.detail.lifecycle_counts, self.lang)]
        for line in lines:
            write_cell(self.sheet, row, 0, line, None)
            row += 1
        if self.detail.concentration.get("warning"):
            text = labels.phrase("concentration_warning", self.lang)
            write_cell(self.sheet, row, 0, text, self.f["warning"])
            row += 1
        return row

    def _cell(self, row: int, col: int, value, kind: str) -> None:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return
        value = float(value)
        if not math.isfinite(value):
            return
        style = {
            "money": self.money,
            "int": self.f["money"],
            "percent": self.f["percent"],
            "number": self.f["number"],
        }[kind]
        self.sheet.write_number(row, col, value, style)

    def _chart_data(self, col: int) -> int:
        """Data of the month and aging charts, to the right of the headline."""
        sheet, lang = self.sheet, self.lang
        monthly = self.detail.monthly
        keys = ["month", "revenue", "contribution_amount"]
        for offset, key in enumerate(keys):
            write_cell(
                sheet, 0, col + offset, labels.label(key, lang), self.f["header"]
            )
        for r, record in enumerate(monthly[keys].itertuples(index=False), start=1):
            write_cell(sheet, r, col, str(record[0]), None)
            self._cell(r, col + 1, record[1], "money")
            self._cell(r, col + 2, record[2], "money")

        # aging at the period end, by days past due
        aging = self.profit.aging
        self.aging_rows = 0
        if aging is not None and len(aging):
            columns = [c for c in aging.columns if c != "partner_id"]
            top = len(monthly) + 3
            write_cell(sheet, top, col, labels.label("figure", lang), self.f["header"])
            write_cell(
                sheet, top, col + 1, labels.label("amount", lang), self.f["header"]
            )
            for offset, key in enumerate(columns, start=1):
                write_cell(sheet, top + offset, col, labels.label(key, lang), None)
                total = float(pd.to_numeric(aging[key]).sum())
                self._cell(top + offset, col + 1, total, "money")
            self.aging_top, self.aging_rows = top, len(columns)

        # top and bottom partners by contribution, year to date
        ytd = self.detail.windows["ytd"]
        known = ytd[ytd["contribution_amount"].notna().to_numpy()]
        known = known[(known["n_lines"] > 0).to_numpy()]
        ranked = known.sort_values(
            ["contribution_amount", "partner_id"], ascending=[False, True]
        )
        chosen = pd.concat([ranked.head(TOP_BOTTOM), ranked.tail(TOP_BOTTOM)])
        chosen = chosen[~chosen["partner_id"].duplicated()]
        top = len(monthly) + 3 + self.aging_rows + 3
        write_cell(
            sheet, top, col, labels.label("partner_name", lang), self.f["header"]
        )
        write_cell(
            sheet,
            top,
            col + 1,
            labels.label("contribution_amount", lang),
            self.f["header"],
        )
        for offset, record in enumerate(chosen.itertuples(index=False), start=1):
            name = record.partner_name if pd.notna(record.partner_name) else None
            shown = str(name or record.partner_code or record.partner_id)
            write_cell(sheet, top + offset, col, shown, None)
            self._cell(top + offset, col + 1, record.contribution_amount, "money")
        self.top_bottom = (top, len(chosen))
        sheet.set_column(col, col, 18)
        sheet.set_column(col + 1, col + 2, 16)
        return len(monthly)

    def _charts(self, row: int, col: int, monthly_rows: int) -> None:
        writer, sheet, lang = self.writer, self.sheet, self.lang
        name = self.sheet.get_name()
        quoted = "'" + name.replace("'", "''") + "'"

        def ref(r1, c1, r2, c2):
            return f"={quoted}!{_abs(r1, c1)}:{_abs(r2, c2)}"

        line = writer.add_chart({"type": "column"})
        for offset, key in ((1, "revenue"), (2, "contribution_amount")):
            line.add_series(
                {
                    "name": labels.label(key, lang),
                    "categories": ref(1, col, monthly_rows, col),
                    "values": ref(1, col + offset, monthly_rows, col + offset),
                }
            )
        line.set_title({"name": labels.phrase("chart_revenue_contribution", lang)})
        line.set_legend({"position": "bottom"})
        sheet.insert_chart(row, 0, line, {"x_scale": 1.3, "y_scale": 1.0})

        pareto = self.detail.pareto
        if len(pareto):
            sheet_name = self.names["profitability_pareto"]
            pq = "'" + sheet_name.replace("'", "''") + "'"
            share_col = PARETO_COLUMNS.index("cumulative_share")
            x_col = PARETO_COLUMNS.index("partner_share")
            n = min(len(pareto), 1_000_000)
            chart = writer.add_chart({"type": "scatter", "subtype": "straight"})
            chart.add_series(
                {
                    "name": labels.label("cumulative_share", lang),
                    "categories": f"={pq}!{_abs(1, x_col)}:{_abs(n, x_col)}",
                    "values": f"={pq}!{_abs(1, share_col)}:{_abs(n, share_col)}",
                }
            )
            chart.set_title({"name": labels.phrase("chart_pareto", lang)})
            chart.set_x_axis({"num_format": "0%", "min": 0, "max": 1})
            chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
            chart.set_legend({"none": True})
            sheet.insert_chart(row, 4, chart, {"x_scale": 1.0, "y_scale": 1.0})

        if self.aging_rows:
            top = self.aging_top
            chart = writer.add_chart({"type": "column"})
            chart.add_series(
                {
                    "name": labels.phrase("chart_aging", lang),
                    "categories": ref(top + 1, col, top + self.aging_rows, col),
                    "values": ref(top + 1, col + 1, top + self.aging_rows, col + 1),
                }
            )
            chart.set_title({"name": labels.phrase("chart_aging", lang)})
            chart.set_legend({"none": True})
            scale = {"x_scale": 1.3, "y_scale": 1.0}
            sheet.insert_chart(row + CHART_ROWS, 0, chart, scale)

        top, count = self.top_bottom
        if count:
            chart = writer.add_chart({"type": "bar"})
            chart.add_series(
                {
                    "name": labels.label("contribution_amount", lang),
                    "categories": ref(top + 1, col, top + count, col),
                    "values": ref(top + 1, col + 1, top + count, col + 1),
                    "invert_if_negative": True,
                }
            )
            chart.set_title({"name": labels.phrase("chart_top_bottom", lang)})
            chart.set_y_axis({"reverse": True})
            chart.set_legend({"none": True})
            scale = {"x_scale": 1.0, "y_scale": 1.3}
            sheet.insert_chart(row + CHART_ROWS, 4, chart, scale)


def _abs(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)


def _change(now, before):
    """now / before − 1 when both are known and ``before`` is positive."""
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return None
    if before <= 0:
        return None
    return float(now) / float(before) - 1
