"""The deeper profitability views of a month (issue 5): per-window partner tables
with cost-to-serve and contribution, growth and trend, receivables and credit,
partner lifecycle, monthly totals, the Pareto curve and concentration.

metrics.profitability() calls ``build_detail`` after it has chosen the usable lines
and the receivable position; everything here works on the arrays of
partner_windows.LineBase, so the six windows and 24 monthly columns of a million
lines cost well under a second.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ledgerflow import cost_to_serve as cts
from ledgerflow import partner_windows as pw
from ledgerflow import receivables_view as rv
from ledgerflow.errors import ConfigError
from ledgerflow.metrics import abc_class, aging, aging_columns
from ledgerflow.period import Period

log = logging.getLogger(__name__)

PARTNER = ["partner_id", "partner_code", "partner_name"]
# Columns of each window table (Detail.windows[key]), in the order shown.
WINDOW_COLUMNS = [
    *PARTNER,
    "revenue",
    "sales_amount",
    "returns_amount",
    "n_orders",
    "n_lines",
    "n_return_docs",
    "avg_order",
    "cost",
    "gross_profit",
    "gross_margin",
    *cts.SERVE_KEYS,
    "contribution_amount",
    "contribution_margin",
    "revenue_share",
    "contribution_share",
    "abc_class",
    "n_deliveries_due",
    "n_late_deliveries",
    "on_time_delivery_share",
    "avg_delivery_days_late",
    "receivable_balance",
    "overdue_amount",
]
GROWTH_COLUMNS = [
    *PARTNER,
    "revenue_month",
    "revenue_month_prev_year",
    "growth_month",
    "revenue_ytd",
    "revenue_ytd_prev_year",
    "growth_ytd",
    "revenue_last_12m",
    "revenue_last_12m_prev_year",
    "growth_last_12m",
    "contribution_ytd",
    "contribution_ytd_prev_year",
    "trend_12m",
]
MONTHLY_COLUMNS = [
    "month",
    "revenue",
    "gross_profit",
    "cost_to_serve",
    "contribution_amount",
    "n_orders",
    "n_active_partners",
]
PARETO_COLUMNS = [
    *PARTNER,
    "rank",
    "revenue",
    "revenue_share",
    "cumulative_share",
    "partner_share",
    "abc_class",
]
LIFECYCLE_COLUMNS = [
    *PARTNER,
    "lifecycle_status",
    "first_order_date",
    "last_order_date",
    "days_since_last_order",
    "lost_in_period",
]
_AMOUNT = "Float64"


@dataclass
class Detail:
    """What build_detail returns; every frame has the partner_id key column."""

    windows: dict[str, pd.DataFrame] = field(default_factory=dict)
    totals: dict[str, dict[str, Any]] = field(default_factory=dict)
    growth: pd.DataFrame | None = None
    growth_total: dict[str, Any] = field(default_factory=dict)
    receivables: pd.DataFrame | None = None
    lifecycle: pd.DataFrame | None = None
    lifecycle_counts: dict[str, int] = field(default_factory=dict)
    monthly: pd.DataFrame | None = None
    pareto: pd.DataFrame | None = None
    concentration: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # the rules applied, for the notes sheet
    lifecycle_days: tuple[int, int] = (90, 365)
    history_start: pd.Timestamp | None = None  # first dated sales line
    window_starts: dict[str, pd.Timestamp] = field(default_factory=dict)
    risk_rules: list[dict] = field(default_factory=list)


def _setting(config, section, key, default):
    return ((config or {}).get(section) or {}).get(key, default)


def _whole(config, section: str, key: str, default: int) -> int:
    value = _setting(config, section, key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"[{section}] {key}: expected a whole number >= 0 (got {value!r})"
        )
    return value


def _fraction(config, section: str, key: str, default: float) -> float:
    value = _setting(config, section, key, default)
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not 0 <= value <= 1:
        raise ConfigError(
            f"[{section}] {key}: expected a fraction 0.0-1.0 (got {value!r})"
        )
    return float(value)


# ------------------------------------------------------------------ the windows


def _window_arrays(
    base: pw.LineBase,
    window: pw.Window,
    costs: cts.CostBase | None,
    pieces: cts.OpenPieces | None,
    cfg: cts.Settings,
) -> dict[str, np.ndarray]:
    n = len(base.ids)
    sums = pw.window_sums(base, window.start, window.end)
    serve = cts.serve_costs(
        n=n,
        n_documents=sums["n_orders"] + sums["n_return_docs"],
        n_return_docs=sums["n_return_docs"],
        costs=cts.cost_sums(costs, n, window.start, window.end),
        amount_days_owed=cts.amount_days(pieces, n, window.start, window.end),
        cfg=cfg,
    )
    out = {**sums, **serve}
    out["gross_profit"] = sums["revenue"] - sums["cost"]
    out["contribution_amount"] = out["gross_profit"] - serve["cost_to_serve"]
    return out


def _window_frame(
    arrays: dict[str, np.ndarray],
    ids: pd.Index,
    identities: pd.DataFrame,
    position: pd.DataFrame | None,
    with_position: bool,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The partner rows with any figure in the window, and the total row."""
    frame = pd.DataFrame({k: v for k, v in arrays.items()}, index=ids)
    active = (frame["n_lines"] > 0) | (frame["cost_to_serve"].abs() > 1e-9)
    for key in cts.COST_COMPONENTS:
        active |= frame[key].fillna(0).abs() > 1e-9
    if with_position and position is not None:
        owing = position.set_index("partner_id").reindex(ids)
        frame["receivable_balance"] = owing["receivable_balance"].fillna(0.0)
        frame["overdue_amount"] = owing["overdue_amount"].fillna(0.0)
        active |= frame["receivable_balance"].abs() > 1e-9
    else:
        frame["receivable_balance"] = np.nan
        frame["overdue_amount"] = np.nan
    frame = frame[active.to_numpy()].copy()

    for key in frame.columns:
        if key.startswith("n_"):
            frame[key] = frame[key].astype("Int64")
        else:
            frame[key] = pd.array(frame[key].to_numpy(dtype=float), dtype=_AMOUNT)
    revenue = frame["revenue"]
    frame["avg_order"] = frame["sales_amount"] / frame["n_orders"].astype(_AMOUNT)
    frame["avg_order"] = frame["avg_order"].where(frame["n_orders"] > 0)
    frame["gross_margin"] = (frame["gross_profit"] / revenue).where(revenue > 0)
    due = frame["n_deliveries_due"]
    frame["on_time_delivery_share"] = (
        1 - frame["n_late_deliveries"].astype(_AMOUNT) / due.astype(_AMOUNT)
    ).where(due > 0)
    delivered = frame["n_delivered"].astype(_AMOUNT)
    frame["avg_delivery_days_late"] = (frame["delivery_days_late"] / delivered).where(
        delivered > 0
    )
    frame["contribution_margin"] = (frame["contribution_amount"] / revenue).where(
        revenue > 0
    )
    total = _totals(frame, with_position and position is not None)
    frame["revenue_share"] = _share(revenue, total["revenue"])
    frame["contribution_share"] = _share(
        frame["contribution_amount"], total["contribution_amount"]
    )
    frame = frame.join(identities.reindex(frame.index))
    frame.index.name = "partner_id"
    frame = frame.reset_index()
    frame["partner_id"] = frame["partner_id"].astype("string")
    frame["abc_class"] = abc_class(frame["revenue"])
    frame = frame.sort_values(
        ["revenue", "partner_code", "partner_id"],
        ascending=[False, True, True],
        na_position="last",
        kind="mergesort",
    ).reset_index(drop=True)
    return frame[WINDOW_COLUMNS], total


def _share(values: pd.Series, total) -> pd.Series:
    if total is None or pd.isna(total) or total <= 0:
        return pd.Series(pd.NA, index=values.index, dtype=_AMOUNT)
    return (values / total).astype(_AMOUNT)


def _totals(frame: pd.DataFrame, with_position: bool) -> dict[str, Any]:
    """The total row: sums, and ratios of the sums (never averages of rows).

    A money figure is NA in the total when any partner's is NA (a partial sum would
    mislead), except cost-to-serve components, which are NA only when all are.
    """

    def total_of(key: str, partial_ok: bool = False):
        values = frame[key]
        if values.isna().all() and len(values):
            return pd.NA
        if values.isna().any() and not partial_ok:
            return pd.NA
        return float(values.sum())

    out: dict[str, Any] = {key: None for key in PARTNER}
    for key in ["revenue", "sales_amount", "returns_amount", "cost", "gross_profit"]:
        out[key] = total_of(key)
    for key in cts.SERVE_KEYS:
        out[key] = total_of(key, partial_ok=True)
    out["contribution_amount"] = total_of("contribution_amount")
    for key in ["n_orders", "n_lines", "n_return_docs"]:
        out[key] = int(frame[key].sum())
    due = frame["n_deliveries_due"]
    if due.notna().any():
        out["n_deliveries_due"] = int(due.sum())
        out["n_late_deliveries"] = int(frame["n_late_deliveries"].sum())
        n_delivered = float(frame["n_delivered"].sum())
        out["on_time_delivery_share"] = (
            1 - out["n_late_deliveries"] / out["n_deliveries_due"]
            if out["n_deliveries_due"]
            else pd.NA
        )
        out["avg_delivery_days_late"] = (
            float(frame["delivery_days_late"].sum()) / n_delivered
            if n_delivered
            else pd.NA
        )
    revenue = out["revenue"]
    out["avg_order"] = (
        out["sales_amount"] / out["n_orders"] if out["n_orders"] else pd.NA
    )
    for key, top in (
        ("gross_margin", "gross_profit"),
        ("contribution_margin", "contribution_amount"),
    ):
        known = not pd.isna(out[top]) and revenue and revenue > 0
        out[key] = out[top] / revenue if known else pd.NA
    out["revenue_share"] = 1.0 if revenue else pd.NA
    known = not pd.isna(out["contribution_amount"]) and out["contribution_amount"] > 0
    out["contribution_share"] = 1.0 if known else pd.NA
    out["abc_class"] = None
    for key in ("receivable_balance", "overdue_amount"):
        out[key] = float(frame[key].sum()) if with_position else pd.NA
    return out


# ---------------------------------------------------------------- the builder


def build_detail(
    *,
    lines: pd.DataFrame,
    receivables: pd.DataFrame | None,
    costs: pd.DataFrame | None,
    ids: pd.Index,
    identities: pd.DataFrame,
    position: pd.DataFrame | None,
    payment: pd.DataFrame | None,
    master: pd.DataFrame | None,
    period: Period,
    config: dict | None,
) -> Detail:
    """Every view of issue 5 for ``period``; see the module docstring.

    ``receivables`` already carry their derived due dates (metrics.profitability
    fills them from payment terms first); ``ids`` holds every partner_id of the
    lines, receivables and costs; ``position`` is the receivable position at the
    period end; ``payment`` the payment behaviour over the last 12 months.
    """
    notes: list[str] = []
    cfg = cts.settings(config)
    base = pw.line_base(lines, ids)
    if base.docs_from_dates:
        notes.append(
            f"documents_from_dates: {base.docs_from_dates} lines have no document "
            "number; a partner's lines of one day count as one order"
        )
    cost_base = cts.cost_base(costs, ids, cfg, notes)
    has_rec = receivables is not None and len(receivables) > 0
    pieces = (
        cts.open_pieces(receivables, ids, receivables["due_date"], cfg.financing_from)
        if has_rec
        else None
    )
    _serve_notes(cfg, cost_base, has_rec, notes)

    # the six windows, month and YTD with the receivable position at period end
    windows = pw.windows(period)
    arrays = {
        key: _window_arrays(base, window, cost_base, pieces, cfg)
        for key, window in windows.items()
    }
    detail = Detail(notes=notes)
    detail.history_start = pw.history_start(base)
    detail.window_starts = {key: w.start for key, w in windows.items()}
    for key in pw.WINDOWS:
        frame, total = _window_frame(
            arrays[key], ids, identities, position, key in ("month", "ytd")
        )
        detail.windows[key] = frame
        detail.totals[key] = total

    # monthly columns: 24 months ending with the period, for trend and the charts
    n_months = 24
    last_month = pw.month_number(period.start)
    monthly_rows, revenue_matrix = [], np.zeros((len(ids), n_months))
    for offset in range(n_months):
        number = last_month - n_months + 1 + offset
        start = pd.Timestamp(number // 12, number % 12 + 1, 1)
        month = _window_arrays(
            base, pw.Window("m", start, start + pd.offsets.MonthEnd(0)),
            cost_base, pieces, cfg,
        )  # fmt: skip
        revenue_matrix[:, offset] = month["revenue"]
        cost_known = not np.isnan(month["cost"]).any()
        monthly_rows.append(
            {
                "month": f"{start:%Y-%m}",
                "revenue": float(month["revenue"].sum()),
                "gross_profit": (
                    float(month["gross_profit"].sum()) if cost_known else pd.NA
                ),
                "cost_to_serve": float(month["cost_to_serve"].sum()),
                "contribution_amount": (
                    float(month["contribution_amount"].sum()) if cost_known else pd.NA
                ),
                "n_orders": int(month["n_orders"].sum()),
                "n_active_partners": int((month["n_lines"] > 0).sum()),
            }
        )
    detail.monthly = pd.DataFrame(monthly_rows, columns=MONTHLY_COLUMNS)
    for key in ("revenue", "gross_profit", "cost_to_serve", "contribution_amount"):
        detail.monthly[key] = detail.monthly[key].astype(_AMOUNT)

    detail.growth, detail.growth_total = _growth(
        arrays, detail.totals, revenue_matrix[:, -12:], ids, identities
    )
    detail.pareto, detail.concentration = _pareto(
        detail.windows["last_12m"], config, notes
    )
    detail.lifecycle, detail.lifecycle_counts = _lifecycle(
        base, period, config, identities, notes
    )
    detail.receivables = _receivables(
        receivables, position, payment, master, identities, period, config, notes
    )
    detail.lifecycle_days = (
        _whole(config, "profitability", "dormant_days", 90),
        _whole(config, "profitability", "lost_days", 365),
    )
    detail.risk_rules = list(
        _setting(config, "credit", "risk_rules", rv.DEFAULT_RISK_RULES)
    )
    return detail


def _serve_notes(cfg: cts.Settings, costs, has_rec: bool, notes: list[str]) -> None:
    """Say which cost-to-serve components have nothing behind them."""
    if costs is None:
        notes.append(
            "no_costs_export: no costs export was given, so freight, fees, discounts "
            "and rebates booked to partners are not in cost-to-serve"
        )
    if not cfg.handling_cost_per_document and not cfg.return_cost_per_document:
        notes.append(
            "handling_cost_not_set: [cost_to_serve] handling_cost_per_document and "
            "return_cost_per_document are 0, so handling is not in cost-to-serve"
        )
    if not has_rec:
        notes.append(
            "financing_no_receivables: no receivables were given, so the financing "
            "cost of slow payment is not in cost-to-serve"
        )
    elif not cfg.cost_of_capital:
        notes.append(
            "financing_not_set: [cost_to_serve] cost_of_capital is 0, so the "
            "financing cost of slow payment is 0"
        )
    else:
        notes.append(
            f"financing_rule: financing cost = open receivable × days open × "
            f"{cfg.cost_of_capital:g} ÷ 365, counted from the {cfg.financing_from}"
        )


def _growth(arrays, totals, matrix_12m, ids, identities):
    frame = pd.DataFrame(index=ids)
    for key in ("month", "ytd", "last_12m"):
        now = arrays[key]["revenue"]
        before = arrays[f"{key}_prev_year"]["revenue"]
        frame[f"revenue_{key}"] = now
        frame[f"revenue_{key}_prev_year"] = before
        frame[f"growth_{key}"] = pw.growth(now, before)
    frame["contribution_ytd"] = arrays["ytd"]["contribution_amount"]
    frame["contribution_ytd_prev_year"] = arrays["ytd_prev_year"]["contribution_amount"]
    frame["trend_12m"] = pw.trend(matrix_12m)
    keep = (frame["revenue_last_12m"] != 0) | (frame["revenue_last_12m_prev_year"] != 0)
    for key in ("revenue_ytd_prev_year", "contribution_ytd"):
        keep |= frame[key].fillna(0) != 0
    keep |= frame["contribution_ytd_prev_year"].fillna(0) != 0
    frame = frame[keep.to_numpy()].astype(_AMOUNT)
    frame = frame.join(identities.reindex(frame.index))
    frame.index.name = "partner_id"
    frame = frame.reset_index().sort_values(
        ["revenue_last_12m", "partner_id"], ascending=[False, True], kind="mergesort"
    )
    total: dict[str, Any] = {key: None for key in PARTNER}
    for key in ("month", "ytd", "last_12m"):
        now = totals[key]["revenue"]
        before = totals[f"{key}_prev_year"]["revenue"]
        total[f"revenue_{key}"] = now
        total[f"revenue_{key}_prev_year"] = before
        total[f"growth_{key}"] = now / before - 1 if before and before > 0 else pd.NA
    total["contribution_ytd"] = totals["ytd"]["contribution_amount"]
    total["contribution_ytd_prev_year"] = totals["ytd_prev_year"]["contribution_amount"]
    total["trend_12m"] = float(pw.trend(matrix_12m.sum(axis=0, keepdims=True))[0])
    frame["partner_id"] = frame["partner_id"].astype("string")
    return frame[GROWTH_COLUMNS].reset_index(drop=True), total


def _pareto(frame: pd.DataFrame, config, notes: list[str]):
    """Partners of the last 12 months with positive revenue, largest first, with
    the cumulative share; concentration (top-N share, HHI) and its warning."""
    top_n = _whole(config, "profitability", "concentration_top_n", 10)
    top_limit = _fraction(config, "profitability", "concentration_warn_top_share", 0.5)
    hhi_limit = _fraction(config, "profitability", "concentration_warn_hhi", 0.25)
    positive = frame[(frame["revenue"] > 0).fillna(False).to_numpy()]
    positive = positive.sort_values(
        ["revenue", "partner_id"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)
    revenue = positive["revenue"].astype(float)
    total = float(revenue.sum())
    out = positive[[*PARTNER, "revenue", "abc_class"]].copy()
    out["rank"] = pd.array(np.arange(1, len(out) + 1), dtype="Int64")
    share = revenue / total if total else revenue * np.nan
    out["revenue_share"] = share.astype(_AMOUNT)
    out["cumulative_share"] = share.cumsum().astype(_AMOUNT)
    out["partner_share"] = (out["rank"] / max(len(out), 1)).astype(_AMOUNT)
    if not total:
        figures = {"top_n": top_n, "top_share": pd.NA, "hhi": pd.NA, "warning": False}
        return out[PARETO_COLUMNS], figures
    top_share = float(revenue.head(top_n).sum()) / total
    hhi = float((share**2).sum())
    warning = top_share > top_limit or hhi > hhi_limit
    figures = {
        "top_n": top_n,
        "top_share": top_share,
        "hhi": hhi,
        "warning": warning,
        "n_partners": len(out),
    }
    if warning:
        notes.append(
            f"concentration_high: the top {top_n} partners bring {top_share:.1%} of "
            f"the last 12 months' revenue (limit {top_limit:.0%}) and the "
            f"Herfindahl index is {hhi:.3f} (limit {hhi_limit:.2f})"
        )
    return out[PARETO_COLUMNS], figures


def _lifecycle(base, period, config, identities, notes):
    dormant = _whole(config, "profitability", "dormant_days", 90)
    lost = _whole(config, "profitability", "lost_days", 365)
    if lost < dormant:
        raise ConfigError(
            f"[profitability] lost_days ({lost}) must be at least dormant_days "
            f"({dormant})"
        )
    frame = pw.lifecycle(base, period, dormant, lost)
    frame = frame[frame["lifecycle_status"].notna().to_numpy()]
    counts = {
        s: int((frame["lifecycle_status"] == s).sum()) for s in pw.LIFECYCLE_STATUSES
    }
    counts["lost_in_period"] = int(frame["lost_in_period"].sum())
    start = pw.history_start(base)
    if start is not None and start > period.end - pd.Timedelta(days=lost):
        notes.append(
            f"history_short: sales lines start on {start:%Y-%m-%d}, less than "
            f"{lost} days before the period end, so some partners counted as new "
            "may have bought before and lost partners cannot all be seen"
        )
    frame = frame.join(identities.reindex(frame.index))
    frame.index.name = "partner_id"
    order = {s: i for i, s in enumerate(pw.LIFECYCLE_STATUSES)}
    frame = frame.reset_index()
    frame["partner_id"] = frame["partner_id"].astype("string")
    frame["_order"] = frame["lifecycle_status"].map(order)
    frame = frame.sort_values(["_order", "partner_id"], kind="mergesort")
    return frame[LIFECYCLE_COLUMNS].reset_index(drop=True), counts


RECEIVABLE_COLUMNS = [
    *PARTNER,
    "receivable_balance",
    "overdue_amount",
    "overdue_share",
    "n_open_invoices",
]
CREDIT_COLUMNS = [
    "dso",
    "n_invoices_paid",
    "avg_days_to_pay",
    "avg_days_late",
    "on_time_share",
    "n_disputed",
    "credit_exposure",
    "credit_limit",
    "credit_use",
    "risk_grade",
]


def receivable_columns(config) -> list[str]:
    return [
        *RECEIVABLE_COLUMNS,
        *aging_columns(config),
        *rv.CALENDAR_AGING_COLUMNS,
        *CREDIT_COLUMNS,
    ]


def _receivables(
    receivables, position, payment, master, identities, period, config, notes
) -> pd.DataFrame | None:
    """One row per partner with receivables: balance, aging both ways, DSO,
    payment behaviour, exposure, credit limit use and risk grade."""
    if receivables is None or len(receivables) == 0 or position is None:
        return None
    frame = position.set_index("partner_id")
    balance = frame["receivable_balance"]
    frame["overdue_share"] = (frame["overdue_amount"] / balance).where(balance > 0)
    frame = frame.join(aging(receivables, period.end, config).set_index("partner_id"))
    frame = frame.join(
        rv.calendar_aging(receivables, period.end).set_index("partner_id")
    )
    for key in rv.CALENDAR_AGING_COLUMNS:
        frame[key] = frame[key].fillna(0.0)
    days = _whole(config, "receivables", "dso_days", 90)
    frame["dso"] = rv.dso(receivables, balance, period.end, days)
    if payment is not None and len(payment):
        frame = frame.join(payment.set_index("partner_id"))
    # exposure: what the partner owes; unbilled deliveries are not in the tables
    frame["credit_exposure"] = balance
    limits = pd.Series(pd.NA, index=frame.index, dtype=_AMOUNT)
    if master is not None and "credit_limit" in master and "partner_id" in master:
        known = master[master["credit_limit"].notna()]
        by_id = pd.Series(
            pd.to_numeric(known["credit_limit"]).to_numpy(),
            index=known["partner_id"].astype("string").to_numpy(),
        )
        limits = by_id[~by_id.index.duplicated()].reindex(frame.index).astype(_AMOUNT)
    frame["credit_limit"] = limits
    frame["credit_use"] = (balance / limits).where(limits > 0).astype(_AMOUNT)
    for key in CREDIT_COLUMNS:
        if key not in frame:
            frame[key] = pd.NA
    frame["risk_grade"] = rv.risk_grade(frame, config)
    notes.append(
        "exposure_rule: credit exposure is the receivable balance; unbilled "
        "deliveries are not in the exports, so they are not added"
    )
    if limits.isna().all():
        notes.append(
            "no_credit_limits: the partner list gives no credit limits, so credit "
            "limit use is empty"
        )
    notes.append(
        f"dso_rule: DSO = receivable balance ÷ amount invoiced in the last {days} "
        f"days × {days}"
    )
    frame = frame.join(identities.reindex(frame.index))
    frame.index.name = "partner_id"
    frame = frame.reset_index()
    frame["partner_id"] = frame["partner_id"].astype("string")
    frame = frame.sort_values(
        ["receivable_balance", "partner_id"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)
    return frame[[c for c in receivable_columns(config) if c in frame.columns]]
