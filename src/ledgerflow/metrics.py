"""Per-partner figures for a month and its year to date: revenue, cost, gross profit,
gross margin, share of revenue, and the receivable position at the period end.

Pure functions on the canonical frames (tables.SALES_LINES, tables.RECEIVABLES) after
the lead has attached the master's ``partner_id``. Nothing here reads files or knows
about workbooks; a figure with no data behind it is NA (never 0) and the reason goes
into ``notes``. Each note starts with a snake_case code followed by ": " so the label
catalogue (labels/metrics.toml, section [notes]) can translate it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ledgerflow.errors import ConfigError
from ledgerflow.period import Period

log = logging.getLogger(__name__)

# Column keys of Profitability.month / .ytd, in the order the workbook shows them.
PROFIT_COLUMNS = [
    "partner_id",
    "partner_code",
    "partner_name",
    "revenue",
    "cost",
    "gross_profit",
    "gross_margin",
    "revenue_share",
    "n_lines",
    "n_documents",
    "receivable_balance",
    "overdue_amount",
    "abc_class",
]

# Column keys of receivable_position().
POSITION_COLUMNS = [
    "partner_id",
    "receivable_balance",
    "overdue_amount",
    "n_open_invoices",
]

_AMOUNT = "Float64"


@dataclass
class Profitability:
    """Profitability per partner for one month and its year to date.

    ``month_total`` / ``ytd_total`` carry the same keys as the frames' columns, with
    partner_id and partner_code None; their margin and share are computed from the
    totals, never averaged over partners.
    """

    month: pd.DataFrame
    ytd: pd.DataFrame
    month_total: dict[str, Any]
    ytd_total: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    # Deeper views (issue 5); empty frames / NA figures when there is no data.
    aging: pd.DataFrame | None = None  # aging() at period.end
    payment: pd.DataFrame | None = None  # payment_behaviour() over the YTD
    concentration: dict[str, Any] = field(default_factory=dict)  # last 12 months
    # Issue 5 in full (profitability_detail.Detail): six windows with cost-to-serve
    # and contribution, growth, receivables and credit, lifecycle, monthly totals,
    # Pareto; None only when profitability() was not asked for it.
    detail: Any = None


# --------------------------------------------------------------------------- helpers


def amount_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """``frame[column]`` as nullable floats; all NA when the column is absent."""
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype=_AMOUNT)
    return pd.to_numeric(frame[column], errors="coerce").astype(_AMOUNT)


def date_column(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[column], errors="coerce").dt.normalize()


def setting(config: dict | None, section: str, key: str, default: Any) -> Any:
    return ((config or {}).get(section) or {}).get(key, default)


def default_margin(config: dict | None) -> float | None:
    """[profitability] default_margin as a fraction, or None when it is not set.

    Empty string (the shipped default) means "no assumed margin". Raises ConfigError
    for a value that is not a number in 0..1.
    """
    value = setting(config, "profitability", "default_margin", "")
    if value in ("", None):
        return None
    try:
        margin = float(value)
    except (TypeError, ValueError):
        margin = float("nan")
    if not 0.0 <= margin <= 1.0:
        raise ConfigError(
            f"[profitability] default_margin: expected a fraction 0.0-1.0 or empty "
            f"(got {value!r}); e.g. 0.25 for a 25 % margin"
        )
    return margin


def overdue_after_days(config: dict | None) -> int:
    """[receivables] overdue_after_days (grace days after the due date)."""
    value = setting(config, "receivables", "overdue_after_days", 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"[receivables] overdue_after_days: expected a whole number >= 0 "
            f"(got {value!r})"
        )
    return value


def has_receivables(receivables: pd.DataFrame | None) -> bool:
    """True when receivables were given at all (an empty table counts as none)."""
    return receivables is not None and len(receivables) > 0


# ------------------------------------------------------------------- line figures


def net_revenue(sales: pd.DataFrame) -> pd.Series:
    """Revenue of each sales line: the supply amount, VAT excluded, signed.

    Rules:
    - supply_amount is the revenue; where it is blank, qty × unit_price.
    - A return or cancellation reduces revenue: a line with a negative qty whose amount
      is positive (ERPs that print returns as "-3 개, 30,000") counts negatively.
      Lines already negative (Online Retail's C-invoices: negative qty × price) stay
      as they are, so nothing is negated twice.
    - VAT (vat_amount) and the VAT-inclusive total_amount are never used.
    - A line with neither amount nor qty × price is NA.
    """
    amount = amount_column(sales, "supply_amount")
    qty = amount_column(sales, "qty")
    computed = qty * amount_column(sales, "unit_price")
    amount = amount.fillna(computed)
    is_return = (qty < 0).fillna(False) & (amount > 0).fillna(False)
    return amount.mask(is_return, -amount).rename("revenue")


def line_cost(
    sales: pd.DataFrame,
    revenue: pd.Series,
    config: dict | None,
    item_costs: pd.DataFrame | None = None,
) -> tuple[pd.Series, str]:
    """Cost of goods of each line and where it came from.

    Rules, in order:
    - cost_amount where the export has it (signed like the revenue: a return's cost
      comes back, so it is negative when the line's revenue is negative);
    - else qty × unit_cost of the line's item_code in ``item_costs`` (an item cost
      table with item_code and unit_cost), when given;
    - else revenue × (1 − default_margin) when [profitability] default_margin is set;
    - else NA: cost is never invented as 0.
    The source names each method used, joined by "+": "cost_amount", "item_costs",
    "default_margin" (e.g. "cost_amount+default_margin"), or "none".
    """
    given = amount_column(sales, "cost_amount")
    given = given.mask((revenue < 0).fillna(False) & (given > 0).fillna(False), -given)
    used = ["cost_amount"] if given.notna().any() else []
    if item_costs is not None and len(item_costs) and "item_code" in sales:
        table = item_costs.dropna(subset=["item_code", "unit_cost"])
        table = table[~table["item_code"].astype("string").duplicated(keep="last")]
        unit = pd.Series(
            pd.to_numeric(table["unit_cost"], errors="coerce").to_numpy(),
            index=table["item_code"].astype("string").to_numpy(),
        )
        unit_cost = sales["item_code"].astype("string").map(unit).astype(_AMOUNT)
        by_item = (amount_column(sales, "qty") * unit_cost).astype(_AMOUNT)
        filled = given.isna() & by_item.notna()
        if filled.any():
            used.append("item_costs")
            given = given.fillna(by_item)
    margin = default_margin(config)
    if margin is not None and given.isna().any():
        used.append("default_margin")
        given = given.fillna((revenue * (1.0 - margin)).astype(_AMOUNT))
    return given.rename("cost"), "+".join(used) or "none"


# --------------------------------------------------------------------- receivables


def _settled_part(receivables: pd.DataFrame, by: pd.Series | pd.Timestamp) -> pd.Series:
    """The part of each invoice settled on or before ``by``.

    Rules: settled_amount when given, else the whole amount, counted when settled_date
    is on or before ``by``. A settled_amount with no settled_date (a snapshot export
    that only shows what was paid) counts as settled at any date.
    """
    amount = amount_column(receivables, "amount")
    settled_amount = amount_column(receivables, "settled_amount")
    settled_date = date_column(receivables, "settled_date")
    paid = settled_amount.fillna(amount)
    counted = (settled_date <= by).fillna(False) | (
        settled_date.isna() & settled_amount.notna()
    )
    return paid.where(counted, 0.0).astype(_AMOUNT)


def receivable_position(
    receivables: pd.DataFrame, asof: pd.Timestamp, config: dict | None
) -> pd.DataFrame:
    """Open balance and overdue amount per partner_id as of the day ``asof``.

    Rules:
    - An invoice counts when invoiced on or before ``asof`` (no invoice date: counted).
    - Its open part is amount − the part settled on or before ``asof``
      (see _settled_part); a fully settled invoice is gone from the balance.
    - The open part is overdue when due_date < asof − [receivables]
      overdue_after_days: due on ``asof`` itself is not overdue yet. An invoice with
      no due date is never counted as overdue (the count goes to attrs["notes"]).
    - Partners whose invoices are all settled keep a row with 0 (they had receivables).
    Columns: POSITION_COLUMNS.
    """
    asof = pd.Timestamp(asof).normalize()
    notes: list[str] = []
    if not has_receivables(receivables):
        out = pd.DataFrame({c: pd.Series(dtype=_AMOUNT) for c in POSITION_COLUMNS})
        out["partner_id"] = out["partner_id"].astype("string")
        out["n_open_invoices"] = out["n_open_invoices"].astype("Int64")
        out.attrs["notes"] = notes
        return out
    if "partner_id" not in receivables:
        raise ValueError(
            "receivables: no partner_id column; attach the master's IDs first "
            "(assemble.attach_partner_ids)"
        )

    invoice_date = date_column(receivables, "invoice_date")
    due_date = date_column(receivables, "due_date")
    amount = amount_column(receivables, "amount")
    counted = ~(invoice_date > asof).fillna(False) & amount.notna()
    open_part = (amount - _settled_part(receivables, asof)).where(counted, 0.0)
    # A tiny negative remainder (overpayment) is an open credit and kept as it is.
    limit = asof - pd.Timedelta(days=overdue_after_days(config))
    overdue = open_part.where((due_date < limit).fillna(False), 0.0)

    no_due = int((counted & (open_part != 0) & due_date.isna()).sum())
    if no_due:
        notes.append(
            f"no_due_date: {no_due} open invoices have no due date and are not "
            "counted as overdue"
        )
    frame = pd.DataFrame(
        {
            "partner_id": receivables["partner_id"],
            "receivable_balance": open_part.astype(_AMOUNT),
            "overdue_amount": overdue.astype(_AMOUNT),
            "n_open_invoices": (open_part != 0).astype("Int64"),
        }
    )
    frame = frame[counted.to_numpy()]
    out = frame.groupby("partner_id", sort=True, dropna=True).sum().reset_index()
    out["n_open_invoices"] = out["n_open_invoices"].astype("Int64")
    out.attrs["notes"] = notes
    return out[POSITION_COLUMNS]


# ------------------------------------------------------------------ profitability


def partner_sums(lines: pd.DataFrame) -> pd.DataFrame:
    """Revenue, cost, lines and documents per partner_id of already-chosen lines.

    Cost is NA for a partner when any of its lines lacks a cost (a partial sum would
    overstate the margin).
    """
    grouped = lines.groupby("partner_id", sort=True, observed=True)
    out = pd.DataFrame(
        {
            "revenue": grouped["revenue"].sum(),
            "cost": grouped["cost"].sum(),
            "n_lines": grouped.size().astype("Int64"),
        }
    )
    cost_missing = (
        lines["cost"].isna().groupby(lines["partner_id"], observed=True).any()
    )
    out["cost"] = out["cost"].astype(_AMOUNT).mask(cost_missing)
    if "doc_no" in lines and lines["doc_no"].notna().any():
        out["n_documents"] = grouped["doc_no"].nunique().astype("Int64")
    else:
        out["n_documents"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    out["revenue"] = out["revenue"].astype(_AMOUNT)
    # usable_lines() makes partner_id categorical for speed; keys are text again.
    out.index = out.index.astype("string")
    out.index.name = "partner_id"
    return out


def _with_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Gross profit, margin (NA unless revenue > 0 and cost known) and share."""
    frame["gross_profit"] = (frame["revenue"] - frame["cost"]).astype(_AMOUNT)
    revenue = frame["revenue"]
    frame["gross_margin"] = (frame["gross_profit"] / revenue).where(revenue > 0)
    total = revenue.sum()
    if total:
        frame["revenue_share"] = (revenue / total).astype(_AMOUNT)
    else:
        frame["revenue_share"] = pd.Series(pd.NA, index=frame.index, dtype=_AMOUNT)
    frame["gross_margin"] = frame["gross_margin"].astype(_AMOUNT)
    return frame


def partner_identities(
    ids: pd.Index, master: pd.DataFrame | None, *sources: pd.DataFrame
) -> pd.DataFrame:
    """partner_code and partner_name per partner_id: from the master, else from the
    first line that names the partner in ``sources`` (sales, then receivables)."""
    out = pd.DataFrame(index=ids)
    out["partner_code"] = pd.Series(pd.NA, index=ids, dtype="string")
    out["partner_name"] = pd.Series(pd.NA, index=ids, dtype="string")
    candidates = []
    if master is not None and len(master) and "partner_id" in master:
        candidates.append(master)
    candidates.extend(s for s in sources if s is not None and "partner_id" in s)
    for source in candidates:
        for column in ("partner_code", "partner_name"):
            # Once the master names every partner, the lines have nothing to add.
            if column not in source or not out[column].isna().any():
                continue
            known = source[["partner_id", column]]
            known = known[known["partner_id"].notna() & known[column].notna()]
            known = known[~known["partner_id"].duplicated()]
            first = pd.Series(
                known[column].astype("string").to_numpy(),
                index=known["partner_id"].astype("string").to_numpy(),
            )
            out[column] = out[column].fillna(first.reindex(ids))
    return out


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    """Largest revenue first; partner_code then partner_id break ties."""
    frame = frame.sort_values(
        ["revenue", "partner_code", "partner_id"],
        ascending=[False, True, True],
        na_position="last",
        kind="mergesort",
    )
    return frame.reset_index(drop=True)


def usable_lines(
    sales: pd.DataFrame | None,
    config: dict | None,
    notes: list[str],
    item_costs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Sales lines reduced to partner_id, doc_no, doc_date, revenue and cost."""
    if sales is None or len(sales) == 0:
        notes.append("no_sales_lines: no sales lines were given")
        return pd.DataFrame(
            {
                "partner_id": pd.Series(dtype="string"),
                "doc_no": pd.Series(dtype="string"),
                "doc_date": pd.Series(dtype="datetime64[ns]"),
                "revenue": pd.Series(dtype=_AMOUNT),
                "cost": pd.Series(dtype=_AMOUNT),
            }
        )
    if "partner_id" not in sales:
        raise ValueError(
            "sales lines: no partner_id column; attach the master's IDs first "
            "(assemble.attach_partner_ids)"
        )
    revenue = net_revenue(sales)
    cost, source = line_cost(sales, revenue, config, item_costs)
    notes.extend(cost_notes(sales, cost, source, config))
    lines = pd.DataFrame(
        {
            "partner_id": sales["partner_id"],
            "doc_no": sales.get("doc_no", pd.NA),
            "doc_date": date_column(sales, "doc_date"),
            "revenue": revenue,
            "cost": cost,
        }
    )
    # delivery dates, where the export has them (on-time delivery of orders)
    for column in ("promised_date", "delivered_date"):
        if column in sales:
            lines[column] = date_column(sales, column)
    no_partner = int(lines["partner_id"].isna().sum())
    no_amount = int(lines["revenue"].isna().sum())
    if no_partner:
        notes.append(f"lines_without_partner: {no_partner} lines have no partner_id")
    if no_amount:
        notes.append(f"lines_without_amount: {no_amount} lines have no amount")
    lines = lines[lines["partner_id"].notna() & lines["revenue"].notna()].copy()
    # Group keys hashed once here, not again for every window and aggregate.
    lines["partner_id"] = lines["partner_id"].astype("string").astype("category")
    if lines["doc_no"].notna().any():
        codes, _ = pd.factorize(lines["doc_no"])
        lines["doc_no"] = pd.array(codes, dtype="Int64")
        lines["doc_no"] = lines["doc_no"].mask(lines["doc_no"] < 0)
    return lines


def cost_notes(
    sales: pd.DataFrame, cost: pd.Series, source: str, config: dict | None
) -> list[str]:
    """Notes saying where cost came from (see line_cost)."""
    margin = default_margin(config)
    parts = source.split("+")
    notes = []
    if source == "none":
        notes.append(
            "no_cost_data: the sales lines carry no cost, so cost, gross profit and "
            "gross margin are empty; set [profitability] default_margin to assume one"
        )
    elif source == "default_margin":
        notes.append(
            f"cost_from_default_margin: no cost column; cost = revenue × (1 − "
            f"{margin:g}) from [profitability] default_margin"
        )
    elif "default_margin" in parts:
        filled = int(sales["cost_amount"].isna().sum()) if "cost_amount" in sales else 0
        notes.append(
            f"cost_partly_from_default_margin: {filled} lines had no cost; their "
            f"cost = revenue × (1 − {margin:g})"
        )
    if "item_costs" in parts:
        notes.append(
            "cost_from_item_costs: lines without a cost amount are costed at "
            "quantity × the unit cost of the item cost table"
        )
    missing = int(cost.isna().sum())
    if source != "none" and missing:
        notes.append(
            f"cost_missing_lines: {missing} lines have no cost, so their partners' "
            "cost and margin are empty"
        )
    return notes


def _table(
    lines: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    position: pd.DataFrame | None,
    identities: pd.DataFrame,
    cost_known: bool,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The per-partner frame and total row of lines dated start..end (inclusive)."""
    chosen = lines[(lines["doc_date"] >= start) & (lines["doc_date"] <= end)]
    sums = partner_sums(chosen)
    if position is not None:
        # Partners with no sales in the window still show when they owe something.
        owing = position.set_index("partner_id")
        owing = owing[(owing["receivable_balance"] != 0)]
        ids = sums.index.union(owing.index)
        sums = sums.reindex(ids)
        sums["revenue"] = sums["revenue"].fillna(0.0)
        sums["n_lines"] = sums["n_lines"].fillna(0)
        table_pos = position.set_index("partner_id").reindex(ids)
        sums["receivable_balance"] = table_pos["receivable_balance"].fillna(0.0)
        sums["overdue_amount"] = table_pos["overdue_amount"].fillna(0.0)
        # A partner without lines has cost 0 rather than unknown: nothing was sold.
        sums.loc[sums["n_lines"] == 0, "cost"] = 0.0 if cost_known else pd.NA
    else:
        sums["receivable_balance"] = pd.NA
        sums["overdue_amount"] = pd.NA
    sums.index.name = "partner_id"
    frame = _with_ratios(sums)
    for column in ("revenue", "cost", "receivable_balance", "overdue_amount"):
        frame[column] = frame[column].astype(_AMOUNT)
    frame = frame.join(identities.reindex(frame.index))
    frame = frame.reset_index()
    frame["partner_id"] = frame["partner_id"].astype("string")
    frame["abc_class"] = abc_class(frame["revenue"])
    frame = _order(frame[PROFIT_COLUMNS])

    revenue = frame["revenue"].sum()
    all_costs = cost_known and bool(frame["cost"].notna().all())
    cost = float(frame["cost"].sum()) if all_costs else pd.NA
    profit = float(revenue - cost) if all_costs else pd.NA
    total = {
        "partner_id": None,
        "partner_code": None,
        "partner_name": None,
        "revenue": float(revenue),
        "cost": cost,
        "gross_profit": profit,
        "gross_margin": profit / revenue if all_costs and revenue > 0 else pd.NA,
        "revenue_share": 1.0 if revenue else pd.NA,
        "n_lines": len(chosen),
        "n_documents": (
            int(chosen["doc_no"].nunique()) if chosen["doc_no"].notna().any() else pd.NA
        ),
        "receivable_balance": (
            float(frame["receivable_balance"].sum()) if position is not None else pd.NA
        ),
        "overdue_amount": (
            float(frame["overdue_amount"].sum()) if position is not None else pd.NA
        ),
        "abc_class": None,
    }
    return frame, total


def profitability(
    sales: pd.DataFrame | None,
    receivables: pd.DataFrame | None,
    master: pd.DataFrame | None,
    period: Period,
    config: dict | None,
    *,
    costs: pd.DataFrame | None = None,
    item_costs: pd.DataFrame | None = None,
) -> Profitability:
    """Per-partner profitability for ``period`` and for its year to date.

    Rules:
    - Lines count by doc_date: the month is period.start..period.end, the year to date
      Jan 1..period.end. Lines without partner_id or without any amount are left out
      (and counted in notes); the totals are sums over exactly the lines used.
    - Revenue is net_revenue() (returns and cancellations negative, VAT excluded).
    - Cost per line_cost(); a partner with any line lacking a cost has cost NA; the
      total cost is NA when any partner's is.
    - gross_profit = revenue − cost; gross_margin = gross_profit / revenue, NA when
      revenue <= 0 or cost unknown; revenue_share = revenue / total revenue.
    - The total row is computed from totals (total GP / total revenue), not averaged.
    - receivable_balance and overdue_amount are receivable_position() at period.end,
      the same in both tables; NA for everyone when no receivables were given, 0 for a
      partner that has none. A partner that owes money but bought nothing in the
      window still gets a row (revenue 0).
    - abc_class: A/B/C by cumulative share of the window's revenue (abc_class()).
    - Invoices without a due date get one from the partner's payment terms in the
      master (receivables_view.due_dates), and a note says how many.
    - Cost comes from cost_amount, else ``item_costs`` (item_code, unit_cost), else
      the default margin (line_cost).
    - Also returned: aging at period.end, payment behaviour over the year to date,
      the concentration of the last 12 months' revenue, and ``detail``
      (profitability_detail.build_detail): the six windows with cost-to-serve from
      ``costs`` (the canonical costs table: partner_id, cost_date, category,
      amount), growth, receivables and credit, lifecycle, monthly totals, Pareto.
    """
    # imported here: these modules build on the helpers of this one
    from ledgerflow import profitability_detail, receivables_view

    notes: list[str] = []
    lines = usable_lines(sales, config, notes, item_costs)
    position = None
    if has_receivables(receivables):
        if "partner_id" not in receivables:
            raise ValueError(
                "receivables: no partner_id column; attach the master's IDs first "
                "(assemble.attach_partner_ids)"
            )
        receivables = receivables.assign(
            due_date=receivables_view.due_dates(receivables, master, config, notes)
        )
        position = receivable_position(receivables, period.end, config)
        notes.extend(position.attrs.get("notes", []))
    else:
        notes.append(
            "no_receivables: no receivables were given, so receivable balance and "
            "overdue amount are empty"
        )
    if costs is not None and len(costs) and "partner_id" not in costs:
        raise ValueError(
            "costs: no partner_id column; attach the master's IDs first "
            "(assemble.attach_partner_ids)"
        )
    ids = pd.Index(lines["partner_id"].astype("category").cat.categories)
    ids = ids.astype("string")
    if position is not None:
        ids = ids.union(pd.Index(position["partner_id"].dropna().astype("string")))
    if costs is not None and len(costs):
        ids = ids.union(pd.Index(costs["partner_id"].dropna().astype("string")))
    ids = ids.unique().sort_values()
    identities = partner_identities(ids, master, sales, receivables, costs)
    cost_known = not any(n.startswith("no_cost_data") for n in notes)
    month, month_total = _table(
        lines, period.start, period.end, position, identities, cost_known
    )
    ytd, ytd_total = _table(
        lines, period.year_start, period.end, position, identities, cost_known
    )
    year_back = period.end - pd.DateOffset(months=12) + pd.Timedelta(days=1)
    detail = profitability_detail.build_detail(
        lines=lines,
        receivables=receivables if position is not None else None,
        costs=costs,
        ids=ids,
        identities=identities,
        position=position,
        payment=payment_behaviour(receivables, year_back, period.end, config),
        master=master,
        period=period,
        config=config,
    )
    notes.extend(detail.notes)
    log.info(
        "profitability %s: %d partners in the month, %d year to date, revenue %.2f",
        period,
        len(month),
        len(ytd),
        month_total["revenue"],
    )
    return Profitability(
        month,
        ytd,
        month_total,
        ytd_total,
        notes,
        aging=aging(receivables, period.end, config),
        payment=payment_behaviour(receivables, period.year_start, period.end, config),
        concentration=detail.concentration,
        detail=detail,
    )


# ----------------------------------------------------------- aging and behaviour


def aging_columns(config: dict | None) -> list[str]:
    """Column keys of aging(): not due, one per [receivables] aging_buckets band,
    the open-ended last band, and open invoices without a due date."""
    bounds = _aging_bounds(config)
    names = ["aging_not_due"]
    low = 1
    for high in bounds:
        names.append(f"aging_{low}_{high}")
        low = high + 1
    names.append(f"aging_{low}_plus")
    return [*names, "aging_no_due_date"]


def _aging_bounds(config: dict | None) -> list[int]:
    bounds = setting(config, "receivables", "aging_buckets", [30, 60, 90, 120])
    ok = bool(bounds) and all(isinstance(b, int) and b > 0 for b in bounds)
    if not ok or list(bounds) != sorted(set(bounds)):
        raise ConfigError(
            f"[receivables] aging_buckets: expected rising whole numbers of days past "
            f"due, e.g. [30, 60, 90, 120] (got {bounds!r})"
        )
    return list(bounds)


def aging(
    receivables: pd.DataFrame, asof: pd.Timestamp, config: dict | None
) -> pd.DataFrame:
    """The open balance of each partner_id at ``asof`` split by days past due.

    Rules:
    - the open part of an invoice is as in receivable_position();
    - days past due = asof − due_date; 0 or less is "not due" (due on ``asof`` itself
      is not yet late); bands are 1..b1, b1+1..b2, …, and above the last bound, with
      the bounds in [receivables] aging_buckets (default 30, 60, 90, 120);
    - the grace of overdue_after_days is not applied: aging shows raw days;
    - the bands of a partner add up to its receivable_balance.
    """
    columns = aging_columns(config)
    if not has_receivables(receivables):
        out = pd.DataFrame({c: pd.Series(dtype=_AMOUNT) for c in columns})
        out.insert(0, "partner_id", pd.Series(dtype="string"))
        return out
    asof = pd.Timestamp(asof).normalize()
    invoice_date = date_column(receivables, "invoice_date")
    amount = amount_column(receivables, "amount")
    counted = ~(invoice_date > asof).fillna(False) & amount.notna()
    open_part = (amount - _settled_part(receivables, asof)).where(counted, 0.0)
    days = (asof - date_column(receivables, "due_date")).dt.days

    edges = [-float("inf"), 0, *_aging_bounds(config), float("inf")]
    band = pd.cut(days, edges, right=True, labels=columns[:-1])
    frame = pd.DataFrame({"partner_id": receivables["partner_id"]})
    for name in columns[:-1]:
        frame[name] = open_part.where(band == name, 0.0).astype(_AMOUNT)
    frame["aging_no_due_date"] = open_part.where(days.isna(), 0.0).astype(_AMOUNT)
    out = frame[counted.to_numpy()].groupby("partner_id", sort=True).sum()
    return out.reset_index()


BEHAVIOUR_COLUMNS = [
    "partner_id",
    "n_invoices_paid",
    "avg_days_to_pay",
    "avg_days_late",
    "on_time_share",
    "n_disputed",
]


def payment_behaviour(
    receivables: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    config: dict | None,
) -> pd.DataFrame:
    """How each partner_id paid the invoices it settled in start..end (inclusive).

    Rules:
    - only invoices with a settled_date in the window and an invoice date count;
    - days to pay = settled_date − invoice_date; days late = settled_date − due_date,
      0 when paid on or before the due date (an invoice with no due date is left out
      of days late and of on-time share);
    - on_time_share = invoices paid no later than due_date + overdue_after_days,
      divided by the invoices with a due date (a count share, not an amount share);
    - n_disputed counts invoices flagged is_disputed among those counted.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if not has_receivables(receivables):
        out = pd.DataFrame({c: pd.Series(dtype=_AMOUNT) for c in BEHAVIOUR_COLUMNS})
        out["partner_id"] = out["partner_id"].astype("string")
        return out
    settled = date_column(receivables, "settled_date")
    invoiced = date_column(receivables, "invoice_date")
    due = date_column(receivables, "due_date")
    counted = (settled >= start) & (settled <= end) & invoiced.notna()
    late_days = (settled - due).dt.days
    grace = overdue_after_days(config)
    disputed = receivables.get("is_disputed")
    frame = pd.DataFrame(
        {
            "partner_id": receivables["partner_id"],
            "days_to_pay": (settled - invoiced).dt.days.astype(_AMOUNT),
            "days_late": late_days.clip(lower=0).astype(_AMOUNT),
            "on_time": (late_days <= grace).astype(_AMOUNT).where(due.notna()),
            "disputed": (
                pd.Series(disputed, index=receivables.index)
                .astype("boolean")
                .fillna(False)
                .astype("Int64")
                if disputed is not None
                else pd.Series(0, index=receivables.index, dtype="Int64")
            ),
        }
    )[counted.fillna(False).to_numpy()]
    grouped = frame.groupby("partner_id", sort=True)
    out = pd.DataFrame(
        {
            "n_invoices_paid": grouped.size().astype("Int64"),
            "avg_days_to_pay": grouped["days_to_pay"].mean().astype(_AMOUNT),
            "avg_days_late": grouped["days_late"].mean().astype(_AMOUNT),
            "on_time_share": grouped["on_time"].mean().astype(_AMOUNT),
            "n_disputed": grouped["disputed"].sum().astype("Int64"),
        }
    )
    out.index.name = "partner_id"
    return out.reset_index()[BEHAVIOUR_COLUMNS]


def concentration(frame: pd.DataFrame, top_n: int = 10) -> dict[str, Any]:
    """How concentrated revenue is across the partners of a profitability table.

    Rules: only positive revenue counts (net returners have no share of sales);
    top_share = revenue of the ``top_n`` largest / total; hhi = Σ share² on a 0..1
    scale (1 = a single partner). Empty or no positive revenue: both NA.
    """
    revenue = pd.to_numeric(frame.get("revenue"), errors="coerce")
    revenue = revenue[revenue > 0] if revenue is not None else pd.Series(dtype=float)
    total = float(revenue.sum())
    if not total:
        return {"top_n": top_n, "top_share": pd.NA, "hhi": pd.NA}
    shares = revenue / total
    top = float(revenue.nlargest(top_n).sum()) / total
    return {"top_n": top_n, "top_share": top, "hhi": float((shares**2).sum())}


def abc_class(
    revenue: pd.Series, bounds: tuple[float, float] = (0.8, 0.95)
) -> pd.Series:
    """A, B or C per partner from the cumulative share of revenue, largest first.

    Rules: a partner is A while the cumulative share *before* it is below bounds[0]
    (so the partner that crosses 80 % is still A), B below bounds[1], else C;
    partners with revenue <= 0 are C. Ties keep input order.
    """
    values = pd.to_numeric(revenue, errors="coerce").astype(float)
    positive = values.where(values > 0, 0.0).fillna(0.0)
    total = positive.sum()
    out = pd.Series("C", index=revenue.index, dtype="string")
    if not total:
        return out
    ordered = positive.sort_values(ascending=False, kind="mergesort")
    before = (ordered.cumsum() - ordered) / total
    classes = pd.Series("C", index=ordered.index, dtype="string")
    classes = classes.mask(before < bounds[1], "B").mask(before < bounds[0], "A")
    classes = classes.mask(ordered <= 0, "C")
    return classes.reindex(revenue.index)
