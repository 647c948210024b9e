"""The annual evaluation: measured values per partner, points per criterion, a
weighted score, a grade, a rank and its change against last year, prune candidates
with the rule that flagged each one and the guard that kept it, and a strategy.

Every rule is data in the config section [evaluation] (see defaults.toml and
``year_rules``), versioned per evaluation year; this module only applies it. A
criterion with no data behind a partner gives NA points, never 0, and the partner's
score is re-weighted over the criteria that do have data.

Two sides: "customer" evaluates the partners of the sales lines; "supplier" those of
the purchase lines (tables.PURCHASES: what is paid out, never revenue). On the
supplier side "revenue" holds the spend with the supplier, and the criteria that do
not apply (profitability, credit risk) are left out of the weights.
"""

from __future__ import annotations

import copy
import logging
import math
import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ledgerflow.assemble import map_distinct
from ledgerflow.errors import ConfigError
from ledgerflow.labels import message, term
from ledgerflow.metrics import (
    amount_column,
    date_column,
    has_receivables,
    overdue_after_days,
    partner_identities,
    partner_sums,
    receivable_position,
    usable_lines,
)

log = logging.getLogger(__name__)

SIDES = ("customer", "supplier")
CRITERIA = (
    "sales",
    "profitability",
    "reliability",
    "growth",
    "credit_risk",
    "data_quality",
    "market_influence",
    "strategic_fit",
    "feedback",
)
# Criteria scored from the assessments table (mean score of the year).
ASSESSED = ("market_influence", "strategic_fit", "feedback")
# criterion -> (measured value column, activity column: the events behind it)
MEASURES = {
    "sales": ("revenue_share", "n_documents"),
    "profitability": ("contribution_margin", "n_lines"),
    "reliability": ("on_time_share", "n_reliability_events"),
    "growth": ("growth", "n_lines_prev"),
    "credit_risk": ("overdue_share_year_end", "n_invoices_year_end"),
    "data_quality": ("quality_score", "n_quality"),
    **{c: (f"assessed_{c}", f"n_assessed_{c}") for c in ASSESSED},
}
DECISIONS = ("keep", "watch", "renegotiate", "prune")
SCALES = ("bands", "linear")
CRITERION_KEYS = {
    "weight",
    "sides",
    "scale",
    "better",
    "bands",
    "low",
    "high",
    "percentile",
    "min_activity",
    "shrink",
}

EVALUATION_COLUMNS = [
    "partner_id",
    "partner_code",
    "partner_name",
    "revenue",
    "revenue_share",
    "gross_profit",
    "gross_margin",
    "contribution_amount",
    "contribution_margin",
    "on_time_share",
    "growth",
    "overdue_share_year_end",
    "quality_score",
    *(f"points_{c}" for c in CRITERIA),
    "score",
    "grade",
    "rank",
    "grade_previous",
    "rank_previous",
    "rank_change",
    "revenue_rank",
    "months_dormant",
    "negative_contribution_years",
    "is_sole_partner_of_item",
    "has_long_term_contract",
    "is_prune_candidate",
    "prune_reason",
    "guard_reason",
    "decision",
    "decision_comment",
    "size_class",
    "industry",
    "region",
    "business_kind",
    "strategy",
    "strategy_rule",
    "best_criterion",
    "worst_criterion",
]

_OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_F = "Float64"


@dataclass
class Evaluation:
    """One year's evaluation of one side, with everything its workbook shows."""

    year: int
    side: str
    scorecard: pd.DataFrame  # EVALUATION_COLUMNS, best rank first
    breakdown: pd.DataFrame  # BREAKDOWN_COLUMNS
    simulation: pd.DataFrame  # SIMULATION_COLUMNS
    gained: pd.DataFrame  # GAINED_COLUMNS
    anniversaries: pd.DataFrame  # ANNIVERSARY_COLUMNS
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- rules


def year_rules(config: dict | None, year: int) -> dict[str, Any]:
    """The [evaluation] rules that apply to ``year``, checked.

    Rules:
    - [evaluation.years."<year>"] overrides any key of [evaluation] for that year;
      its ``criteria`` merge per criterion and key, so a year table may change one
      weight only. Years without a table use the base rules.
    - Weights are numbers >= 0 summing to 100 (± 0.01) over every criterion.
    - Bands are [threshold, points] pairs with rising thresholds; linear scales need
      low < high; prune, guard and strategy conditions are {column, op, value}.
    """
    base = copy.deepcopy((config or {}).get("evaluation") or {})
    years = base.pop("years", {}) or {}
    override = copy.deepcopy(years.get(str(year)) or {})
    for key in override:
        if key not in base and key != "criteria":
            raise ConfigError(
                f'[evaluation.years."{year}"] {key}: unknown setting; known settings '
                f"are {', '.join(sorted(base))}"
            )
    criteria = copy.deepcopy(base.get("criteria") or {})
    for name, changes in (override.pop("criteria", {}) or {}).items():
        criteria.setdefault(name, {}).update(changes)
    base.update(override)
    base["criteria"] = criteria
    where = f'[evaluation.years."{year}"]' if str(year) in years else "[evaluation]"

    for name, spec in criteria.items():
        _check_criterion(name, spec, where)
    total = sum(float(spec.get("weight", 0)) for spec in criteria.values())
    if criteria and not math.isclose(total, 100.0, abs_tol=0.01):
        raise ConfigError(
            f"{where} criteria: the weights sum to {total:g}; make them sum to 100"
        )
    grades = base.get("grades", [["A", 80], ["B", 60], ["C", 40], ["D", 0]])
    base["grades"] = sorted(
        ((str(g), float(t)) for g, t in grades), key=lambda p: -p[1]
    )
    for key in ("prune_rules", "guard_rules"):
        base[key] = list(base.get(key) or [])
        for rule in base[key]:
            _check_condition(rule, f"{where} {key}", need_code=True)
    base["strategy_rules"] = list(base.get("strategy_rules") or [])
    for rule in base["strategy_rules"]:
        if not {"code", "strategy", "when"} <= set(rule):
            raise ConfigError(
                f"{where} strategy_rules: rule {rule!r} needs code, strategy and when; "
                'write e.g. {code = "key_account", strategy = "quarterly_review", '
                'when = [{column = "revenue_rank", op = "<=", value = 10}]}'
            )
        for condition in rule["when"]:
            _check_condition(condition, f"{where} strategy_rules", need_code=False)
    base.setdefault("percentile_min_partners", 30)
    base.setdefault("min_weight_share", 0.5)
    base.setdefault("prune_overrides", [])
    base.setdefault("contract_tags", [])
    base.setdefault("size_classes", [[300, "large"], [50, "medium"], [0, "small"]])
    base.setdefault("default_strategy", "maintain")
    base.setdefault("scorecard_partners", 20)
    return base


def _check_criterion(name: str, spec: dict, where: str) -> None:
    at = f"{where} criteria.{name}"
    if name not in CRITERIA:
        raise ConfigError(f"{at}: unknown criterion; known are {', '.join(CRITERIA)}")
    unknown = sorted(set(spec) - CRITERION_KEYS)
    if unknown:
        raise ConfigError(
            f"{at}: unknown keys {', '.join(unknown)}; known are "
            f"{', '.join(sorted(CRITERION_KEYS))}"
        )
    weight = spec.get("weight", 0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
        raise ConfigError(f"{at}.weight: expected a number >= 0 (got {weight!r})")
    if spec.get("scale", "linear") not in SCALES:
        raise ConfigError(
            f"{at}.scale: expected one of {', '.join(SCALES)} (got {spec['scale']!r})"
        )
    if spec.get("better", "higher") not in ("higher", "lower"):
        raise ConfigError(f"{at}.better: expected higher or lower")
    bad_side = sorted(set(spec.get("sides", SIDES)) - set(SIDES))
    if bad_side:
        raise ConfigError(f"{at}.sides: unknown {bad_side}; use customer, supplier")
    if spec.get("scale", "linear") == "bands":
        bands = spec.get("bands") or []
        thresholds = [float(b[0]) for b in bands]
        if not bands or thresholds != sorted(set(thresholds)):
            raise ConfigError(
                f"{at}.bands: expected [threshold, points] pairs with rising "
                f"thresholds, e.g. [[0, 0], [0.1, 50], [0.2, 100]] (got {bands!r})"
            )
    elif not float(spec.get("low", 0)) < float(spec.get("high", 100)):
        raise ConfigError(
            f"{at}: low ({spec.get('low')}) must be below high ({spec.get('high')})"
        )


def _check_condition(rule: dict, where: str, *, need_code: bool) -> None:
    keys = {"code", "column", "op", "value"} if need_code else {"column", "op", "value"}
    missing = keys - set(rule)
    if missing:
        raise ConfigError(
            f"{where}: rule {rule!r} lacks {sorted(missing)}; write e.g. "
            '{code = "grade_D", column = "grade", op = "==", value = "D"}'
        )
    if rule["op"] not in _OPS and rule["op"] != "in":
        raise ConfigError(
            f"{where}: {rule!r} has op {rule['op']!r}; expected one of "
            f"{', '.join(_OPS)}, in"
        )
    if rule["column"] not in EVALUATION_COLUMNS:
        raise ConfigError(
            f"{where}: {rule!r} reads unknown column {rule['column']!r}; use one of "
            f"{', '.join(EVALUATION_COLUMNS)}"
        )


def fires(frame: pd.DataFrame, rule: dict[str, Any]) -> pd.Series:
    """Where ``rule`` holds; a missing value (NA) never fires a rule."""
    column = frame[rule["column"]]
    if rule["op"] == "in":
        values = rule["value"] if isinstance(rule["value"], list) else [rule["value"]]
        hit = column.isin(values) & column.notna()
    else:
        hit = _OPS[rule["op"]](column, rule["value"])
    return pd.Series(hit, index=frame.index).fillna(False).astype(bool)


def _codes(frame: pd.DataFrame, rules: list[dict[str, Any]]) -> pd.Series:
    """The codes of the rules that hold per row, joined by "; " (NA when none)."""
    joined = pd.Series("", index=frame.index, dtype="string")
    for rule in rules:
        hit = fires(frame, rule)
        separator = joined.where(joined == "", "; ")
        joined = joined.where(~hit, joined + separator + rule["code"])
    return joined.replace("", pd.NA)


def side_weights(rules: dict[str, Any], side: str) -> dict[str, float]:
    """Weights of the criteria that apply to ``side`` (weight > 0)."""
    return {
        name: float(spec.get("weight", 0))
        for name, spec in rules["criteria"].items()
        if side in spec.get("sides", SIDES) and float(spec.get("weight", 0)) > 0
    }


def supplier_ids(purchases: pd.DataFrame, code_map: pd.DataFrame) -> pd.DataFrame:
    """Purchase lines with a partner_id: the master's for a code it knows, else
    "supplier:<code>" (suppliers are not yet part of the partner master)."""
    out = purchases.copy(deep=False)  # copy-on-write: the caller's frame is untouched
    if out.empty or "partner_code" not in out:
        out["partner_id"] = pd.Series(dtype="string")
        return out
    known = dict(zip(code_map["partner_code"], code_map["partner_id"], strict=True))
    own = "supplier:" + out["partner_code"].astype("string")
    out["partner_id"] = map_distinct(out["partner_code"], known).fillna(own)
    return out


# ------------------------------------------------------------------------- measures


def _lines(
    lines: pd.DataFrame | None, config: dict | None, notes: list[str]
) -> pd.DataFrame:
    """Usable lines with item code and the two delivery dates kept beside them."""
    usable = usable_lines(lines, config, notes)
    if lines is None or not len(lines):
        for column in ("item_code",):
            usable[column] = pd.Series(dtype="string")
        for column in ("promised_date", "delivered_date"):
            usable[column] = pd.Series(dtype="datetime64[ns]")
        return usable
    usable = usable.copy()
    usable["partner_id"] = category_text(usable["partner_id"])
    index = usable.index
    item = lines.get("item_code")
    usable["item_code"] = (
        pd.Series(item, index=lines.index).reindex(index).astype("string")
        if item is not None
        else pd.Series(pd.NA, index=index, dtype="string")
    )
    for column in ("promised_date", "delivered_date"):
        usable[column] = date_column(lines, column).reindex(index)
    return usable


def category_text(values: pd.Series) -> pd.Series:
    """A categorical column as "string" (``astype("string")``), by its categories:
    a million lines hold a few thousand distinct values, converted once each."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype("string")
    text = values.cat.categories.astype("string").array
    codes = values.cat.codes.to_numpy()
    return pd.Series(
        text.take(codes, allow_fill=True), index=values.index, name=values.name
    )


def payment_counts(
    receivables: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, config: dict
) -> pd.DataFrame:
    """Invoices due in the year and how many were paid in full on time, per partner.

    Rules (judged as of ``end``, so later data cannot change a past year):
    - an invoice counts when its due date + overdue_after_days falls in start..end−1
      day and it has an amount;
    - it is on time when settled on or before that deadline with settled_amount
      (or, when blank, the whole amount) covering the amount.
    """
    grace = pd.Timedelta(days=overdue_after_days(config))
    deadline = date_column(receivables, "due_date") + grace
    amount = amount_column(receivables, "amount")
    counted = ((deadline >= start) & (deadline < end)).fillna(False) & amount.notna()
    settled = date_column(receivables, "settled_date")
    paid = amount_column(receivables, "settled_amount").fillna(amount)
    on_time = (settled <= deadline).fillna(False) & (paid >= amount).fillna(False)
    frame = pd.DataFrame(
        {
            "partner_id": receivables["partner_id"].astype("string"),
            "n_invoices_due": 1,
            "n_paid_on_time": on_time.astype(int),
        }
    )[counted.to_numpy()]
    return frame.groupby("partner_id", sort=True, dropna=True).sum()


def measures(
    lines: pd.DataFrame | None,
    receivables: pd.DataFrame | None,
    master: pd.DataFrame | None,
    assessments: pd.DataFrame | None,
    year: int,
    config: dict | None,
    costs: pd.DataFrame | None = None,
    notes: list[str] | None = None,
    asof: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The measured values of every partner active in ``year``, indexed by partner_id.

    Rules:
    - active: a line in the year (or, with receivables, an invoice due in it);
    - revenue: net revenue of the year's lines (metrics.net_revenue), revenue_share
      of the positive total; revenue_prev the same for year − 1 (growth = revenue /
      revenue_prev − 1, NA unless revenue_prev > 0);
    - contribution: gross profit minus the cost to serve (``costs`` amounts of the
      year, when given), else the gross profit itself; contribution_margin =
      contribution / revenue when revenue > 0; negative_contribution_years = 2 when
      this and last year's contributions are both below 0, 1 for this year only;
    - reliability: (invoices paid in full on time + lines delivered on or before the
      promised date) / (invoices due + lines with both dates);
    - credit risk: overdue / open receivable balance at the year's last day
      (0 when nothing is open); NA for a partner without receivables;
    - months_dormant: whole calendar months from the last line up to the year end,
      or up to ``asof`` when it falls earlier (a year still running);
    - is_sole_partner_of_item: the only partner with lines of some item in the year;
    - assessed_<criterion>: mean score of the year's assessments.
    """
    notes = notes if notes is not None else []
    usable = _lines(lines, config, notes)
    return _measures(
        usable, receivables, master, assessments, year, config, costs, notes, asof
    )


def _measures(
    usable: pd.DataFrame,
    receivables: pd.DataFrame | None,
    master: pd.DataFrame | None,
    assessments: pd.DataFrame | None,
    year: int,
    config: dict | None,
    costs: pd.DataFrame | None,
    notes: list[str],
    asof: pd.Timestamp | None,
) -> pd.DataFrame:
    """measures() on lines already reduced by _lines (shared by both years)."""
    start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1)
    prev_start = pd.Timestamp(year - 1, 1, 1)
    every = usable[usable["partner_id"].notna()]
    before_end = every[every["doc_date"] < end]
    now = before_end[before_end["doc_date"] >= start]
    prev = before_end[
        (before_end["doc_date"] >= prev_start) & (before_end["doc_date"] < start)
    ]

    sums = partner_sums(now)
    sums["n_documents"] = sums["n_documents"].fillna(sums["n_lines"])
    ids = sums.index
    payments = None
    if has_receivables(receivables):
        payments = payment_counts(receivables, start, end, config or {})
        ids = ids.union(payments.index)
    out = pd.DataFrame(index=pd.Index(ids, name="partner_id", dtype="string"))
    # Sums of cents carry float noise (1.4e-14 for a sale fully cancelled): rounded
    # to 6 decimals so that equal revenues rank as ties.
    out["revenue"] = sums["revenue"].reindex(ids).fillna(0.0).round(6).astype(_F)
    cost = sums["cost"].reindex(ids).astype(_F)
    out["n_lines"] = sums["n_lines"].reindex(ids).fillna(0).astype("Int64")
    out["n_documents"] = sums["n_documents"].reindex(ids).fillna(0).astype("Int64")
    positive = out["revenue"].clip(lower=0).sum()
    share = out["revenue"].clip(lower=0) / positive if positive > 0 else pd.NA
    out["revenue_share"] = pd.Series(share, index=ids, dtype=_F)
    out["gross_profit"] = (out["revenue"] - cost).astype(_F)
    out["gross_margin"] = (out["gross_profit"] / out["revenue"]).where(
        out["revenue"] > 0
    )

    # Contribution: gross profit less the cost to serve, when costs are known.
    serve = _cost_to_serve(costs, start, end).reindex(ids)
    serve_prev = _cost_to_serve(costs, prev_start, start)
    if costs is None or not len(costs):
        notes.append(
            "contribution_is_gross_profit: no cost-to-serve data; contribution and "
            "its margin are the gross profit and gross margin"
        )
    out["contribution_amount"] = (out["gross_profit"] - serve.fillna(0.0)).astype(_F)
    out["contribution_margin"] = (out["contribution_amount"] / out["revenue"]).where(
        out["revenue"] > 0
    )

    # Last year: revenue for growth, contribution for the two-year rule.
    prev_sums = partner_sums(prev) if len(prev) else None
    if prev_sums is not None:
        prev_revenue = prev_sums["revenue"].reindex(ids)
        prev_contribution = (
            prev_sums["revenue"]
            - prev_sums["cost"]
            - serve_prev.reindex(prev_sums.index).fillna(0.0)
        ).reindex(ids)
        out["n_lines_prev"] = prev_sums["n_lines"].reindex(ids).fillna(0)
    else:
        prev_revenue = pd.Series(pd.NA, index=ids, dtype=_F)
        prev_contribution = pd.Series(pd.NA, index=ids, dtype=_F)
        out["n_lines_prev"] = 0
    out["revenue_prev"] = prev_revenue.astype(_F)
    out["growth"] = (out["revenue"] / out["revenue_prev"] - 1.0).where(
        out["revenue_prev"] > 0
    )
    out["n_lines_prev"] = out["n_lines_prev"].astype("Int64")
    negative_now = (out["contribution_amount"] < 0).fillna(False)
    negative_prev = (prev_contribution.astype(_F) < 0).fillna(False)
    years_negative = negative_now.astype(int) + (negative_now & negative_prev)
    out["negative_contribution_years"] = years_negative.astype("Int64")

    # Reliability: payments on time and deliveries on time, counted together.
    dated = now[now["promised_date"].notna() & now["delivered_date"].notna()]
    delivered_on_time = (dated["delivered_date"] <= dated["promised_date"]).astype(int)
    deliveries = delivered_on_time.groupby(dated["partner_id"]).agg(["size", "sum"])
    events = deliveries["size"].reindex(ids).fillna(0)
    good = deliveries["sum"].reindex(ids).fillna(0)
    if payments is not None:
        events = events + payments["n_invoices_due"].reindex(ids).fillna(0)
        good = good + payments["n_paid_on_time"].reindex(ids).fillna(0)
    out["n_reliability_events"] = events.astype("Int64")
    out["on_time_share"] = (good / events).where(events > 0).astype(_F)

    # Credit risk: the overdue part of what is open at the year's last day.
    out["overdue_share_year_end"] = pd.Series(pd.NA, index=ids, dtype=_F)
    out["receivable_balance"] = pd.Series(pd.NA, index=ids, dtype=_F)
    out["n_invoices_year_end"] = 0
    if has_receivables(receivables):
        position = receivable_position(receivables, end - pd.Timedelta(days=1), config)
        position = position.set_index("partner_id")
        balance = position["receivable_balance"].reindex(ids)
        overdue = position["overdue_amount"].reindex(ids)
        share = (overdue / balance).where(balance > 0, 0.0).where(balance.notna())
        out["overdue_share_year_end"] = share.astype(_F)
        out["receivable_balance"] = balance.astype(_F)
        known = receivables[
            (date_column(receivables, "invoice_date") < end).fillna(True)
        ]
        counts = known.groupby(known["partner_id"].astype("string")).size()
        out["n_invoices_year_end"] = counts.reindex(ids).fillna(0)
    out["n_invoices_year_end"] = out["n_invoices_year_end"].astype("Int64")
    out["n_invoices_due"] = (
        payments["n_invoices_due"].reindex(ids).fillna(0).astype("Int64")
        if payments is not None
        else pd.Series(0, index=ids, dtype="Int64")
    )

    # Dormancy up to the year end, over every line before it.
    last = before_end.groupby("partner_id")["doc_date"].max().reindex(ids)
    first = every.groupby("partner_id")["doc_date"].min().reindex(ids)
    year_end = end - pd.Timedelta(days=1)
    if asof is not None:
        year_end = min(year_end, pd.Timestamp(asof))
    months = (year_end.year - last.dt.year) * 12 + (year_end.month - last.dt.month)
    out["months_dormant"] = months.astype("Int64")
    out["last_activity_date"] = last
    out["first_activity_date"] = first

    # Sole partner of an item in the year.
    with_item = now[now["item_code"].notna()]
    partners_per_item = with_item.groupby("item_code")["partner_id"].nunique()
    sole_items = partners_per_item.index[partners_per_item == 1]
    sole = with_item[with_item["item_code"].isin(sole_items)]["partner_id"].unique()
    out["is_sole_partner_of_item"] = pd.array(ids.isin(sole), dtype="boolean")

    # The master: data quality and the segment fields.
    out = out.join(_master_fields(master, ids, config))

    # Assessments of the year, mean per criterion.
    for criterion in ASSESSED:
        out[f"assessed_{criterion}"] = pd.Series(pd.NA, index=ids, dtype=_F)
        out[f"n_assessed_{criterion}"] = pd.Series(0, index=ids, dtype="Int64")
    if assessments is not None and len(assessments) and "partner_id" in assessments:
        scores = assessments[
            pd.to_numeric(assessments["year"], errors="coerce") == year
        ]
        for criterion in ASSESSED:
            rows = scores[scores["criterion"].astype("string").str.strip() == criterion]
            grouped = pd.to_numeric(rows["score"], errors="coerce").groupby(
                rows["partner_id"].astype("string")
            )
            out[f"assessed_{criterion}"] = grouped.mean().reindex(ids).astype(_F)
            out[f"n_assessed_{criterion}"] = (
                grouped.count().reindex(ids).fillna(0).astype("Int64")
            )
    return out


def _cost_to_serve(
    costs: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp
) -> pd.Series:
    if costs is None or not len(costs) or "partner_id" not in costs:
        return pd.Series(dtype=_F)
    when = date_column(costs, "cost_date")
    rows = costs[((when >= start) & (when < end)).fillna(False).to_numpy()]
    amount = amount_column(rows, "amount")
    return amount.groupby(rows["partner_id"].astype("string")).sum().astype(_F)


def _master_fields(
    master: pd.DataFrame | None, ids: pd.Index, config: dict | None
) -> pd.DataFrame:
    """quality_score, size class, industry, region, business kind, contract flag."""
    out = pd.DataFrame(index=ids)
    texts = ("industry", "region", "business_kind", "tags", "size")
    for column in texts:
        out[column] = pd.Series(pd.NA, index=ids, dtype="string")
    out["quality_score"] = pd.Series(pd.NA, index=ids, dtype=_F)
    out["founded_date"] = pd.Series(pd.NaT, index=ids, dtype="datetime64[ns]")
    if master is not None and len(master) and "partner_id" in master:
        rows = master.drop_duplicates("partner_id").set_index("partner_id")
        rows.index = rows.index.astype("string")
        for column in texts:
            if column in rows:
                out[column] = rows[column].astype("string").reindex(ids)
        if "quality_score" in rows:
            out["quality_score"] = amount_column(rows, "quality_score").reindex(ids)
        if "founded_date" in rows:
            out["founded_date"] = date_column(rows, "founded_date").reindex(ids)
    out["n_quality"] = out["quality_score"].notna().astype("Int64")
    rules = (config or {}).get("evaluation") or {}
    out["size_class"] = size_class(out["size"], rules.get("size_classes"))
    tags = [str(t).casefold() for t in rules.get("contract_tags", [])]
    text = out["tags"].fillna("").str.casefold()
    contract = pd.Series(False, index=ids)
    for tag in tags:
        contract |= text.str.contains(tag, regex=False)
    out["has_long_term_contract"] = pd.array(contract.to_numpy(), dtype="boolean")
    return out


_TEXT_SIZES = {
    "대기업": "large",
    "대": "large",
    "large": "large",
    "중견기업": "medium",
    "중견": "medium",
    "중기업": "medium",
    "medium": "medium",
    "중소기업": "small",
    "소기업": "small",
    "소상공인": "small",
    "소": "small",
    "small": "small",
}


def size_class(size: pd.Series, classes: list | None) -> pd.Series:
    """large / medium / small from the master's size: an employee count is put in
    the first class of ``classes`` ([minimum, class], largest first) it reaches; a
    text such as 대기업 or 중소기업 maps directly; anything else is NA."""
    classes = sorted(
        ((float(m), str(c)) for m, c in (classes or [])), key=lambda p: -p[0]
    )
    text = size.astype("string").str.strip()
    number = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    out = text.str.casefold().map(_TEXT_SIZES, na_action="ignore").astype("string")
    for minimum, name in reversed(classes):
        out = out.mask((number >= minimum).fillna(False), name)
    return out.astype("string")


# --------------------------------------------------------------------------- points


def criterion_points(
    measured: pd.Series, activity: pd.Series, spec: dict[str, Any], min_partners: int
) -> tuple[pd.Series, pd.Series]:
    """Points 0-100 for one criterion and the value they were computed from.

    Rules:
    - a partner scores only with a measured value and at least ``min_activity``
      events; otherwise NA (not 0);
    - shrink k > 0: value = (n × value + k × mean) / (n + k), n = its events, mean
      = the plain mean of the scored partners' values;
    - ``percentile`` and at least ``min_partners`` scored: 100 × rank / n (average
      rank for ties; the best value gets 100);
    - otherwise ``scale``: bands (the points of the highest threshold reached, or
      for better = "lower" of the lowest threshold not exceeded) or linear
      (low -> 0, high -> 100, reversed for "lower"); always clamped to 0..100.
    """
    value = pd.to_numeric(measured, errors="coerce").astype(float)
    events = pd.to_numeric(activity, errors="coerce").astype(float).fillna(0.0)
    eligible = value.notna() & (events >= float(spec.get("min_activity", 1)))
    value = value.where(eligible)
    k = float(spec.get("shrink", 0) or 0)
    if k > 0 and eligible.any():
        mean = value[eligible].mean()
        value = ((events * value + k * mean) / (events + k)).where(eligible)
    higher = spec.get("better", "higher") == "higher"
    n = int(eligible.sum())
    if spec.get("percentile") and n >= min_partners:
        ranks = value.rank(method="average", ascending=higher)
        points = 100.0 * ranks / n
    elif spec.get("scale", "linear") == "bands":
        points = _band_points(value, spec["bands"], higher)
    else:
        low, high = float(spec.get("low", 0)), float(spec.get("high", 100))
        points = 100.0 * (value - low) / (high - low)
        if not higher:
            points = 100.0 - points
    points = points.clip(0.0, 100.0).where(eligible)
    return points.astype(_F), value.astype(_F)


def _band_points(value: pd.Series, bands: list, higher: bool) -> pd.Series:
    thresholds = np.array([float(b[0]) for b in bands])
    points = np.array([float(b[1]) for b in bands])
    raw = value.to_numpy(dtype=float, na_value=np.nan)
    if higher:
        at = np.searchsorted(thresholds, raw, side="right") - 1
        valid = at >= 0
    else:
        at = np.searchsorted(thresholds, raw, side="left")
        valid = at < len(thresholds)
    got = np.where(valid, points[np.clip(at, 0, len(points) - 1)], 0.0)
    got = np.where(np.isnan(raw), np.nan, got)
    return pd.Series(got, index=value.index)


def _grade(score: pd.Series, grades: list[tuple[str, float]]) -> pd.Series:
    out = pd.Series(pd.NA, index=score.index, dtype="string")
    for name, threshold in reversed(grades):
        out = out.mask((score >= threshold).fillna(False), name)
    return out


# ------------------------------------------------------------------------- evaluate


def evaluate(
    sales: pd.DataFrame | None,
    receivables: pd.DataFrame | None,
    master: pd.DataFrame | None,
    year: int,
    config: dict | None,
    *,
    side: str = "customer",
    assessments: pd.DataFrame | None = None,
    decisions: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    costs: pd.DataFrame | None = None,
    asof: pd.Timestamp | None = None,
) -> Evaluation:
    """The evaluation of every partner of ``side`` active in ``year``.

    ``sales`` are the lines of the side (sales lines, or purchase lines for
    "supplier"; receivables only count on the customer side). ``previous`` is last
    year's scorecard (partner_id, score, grade, rank) read back from the state, or
    None to compute it here from the same data with last year's rules.
    ``decisions`` is the decision log (partner_id, year, decision, comment).

    Rules ([evaluation] in the config; see year_rules() and criterion_points()):
    - score = Σ weight × points / Σ weight over the side's criteria with points,
      rounded to 2 decimals; NA when those weights are below min_weight_share of
      the weights of the side's criteria that scored anyone;
    - grade: the first of ``grades`` whose threshold the score reaches; rank 1 is
      the best score (ties share the rank); rank_change = previous − now
      (positive = moved up);
    - prune_reason lists every prune rule that holds; guard_reason the guards that
      hold for such a partner; is_prune_candidate when a prune rule holds and no
      guard does, or the partner is in prune_overrides or decided "prune" (an
      explicit override); a partner decided "keep" for the year is never flagged
      (guard decision_keep);
    - strategy: the first strategy rule whose conditions all hold (strategy_rule
      names it), else default_strategy.
    """
    if side not in SIDES:
        raise ValueError(f"side {side!r}: expected one of {', '.join(SIDES)}")
    year_rules(config, year)  # a bad rule is reported before anything is computed
    # The lines reduced once, for this year and (when it is computed) the last.
    line_notes: list[str] = []
    usable = _lines(sales, config, line_notes)
    return _evaluate(
        usable,
        line_notes,
        sales,
        receivables,
        master,
        year,
        config,
        side=side,
        assessments=assessments,
        decisions=decisions,
        previous=previous,
        costs=costs,
        asof=asof,
    )


def _evaluate(
    usable: pd.DataFrame,
    line_notes: list[str],
    sales: pd.DataFrame | None,
    receivables: pd.DataFrame | None,
    master: pd.DataFrame | None,
    year: int,
    config: dict | None,
    *,
    side: str,
    assessments: pd.DataFrame | None,
    decisions: pd.DataFrame | None,
    previous: pd.DataFrame | None,
    costs: pd.DataFrame | None,
    asof: pd.Timestamp | None,
) -> Evaluation:
    """evaluate() on ``usable`` = _lines(sales) and the notes _lines wrote."""
    rules = year_rules(config, year)
    notes: list[str] = list(line_notes)
    if side == "supplier":
        receivables = None
    frame = _measures(
        usable, receivables, master, assessments, year, config, costs, notes, asof
    )
    frame = frame.join(partner_identities(frame.index, master, sales, receivables))

    # Points per criterion, then the weighted score.
    weights = side_weights(rules, side)
    weighted = pd.Series(0.0, index=frame.index, dtype=_F)
    weight_sum = pd.Series(0.0, index=frame.index, dtype=_F)
    scored_weight = 0.0
    for criterion in CRITERIA:
        column = f"points_{criterion}"
        if criterion not in weights:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype=_F)
            continue
        measured, activity = MEASURES[criterion]
        points, _ = criterion_points(
            frame[measured],
            frame[activity],
            rules["criteria"][criterion],
            int(rules["percentile_min_partners"]),
        )
        frame[column] = points
        weight = weights[criterion]
        if points.notna().any():
            scored_weight += weight
        elif len(frame):
            notes.append(
                message(
                    "no_criterion_data",
                    criterion=term(f"criterion_{criterion}"),
                    weight=f"{weight:g}",
                )
            )
        weighted = weighted + (points * weight).fillna(0.0)
        weight_sum = weight_sum + points.notna().astype(_F) * weight
    enough = weight_sum >= float(rules["min_weight_share"]) * scored_weight
    frame["score"] = (
        (weighted / weight_sum).where((weight_sum > 0) & enough).round(2).astype(_F)
    )
    thin = int(((weight_sum > 0) & ~enough).sum())
    if thin:
        notes.append(
            message(
                "too_little_activity",
                count=thin,
                share=f"{float(rules['min_weight_share']):.0%}",
            )
        )
    frame["grade"] = _grade(frame["score"], rules["grades"])
    frame["rank"] = frame["score"].rank(method="min", ascending=False).astype("Int64")
    frame["revenue_rank"] = (
        frame["revenue"].rank(method="min", ascending=False).astype("Int64")
    )
    best, worst = _extremes(frame, list(weights))
    frame["best_criterion"], frame["worst_criterion"] = best, worst

    # Last year's grade and rank.
    if previous is None and year > 1:
        previous = _previous_year(
            usable, sales, receivables, master, year - 1, config, side, assessments,
            costs,
        )  # fmt: skip
    _join_previous(frame, previous)

    # Decisions of this year, then prune rules, guards and overrides.
    _join_decisions(frame, decisions, year)
    frame = _prune(frame, rules)

    # Strategy per segment.
    frame["strategy"], frame["strategy_rule"] = strategy(frame, rules)

    frame.index.name = "partner_id"
    frame = frame.reset_index()
    frame["partner_id"] = frame["partner_id"].astype("string")
    frame = frame.sort_values(
        ["rank", "revenue_rank", "partner_code", "partner_id"], kind="mergesort"
    ).reset_index(drop=True)
    scorecard = frame[EVALUATION_COLUMNS].copy()
    scorecard.attrs["notes"] = notes
    scorecard.attrs["side"] = side
    scorecard.attrs["scorecard_partners"] = int(rules["scorecard_partners"])
    extra = frame[["partner_id", "receivable_balance", "n_documents", "n_lines"]]
    extra = extra.assign(n_invoices_due=frame["n_invoices_due"])
    asof = pd.Timestamp(asof) if asof is not None else pd.Timestamp(year, 12, 31)
    result = Evaluation(
        year=year,
        side=side,
        scorecard=scorecard,
        breakdown=breakdown(scorecard, config, year, side),
        simulation=prune_simulation(scorecard, extra),
        gained=gained_partners(frame, year),
        anniversaries=anniversaries(frame, asof),
        notes=notes,
    )
    log.info(
        "evaluation %d (%s): %d partners scored, %d graded, %d prune candidates",
        year,
        side,
        len(scorecard),
        int(scorecard["grade"].notna().sum()),
        int(scorecard["is_prune_candidate"].sum()),
    )
    return result


def _extremes(frame: pd.DataFrame, criteria: list[str]) -> tuple[pd.Series, pd.Series]:
    """The criterion with the most and the fewest points per partner (first wins)."""
    if not criteria:
        empty = pd.Series(pd.NA, index=frame.index, dtype="string")
        return empty, empty
    points = frame[[f"points_{c}" for c in criteria]].astype(float)
    points.columns = criteria
    has = points.notna().any(axis=1)
    best = points.fillna(-1.0).idxmax(axis=1).where(has)
    worst = points.fillna(101.0).idxmin(axis=1).where(has)
    return best.astype("string"), worst.astype("string")


def _previous_year(
    usable, sales, receivables, master, year, config, side, assessments, costs
):
    """Last year's scorecard computed from the same data (rank and grade only)."""
    earlier = _evaluate(
        usable,
        [],
        sales,
        receivables,
        master,
        year,
        config,
        side=side,
        assessments=assessments,
        decisions=None,
        previous=pd.DataFrame(columns=["partner_id", "grade", "rank"]),
        costs=costs,
        asof=None,
    )
    return earlier.scorecard[["partner_id", "grade", "rank"]]


def _join_previous(frame: pd.DataFrame, previous: pd.DataFrame | None) -> None:
    grade = pd.Series(pd.NA, index=frame.index, dtype="string")
    rank = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    if previous is not None and len(previous):
        rows = previous.drop_duplicates("partner_id").set_index("partner_id")
        rows.index = rows.index.astype("string")
        grade = rows["grade"].astype("string").reindex(frame.index)
        rank = pd.to_numeric(rows["rank"], errors="coerce").reindex(frame.index)
    frame["grade_previous"] = grade.astype("string")
    frame["rank_previous"] = rank.astype("Int64")
    frame["rank_change"] = (frame["rank_previous"] - frame["rank"]).astype("Int64")


def _join_decisions(
    frame: pd.DataFrame, decisions: pd.DataFrame | None, year: int
) -> None:
    decision = pd.Series(pd.NA, index=frame.index, dtype="string")
    comment = pd.Series(pd.NA, index=frame.index, dtype="string")
    if decisions is not None and len(decisions):
        rows = decisions[pd.to_numeric(decisions["year"], errors="coerce") == year]
        rows = rows.drop_duplicates("partner_id", keep="last").set_index("partner_id")
        rows.index = rows.index.astype("string")
        decision = rows["decision"].astype("string").reindex(frame.index)
        if "comment" in rows:
            comment = rows["comment"].astype("string").reindex(frame.index)
    frame["decision"] = decision.astype("string")
    frame["decision_comment"] = comment.astype("string")


def _prune(frame: pd.DataFrame, rules: dict[str, Any]) -> pd.DataFrame:
    frame["prune_reason"] = _codes(frame, rules["prune_rules"])
    flagged = frame["prune_reason"].notna()
    guard = _codes(frame, rules["guard_rules"]).where(flagged)
    kept = (frame["decision"] == "keep").fillna(False) & flagged
    guard = guard.mask(
        kept, guard.fillna("").str.cat(["decision_keep"] * len(guard), sep="; ")
    ).str.strip("; ")
    codes = {str(c) for c in rules["prune_overrides"]}
    code = frame.get("partner_code")
    override = (frame["decision"] == "prune").fillna(False)
    if code is not None:
        override |= code.astype("string").isin(codes).fillna(False)
    frame["guard_reason"] = guard.replace("", pd.NA).astype("string")
    candidate = flagged & (frame["guard_reason"].isna() | override) & ~kept
    frame["is_prune_candidate"] = candidate.astype("boolean")
    return frame


def strategy(frame: pd.DataFrame, rules: dict[str, Any]) -> tuple[pd.Series, pd.Series]:
    """The strategy per partner and the code of the rule that gave it.

    Rules: strategy_rules in order, the first whose conditions all hold wins (a
    missing value never satisfies a condition); a partner no rule fits gets
    default_strategy with no rule code.
    """
    chosen = pd.Series(pd.NA, index=frame.index, dtype="string")
    rule_code = pd.Series(pd.NA, index=frame.index, dtype="string")
    for rule in rules["strategy_rules"]:
        hold = pd.Series(True, index=frame.index)
        for condition in rule["when"]:
            hold &= fires(frame, condition)
        new = hold & chosen.isna()
        chosen = chosen.mask(new, str(rule["strategy"]))
        rule_code = rule_code.mask(new, str(rule["code"]))
    return chosen.fillna(str(rules["default_strategy"])), rule_code


# ------------------------------------------------------------------ the other views

BREAKDOWN_COLUMNS = [
    "partner_id",
    "partner_code",
    "partner_name",
    "criterion",
    "measured_value",
    "points",
    "weight",
    "contribution",
]


def breakdown(
    scorecard: pd.DataFrame, config: dict | None, year: int, side: str = "customer"
) -> pd.DataFrame:
    """One row per partner and criterion of its side: what was measured, the points,
    the weight and what it added to the score.

    Rules: measured_value is the raw value (before shrinking); weight is the
    criterion's weight when it has points for the partner, else 0 (re-normalised
    away); contribution_points = weight × points / Σ weights with points, so a
    partner's rows add up to its (unrounded) score.
    """
    weights = side_weights(year_rules(config, year), side)
    parts = []
    for position, criterion in enumerate(c for c in CRITERIA if c in weights):
        points = scorecard[f"points_{criterion}"].astype(_F)
        measured = MEASURES[criterion][0]
        value = (
            scorecard[measured].astype(_F)
            if measured in scorecard
            else pd.Series(pd.NA, index=scorecard.index, dtype=_F)
        )
        parts.append(
            pd.DataFrame(
                {
                    "_pos": range(len(scorecard)),
                    "_crit": position,
                    "partner_id": scorecard["partner_id"],
                    "partner_code": scorecard["partner_code"],
                    "partner_name": scorecard["partner_name"],
                    "criterion": criterion,
                    "measured_value": value,
                    "points": points,
                    "weight": points.notna().astype(_F) * weights[criterion],
                }
            )
        )
    # A criterion nobody was scored on says nothing about anyone: left out.
    parts = [part for part in parts if part["points"].notna().any()]
    if not parts:
        return pd.DataFrame(columns=BREAKDOWN_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    total = out.groupby("partner_id")["weight"].transform("sum")
    out["contribution"] = (out["weight"] * out["points"] / total).where(total > 0)
    out["criterion"] = out["criterion"].astype("string")
    out = out.sort_values(["_pos", "_crit"], kind="mergesort")
    return out[BREAKDOWN_COLUMNS].reset_index(drop=True)


# measured value criterion columns that come from the scorecard but are not in
# EVALUATION_COLUMNS are looked up by breakdown() and left empty.

SIMULATION_COLUMNS = ["measure", "candidates", "portfolio", "share"]


def prune_simulation(
    scorecard: pd.DataFrame, extra: pd.DataFrame | None = None
) -> pd.DataFrame:
    """What dropping every prune candidate would free and what it would cost.

    Rows (measure): n_partners; revenue (given up); contribution (net effect);
    contribution_lost (their positive contributions: the cost of dropping them);
    losses_avoided (their negative contributions, as a positive amount);
    receivable_balance (open at year end: to collect before ending); n_documents
    and n_invoices_due (workload freed). share = candidates / portfolio (NA when the
    portfolio's figure is 0 or unknown). A sum with any unknown value is NA.
    """
    frame = scorecard.copy()
    if extra is not None:
        frame = frame.merge(extra, on="partner_id", how="left")
    flagged = frame["is_prune_candidate"].fillna(False).astype(bool)
    contribution = pd.to_numeric(frame["contribution_amount"], errors="coerce")
    series = {
        "n_partners": pd.Series(1.0, index=frame.index),
        "revenue": pd.to_numeric(frame["revenue"], errors="coerce"),
        "contribution": contribution,
        "contribution_lost": contribution.clip(lower=0),
        "losses_avoided": (-contribution).clip(lower=0),
    }
    for key in ("receivable_balance", "n_documents", "n_invoices_due"):
        if key in frame:
            series[key] = pd.to_numeric(frame[key], errors="coerce")
    rows = []
    for key, values in series.items():
        if key == "receivable_balance" and values.isna().all():
            part = whole = None
        else:
            part = (
                float(values[flagged].sum()) if values[flagged].notna().all() else None
            )
            whole = float(values.sum()) if values.notna().all() else None
        share = part / whole if part is not None and whole else None
        rows.append(
            {"measure": key, "candidates": part, "portfolio": whole, "share": share}
        )
    out = pd.DataFrame(rows, columns=SIMULATION_COLUMNS)
    out["measure"] = out["measure"].astype("string")
    for key in SIMULATION_COLUMNS[1:]:
        out[key] = out[key].astype(_F)
    return out


GAINED_COLUMNS = ["partner_id", "partner_code", "partner_name", "first_activity_date"]
GAINED_COLUMNS += ["revenue"]
ANNIVERSARY_COLUMNS = ["partner_id", "partner_code", "partner_name", "founded_date"]
ANNIVERSARY_COLUMNS += ["anniversary_date", "years_founded"]


def gained_partners(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """Partners whose first line in the data given falls in ``year``, earliest first."""
    first = pd.to_datetime(frame["first_activity_date"])
    rows = frame[(first.dt.year == year).fillna(False).to_numpy()]
    rows = rows.sort_values(["first_activity_date", "partner_code"], kind="mergesort")
    return rows[GAINED_COLUMNS].reset_index(drop=True)


def anniversaries(frame: pd.DataFrame, asof: pd.Timestamp) -> pd.DataFrame:
    """Founding-date anniversaries in the calendar month after ``asof``.

    Rules: the anniversary is the founding month and day in that month's year (29
    February falls on 28 February in other years); only whole years >= 1 count.
    """
    month_start = pd.Timestamp(asof).normalize() + pd.offsets.MonthBegin(1)
    founded = pd.to_datetime(frame["founded_date"])
    hit = (founded.dt.month == month_start.month).fillna(False)
    rows = frame[hit.to_numpy()].copy()
    if rows.empty:
        rows["anniversary_date"] = pd.Series(dtype="datetime64[ns]")
        rows["years_founded"] = pd.Series(dtype="Int64")
        return rows[ANNIVERSARY_COLUMNS].reset_index(drop=True)
    founded = pd.to_datetime(rows["founded_date"])
    days = founded.dt.day.clip(upper=month_start.days_in_month)
    rows["anniversary_date"] = pd.to_datetime(
        {"year": month_start.year, "month": month_start.month, "day": days}
    )
    rows["years_founded"] = (month_start.year - founded.dt.year).astype("Int64")
    rows = rows[(rows["years_founded"] >= 1).fillna(False).to_numpy()]
    rows = rows.sort_values(["anniversary_date", "partner_code"], kind="mergesort")
    return rows[ANNIVERSARY_COLUMNS].reset_index(drop=True)
