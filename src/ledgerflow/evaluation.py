"""The annual scorecard: points per criterion, a weighted score, a grade, a rank, and
prune candidates with the rule that flagged each one and the guard that kept it.

Every rule is data in the config section [evaluation] (see defaults.toml and
``scoring_rules``); this module only applies it. A criterion with no data behind it
gives NA points, never 0, and the partner's score is re-weighted over the criteria
that do have data.
"""

from __future__ import annotations

import logging
import operator
from typing import Any

import pandas as pd

from ledgerflow.errors import ConfigError
from ledgerflow.metrics import (
    amount_column,
    date_column,
    has_receivables,
    overdue_after_days,
    partner_identities,
    partner_sums,
    setting,
    usable_lines,
)

log = logging.getLogger(__name__)

EVALUATION_COLUMNS = [
    "partner_id",
    "partner_code",
    "partner_name",
    "revenue",
    "gross_profit",
    "gross_margin",
    "overdue_share",
    "points_revenue",
    "points_margin",
    "points_payment",
    "score",
    "grade",
    "rank",
    "revenue_rank",
    "is_prune_candidate",
    "prune_reason",
    "guard_reason",
]

CRITERIA = ("revenue", "margin", "payment")

_OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def scoring_rules(config: dict | None) -> dict[str, Any]:
    """The [evaluation] rules with defaults filled in and checked.

    Prune and guard rules are lists of {code, column, op, value}: ``column`` is an
    evaluation column (e.g. grade, gross_profit, revenue_rank), ``op`` one of
    < <= > >= == != in, ``value`` a number, text or list (for "in").
    """
    weights = dict(setting(config, "evaluation", "weights", {}) or {})
    unknown = sorted(set(weights) - set(CRITERIA))
    if unknown:
        raise ConfigError(
            f"[evaluation] weights: unknown criteria {', '.join(unknown)}; "
            f"known criteria are {', '.join(CRITERIA)}"
        )
    if any(not isinstance(w, int | float) or w < 0 for w in weights.values()):
        raise ConfigError(
            f"[evaluation] weights: expected numbers >= 0 (got {weights!r})"
        )
    grades = setting(config, "evaluation", "grades", [["A", 80], ["B", 60], ["C", 40]])
    grades = sorted(((str(g), float(t)) for g, t in grades), key=lambda p: -p[1])

    prune = list(setting(config, "evaluation", "prune_rules", []) or [])
    guards = list(setting(config, "evaluation", "guard_rules", []) or [])
    for where, rules in (("prune_rules", prune), ("guard_rules", guards)):
        for rule in rules:
            missing = {"code", "column", "op", "value"} - set(rule)
            if missing:
                raise ConfigError(
                    f"[evaluation] {where}: rule {rule!r} lacks {sorted(missing)}; "
                    'write e.g. {code = "grade_D", column = "grade", '
                    'op = "==", value = "D"}'
                )
            if rule["op"] not in _OPS and rule["op"] != "in":
                raise ConfigError(
                    f"[evaluation] {where}: rule {rule['code']!r} has op "
                    f"{rule['op']!r}; expected one of {', '.join(_OPS)}, in"
                )
            if rule["column"] not in EVALUATION_COLUMNS:
                raise ConfigError(
                    f"[evaluation] {where}: rule {rule['code']!r} reads unknown "
                    f"column {rule['column']!r}; use one of "
                    f"{', '.join(EVALUATION_COLUMNS)}"
                )
    return {
        "weights": weights,
        "margin_floor": float(setting(config, "evaluation", "margin_floor", 0.0)),
        "margin_cap": float(setting(config, "evaluation", "margin_cap", 0.4)),
        "grades": grades,
        "prune_rules": prune,
        "guard_rules": guards,
    }


def _fires(frame: pd.DataFrame, rule: dict[str, Any]) -> pd.Series:
    """Where ``rule`` holds; a missing value (NA) never fires a rule."""
    column = frame[rule["column"]]
    if rule["op"] == "in":
        values = rule["value"] if isinstance(rule["value"], list) else [rule["value"]]
        hit = column.isin(values)
    else:
        hit = _OPS[rule["op"]](column, rule["value"])
    return pd.Series(hit, index=frame.index).fillna(False).astype(bool)


def _codes(frame: pd.DataFrame, rules: list[dict[str, Any]]) -> pd.Series:
    """The codes of the rules that hold per row, joined by "; " (NA when none)."""
    joined = pd.Series("", index=frame.index, dtype="string")
    for rule in rules:
        hit = _fires(frame, rule)
        separator = joined.where(joined == "", "; ")
        joined = joined.where(~hit, joined + separator + rule["code"])
    return joined.replace("", pd.NA)


def payment_record(
    receivables: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, config: dict
) -> pd.DataFrame:
    """Amount due and amount paid late per partner_id over start..end.

    Rules (judged as of ``end``, so later data cannot change a past year):
    - an invoice counts when its due date + overdue_after_days falls in start..end−1
      day, i.e. it had to be paid before the year closed;
    - its late part is the amount not settled by due date + overdue_after_days
      (settled_amount when given, else the whole amount);
    - overdue_share = late amount / amount due, in 0..1.
    Invoices with no due date or amount are left out.
    """
    grace = pd.Timedelta(days=overdue_after_days(config))
    due = date_column(receivables, "due_date")
    amount = amount_column(receivables, "amount")
    deadline = due + grace
    counted = ((deadline >= start) & (deadline < end)).fillna(False) & amount.notna()
    settled_date = date_column(receivables, "settled_date")
    settled_amount = amount_column(receivables, "settled_amount")
    on_time = (settled_date <= deadline).fillna(False)
    paid_in_time = settled_amount.fillna(amount).where(on_time, 0.0)
    late = (amount - paid_in_time).clip(lower=0.0)
    frame = pd.DataFrame(
        {
            "partner_id": receivables["partner_id"],
            "amount_due": amount.astype("Float64"),
            "amount_late": late.astype("Float64"),
        }
    )[counted.to_numpy()]
    out = frame.groupby("partner_id", sort=True, dropna=True).sum()
    out["overdue_share"] = (out["amount_late"] / out["amount_due"]).where(
        out["amount_due"] > 0
    )
    return out


def _grade(score: pd.Series, grades: list[tuple[str, float]]) -> pd.Series:
    out = pd.Series(pd.NA, index=score.index, dtype="string")
    for name, threshold in reversed(grades):
        out = out.mask((score >= threshold).fillna(False), name)
    return out


def evaluate(
    sales: pd.DataFrame | None,
    receivables: pd.DataFrame | None,
    master: pd.DataFrame | None,
    year: int,
    config: dict | None,
) -> pd.DataFrame:
    """The scorecard of every partner active in ``year`` (sales or invoices due).

    Rules ([evaluation] in the config; see scoring_rules()):
    - points_revenue: the partner's percentile rank of revenue among the partners
      evaluated, 100 × average rank / n (ties share their rank; the largest gets 100).
    - points_margin: gross margin mapped linearly from margin_floor (0 points) to
      margin_cap (100), clamped to 0..100; NA when the margin is unknown.
    - points_payment: 100 × (1 − overdue_share) (see payment_record()); NA for a
      partner with no invoice due in the year.
    - score: Σ weight × points / Σ weight over the criteria with points, rounded to
      2 decimals; the grade is the first of ``grades`` whose threshold the rounded
      score reaches; rank 1 is the best score (ties share the rank).
    - prune_reason lists the codes of every prune rule that holds; guard_reason those
      of the guard rules that hold for a partner a prune rule hit; is_prune_candidate
      is true when a prune rule holds and no guard does.
    attrs["notes"] says which criteria had no data and how weights were re-normalised.
    """
    rules = scoring_rules(config)
    notes: list[str] = []
    start = pd.Timestamp(year, 1, 1)
    end = pd.Timestamp(year + 1, 1, 1)

    # Revenue and gross profit of the year, per partner.
    lines = usable_lines(sales, config, notes)
    lines = lines[(lines["doc_date"] >= start) & (lines["doc_date"] < end)]
    sums = partner_sums(lines)
    cost_known = not any(n.startswith("no_cost_data") for n in notes)

    # The payment record of the year; partners with only invoices join with revenue 0.
    if has_receivables(receivables):
        payments = payment_record(receivables, start, end, config)
        ids = sums.index.union(payments.index)
        sums = sums.reindex(ids)
        sums["revenue"] = sums["revenue"].fillna(0.0)
        sums.loc[sums["n_lines"].isna(), "cost"] = 0.0 if cost_known else pd.NA
        sums["overdue_share"] = payments["overdue_share"].reindex(ids)
    else:
        sums["overdue_share"] = pd.NA
    sums.index.name = "partner_id"
    frame = sums.reset_index()
    frame["revenue"] = frame["revenue"].astype("Float64")
    frame["gross_profit"] = (frame["revenue"] - frame["cost"]).astype("Float64")
    frame["gross_margin"] = (
        (frame["gross_profit"] / frame["revenue"])
        .where(frame["revenue"] > 0)
        .astype("Float64")
    )
    frame["overdue_share"] = frame["overdue_share"].astype("Float64")

    # Points per criterion.
    n = len(frame)
    revenue_rank = frame["revenue"].rank(method="average", ascending=True)
    frame["points_revenue"] = (100.0 * revenue_rank / n).astype("Float64")
    floor, cap = rules["margin_floor"], rules["margin_cap"]
    if cap <= floor:
        raise ConfigError(
            f"[evaluation] margin_cap ({cap}) must be above margin_floor ({floor})"
        )
    margin_points = 100.0 * (frame["gross_margin"] - floor) / (cap - floor)
    frame["points_margin"] = margin_points.clip(0.0, 100.0).astype("Float64")
    frame["points_payment"] = (100.0 * (1.0 - frame["overdue_share"])).astype("Float64")

    # Weighted score over the criteria that have points for this partner.
    weighted = pd.Series(0.0, index=frame.index, dtype="Float64")
    weight_sum = pd.Series(0.0, index=frame.index, dtype="Float64")
    for criterion in CRITERIA:
        weight = float(rules["weights"].get(criterion, 0))
        points = frame[f"points_{criterion}"]
        if weight and points.isna().all() and n:
            notes.append(
                f"no_{criterion}_data: no partner has data for the {criterion} "
                f"criterion; its weight ({weight:g}) is shared among the others"
            )
        weighted = weighted + (points * weight).fillna(0.0)
        weight_sum = weight_sum + points.notna().astype("Float64") * weight
    frame["score"] = (weighted / weight_sum).where(weight_sum > 0).round(2)
    frame["score"] = frame["score"].astype("Float64")
    frame["grade"] = _grade(frame["score"], rules["grades"])
    frame["rank"] = frame["score"].rank(method="min", ascending=False).astype("Int64")
    frame["revenue_rank"] = (
        frame["revenue"].rank(method="min", ascending=False).astype("Int64")
    )

    # Prune rules, then guards for the rows a rule hit.
    frame["prune_reason"] = _codes(frame, rules["prune_rules"])
    flagged = frame["prune_reason"].notna()
    guard = _codes(frame, rules["guard_rules"]).where(flagged)
    frame["guard_reason"] = guard.astype("string")
    frame["is_prune_candidate"] = (flagged & guard.isna()).astype("boolean")

    frame = frame.set_index("partner_id")
    frame = frame.join(partner_identities(frame.index, master, sales, receivables))
    frame = frame.reset_index()
    frame["partner_id"] = frame["partner_id"].astype("string")
    frame = frame.sort_values(
        ["rank", "revenue_rank", "partner_code", "partner_id"], kind="mergesort"
    ).reset_index(drop=True)[EVALUATION_COLUMNS]
    frame.attrs["notes"] = notes
    log.info(
        "evaluation %d: %d partners scored, %d prune candidates",
        year,
        len(frame),
        int(frame["is_prune_candidate"].sum()),
    )
    return frame


BREAKDOWN_COLUMNS = [
    "partner_id",
    "criterion",
    "measured_value",
    "points",
    "weight",
    "contribution",
]

_MEASURED = {"revenue": "revenue", "margin": "gross_margin", "payment": "overdue_share"}


def breakdown(scorecard: pd.DataFrame, config: dict | None) -> pd.DataFrame:
    """One row per partner and criterion: what was measured, the points, the weight
    and what it added to the score.

    Rules: weight is the configured weight when the criterion has points for the
    partner, else 0 (re-normalised away); contribution = weight × points / Σ weights
    with points, so a partner's contributions add up to its (unrounded) score.
    """
    weights = scoring_rules(config)["weights"]
    parts = []
    for criterion in CRITERIA:
        points = scorecard[f"points_{criterion}"].astype("Float64")
        weight = points.notna().astype("Float64") * float(weights.get(criterion, 0))
        parts.append(
            pd.DataFrame(
                {
                    "partner_id": scorecard["partner_id"],
                    "criterion": criterion,
                    "measured_value": scorecard[_MEASURED[criterion]].astype("Float64"),
                    "points": points,
                    "weight": weight,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    total = out.groupby("partner_id")["weight"].transform("sum")
    out["contribution"] = (out["weight"] * out["points"] / total).where(total > 0)
    out["criterion"] = out["criterion"].astype("string")
    order = {c: i for i, c in enumerate(CRITERIA)}
    out = out.assign(
        _pos=out["partner_id"].map(
            {p: i for i, p in enumerate(scorecard["partner_id"])}
        ),
        _crit=out["criterion"].map(order),
    )
    out = out.sort_values(["_pos", "_crit"], kind="mergesort")
    return out[BREAKDOWN_COLUMNS].reset_index(drop=True)


def prune_simulation(scorecard: pd.DataFrame) -> dict[str, Any]:
    """What dropping every prune candidate would take away, in total and as a share.

    Rules: sums over the rows with is_prune_candidate; shares are of the whole
    scorecard's totals (NA when that total is 0 or unknown). Gross profit is NA when
    any candidate's is unknown.
    """
    flagged = scorecard[scorecard["is_prune_candidate"].fillna(False).astype(bool)]
    out: dict[str, Any] = {"n_partners": len(flagged)}
    for key in ("revenue", "gross_profit"):
        known = flagged[key].notna().all() and scorecard[key].notna().all()
        part = float(flagged[key].sum()) if known else pd.NA
        whole = float(scorecard[key].sum()) if known else pd.NA
        out[key] = part
        out[f"{key}_share"] = part / whole if known and whole else pd.NA
    return out
