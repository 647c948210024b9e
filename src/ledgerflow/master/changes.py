"""The change watch: what differs from the previous run's master (risk signals)."""

from __future__ import annotations

import pandas as pd

from ledgerflow.master.columns import CHANGE_COLUMNS, WATCHED_FIELDS, empty_frame
from ledgerflow.master.provenance import compare_key
from ledgerflow.names import normalise_names


def change_watch(
    master: pd.DataFrame,
    ids: pd.Series,
    matched_by: pd.Series,
    previous: pd.DataFrame | None,
) -> pd.DataFrame:
    """Watched fields that differ from the previous run (risk signals).

    A changed name, representative, address or BRN under the same partner ID is
    listed; matched_by says which key carried the ID (a BRN carried under another
    name is the pattern of a re-used business number).
    """
    if previous is None or previous.empty or not len(matched_by):
        return empty_frame(CHANGE_COLUMNS)
    before = previous.drop_duplicates("partner_id").set_index("partner_id")
    now = master.set_index("partner_id")
    carried = pd.Series(matched_by.to_numpy(), index=ids[matched_by.index].to_numpy())
    rows = []
    for name in WATCHED_FIELDS:
        old = before[name].reindex(carried.index)
        new = now[name].reindex(carried.index)
        if name == "partner_name":
            old_key, new_key = normalise_names(old), normalise_names(new)
        else:
            old_key, new_key = compare_key(old), compare_key(new)
        differs = (old_key.fillna("") != new_key.fillna("")).to_numpy()
        for pid in carried.index[differs]:
            rows.append((pid, name, old[pid], new[pid], carried[pid]))
    out = pd.DataFrame(rows, columns=CHANGE_COLUMNS).astype("string")
    return out.sort_values(["partner_id", "field"]).reset_index(drop=True)
