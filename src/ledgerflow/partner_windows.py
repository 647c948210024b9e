"""Sales figures per partner over the windows of a reporting month: the month, the
year to date, the last 12 months, and the same three windows a year earlier; plus
monthly series, growth, the 12-month trend and where each partner is in its life
(new, repeat, dormant, lost).

The lines come from metrics.usable_lines (partner_id, doc_no, doc_date, revenue,
cost). They are turned once into integer arrays (LineBase) so that every window is a
boolean mask and a few ``np.bincount`` calls: on a million lines a window costs a
few milliseconds, not a group-by.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ledgerflow.period import Period

log = logging.getLogger(__name__)

# Window keys, in the order the workbook shows them.
WINDOWS = [
    "month",
    "ytd",
    "last_12m",
    "month_prev_year",
    "ytd_prev_year",
    "last_12m_prev_year",
]
# Sales figures of window_sums(), per partner.
SALES_KEYS = [
    "revenue",
    "sales_amount",
    "returns_amount",
    "cost",
    "n_lines",
    "n_orders",
    "n_return_docs",
]
LIFECYCLE_STATUSES = ["new", "repeat", "active", "dormant", "lost"]
_NO_DAY = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Window:
    """Days start..end, both included."""

    key: str
    start: pd.Timestamp
    end: pd.Timestamp


def windows(period: Period) -> dict[str, Window]:
    """The six windows of ``period`` by key (see WINDOWS).

    Rules: the last 12 months are the 12 calendar months ending with the period
    month; a "prev_year" window is the same window moved back one year (the end of
    February stays the end of February in a leap year).
    """
    year = pd.DateOffset(years=1)
    start_12m = period.start - pd.DateOffset(months=11)
    base = {
        "month": (period.start, period.end),
        "ytd": (period.year_start, period.end),
        "last_12m": (start_12m, period.end),
    }
    out = {key: Window(key, start, end) for key, (start, end) in base.items()}
    for key, (start, end) in base.items():
        end_before = (end - year) + pd.offsets.MonthEnd(0)
        out[f"{key}_prev_year"] = Window(f"{key}_prev_year", start - year, end_before)
    return out


def day_number(when) -> int:
    """Days since 1970-01-01 of a date."""
    return int(pd.Timestamp(when).normalize().value // 86_400_000_000_000)


def day_numbers(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of each date; a missing date is a very small number."""
    values = pd.to_datetime(dates, errors="coerce").dt.normalize()
    days = values.to_numpy(dtype="datetime64[D]").astype(np.int64)
    return np.where(values.isna().to_numpy(), _NO_DAY, days)


def month_number(when) -> int:
    """year × 12 + month − 1 of a date: consecutive months are consecutive numbers."""
    when = pd.Timestamp(when)
    return when.year * 12 + when.month - 1


@dataclass
class LineBase:
    """Usable sales lines as arrays; ``partner`` indexes ``ids``.

    ``doc`` numbers the documents (a doc_no of one partner; where doc_no is blank,
    the partner's lines of one day count as one document).
    """

    ids: pd.Index
    partner: np.ndarray
    day: np.ndarray
    month: np.ndarray
    revenue: np.ndarray
    cost: np.ndarray
    doc: np.ndarray
    doc_partner: np.ndarray
    docs_from_dates: int = 0
    # per document: the latest promised and delivered day of its lines (_NO_DAY
    # when none); None when the lines carry no delivery dates at all
    doc_promised: np.ndarray | None = None
    doc_delivered: np.ndarray | None = None


def line_base(lines: pd.DataFrame, ids: pd.Index) -> LineBase:
    """Arrays of ``lines`` (from metrics.usable_lines) with partners indexing ``ids``.

    Raises ValueError when a line's partner_id is not in ``ids`` (a caller bug).
    """
    partner_ids = lines["partner_id"]
    if isinstance(partner_ids.dtype, pd.CategoricalDtype):
        positions = ids.get_indexer(partner_ids.cat.categories.astype("string"))
        partner = positions[partner_ids.cat.codes.to_numpy()]
    else:
        partner = ids.get_indexer(partner_ids.astype("string"))
    if (partner < 0).any():
        raise ValueError("line_base: a partner_id of the lines is missing from ids")
    partner = partner.astype(np.int64)
    day = day_numbers(lines["doc_date"])
    dates = pd.to_datetime(lines["doc_date"])
    month = (dates.dt.year * 12 + dates.dt.month - 1).to_numpy(
        dtype=float, na_value=np.nan
    )
    month = np.where(np.isnan(month), _NO_DAY, month).astype(np.int64)

    doc_no = lines.get("doc_no")
    if doc_no is not None:
        codes = pd.to_numeric(doc_no, errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        if np.isnan(codes).all() and doc_no.notna().any():
            codes = pd.factorize(doc_no)[0].astype(float)
            codes[codes < 0] = np.nan
    else:
        codes = np.full(len(lines), np.nan)
    missing = np.isnan(codes)
    n_docs = int(np.nanmax(codes)) + 1 if (~missing).any() else 0
    key = partner * (n_docs + 1) + np.where(missing, 0, codes).astype(np.int64)
    if missing.any():
        # no document number: a partner's lines of one day are one document
        first_day = int(day[missing & (day != _NO_DAY)].min(initial=0))
        offset = len(ids) * (n_docs + 1)
        by_day = offset + partner * 200_000 + np.clip(day - first_day, 0, 199_999)
        key = np.where(missing, by_day, key)
    doc, _ = pd.factorize(key)
    doc_partner = np.zeros(int(doc.max(initial=-1)) + 1, dtype=np.int64)
    doc_partner[doc] = partner
    promised = delivered = None
    if "promised_date" in lines and lines["promised_date"].notna().any():
        promised = np.full(len(doc_partner), _NO_DAY)
        np.maximum.at(promised, doc, day_numbers(lines["promised_date"]))
        delivered = np.full(len(doc_partner), _NO_DAY)
        if "delivered_date" in lines:
            np.maximum.at(delivered, doc, day_numbers(lines["delivered_date"]))
    return LineBase(
        ids=ids,
        partner=partner,
        day=day,
        month=month,
        revenue=lines["revenue"].to_numpy(dtype=float, na_value=np.nan),
        cost=lines["cost"].to_numpy(dtype=float, na_value=np.nan),
        doc=doc.astype(np.int64),
        doc_partner=doc_partner,
        docs_from_dates=int(missing.sum()),
        doc_promised=promised,
        doc_delivered=delivered,
    )


def window_sums(base: LineBase, start, end) -> dict[str, np.ndarray]:
    """SALES_KEYS per partner (arrays over ``base.ids``) of lines dated start..end.

    Rules:
    - revenue = net revenue (returns negative); sales_amount = the positive lines;
      returns_amount = minus the negative lines (a positive figure, already taken
      off revenue);
    - cost is NaN for a partner when any of its lines in the window lacks a cost;
    - an order is a document with at least one positive line; a return document
      has negative lines only (Online Retail's C-invoices).
    """
    n = len(base.ids)
    chosen = (base.day >= day_number(start)) & (base.day <= day_number(end))
    partner = base.partner[chosen]
    revenue = base.revenue[chosen]
    cost = base.cost[chosen]
    positive = revenue > 0
    sales = np.bincount(partner, np.where(positive, revenue, 0.0), n)
    net = np.bincount(partner, revenue, n)
    unknown = np.bincount(partner, np.isnan(cost), n) > 0
    cost_sum = np.bincount(partner, np.nan_to_num(cost), n)

    n_docs = len(base.doc_partner)
    doc = base.doc[chosen]
    has_positive = np.bincount(doc[positive], minlength=n_docs) > 0
    has_negative = np.bincount(doc[revenue < 0], minlength=n_docs) > 0
    present = np.bincount(doc, minlength=n_docs) > 0
    orders = has_positive | (present & ~has_negative)
    returns = has_negative & ~has_positive
    delivery = _delivery(base, orders, day_number(end), n)
    return {
        **delivery,
        "revenue": net,
        "sales_amount": sales,
        "returns_amount": sales - net,
        "cost": np.where(unknown, np.nan, cost_sum),
        "n_lines": np.bincount(partner, minlength=n).astype(np.int64),
        "n_orders": np.bincount(base.doc_partner[orders], minlength=n),
        "n_return_docs": np.bincount(base.doc_partner[returns], minlength=n),
    }


DELIVERY_KEYS = [
    "n_deliveries_due",
    "n_late_deliveries",
    "n_delivered",
    "delivery_days_late",
]


def _delivery(base: LineBase, orders: np.ndarray, end: int, n: int) -> dict:
    """Orders with a promised date, how many came late, how many were delivered,
    and the days late of the delivered ones summed.

    Rules: an order is late when delivered after its promised date, or not
    delivered at all while its promised date is before ``end`` (the window end);
    days late sum the delivered orders' days past the promised date. NaN for every
    partner when the lines carry no promised dates.
    """
    if base.doc_promised is None:
        return {key: np.full(n, np.nan) for key in DELIVERY_KEYS}
    promised, delivered = base.doc_promised, base.doc_delivered
    due = orders & (promised != _NO_DAY)
    shipped = delivered != _NO_DAY
    late_days = np.where(shipped, delivered - promised, 0).clip(0)
    late = due & (np.where(shipped, late_days > 0, promised < end))
    owner = base.doc_partner
    return {
        "n_deliveries_due": np.bincount(owner[due], minlength=n).astype(float),
        "n_late_deliveries": np.bincount(owner[late], minlength=n).astype(float),
        "n_delivered": np.bincount(owner[due & shipped], minlength=n).astype(float),
        "delivery_days_late": np.bincount(
            owner[due & shipped], late_days[due & shipped], n
        ),
    }


def monthly_matrix(
    base: LineBase, values: np.ndarray, first_month: int, n_months: int
) -> np.ndarray:
    """Σ ``values`` per partner × month (rows ids, columns months from first_month)."""
    offset = base.month - first_month
    chosen = (offset >= 0) & (offset < n_months)
    cells = base.partner[chosen] * n_months + offset[chosen]
    flat = np.bincount(cells, values[chosen], len(base.ids) * n_months)
    return flat.reshape(len(base.ids), n_months)


def trend(matrix: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row per month, as a share of the row's mean.

    E.g. 0.05 = revenue grows by 5 % of an average month every month. NaN when the
    mean of the row is 0 or less (no basis to compare with).
    """
    n_months = matrix.shape[1]
    x = np.arange(n_months, dtype=float) - (n_months - 1) / 2
    slope = (matrix * x).sum(axis=1) / (x**2).sum()
    mean = matrix.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean > 0, slope / np.where(mean > 0, mean, 1.0), np.nan)


def growth(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    """now / before − 1; NaN when ``before`` is 0 or negative."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(before > 0, now / np.where(before > 0, before, 1.0) - 1, np.nan)


def lifecycle(
    base: LineBase, period: Period, dormant_days: int, lost_days: int
) -> pd.DataFrame:
    """Where each partner is at the period end, judged from its orders.

    Rules (orders = lines with positive revenue dated up to period.end):
    - new: first order ever in the period month;
    - repeat: ordered in the month, and before it;
    - active: no order in the month, last order at most ``dormant_days`` before the
      period end;
    - dormant: last order more than ``dormant_days`` and at most ``lost_days``
      before the period end;
    - lost: last order more than ``lost_days`` before the period end;
      ``lost_in_period`` marks the partners that crossed that line in this month;
    - partners with no order up to the period end have no status (NA).
    Columns: first_order_date, last_order_date, days_since_last_order,
    lifecycle_status, lost_in_period; one row per ``base.ids``.
    """
    n = len(base.ids)
    end = day_number(period.end)
    start = day_number(period.start)
    chosen = (base.revenue > 0) & (base.day != _NO_DAY) & (base.day <= end)
    partner, day = base.partner[chosen], base.day[chosen]
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, _NO_DAY)
    np.minimum.at(first, partner, day)
    np.maximum.at(last, partner, day)
    known = last != _NO_DAY
    since = np.where(known, end - last, -1)
    status = np.select(
        [
            known & (last >= start) & (first >= start),
            known & (last >= start),
            known & (since <= dormant_days),
            known & (since <= lost_days),
            known,
        ],
        LIFECYCLE_STATUSES,
        default="",
    )
    lost_now = known & (since > lost_days) & (start - 1 - last <= lost_days)
    out = pd.DataFrame(
        {
            "first_order_date": _dates(first, known),
            "last_order_date": _dates(last, known),
            "days_since_last_order": pd.array(np.where(known, since, 0), dtype="Int64"),
            "lifecycle_status": pd.array(
                np.where(status == "", None, status), dtype="string"
            ),
            "lost_in_period": lost_now,
        },
        index=base.ids,
    )
    out.loc[~known, "days_since_last_order"] = pd.NA
    return out


def _dates(days: np.ndarray, known: np.ndarray) -> np.ndarray:
    values = np.where(known, days, 0).astype("datetime64[D]").astype("datetime64[ns]")
    return np.where(known, values, np.datetime64("NaT", "ns"))


def history_start(base: LineBase) -> pd.Timestamp | None:
    """The first dated line, or None."""
    days = base.day[base.day != _NO_DAY]
    if not len(days):
        return None
    return pd.Timestamp("1970-01-01") + pd.Timedelta(days=int(days.min()))
