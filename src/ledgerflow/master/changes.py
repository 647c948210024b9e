"""The change watch: what differs from the previous run's master (risk signals).

A supplier whose bank account changed is the classic invoice-fraud pattern; a
business number that turns up under another name may be a re-used or borrowed
number. The previous values come from the ID registry of the last run
(ids.registry_frame keeps a snapshot of the watched fields of every partner).
"""

from __future__ import annotations

import pandas as pd

from ledgerflow.master.columns import CHANGE_COLUMNS, WATCHED_FIELDS, empty_frame
from ledgerflow.master.provenance import compare_key
from ledgerflow.names import normalise_names


def _differs(name: str, old: pd.Series, new: pd.Series) -> pd.Series:
    if name == "partner_name":
        old, new = normalise_names(old), normalise_names(new)
    elif name != "bank_account":
        old, new = compare_key(old), compare_key(new)
    return old.fillna("") != new.fillna("")


def _field_changes(
    snapshot: pd.DataFrame, carried: pd.Series, before: pd.DataFrame
) -> list[tuple]:
    rows = []
    # A registry without any account fingerprint (older than the watch, or no
    # accounts last month) says nothing about accounts: no account changes.
    watch_bank = before["bank_account_hash"].notna().any()
    for name in WATCHED_FIELDS:
        if name == "bank_account" and not watch_bank:
            continue
        compared = "bank_account_hash" if name == "bank_account" else name
        old = before[compared].reindex(carried.index)
        new = snapshot[compared].reindex(carried.index)
        differs = _differs(name, old, new).to_numpy()
        shown_old = before[name].reindex(carried.index)
        shown_new = snapshot[name].reindex(carried.index)
        for pid in carried.index[differs]:
            by = carried[pid]
            risk = f"{name}_changed"
            if name == "partner_name" and by == "brn":
                risk = "brn_other_name"
            rows.append((pid, name, shown_old[pid], shown_new[pid], by, risk))
    return rows


def _brn_elsewhere(
    snapshot: pd.DataFrame, matched_by: dict, previous: pd.DataFrame
) -> list[tuple]:
    """A BRN of this run that the last run knew under another ID and name."""
    known = previous[previous["key_type"] == "brn"]
    known = pd.DataFrame(
        {
            "brn": known["key"].str.slice(0, 10),
            "old_id": known["partner_id"],
            "old_name": known["partner_name"],
        }
    ).drop_duplicates(["brn", "old_id"])
    now = snapshot[["brn", "partner_name"]].rename_axis("pid").reset_index()
    now = now[now["brn"].str.fullmatch(r"\d{10}").fillna(False).astype(bool)]
    hits = now.merge(known, on="brn")
    hits = hits[hits["pid"] != hits["old_id"]]
    # The old holder still has the number: another place of business, not a re-use.
    still = hits["old_id"].map(snapshot["brn"]).astype("string") == hits["brn"]
    hits = hits[~still.fillna(False).astype(bool).to_numpy()]
    if hits.empty:
        return []
    renamed = _differs(
        "partner_name",
        hits["old_name"].astype("string"),
        hits["partner_name"].astype("string"),
    )
    hits = hits[renamed.to_numpy()]
    return [
        (
            row.pid,
            "brn",
            f"{row.old_id} {row.old_name}",
            f"{row.brn} {row.partner_name}",
            matched_by.get(row.pid, "new"),
            "brn_other_name",
        )
        for row in hits.itertuples(index=False)
    ]


def change_watch(
    snapshot: pd.DataFrame,
    ids: pd.Series,
    matched_by: pd.Series,
    previous: pd.DataFrame | None,
) -> pd.DataFrame:
    """Watched fields that differ from the previous run (risk signals).

    Rules:
    - For a partner whose ID was carried from the last run, each watched field
      (WATCHED_FIELDS: name, representative, address, BRN, bank account) that
      differs is a row: risk "<field>_changed". Names compare by their match keys,
      other text folded (case, spaces, width); bank accounts by the fingerprint of
      their digits and are shown by their last 4 digits only. An account that
      appears where the last run had none is a change too.
    - A name change of a partner whose ID was carried by its BRN is risk
      "brn_other_name": the number reappears under another name.
    - A valid BRN the last run knew under another partner ID and another name is a
      row of field "brn", risk "brn_other_name" (previous: that ID and name),
      unless that partner still has the number (places of business of one BRN).
    - matched_by says which key carried the ID (brn, company_no, code, name; "new"
      for a partner that got a new ID).
    ``snapshot`` is indexed by partner_id (WATCHED_FIELDS + bank_account_hash).
    """
    if previous is None or previous.empty:
        return empty_frame(CHANGE_COLUMNS)
    before = previous.drop_duplicates("partner_id").set_index("partner_id")
    carried = pd.Series(
        matched_by.to_numpy(), index=ids[matched_by.index].to_numpy(), dtype="string"
    )
    rows = _field_changes(snapshot, carried, before) if len(carried) else []
    rows += _brn_elsewhere(snapshot, carried.to_dict(), previous)
    if not rows:
        return empty_frame(CHANGE_COLUMNS)
    out = pd.DataFrame(rows, columns=CHANGE_COLUMNS).astype("string")
    return out.sort_values(["partner_id", "field"]).reset_index(drop=True)
