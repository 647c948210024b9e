"""Activity status and the data-quality score of each partner."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ledgerflow.master.columns import QUALITY_WEIGHTS


def activity_status(master: pd.DataFrame, config: dict) -> pd.Series:
    """new / active / dormant / inactive from the transaction dates.

    Rules (days from config ``master``; the reference date is ``master.as_of`` or
    the last sales date of the run): first sale within ``new_days`` -> new; last
    sale within ``active_days`` -> active; within ``dormant_days`` -> dormant; older
    or no sale at all -> inactive. NA for every partner when no sales were read.
    """
    settings = config.get("master", {})
    last = master["last_txn_date"]
    as_of = pd.to_datetime(settings.get("as_of") or last.max())
    if pd.isna(as_of):
        return pd.Series(pd.NA, index=master.index, dtype="string")
    days = {
        k: pd.Timedelta(days=int(settings.get(k, d)))
        for k, d in (("new_days", 90), ("active_days", 90), ("dormant_days", 365))
    }
    status = pd.Series("inactive", index=master.index, dtype="string")
    status = status.mask(last >= as_of - days["dormant_days"], "dormant")
    status = status.mask(last >= as_of - days["active_days"], "active")
    status = status.mask(master["first_txn_date"] >= as_of - days["new_days"], "new")
    return status


def quality_frame(
    master: pd.DataFrame, flags: pd.DataFrame, config: dict
) -> pd.DataFrame:
    """quality_issues and quality_score (100 minus the weights of the issues)."""
    settings = config.get("master", {})
    weights = {**QUALITY_WEIGHTS, **settings.get("quality_weights", {})}
    status = master["brn_status"]
    issue = {
        "brn_missing": status == "missing",
        "brn_invalid": status.isin(["invalid_checksum", "wrong_length"]),
        "brn_partial": status == "partial",
        "rrn_in_record": flags["has_rrn"],
        "contact_missing": master["phone"].isna() & master["email"].isna(),
        "address_missing": master["address"].isna(),
        "representative_missing": master["representative"].isna() & flags["in_list"],
        "not_in_partner_list": ~flags["in_list"] & flags["any_list"],
        "conflicting_values": flags["has_conflict"],
        "stale": master["status"] == "inactive",
    }
    if not settings.get("contacts", True):
        issue["contact_missing"] = pd.Series(False, index=master.index)
    table = pd.DataFrame(
        {code: hit.fillna(False).astype(bool) for code, hit in issue.items()}
    )
    cost = sum(table[c].astype(int) * int(weights.get(c, 0)) for c in table)
    score = (100 - cost).clip(lower=0).astype("Float64")
    words = np.where(table.to_numpy(), np.array(table.columns, dtype=object), "")
    text = ["; ".join(w for w in row if w) for row in words]
    issues = pd.Series(text, index=master.index, dtype="string").replace("", pd.NA)
    return pd.DataFrame({"quality_score": score, "quality_issues": issues})
