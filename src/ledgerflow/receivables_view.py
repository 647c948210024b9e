"""The receivables side of a partner: due dates from payment terms, the calendar-month
aging Korean teams read (당월, 1개월, 2개월, 3개월, 4-6개월, 6개월 초과), days sales
outstanding, credit exposure, use of the credit limit and a credit risk grade.

Pure functions on the canonical receivables (tables.RECEIVABLES with partner_id
attached) and the partner master.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ledgerflow.errors import ConfigError
from ledgerflow.metrics import _settled_part, amount_column, date_column

log = logging.getLogger(__name__)

# Keys of calendar_aging(): months between the invoice month and the as-of month.
CALENDAR_AGING_COLUMNS = [
    "aging_month_0",
    "aging_month_1",
    "aging_month_2",
    "aging_month_3",
    "aging_month_4_6",
    "aging_month_7_plus",
    "aging_month_no_date",
]
_CALENDAR_EDGES = [-np.inf, 0, 1, 2, 3, 6, np.inf]

# ----------------------------------------------------------------- payment terms


@dataclass(frozen=True)
class Terms:
    """A payment term as a rule.

    With ``months`` None: ``days`` after the invoice date. Otherwise a day of a
    month: ``months`` after the closing month, on ``day`` (0 = the month's last
    day), plus ``days``. Invoices dated after ``closing_day`` of their month close
    in the next month (0 = closing at month end).
    """

    days: int = 0
    months: int | None = None
    day: int = 0
    closing_day: int = 0  # 0 = month end

    def due(self, invoice: pd.Series) -> pd.Series:
        """The due date of each invoice date under these terms."""
        if self.months is None:
            return invoice + pd.Timedelta(days=self.days)
        month = (invoice.dt.year - 1970) * 12 + invoice.dt.month - 1 + self.months
        if self.closing_day:
            month = month + (invoice.dt.day > self.closing_day)
        known = month.notna().to_numpy()
        numbers = month.to_numpy(dtype=float, na_value=np.nan)
        starts = np.where(known, numbers, 0).astype(np.int64).astype("datetime64[M]")
        starts = np.where(known, starts.astype("datetime64[ns]"), np.datetime64("NaT"))
        first = pd.Series(starts, index=invoice.index, dtype="datetime64[ns]")
        last = first + pd.offsets.MonthEnd(0)
        on = last
        if self.day:
            on = first + pd.to_timedelta(self.day - 1, unit="D")
            on = on.where(on <= last, last)
        return on + pd.Timedelta(days=self.days)


_OFFSETS = {"당월": 0, "금월": 0, "익월": 1, "차월": 1, "익익월": 2, "익익익월": 3}
_MONTHS = re.compile(r"(익익익월|익익월|익월|차월|당월|금월|(\d+)\s*개월\s*(후|뒤)?)")
_PAY_DAY = re.compile(
    r"(익익익월|익익월|익월|차월|당월|금월|(\d+)\s*개월\s*(?:후|뒤)?)\s*(말일?|(\d+)\s*일)"
)
_CLOSING = re.compile(r"(\d+)\s*일\s*마감")
_PLUS_DAYS = re.compile(r"(?:마감|말일?)\s*(?:후|\+)\s*(\d+)\s*일")
_DAYS = re.compile(r"(?:net\s*|n/)?(\d+)\s*(?:일|days?)?", re.IGNORECASE)
_AFTER = re.compile(r"(발행|청구|세금계산서)?\s*(후|일자로부터|일로부터)\s*")
_CASH = re.compile(r"(현금|즉시|선불|선결제|cod|cash|immediate|due on receipt)", re.I)


def parse_terms(text: str | None) -> Terms | None:
    """A payment term written the way partner lists write them, or None.

    Understood forms (spaces optional):
    - "30일", "30일 이내", "발행 후 30일", "Net 30", "30 days": invoice date + 30;
    - "월말 마감 익월 25일", "익월 25일", "당월 말", "익월 말일", "2개월 후 10일":
      closing at month end, paid on that day of that month (a day past the month's
      end is its last day);
    - "15일 마감 익월 10일": invoices after the 15th close a month later;
    - "월말 마감 후 60일", "말일 + 30일": the closing month's end + 60 days;
    - "현금", "즉시", "COD", "Due on receipt": the invoice date.
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return None
    normal = unicodedata.normalize("NFKC", str(text)).strip()
    if not normal:
        return None
    closing = _CLOSING.search(normal)
    closing_day = int(closing.group(1)) if closing else 0
    if match := _PAY_DAY.search(normal):
        unit = match.group(1)
        months = int(match.group(2)) if match.group(2) else _OFFSETS[unit]
        day = int(match.group(4)) if match.group(4) else 0
        if not 0 <= day <= 31:
            return None
        return Terms(months=months, day=day, closing_day=closing_day)
    if match := _PLUS_DAYS.search(normal):
        return Terms(months=0, day=0, days=int(match.group(1)), closing_day=0)
    if _CASH.search(normal):
        return Terms(days=0)
    plain = _AFTER.sub("", normal).replace("이내", "").strip()
    if match := _DAYS.fullmatch(plain):
        return Terms(days=int(match.group(1)))
    return None


def due_dates(
    receivables: pd.DataFrame,
    master: pd.DataFrame | None,
    config: dict | None,
    notes: list[str],
) -> pd.Series:
    """Each invoice's due date: the export's own, else from payment terms.

    Rules:
    - a due date in the export always wins;
    - else the partner's payment_terms in the master (parse_terms), else
      [receivables] default_payment_terms;
    - an invoice without an invoice date, or whose terms cannot be read, keeps no
      due date; the counts go to ``notes`` (due_from_terms, terms_not_understood).
    """
    due = date_column(receivables, "due_date")
    missing = due.isna()
    if not missing.any():
        return due
    invoice = date_column(receivables, "invoice_date")
    terms_text = pd.Series(pd.NA, index=receivables.index, dtype="string")
    if master is not None and "payment_terms" in master and "partner_id" in master:
        known = master[master["payment_terms"].notna()]
        by_id = pd.Series(
            known["payment_terms"].astype("string").to_numpy(),
            index=known["partner_id"].astype("string").to_numpy(),
        )
        by_id = by_id[~by_id.index.duplicated()]
        terms_text = receivables["partner_id"].astype("string").map(by_id)
    default = ((config or {}).get("receivables") or {}).get("default_payment_terms", "")
    if default:
        if parse_terms(default) is None:
            raise ConfigError(
                f"[receivables] default_payment_terms: {default!r} is not a term "
                'ledgerflow reads; write it like "30일" or "월말 마감 익월 25일"'
            )
        terms_text = terms_text.fillna(default)
    derived = due.copy()
    unknown = 0
    for text in terms_text[missing].dropna().unique():
        terms = parse_terms(text)
        rows = missing & (terms_text == text).fillna(False) & invoice.notna()
        if terms is None:
            unknown += int(rows.sum())
            continue
        derived[rows] = terms.due(invoice[rows])
    filled = int((missing & derived.notna()).sum())
    if filled:
        notes.append(
            f"due_from_terms: {filled} invoices had no due date in the export; "
            "their due date comes from the payment terms"
        )
    if unknown:
        notes.append(
            f"terms_not_understood: {unknown} invoices without a due date have "
            "payment terms ledgerflow cannot read, so they have no due date"
        )
    return derived


# ---------------------------------------------------------------------- aging


def open_amount(receivables: pd.DataFrame, asof: pd.Timestamp) -> pd.Series:
    """The part of each invoice still open at ``asof`` (0 when not yet invoiced)."""
    invoice_date = date_column(receivables, "invoice_date")
    amount = amount_column(receivables, "amount")
    counted = ~(invoice_date > asof).fillna(False) & amount.notna()
    return (amount - _settled_part(receivables, asof)).where(counted, 0.0)


def calendar_aging(receivables: pd.DataFrame, asof) -> pd.DataFrame:
    """The open balance per partner_id at ``asof`` by invoice month.

    Rules: 당월 = invoiced in the as-of month; 1개월, 2개월, 3개월 = one, two,
    three calendar months earlier; 4-6개월; 6개월 초과 (7 months or more); an open
    invoice without an invoice date has its own column. The columns of a partner add
    up to its receivable balance (the same open part as metrics.receivable_position).
    """
    asof = pd.Timestamp(asof).normalize()
    open_part = open_amount(receivables, asof)
    invoice = date_column(receivables, "invoice_date")
    months = (asof.year * 12 + asof.month) - (invoice.dt.year * 12 + invoice.dt.month)
    band = pd.cut(months, _CALENDAR_EDGES, labels=CALENDAR_AGING_COLUMNS[:-1])
    frame = pd.DataFrame({"partner_id": receivables["partner_id"].astype("string")})
    for name in CALENDAR_AGING_COLUMNS[:-1]:
        frame[name] = open_part.where(band == name, 0.0).astype("Float64")
    frame["aging_month_no_date"] = open_part.where(invoice.isna(), 0.0)
    frame["aging_month_no_date"] = frame["aging_month_no_date"].astype("Float64")
    keep = frame["partner_id"].notna() & (open_part != 0).fillna(False)
    out = frame[keep.to_numpy()].groupby("partner_id", sort=True).sum()
    return out.reset_index()


# ------------------------------------------------------------------- DSO, credit


def dso(receivables: pd.DataFrame, balance: pd.Series, asof, days: int) -> pd.Series:
    """Days sales outstanding per partner_id at ``asof``.

    Rule: balance at asof ÷ amount invoiced in the ``days`` days ending at asof ×
    days (both VAT-inclusive invoice amounts, so they compare like with like); NA
    when nothing was invoiced in those days.
    """
    asof = pd.Timestamp(asof).normalize()
    invoice = date_column(receivables, "invoice_date")
    amount = amount_column(receivables, "amount")
    window = (invoice > asof - pd.Timedelta(days=days)) & (invoice <= asof)
    billed = (
        amount.where(window.fillna(False), 0.0)
        .groupby(receivables["partner_id"].astype("string"))
        .sum()
    )
    billed = billed.reindex(balance.index).astype("Float64")
    out = (balance.astype("Float64") / billed * days).where(billed > 0)
    return out.astype("Float64")


RISK_OPS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
}


def risk_grade(frame: pd.DataFrame, config: dict | None) -> pd.Series:
    """The credit risk grade of each row from [credit] risk_rules.

    Rules: grades are tried in the order of [credit] risk_grades (worst first); a
    row gets the first grade one of whose rules holds ({grade, column, op, value});
    a rule on a missing figure never holds; a row holding none gets the last grade.
    Rows without any receivable history (receivable_balance NA) get no grade.
    """
    section = (config or {}).get("credit") or {}
    grades = list(section.get("risk_grades", ["high", "medium", "low"]))
    rules = list(section.get("risk_rules", DEFAULT_RISK_RULES))
    for rule in rules:
        where = f"[credit] risk_rules {rule!r}"
        if not isinstance(rule, dict) or rule.get("grade") not in grades:
            raise ConfigError(f"{where}: grade must be one of {grades}")
        if rule.get("op") not in RISK_OPS:
            raise ConfigError(f"{where}: op must be one of {', '.join(RISK_OPS)}")
        if rule.get("column") not in frame.columns:
            raise ConfigError(
                f"{where}: column must be one of "
                f"{', '.join(c for c in RISK_COLUMNS if c in frame.columns)}"
            )
    out = pd.Series(pd.NA, index=frame.index, dtype="string")
    for grade in grades[:-1]:
        fired = np.zeros(len(frame), dtype=bool)
        for rule in (r for r in rules if r["grade"] == grade):
            values = pd.to_numeric(frame[rule["column"]], errors="coerce")
            values = values.to_numpy(dtype=float, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                fired |= RISK_OPS[rule["op"]](values, float(rule["value"]))
        out = out.mask(out.isna() & fired, grade)
    out = out.fillna(grades[-1])
    has_history = frame["receivable_balance"].notna().to_numpy()
    return out.where(has_history)


RISK_COLUMNS = [
    "overdue_share",
    "avg_days_late",
    "on_time_share",
    "credit_use",
    "dso",
    "n_disputed",
]
DEFAULT_RISK_RULES = [
    {"grade": "high", "column": "overdue_share", "op": ">=", "value": 0.5},
    {"grade": "high", "column": "avg_days_late", "op": ">", "value": 60},
    {"grade": "high", "column": "credit_use", "op": ">", "value": 1.0},
    {"grade": "medium", "column": "overdue_share", "op": ">=", "value": 0.2},
    {"grade": "medium", "column": "avg_days_late", "op": ">", "value": 15},
    {"grade": "medium", "column": "credit_use", "op": ">", "value": 0.8},
]
