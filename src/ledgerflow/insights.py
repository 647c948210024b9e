"""Purchase patterns per partner: what it buys, when, what it stopped buying, what to
offer next, and rule-based tags.

Pure functions on the canonical sales lines (tables.SALES_LINES) after the lead has
attached the master's ``partner_id``. Everything is vectorised pandas/numpy: a year
of a million lines takes a few seconds, and no step loops over partners or pairs of
items in Python.

Rules shared by every table:

- Revenue is metrics.net_revenue (supply amount, VAT excluded): returns and
  cancellations count against it. Lines dated after the period end are ignored.
- An order is a distinct doc_no of a partner whose lines net to a positive revenue
  (a cancellation document is not an order). Lines without doc_no form one document
  per partner and day.
- Windows are calendar months: "period" is the reporting month, "last_12m" the 12
  months ending with it. Day counts (recency, dormancy) are taken at ``as_of``: the
  period end, or the last sales date when the lines stop earlier within the period
  month (a month exported part-way), so "days since the last order" does not count
  days that have no data yet.
- "Bought an item in a month" means the item's net revenue for the partner in that
  month is positive.
- Settings come from the config's [insights] section (see Settings); each has a
  default here, so a config without the section works.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from ledgerflow.errors import ConfigError
from ledgerflow.labels import message
from ledgerflow.metrics import net_revenue
from ledgerflow.period import Period

log = logging.getLogger(__name__)

WINDOWS = ("period", "last_12m")
RFM_SCORES = 5  # scores run 1 (worst) .. 5 (best) on each of R, F and M
TAGS = (
    "vip",
    "growing",
    "declining",
    "dormant",
    "new",
    "single_item_buyer",
    "late_payer",
)
PARTNER = ["partner_id", "partner_code", "partner_name"]
# Columns of each Insights table, in order.
_TOP = ["rank", "revenue", "qty", "revenue_share", "qty_rank", "window"]
COLUMNS = {
    "top_items": [*PARTNER, "item_code", "item_name", *_TOP],
    "top_groups": [*PARTNER, "item_group", *_TOP],
    "rhythm": [
        *PARTNER,
        "orders_12m",
        "orders_per_month",
        "mean_days_between_orders",
        "days_since_last_order",
        "first_order_date",
        "last_order_date",
        "revenue_12m",
        "rfm_r",
        "rfm_f",
        "rfm_m",
        "rfm_segment",
        "buying_concentration",
        "n_items_12m",
    ],
    "seasonality": [
        *PARTNER,
        "calendar_month",
        "revenue",
        "n_years_ordered",
        "n_years_observed",
        "is_usual_month",
    ],
    "lapsed_items": [
        *PARTNER,
        "item_code",
        "item_name",
        "last_bought",
        "months_bought_prev_12m",
        "revenue_at_stake",
    ],
    "suggestions": [
        *PARTNER,
        "item_code",
        "item_name",
        "rank",
        "score",
        "reason",
        "anchor_item_code",
        "anchor_item_name",
        "n_both",
        "n_anchor",
    ],
    "tags": [*PARTNER, "tag", "rule"],
    "segment_moves": [*PARTNER, "segment_previous_month", "segment_now"],
}
DEFAULT_SEGMENTS = (
    {"name": "champion", "r": [4, 5], "f": [4, 5], "m": [4, 5]},
    {"name": "loyal", "r": [3, 5], "f": [3, 5]},
    {"name": "at_risk", "r": [1, 2], "f": [3, 5]},
    {"name": "promising", "r": [4, 5], "f": [1, 2]},
    {"name": "lost", "r": [1, 1], "f": [1, 2]},
    {"name": "lapsing", "r": [2, 3], "f": [1, 2]},
)


@dataclass
class Insights:
    """Per-partner purchase patterns for one period (see compute_insights).

    ``as_of`` is the day recency is measured at; ``notes`` hold snake_case-coded
    remarks ("code: text") about what could not be computed.
    """

    top_items: pd.DataFrame
    top_groups: pd.DataFrame
    rhythm: pd.DataFrame
    seasonality: pd.DataFrame
    lapsed_items: pd.DataFrame
    suggestions: pd.DataFrame
    tags: pd.DataFrame
    segment_moves: pd.DataFrame
    as_of: pd.Timestamp | None = None
    settings: Settings | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    """The [insights] settings, with their defaults.

    - top_n: items (and item groups) listed per partner and window, by revenue; the
      top_n by quantity are listed too when they are not among them.
    - item_group: "code_prefix" (the first item_group_prefix_length characters of the
      item code) or "name_first_word" (item_name's first word).
    - rfm_recency_days / rfm_frequency_orders / rfm_monetary: four ascending limits
      giving scores 5..1 (recency: days since the last order, at most the first
      limit = 5) or 1..5 (frequency: orders in the last 12 months, monetary: revenue
      in the last 12 months; below the first limit = 1, at or above the last = 5).
      Empty = quintiles among the scored partners.
    - rfm_lookback_months: partners whose last order is older are not scored.
    - rfm_segments: first matching rule wins; a rule gives [lowest, highest] score for
      any of r, f, m; rfm_default_segment when none matches.
    - lapsing_segments: segments the summary lists as lapsing partners.
    - lapse_min_months / lapse_months: an item is lapsed when bought in at least
      lapse_min_months distinct months of the 12 months before the last lapse_months
      months, and not bought in those last lapse_months months.
    - usual_month_share: a calendar month is usual for a partner when it ordered in
      that month in at least this share of the years observed.
    - suggestions_*: see suggestions().
    - proposal_partners: partners (top by 12-month revenue) with a proposal sheet.
    - tag_*: see tags().
    """

    top_n: int = 5
    item_group: str = "code_prefix"
    item_group_prefix_length: int = 3
    rfm_recency_days: tuple = ()
    rfm_frequency_orders: tuple = ()
    rfm_monetary: tuple = ()
    rfm_lookback_months: int = 24
    rfm_segments: tuple = DEFAULT_SEGMENTS
    rfm_default_segment: str = "regular"
    lapsing_segments: tuple = ("at_risk", "lapsing")
    lapse_min_months: int = 3
    lapse_months: int = 3
    usual_month_share: float = 0.5
    suggestions_per_partner: int = 3
    suggestion_anchor_items: int = 5
    suggestion_basket_items: int = 20
    suggestion_co_items: int = 10
    suggestion_min_partners: int = 3
    proposal_partners: int = 10
    tag_vip_top_n: int = 20
    tag_trend_months: int = 6
    tag_growing_change: float = 0.2
    tag_declining_change: float = -0.2
    tag_dormant_days: int = 90
    tag_new_months: int = 3
    tag_late_payer_days: int = 30
    tag_late_payer_share: float = 0.3


_MINIMUM = {
    "top_n": 1,
    "item_group_prefix_length": 1,
    "rfm_lookback_months": 1,
    "lapse_min_months": 1,
    "lapse_months": 1,
    "suggestions_per_partner": 0,
    "suggestion_anchor_items": 1,
    "suggestion_basket_items": 2,
    "suggestion_co_items": 1,
    "suggestion_min_partners": 1,
    "proposal_partners": 0,
    "tag_vip_top_n": 0,
    "tag_trend_months": 1,
    "tag_dormant_days": 0,
    "tag_new_months": 1,
    "tag_late_payer_days": 0,
}


def settings(config: dict | None) -> Settings:
    """The [insights] settings of ``config``; ConfigError names a bad key."""
    given = dict((config or {}).get("insights") or {})
    values: dict[str, Any] = {}
    for spec in fields(Settings):
        if spec.name not in given:
            continue
        value = given[spec.name]
        where = f"[insights] {spec.name}"
        if spec.name in _MINIMUM:
            values[spec.name] = _whole(where, value, _MINIMUM[spec.name])
        elif spec.name in ("usual_month_share", "tag_late_payer_share"):
            values[spec.name] = _fraction(where, value)
        elif spec.name in ("tag_growing_change", "tag_declining_change"):
            values[spec.name] = _number(where, value)
        elif spec.name.startswith("rfm_") and spec.name != "rfm_segments":
            if spec.name == "rfm_default_segment":
                values[spec.name] = str(value)
            else:
                values[spec.name] = _limits(where, value)
        elif spec.name == "rfm_segments":
            values[spec.name] = _segments(where, value)
        elif spec.name == "lapsing_segments":
            values[spec.name] = tuple(str(v) for v in value)
        elif spec.name == "item_group":
            if value not in ("code_prefix", "name_first_word"):
                raise ConfigError(
                    f"{where}: expected 'code_prefix' or 'name_first_word' "
                    f"(got {value!r})"
                )
            values[spec.name] = value
    return Settings(**values)


def _whole(where: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"{where}: expected a whole number >= {minimum} (got {value!r})"
        )
    return value


def _number(where: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: expected a number, e.g. 0.2 (got {value!r})")
    return float(value)


def _fraction(where: str, value) -> float:
    number = _number(where, value)
    if not 0.0 <= number <= 1.0:
        raise ConfigError(f"{where}: expected a fraction 0.0-1.0 (got {value!r})")
    return number


def _limits(where: str, value) -> tuple:
    numbers = [_number(where, v) for v in value] if isinstance(value, list) else None
    if numbers is None or (
        numbers and (len(numbers) != RFM_SCORES - 1 or numbers != sorted(numbers))
    ):
        raise ConfigError(
            f"{where}: expected [] (quintiles) or {RFM_SCORES - 1} ascending limits, "
            f"e.g. [30, 60, 120, 240] (got {value!r})"
        )
    return tuple(numbers)


def _segments(where: str, value) -> tuple:
    rules = []
    for n, rule in enumerate(value if isinstance(value, list) else [None], start=1):
        ok = isinstance(rule, dict) and isinstance(rule.get("name"), str)
        for dim in ("r", "f", "m"):
            bounds = rule.get(dim, [1, RFM_SCORES]) if ok else None
            ok = ok and (
                isinstance(bounds, list)
                and len(bounds) == 2
                and all(isinstance(b, int) and 1 <= b <= RFM_SCORES for b in bounds)
            )
        if not ok:
            raise ConfigError(
                f"{where}: rule {n} should look like "
                '{ name = "at_risk", r = [1, 2], f = [3, 5] } with scores 1-5 '
                f"(got {rule!r})"
            )
        rules.append(rule)
    return tuple(rules)


# ------------------------------------------------------------------- preparation


@dataclass
class _Data:
    """Sales lines reduced to integer codes, plus the lookups to name them."""

    lines: pd.DataFrame  # p, i, pi, doc, date, month, revenue, qty
    orders: pd.DataFrame  # p, doc, date, month, revenue (positive docs only)
    partners: pd.DataFrame  # by p: partner_id, partner_code, partner_name
    items: pd.DataFrame  # by i: item_code, item_name, item_group
    month_now: int  # year * 12 + month - 1 of the period
    as_of: pd.Timestamp
    # tables several insights share, computed once (read-only once stored)
    shared: dict[str, pd.DataFrame] = field(default_factory=dict)


def _month_index(dates: pd.Series) -> np.ndarray:
    return (dates.dt.year * 12 + dates.dt.month - 1).to_numpy(dtype=np.int64)


def _month_start(index: int) -> pd.Timestamp:
    return pd.Timestamp(index // 12, index % 12 + 1, 1)


def _prepare(
    sales: pd.DataFrame, master: pd.DataFrame, period: Period, cfg: Settings
) -> tuple[_Data, list[str]]:
    """The usable lines up to the period end as integer codes, the orders, the
    lookups, and notes on the lines left out."""
    notes: list[str] = []
    if "partner_id" not in sales:
        raise ValueError(
            "sales lines: no partner_id column; attach the master's IDs first "
            "(assemble.attach_partner_ids)"
        )
    dates = pd.to_datetime(sales.get("doc_date"), errors="coerce")
    if dates is None:
        dates = pd.Series(pd.NaT, index=sales.index, dtype="datetime64[ns]")
    dates = dates.dt.normalize()
    revenue = net_revenue(sales).to_numpy(dtype=float, na_value=np.nan)
    qty = pd.to_numeric(sales.get("qty", pd.Series(np.nan, index=sales.index)))
    keep = (
        sales["partner_id"].notna().to_numpy(dtype=bool, na_value=False)
        & dates.notna().to_numpy()
        & ~np.isnan(revenue)
    )
    dropped = int((~keep).sum())
    if dropped:
        notes.append(
            f"lines_not_used: {dropped} lines without partner, date or amount "
            "were left out of the insights"
        )
    keep &= (dates <= period.end).to_numpy()
    used = ["partner_id", "item_code", "doc_no", "partner_code", "partner_name"]
    sub = sales.loc[keep, [c for c in [*used, "item_name"] if c in sales]]
    dates = dates[keep]

    p, partner_ids = pd.factorize(sub["partner_id"].astype("string"), sort=True)
    codes = sub["item_code"].astype("string") if "item_code" in sub else None
    if codes is None:
        codes = pd.Series(pd.NA, index=sub.index, dtype="string")
    i, item_codes = pd.factorize(codes, sort=True)
    doc_no = sub.get("doc_no", pd.Series(pd.NA, index=sub.index)).astype("string")
    doc, doc_codes = pd.factorize(doc_no)
    # lines without doc_no: one document per partner and day
    day = (dates - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=np.int64)
    doc = np.where(doc < 0, len(doc_codes) + day, doc)

    lines = pd.DataFrame(
        {
            "p": p,
            "i": i,
            # one integer per partner and item (-1: no item code), for fast grouping
            "pi": np.where(i >= 0, p.astype(np.int64) * len(item_codes) + i, -1),
            "doc": doc,
            "date": dates.to_numpy(),
            "month": _month_index(dates),
            "revenue": revenue[keep],
            "qty": pd.to_numeric(qty[keep], errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            ),
        }
    )
    # a month exported part-way: recency counts to its last day with sales
    as_of = period.end
    if len(lines) and period.start <= lines["date"].max() < as_of:
        as_of = pd.Timestamp(lines["date"].max())

    doc_key = lines["doc"].to_numpy() * max(len(partner_ids), 1) + p
    docs = lines.groupby(doc_key, sort=False).agg(
        p=("p", "first"), date=("date", "min"), revenue=("revenue", "sum")
    )
    orders = docs[docs["revenue"] > 0].reset_index(drop=True)
    orders["month"] = _month_index(orders["date"])

    partners = _partner_lookup(partner_ids, sub, p, master)
    items = _item_lookup(item_codes, sub, lines, cfg)
    data = _Data(
        lines=lines,
        orders=orders,
        partners=partners,
        items=items,
        month_now=period.year * 12 + period.month - 1,
        as_of=as_of,
    )
    return data, notes


def _partner_lookup(ids, sub: pd.DataFrame, p: np.ndarray, master) -> pd.DataFrame:
    """partner_code and partner_name per ``p``: the master first, then the lines."""
    frame = pd.DataFrame({"partner_id": pd.array(ids, dtype="string")})
    # the last line of each partner (positions into ``sub``)
    last_row = np.zeros(len(ids), dtype=np.int64)
    last_row[p] = np.arange(len(p))
    known = None
    if master is not None and "partner_id" in master:
        known = master.drop_duplicates("partner_id")
        known = known.set_index(known["partner_id"].astype("string"))
    for column in ("partner_code", "partner_name"):
        from_lines = pd.Series(pd.NA, index=frame.index, dtype="string")
        if column in sub and len(ids):
            # picked before any conversion: a million lines name a few partners
            values = sub[column].iloc[last_row].astype("string").array
            from_lines = pd.Series(values, index=frame.index, dtype="string")
        if known is not None and column in known:
            given = frame["partner_id"].map(known[column].astype("string"))
            from_lines = given.astype("string").fillna(from_lines)
        frame[column] = from_lines
    return frame


def _item_lookup(codes, sub: pd.DataFrame, lines: pd.DataFrame, cfg) -> pd.DataFrame:
    """The latest item_name per item code and the item's group (Settings.item_group)."""
    frame = pd.DataFrame({"item_code": pd.array(codes, dtype="string")})
    if "item_name" in sub:
        # names as integer codes (-1 = blank) until the latest line of each item
        # is known: a million lines carry a few hundred names
        name, distinct = pd.factorize(sub["item_name"].astype("string"))
        names = pd.DataFrame(
            {
                "i": lines["i"].to_numpy(),
                "date": lines["date"].to_numpy(),
                "name": name,
            }
        )
        names = names[(names["i"] >= 0) & (names["name"] >= 0)]
        latest = names.loc[names.groupby("i")["date"].idxmax()]
        latest_name = pd.Series(
            distinct.take(latest["name"].to_numpy()), index=latest["i"].to_numpy()
        )
        frame["item_name"] = latest_name.reindex(frame.index)
    else:
        frame["item_name"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame["item_name"] = frame["item_name"].astype("string")
    if cfg.item_group == "name_first_word":
        frame["item_group"] = frame["item_name"].str.strip().str.split().str[0]
    else:
        frame["item_group"] = frame["item_code"].str[: cfg.item_group_prefix_length]
    frame["item_group"] = frame["item_group"].astype("string")
    return frame


def _named(frame: pd.DataFrame, data: _Data, *, item: bool = True) -> pd.DataFrame:
    """Replace the integer codes p (and i) with IDs, codes and names."""
    out = frame.reset_index(drop=True)
    partners = data.partners.iloc[out["p"].to_numpy()].reset_index(drop=True)
    named = pd.concat([partners, out.drop(columns="p")], axis=1)
    if item and "i" in out:
        items = data.items.iloc[out["i"].to_numpy()][["item_code", "item_name"]]
        named = pd.concat(
            [named.drop(columns="i"), items.reset_index(drop=True)], axis=1
        )
    return named


def _rank(frame: pd.DataFrame, by: str, value: str) -> pd.Series:
    """1 for the largest ``value`` within each ``by``; ties keep the frame's order.

    Callers pass frames ordered by code within ``by`` (as groupby leaves them), so a
    tie goes to the smaller code.
    """
    values = frame[value].astype(float).fillna(-np.inf)
    ranked = values.groupby(frame[by], sort=False).rank(method="first", ascending=False)
    return ranked.astype(np.int64)


# ------------------------------------------------------------------ the tables


def top_purchases(data: _Data, cfg: Settings, key: str) -> pd.DataFrame:
    """Top items (key "i") or item groups (key "item_group") per partner and window.

    Rules:
    - revenue and qty are net sums over the window; rank is by revenue (ties by
      code), qty_rank by quantity;
    - listed: the top_n by revenue with positive revenue, plus the top_n by quantity
      with positive quantity;
    - revenue_share is the row's revenue over the partner's net revenue in the window
      (NA when that is not positive).
    """
    lines = data.lines[data.lines["i"] >= 0]
    codes = lines["i"].to_numpy()
    n_codes = len(data.items)
    if key == "item_group":
        group_of, names = pd.factorize(data.items["item_group"], sort=True)
        codes = group_of[codes]
        lines, codes = lines[codes >= 0], codes[codes >= 0]
        n_codes = len(names)
    column = "i" if key == "i" else "g"
    # one integer per partner and code: grouping on it sorts by partner, then code
    combined = lines["p"].to_numpy().astype(np.int64) * n_codes + codes
    months = lines["month"].to_numpy()
    frames = []
    for window in WINDOWS:
        first = data.month_now if window == "period" else data.month_now - 11
        inside = months >= first
        sums = lines.loc[inside, ["revenue", "qty"]].groupby(combined[inside]).sum()
        sums = sums.reset_index(names="key")
        sums["p"], sums[column] = sums["key"] // n_codes, sums["key"] % n_codes
        totals = data.lines[data.lines["month"] >= first].groupby("p")["revenue"].sum()
        sums["rank"] = _rank(sums, "p", "revenue")
        sums["qty_rank"] = _rank(sums, "p", "qty")
        chosen = ((sums["rank"] <= cfg.top_n) & (sums["revenue"] > 0)) | (
            (sums["qty_rank"] <= cfg.top_n) & (sums["qty"] > 0)
        )
        sums = sums[chosen].drop(columns="key")
        total = sums["p"].map(totals)
        sums["revenue_share"] = (sums["revenue"] / total).where(total > 0)
        sums["window"] = window
        frames.append(sums)
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["p", "window", "rank"], kind="stable")
    if key == "i":
        named = _named(out, data)
    else:
        named = _named(out.rename(columns={"g": "i"}), data, item=False)
        named = named.rename(columns={"i": "item_group"})
        named["item_group"] = pd.array(
            # int64 even when empty (an export without item codes has no groups)
            np.asarray(names)[out["g"].to_numpy().astype(np.int64)],
            dtype="string",
        )
    columns = COLUMNS["top_items" if key == "i" else "top_groups"]
    named["rank"] = named["rank"].astype("Int64")
    named["qty_rank"] = named["qty_rank"].astype("Int64")
    return named[columns]


def _scores(value: pd.Series, limits: tuple, *, lower_is_better: bool) -> np.ndarray:
    """RFM scores 1..5 from fixed limits, or quintiles of the ranks when none."""
    if limits:
        if lower_is_better:
            # days <= first limit scores 5; above the last limit scores 1
            return RFM_SCORES - np.searchsorted(limits, value.to_numpy(), "left")
        return 1 + np.searchsorted(limits, value.to_numpy(), "right")
    goodness = -value if lower_is_better else value
    rank = goodness.rank(method="min").to_numpy()  # 1 = worst
    return 1 + np.floor(RFM_SCORES * (rank - 1) / len(value)).astype(int)


def _rfm(data: _Data, month: int, as_of: pd.Timestamp, cfg: Settings) -> pd.DataFrame:
    """Recency, frequency, monetary value and segment per partner, at month's end.

    Rules:
    - scored: partners with an order in the rfm_lookback_months up to ``month``;
    - R = days from the last order to ``as_of``; F = orders in the 12 months up to
      ``month``; M = net revenue of those 12 months;
    - scores from the rfm_* limits or quintiles; segment = first rfm_segments rule
      whose ranges hold all of its scores.
    """
    orders = data.orders[data.orders["month"] <= month]
    by_partner = orders.groupby("p")["date"].agg(["min", "max"])
    by_partner.columns = ["first_order_date", "last_order_date"]
    recent = (
        _month_index(by_partner["last_order_date"]) > month - cfg.rfm_lookback_months
    )
    out = by_partner[recent].copy()
    in_12m = orders[orders["month"] > month - 12]
    out["orders_12m"] = in_12m.groupby("p").size().reindex(out.index, fill_value=0)
    lines = data.lines[
        (data.lines["month"] <= month) & (data.lines["month"] > month - 12)
    ]
    out["revenue_12m"] = lines.groupby("p")["revenue"].sum().reindex(out.index)
    out["revenue_12m"] = out["revenue_12m"].fillna(0.0)
    out["days_since_last_order"] = (as_of - out["last_order_date"]).dt.days
    if out.empty:
        for column in ("rfm_r", "rfm_f", "rfm_m"):
            out[column] = pd.Series(dtype="int64")
        out["rfm_segment"] = pd.Series(dtype="string")
        return out
    out["rfm_r"] = _scores(
        out["days_since_last_order"], cfg.rfm_recency_days, lower_is_better=True
    )
    out["rfm_f"] = _scores(
        out["orders_12m"], cfg.rfm_frequency_orders, lower_is_better=False
    )
    out["rfm_m"] = _scores(out["revenue_12m"], cfg.rfm_monetary, lower_is_better=False)
    conditions = []
    for rule in cfg.rfm_segments:
        holds = np.ones(len(out), dtype=bool)
        for dim in ("r", "f", "m"):
            low, high = rule.get(dim, [1, RFM_SCORES])
            score = out[f"rfm_{dim}"].to_numpy()
            holds &= (score >= low) & (score <= high)
        conditions.append(holds)
    names = [rule["name"] for rule in cfg.rfm_segments]
    segment = np.select(conditions, names, default=cfg.rfm_default_segment)
    out["rfm_segment"] = pd.array(segment, dtype="string")
    return out


def rhythm(data: _Data, cfg: Settings, rfm_now: pd.DataFrame) -> pd.DataFrame:
    """Frequency, recency, RFM and buying concentration per scored partner.

    Rules:
    - orders_per_month = orders in the last 12 months / months observed (12, or
      fewer for a partner whose first order is more recent, counting its first
      month and the period month);
    - mean_days_between_orders = days from the first to the last order date in the
      last 12 months / (distinct order dates − 1); NA with fewer than two dates;
    - buying_concentration = Herfindahl index of the item shares of the items with
      positive net revenue in the last 12 months (1.0 = a single item).
    """
    now = data.month_now
    out = rfm_now.copy()
    first_month = np.maximum(_month_index(out["first_order_date"]), now - 11)
    out["orders_per_month"] = out["orders_12m"] / (now - first_month + 1)
    orders = data.orders[(data.orders["month"] > now - 12)]
    dates = orders.drop_duplicates(["p", "date"]).groupby("p")["date"]
    span = (dates.max() - dates.min()).dt.days / (dates.size() - 1)
    out["mean_days_between_orders"] = span.where(dates.size() > 1).reindex(out.index)

    items = _item_revenue_12m(data).set_index(["p", "i"])["revenue"]
    share = items / items.groupby(level="p").transform("sum")
    out["buying_concentration"] = (share**2).groupby(level="p").sum()
    out["n_items_12m"] = (
        items.groupby(level="p").size().reindex(out.index, fill_value=0)
    )

    out = _named(out.rename_axis("p").reset_index(), data, item=False)
    columns = COLUMNS["rhythm"]
    for column in ("orders_12m", "days_since_last_order", "rfm_r", "rfm_f", "rfm_m"):
        out[column] = out[column].astype("Int64")
    out["n_items_12m"] = out["n_items_12m"].astype("Int64")
    return out[columns].sort_values("revenue_12m", ascending=False, kind="stable")


def segment_moves(data: _Data, rfm_now: pd.DataFrame, rfm_before) -> pd.DataFrame:
    """Each partner's segment at the previous month's end and now (NA: not scored)."""
    moves = pd.DataFrame(
        {
            "segment_previous_month": rfm_before["rfm_segment"],
            "segment_now": rfm_now["rfm_segment"],
        }
    )
    moves = moves.rename_axis("p").reset_index().sort_values("p")
    out = _named(moves, data, item=False)
    for column in ("segment_previous_month", "segment_now"):
        out[column] = out[column].astype("string")
    return out[COLUMNS["segment_moves"]]


def seasonality(data: _Data, cfg: Settings) -> pd.DataFrame:
    """Revenue and ordering per partner and calendar month over the available years.

    Rules:
    - revenue: net revenue of every line up to the period end in that calendar month;
    - n_years_observed: years in which that calendar month lies between the
      partner's first order month and the period month (both included);
      n_years_ordered: those with an order in that month;
    - is_usual_month: n_years_ordered / n_years_observed >= usual_month_share.
    """
    orders = data.orders
    first = orders.groupby("p")["month"].min()
    partners = first.index.to_numpy()
    grid = pd.DataFrame(
        {
            "p": np.repeat(partners, 12),
            "calendar_month": np.tile(np.arange(1, 13), len(partners)),
        }
    )
    lines = data.lines.assign(calendar_month=data.lines["month"] % 12 + 1)
    revenue = lines.groupby(["p", "calendar_month"])["revenue"].sum()
    ordered = (
        orders.assign(calendar_month=orders["month"] % 12 + 1)
        .drop_duplicates(["p", "month"])
        .groupby(["p", "calendar_month"])
        .size()
    )
    index = pd.MultiIndex.from_frame(grid)
    grid["revenue"] = revenue.reindex(index, fill_value=0.0).to_numpy()
    grid["n_years_ordered"] = ordered.reindex(index, fill_value=0).to_numpy()
    # months k in [first, now] with k % 12 == calendar_month - 1
    c0 = grid["calendar_month"].to_numpy() - 1
    start = first.reindex(grid["p"]).to_numpy()
    observed = (data.month_now - c0) // 12 - (start - 1 - c0) // 12
    grid["n_years_observed"] = observed
    share = grid["n_years_ordered"] / grid["n_years_observed"].where(observed > 0)
    grid["is_usual_month"] = (share >= cfg.usual_month_share).fillna(False)
    out = _named(grid, data, item=False)
    for column in ("calendar_month", "n_years_ordered", "n_years_observed"):
        out[column] = out[column].astype("Int64")
    out["is_usual_month"] = out["is_usual_month"].astype("boolean")
    return out[COLUMNS["seasonality"]]


def lapsed_items(data: _Data, cfg: Settings) -> pd.DataFrame:
    """Items a partner bought regularly and has stopped buying.

    Rules (N = lapse_min_months, M = lapse_months):
    - the lapse window is the last M months up to the period month; the base is the
      12 months before it;
    - lapsed: bought in >= N distinct months of the base and in none of the lapse
      window;
    - last_bought: the last day with a positive line of the item;
    - revenue_at_stake: the item's net revenue in the base.
    """
    now, m = data.month_now, cfg.lapse_months
    first = now - m - 11  # first month of the base
    lines = data.lines
    scope = (lines["pi"] >= 0) & (lines["month"] >= first)
    pi = lines.loc[scope, "pi"].to_numpy()
    offset = lines.loc[scope, "month"].to_numpy() - first  # 0..11 base, 12.. lapse
    span = 12 + m
    monthly = lines.loc[scope, "revenue"].groupby(pi * span + offset).sum()
    key = monthly.index.to_numpy()
    month_pi, in_base = key // span, (key % span) < 12
    bought = monthly.to_numpy() > 0

    # lapsed: enough base months, no lapse-window month
    base_pi, base_months = np.unique(month_pi[bought & in_base], return_counts=True)
    recent_pi = np.unique(month_pi[bought & ~in_base])
    keep = (base_months >= cfg.lapse_min_months) & ~np.isin(base_pi, recent_pi)
    lapsed_pi, months = base_pi[keep], base_months[keep]
    at_stake = pd.Series(monthly.to_numpy()[in_base]).groupby(month_pi[in_base]).sum()
    positive = lines[(lines["revenue"] > 0) & lines["pi"].isin(lapsed_pi)]
    last = positive.groupby("pi")["date"].max()

    n_items = len(data.items)
    out = pd.DataFrame(
        {
            "p": lapsed_pi // n_items,
            "i": lapsed_pi % n_items,
            "last_bought": last.reindex(lapsed_pi).to_numpy(),
            "months_bought_prev_12m": pd.array(months, dtype="Int64"),
            "revenue_at_stake": at_stake.reindex(lapsed_pi).to_numpy(),
        }
    )
    out = out.sort_values(
        ["p", "revenue_at_stake", "i"], ascending=[True, False, True], kind="stable"
    )
    out = _named(out, data)
    return out[COLUMNS["lapsed_items"]]


def _item_revenue_12m(data: _Data) -> pd.DataFrame:
    """p, i, revenue of each item a partner bought in the last 12 months (net
    revenue > 0), ordered by partner, then item (rhythm and suggestions share it)."""
    if "item_revenue_12m" in data.shared:
        return data.shared["item_revenue_12m"]
    lines = data.lines
    inside = (lines["pi"] >= 0) & (lines["month"] > data.month_now - 12)
    sums = lines.loc[inside, "revenue"].groupby(lines.loc[inside, "pi"]).sum()
    sums = sums[sums > 0]
    key, n_items = sums.index.to_numpy(), len(data.items)
    out = pd.DataFrame(
        {"p": key // n_items, "i": key % n_items, "revenue": sums.to_numpy()}
    )
    data.shared["item_revenue_12m"] = out
    return out


def _ragged(lengths: np.ndarray) -> np.ndarray:
    """0..n-1 for each n in ``lengths``, concatenated."""
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(int(lengths.sum())) - starts


def _top_per_partner(incidence: pd.DataFrame, n: int) -> pd.DataFrame:
    """Each partner's ``n`` items of largest revenue (ties by item code)."""
    ranked = incidence.assign(rank=_rank(incidence, "p", "revenue"))
    return ranked[ranked["rank"] <= n]


def suggestions(data: _Data, cfg: Settings) -> pd.DataFrame:
    """Items that partners with similar baskets buy and this partner has never bought.

    Rules, on the last 12 months (a partner "buys" an item when its net revenue is
    positive):
    - candidates: each item's suggestion_co_items most frequent co-items, counted
      over the suggestion_basket_items largest items of every partner (so the count
      grows with partners × basket², never with items²);
    - for a partner, its suggestion_anchor_items largest items X propose their
      co-items Y it never bought (at any date up to the period end);
    - the figures are exact: of the n_anchor partners who buy X, n_both also buy Y;
      pairs with n_both < suggestion_min_partners are dropped;
    - score = n_both / n_anchor of the best anchor (then n_both, then the anchor's
      rank); the top suggestions_per_partner per partner are kept.
    """
    columns = COLUMNS["suggestions"]
    n_items = len(data.items)
    incidence = _item_revenue_12m(data)
    if incidence.empty or cfg.suggestions_per_partner == 0:
        return _empty(columns)

    # co-item candidates from every partner's main items
    basket = _top_per_partner(incidence, cfg.suggestion_basket_items)
    keys, counts = _counted(
        _basket_pairs(basket["p"].to_numpy(), basket["i"].to_numpy(), n_items)
    )
    co = pd.DataFrame({"i": keys // n_items, "y": keys % n_items, "count": counts})
    co = co[(_rank(co, "i", "count") <= cfg.suggestion_co_items).to_numpy()]

    # candidates per partner (its anchors' co-items), minus what it ever bought
    anchors = _top_per_partner(incidence, cfg.suggestion_anchor_items)
    co_items = np.bincount(co["i"].to_numpy(), minlength=n_items)
    co_start = np.r_[0, np.cumsum(co_items)[:-1]]
    anchor_item = anchors["i"].to_numpy()
    lengths = co_items[anchor_item]
    cand = pd.DataFrame(
        {
            "p": np.repeat(anchors["p"].to_numpy(), lengths),
            "i": np.repeat(anchor_item, lengths),
            "rank": np.repeat(anchors["rank"].to_numpy(), lengths),
            "y": co["y"].to_numpy()[
                np.repeat(co_start[anchor_item], lengths) + _ragged(lengths)
            ],
        }
    )
    ever = data.lines[(data.lines["revenue"] > 0) & (data.lines["pi"] >= 0)]
    is_member = _membership(ever["pi"].to_numpy(), len(data.partners) * n_items)
    cand = cand[~is_member(cand["p"].to_numpy() * n_items + cand["y"].to_numpy())]
    if cand.empty:
        return _empty(columns)

    # exact counts for the distinct (anchor, item) pairs
    pair_keys = cand["i"].to_numpy() * n_items + cand["y"].to_numpy()
    distinct = _counted(pair_keys)[0]
    n_both = _pair_counts(incidence, distinct // n_items, distinct % n_items, n_items)
    buyers = np.bincount(incidence["i"].to_numpy(), minlength=n_items)
    cand["n_both"] = n_both[np.searchsorted(distinct, pair_keys)]
    cand["n_anchor"] = buyers[cand["i"].to_numpy()]
    cand = cand[cand["n_both"] >= cfg.suggestion_min_partners]
    cand = cand.assign(score=cand["n_both"] / cand["n_anchor"])

    # the best anchor per suggested item, then the best items per partner
    c = {column: cand[column].to_numpy() for column in cand.columns}
    order = np.lexsort((c["i"], c["rank"], -c["n_both"], -c["score"], c["y"], c["p"]))
    cand = cand.iloc[order]
    cand = cand[~cand.duplicated(["p", "y"])]
    c = {column: cand[column].to_numpy() for column in cand.columns}
    order = np.lexsort((c["y"], c["rank"], -c["n_both"], -c["score"], c["p"]))
    cand = cand.iloc[order]
    cand = cand.assign(rank=cand.groupby("p", sort=False).cumcount() + 1)
    cand = cand[cand["rank"] <= cfg.suggestions_per_partner]
    cand["rank"] = cand["rank"].astype("Int64")
    anchor = data.items.iloc[cand["i"].to_numpy()]
    out = _named(cand.drop(columns="i").rename(columns={"y": "i"}), data)
    out["anchor_item_code"] = anchor["item_code"].to_numpy()
    out["anchor_item_name"] = anchor["item_name"].to_numpy()
    for column in ("anchor_item_code", "anchor_item_name"):
        out[column] = out[column].astype("string")
    out["n_both"] = out["n_both"].astype("Int64")
    out["n_anchor"] = out["n_anchor"].astype("Int64")
    out["reason"] = suggestion_reasons(out)
    return out[columns]


def suggestion_reasons(frame: pd.DataFrame, template: str | None = None) -> pd.Series:
    """The reason of each suggestion, e.g. "bought by 18 of 25 partners who also buy
    X123 (Pens)"; ``template`` takes {n_both}, {n_anchor} and {anchor}."""
    template = (
        template or "bought by {n_both} of {n_anchor} partners who also buy {anchor}"
    )
    code = frame["anchor_item_code"].astype("string").fillna("")
    name = frame["anchor_item_name"].astype("string")
    anchor = (code + " (" + name + ")").fillna(code)
    texts = [
        template.format(n_both=both, n_anchor=total, anchor=text)
        for both, total, text in zip(
            frame["n_both"].tolist(),
            frame["n_anchor"].tolist(),
            anchor.tolist(),
            strict=True,
        )
    ]
    return pd.Series(texts, index=frame.index, dtype="string")


# Above this many partner × item cells, membership is looked up by binary search in
# the sorted keys instead of a bitmap (n cells take n / 8 bytes).
BITMAP_MAX_CELLS = 512_000_000
# Largest partner × item bit matrix for exact pair counts, and the words per chunk.
BITSET_MAX_BYTES = 256_000_000
PAIR_CHUNK_WORDS = 4_000_000


def _pair_counts(incidence, x: np.ndarray, y: np.ndarray, n_items: int):
    """Partners buying both item x[k] and item y[k], exactly, for each k.

    With one bit per partner and item (n_items × partners / 8 bytes, at most
    BITSET_MAX_BYTES) the count is a popcount of two bit rows; else the buyers of the
    rarer item of each pair are walked and looked up in the sorted incidence keys.
    """
    p = incidence["p"].to_numpy().astype(np.int64)
    i = incidence["i"].to_numpy().astype(np.int64)
    words = (int(p.max()) + 64) // 64
    if n_items * words * 8 <= BITSET_MAX_BYTES:
        bits = np.zeros((n_items, words), dtype=np.uint64)
        mask = np.left_shift(np.uint64(1), (p & 63).astype(np.uint64))
        np.bitwise_or.at(bits, (i, p >> 6), mask)
        counts = np.empty(len(x), dtype=np.int64)
        step = max(1, PAIR_CHUNK_WORDS // words)
        for first in range(0, len(x), step):
            both = bits[x[first : first + step]] & bits[y[first : first + step]]
            counts[first : first + step] = np.bitwise_count(both).sum(axis=1)
        return counts

    order = np.argsort(i, kind="stable")
    item_of, buyer_of = i[order], p[order]
    per_item = np.bincount(item_of, minlength=n_items)
    starts = np.r_[0, np.cumsum(per_item)[:-1]]
    is_member = _membership(buyer_of * n_items + item_of, None)
    rarer = per_item[x] <= per_item[y]
    walk, other = np.where(rarer, x, y), np.where(rarer, y, x)
    lengths = per_item[walk]
    pair = np.repeat(np.arange(len(x)), lengths)
    buyers = buyer_of[np.repeat(starts[walk], lengths) + _ragged(lengths)]
    hit = is_member(buyers * n_items + other[pair])
    return np.bincount(pair, weights=hit, minlength=len(x)).astype(np.int64)


def _basket_pairs(p: np.ndarray, i: np.ndarray, n_items: int) -> np.ndarray:
    """i * n_items + j for each ordered pair of distinct items of a partner's basket.

    ``p`` must be grouped (each partner's rows together).
    """
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]]) if len(p) else p
    sizes = np.diff(np.r_[starts, len(p)])
    size_of = np.repeat(sizes, sizes)
    left = np.repeat(np.arange(len(p)), size_of)
    right = np.repeat(np.repeat(starts, sizes), size_of) + _ragged(size_of)
    keep = left != right
    return i[left[keep]] * n_items + i[right[keep]]


def _membership(keys: np.ndarray, cells: int | None):
    """A function telling which probes are among ``keys`` (ints in 0..cells-1)."""
    if cells is not None and cells <= BITMAP_MAX_CELLS:
        keys = np.asarray(keys, dtype=np.int64)
        bits = np.zeros(cells // 8 + 1, dtype=np.uint8)
        np.bitwise_or.at(bits, keys >> 3, np.left_shift(1, keys & 7).astype(np.uint8))
        return lambda probe: ((bits[probe >> 3] >> (probe & 7)) & 1).astype(bool)
    ordered = np.sort(keys)

    def search(probe: np.ndarray) -> np.ndarray:
        found = np.minimum(np.searchsorted(ordered, probe), len(ordered) - 1)
        return ordered[found] == probe

    return search


def _counted(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``keys`` in ascending order and how often each occurs."""
    keys = np.sort(keys)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else []
    return keys[starts], np.diff(np.r_[starts, len(keys)]).astype(np.int64)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


# ----------------------------------------------------------------------- tags


def tags(
    data: _Data,
    cfg: Settings,
    rhythm_now: pd.DataFrame,
    receivables: pd.DataFrame | None,
    master: pd.DataFrame | None,
) -> pd.DataFrame:
    """Rule-based tags per partner, each with the rule and the figure that set it.

    Rules (settings tag_*), over the scored partners of ``rhythm``:
    - vip: rank by revenue of the last 12 months <= tag_vip_top_n (revenue > 0);
    - growing / declining: revenue of the last tag_trend_months months against the
      same number of months before, change >= tag_growing_change or <=
      tag_declining_change (only when the earlier revenue is positive);
    - dormant: days since the last order > tag_dormant_days;
    - new: first order within the last tag_new_months months;
    - single_item_buyer: exactly one item with positive revenue in the last 12 months;
    - late_payer (only with receivables): of the invoice amount due in the last 12
      months up to as_of, the share settled more than tag_late_payer_days after the
      due date, or still open that long after it, >= tag_late_payer_share.
    """
    r = rhythm_now.reset_index(drop=True)
    now, t = data.month_now, cfg.tag_trend_months
    found: list[pd.DataFrame] = []

    def add(tag: str, mask, rule) -> None:
        # rule: one text for all, or a function worded only for the tagged rows
        # (a few of thousands of partners), given their positions in r
        mask = np.asarray(mask, dtype=bool)
        if callable(rule):
            rows = np.flatnonzero(mask)
            rules = pd.Series(rule(rows), index=r.index[rows], dtype="object")
        else:
            rules = pd.Series(rule, index=r.index)[mask]
        found.append(
            pd.DataFrame(
                {
                    "partner_id": r.loc[mask, "partner_id"],
                    "tag": tag,
                    "rule": rules.astype("string"),
                }
            )
        )

    if r.empty:
        return _tags_frame(found, data, receivables, master, cfg)
    revenue = r["revenue_12m"].astype(float)
    vip_rank = revenue.rank(method="min", ascending=False)
    # each rule is a coded message (labels: phrases tag_rule_*), worded at display
    add(
        "vip",
        (vip_rank <= cfg.tag_vip_top_n) & (revenue > 0),
        lambda rows: [
            message("tag_rule_vip", rank=f"{rank:.0f}", top=cfg.tag_vip_top_n)
            for rank in vip_rank.iloc[rows]
        ],
    )

    by_month = data.lines.groupby(["p", "month"])["revenue"].sum().reset_index()
    recent = by_month[by_month["month"] > now - t].groupby("p")["revenue"].sum()
    before = by_month[by_month["month"].between(now - 2 * t + 1, now - t)]
    before = before.groupby("p")["revenue"].sum()
    p_of = pd.Series(np.arange(len(data.partners)), index=data.partners["partner_id"])
    p = p_of.reindex(r["partner_id"].to_numpy()).to_numpy()
    last_t = recent.reindex(p, fill_value=0.0).to_numpy()
    prev_t = before.reindex(p, fill_value=0.0).to_numpy()
    change = pd.Series(
        np.where(prev_t > 0, last_t / np.where(prev_t > 0, prev_t, 1) - 1, np.nan)
    )

    def trend(rows: np.ndarray) -> list[str]:
        return [
            message(
                "tag_rule_trend",
                months=t,
                last=f"{last:,.0f}",
                previous=f"{prev:,.0f}",
                change=f"{c:+.0%}" if c == c else "",
            )
            for last, prev, c in zip(
                last_t[rows], prev_t[rows], change.iloc[rows], strict=True
            )
        ]

    add("growing", (change >= cfg.tag_growing_change).to_numpy(), trend)
    add("declining", (change <= cfg.tag_declining_change).to_numpy(), trend)

    days = r["days_since_last_order"].astype(float)
    add(
        "dormant",
        (days > cfg.tag_dormant_days).to_numpy(),
        lambda rows: [
            message("tag_rule_dormant", days=d, limit=cfg.tag_dormant_days)
            for d in r["days_since_last_order"].iloc[rows]
        ],
    )
    new_from = _month_start(now - cfg.tag_new_months + 1)
    add(
        "new",
        (r["first_order_date"] >= new_from).to_numpy(),
        lambda rows: [
            message("tag_rule_new", first=d, since=f"{new_from:%Y-%m-%d}")
            for d in r["first_order_date"].iloc[rows].dt.strftime("%Y-%m-%d")
        ],
    )
    add(
        "single_item_buyer",
        (r["n_items_12m"] == 1).fillna(False).to_numpy(),
        message("tag_rule_single_item"),
    )
    return _tags_frame(found, data, receivables, master, cfg)


def _tags_frame(found, data, receivables, master, cfg) -> pd.DataFrame:
    """The rule tags found plus late payers, named and in a stable order."""
    if receivables is not None and len(receivables):
        found.append(_late_payers(data, cfg, receivables, master))
    if not found:
        return _empty(COLUMNS["tags"])
    out = pd.concat(found, ignore_index=True)
    names = [data.partners[PARTNER]]
    if master is not None and set(PARTNER) <= set(master.columns):
        names.append(master[PARTNER].astype("string"))
    # a late payer may have receivables but no sales lines: named from the master
    names = pd.concat(names, ignore_index=True).drop_duplicates("partner_id")
    out = out.merge(names, on="partner_id", how="left")
    out["tag_order"] = out["tag"].map({tag: n for n, tag in enumerate(TAGS)})
    out = out.sort_values(["partner_id", "tag_order"], kind="stable")
    out = out[COLUMNS["tags"]]
    out["tag"] = out["tag"].astype("string")
    return out.reset_index(drop=True)


def _late_payers(data, cfg, receivables, master) -> pd.DataFrame:
    frame = receivables
    if "partner_id" not in frame:
        if master is None or "partner_code" not in frame:
            raise ValueError(
                "receivables: no partner_id column; attach the master's IDs first "
                "(assemble.attach_partner_ids)"
            )
        codes = master.drop_duplicates("partner_code").set_index("partner_code")
        frame = frame.assign(partner_id=frame["partner_code"].map(codes["partner_id"]))
    as_of = data.as_of
    due = pd.to_datetime(frame.get("due_date"), errors="coerce")
    amount = pd.to_numeric(frame.get("amount"), errors="coerce").astype(float)
    settled = pd.to_datetime(frame.get("settled_date"), errors="coerce")
    settled_amount = pd.to_numeric(frame.get("settled_amount"), errors="coerce")
    paid_in_full = settled.notna() & (
        settled_amount.isna() | (settled_amount.astype(float) >= amount)
    )
    paid_by = settled.where(paid_in_full & (settled <= as_of), as_of)
    window_start = _month_start(data.month_now - 11)
    counted = (due >= window_start) & (due <= as_of) & (amount > 0)
    counted &= frame["partner_id"].notna()
    late = (paid_by - due).dt.days > cfg.tag_late_payer_days
    sums = pd.DataFrame(
        {
            "partner_id": frame["partner_id"].astype("string"),
            "amount": amount.where(counted, 0.0),
            "late": amount.where(counted & late, 0.0),
        }
    )[counted.to_numpy()]
    by = sums.groupby("partner_id")[["amount", "late"]].sum()
    by["share"] = by["late"] / by["amount"]
    by = by[by["share"] >= cfg.tag_late_payer_share]
    return pd.DataFrame(
        {
            "partner_id": by.index.astype("string"),
            "tag": "late_payer",
            "rule": [
                message(
                    "tag_rule_late_payer",
                    share=f"{share:.0%}",
                    days=cfg.tag_late_payer_days,
                )
                for share in by["share"]
            ],
        }
    )


# ------------------------------------------------------------------ the whole


def compute_insights(
    sales: pd.DataFrame,
    master: pd.DataFrame,
    period: Period,
    config: dict,
    receivables: pd.DataFrame | None = None,
) -> Insights:
    """Every insight table for ``period`` (see each function for its rules)."""
    cfg = settings(config)
    data, notes = _prepare(sales, master, period, cfg)
    if data.as_of < period.end:
        notes.append(
            f"partial_month: the sales lines end on {data.as_of:%Y-%m-%d}; recency "
            "is measured at that day"
        )
    if data.orders.empty:
        notes.append(
            f"no_orders: no document with a positive amount up to {period.end:%Y-%m-%d}"
            "; nothing to analyse"
        )
        log.warning("insights %s: no orders up to the period end", period)
        empty = {name: _empty(columns) for name, columns in COLUMNS.items()}
        return Insights(**empty, as_of=data.as_of, settings=cfg, notes=notes)
    rfm_now = _rfm(data, data.month_now, data.as_of, cfg)
    previous = period.previous()
    rfm_before = _rfm(data, data.month_now - 1, min(previous.end, data.as_of), cfg)
    rhythm_now = rhythm(data, cfg, rfm_now)
    insights = Insights(
        top_items=top_purchases(data, cfg, "i"),
        top_groups=top_purchases(data, cfg, "item_group"),
        rhythm=rhythm_now.reset_index(drop=True),
        seasonality=seasonality(data, cfg),
        lapsed_items=lapsed_items(data, cfg),
        suggestions=suggestions(data, cfg),
        tags=tags(data, cfg, rhythm_now, receivables, master),
        segment_moves=segment_moves(data, rfm_now, rfm_before),
        as_of=data.as_of,
        settings=cfg,
        notes=notes,
    )
    log.info(
        "insights %s: %d partners scored, %d lapsed items, %d suggestions, %d tags",
        period,
        len(insights.rhythm),
        len(insights.lapsed_items),
        len(insights.suggestions),
        len(insights.tags),
    )
    return insights


def master_with_tags(master: pd.DataFrame, tags: pd.DataFrame) -> pd.DataFrame:
    """The master with a ``rule_tags`` column: the rule-based tags of each partner.

    Users' own tags (the partner list's ``tags`` column) stay in ``tags``; the two
    kinds are kept apart so a rule never overwrites what a person wrote. The rule
    that set each tag is on the insights workbook's tags sheet.
    """
    out = master.copy()
    if tags.empty or "partner_id" not in out:
        out["rule_tags"] = pd.Series(pd.NA, index=out.index, dtype="string")
        return out
    # each tag once per partner, in the order the tags frame lists them
    distinct = tags[["partner_id", "tag"]].drop_duplicates()
    joined = distinct.groupby("partner_id", sort=False)["tag"].agg("; ".join)
    out["rule_tags"] = out["partner_id"].map(joined).astype("string")
    return out
