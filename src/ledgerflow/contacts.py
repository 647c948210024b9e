"""The contact log: who spoke to each partner, when, and what is still to be done.

A contact log export (tables.CONTACTS_LOG, partner_id attached by
assemble.attach_partner_ids) becomes, per partner, four figures for the workbooks and
a history for the internal partner master. The person, the subject and the next
action are notes: they belong in the master only (CONTACT_NOTE_KEYS), the shared
workbooks get the counts (SHARED_KEYS).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from ledgerflow.period import Period
from ledgerflow.tables import CONTACTS_LOG

log = logging.getLogger(__name__)

# The per-partner figures contact_summary computes, in the order shown.
SUMMARY_KEYS = [
    "last_contact_date",
    "contacts_in_period",
    "open_next_actions",
    "overdue_follow_ups",
]
# What a shared workbook may show: counts only, no dates of individual contacts.
SHARED_KEYS = ["contacts_in_period", "open_next_actions", "overdue_follow_ups"]
# Free text about people and conversations: internal partner master only.
CONTACT_NOTE_KEYS = frozenset({"person", "subject", "next_action", "channel"})
# Columns of the history sheet of the partner master, in the order shown.
HISTORY_COLUMNS = ["partner_id", *CONTACTS_LOG]


def _column(log_frame: pd.DataFrame, name: str, dtype: str) -> pd.Series:
    if name in log_frame:
        return log_frame[name].astype(dtype)
    return pd.Series(pd.NA, index=log_frame.index, dtype=dtype)


def _known(log_frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the log whose partner is in the master (partner_id set)."""
    if "partner_id" not in log_frame:
        raise ValueError(
            "contact log: no partner_id column; attach the master's ids first "
            "(assemble.attach_partner_ids)"
        )
    known = log_frame[log_frame["partner_id"].notna()]
    unknown = len(log_frame) - len(known)
    if unknown:
        log.warning(
            "contact log: %d rows name a partner code the master does not know; "
            "they are not counted (add the partner to the partner list)",
            unknown,
        )
    return known


def contact_summary(
    log_frame: pd.DataFrame, master: pd.DataFrame, period: Period
) -> pd.DataFrame:
    """Per partner of ``master``: last contact, contacts, open and overdue actions.

    Rules, judged at the end of ``period`` (so re-running an old month gives the same
    figures even when the log has grown since):

    - Contacts dated after the period's end are not seen at all.
    - ``last_contact_date``: the latest contact up to the period's end (NaT if none).
    - ``contacts_in_period``: contacts dated within the period's month.
    - ``open_next_actions``: contacts with a next action written and not marked done
      (a blank ``done`` is not done).
    - ``overdue_follow_ups``: open next actions due before the period's last day; an
      action without a due date is open but never overdue.
    - One row per master partner, zeros for partners never contacted; log rows whose
      partner the master does not know are left out (warned).
    """
    ids = master["partner_id"].astype("string").drop_duplicates()
    out = pd.DataFrame({"partner_id": ids.to_numpy()}).astype({"partner_id": "string"})
    known = _known(log_frame) if len(log_frame) else log_frame
    if not len(known):
        out["last_contact_date"] = pd.Series(pd.NaT, index=out.index, dtype="M8[ns]")
        for key in SUMMARY_KEYS[1:]:
            out[key] = pd.Series(0, index=out.index, dtype="Int64")
        return out

    # Only what was known at the period's end counts.
    dates = pd.to_datetime(known["contact_date"])
    seen = known[dates.notna() & (dates <= period.end)]
    dates = pd.to_datetime(seen["contact_date"])
    in_period = dates >= period.start
    action = _column(seen, "next_action", "string").str.strip().fillna("")
    done = _column(seen, "done", "boolean").fillna(False)
    is_open = (action != "") & ~done
    due = pd.to_datetime(_column(seen, "due_date", "datetime64[ns]"))
    overdue = is_open & due.notna() & (due < period.end)

    figures = pd.DataFrame(
        {
            "partner_id": seen["partner_id"].astype("string"),
            "last_contact_date": dates,
            "contacts_in_period": in_period.astype("int64"),
            "open_next_actions": is_open.astype("int64"),
            "overdue_follow_ups": overdue.astype("int64"),
        }
    )
    grouped = figures.groupby("partner_id", sort=False).agg(
        last_contact_date=("last_contact_date", "max"),
        contacts_in_period=("contacts_in_period", "sum"),
        open_next_actions=("open_next_actions", "sum"),
        overdue_follow_ups=("overdue_follow_ups", "sum"),
    )
    out = out.merge(grouped, how="left", left_on="partner_id", right_index=True)
    for key in SUMMARY_KEYS[1:]:
        out[key] = out[key].fillna(0).astype("Int64")
    out["last_contact_date"] = out["last_contact_date"].astype("M8[ns]")
    log.info(
        "contact log %s: %d contacts in the period, %d open actions, %d overdue",
        period,
        int(out["contacts_in_period"].sum()),
        int(out["open_next_actions"].sum()),
        int(out["overdue_follow_ups"].sum()),
    )
    return out


def with_summary(
    frame: pd.DataFrame, summary: pd.DataFrame, keys: Sequence[str]
) -> pd.DataFrame:
    """A copy of ``frame`` (keyed by partner_id) with the ``keys`` of ``summary``.

    Partners of ``frame`` missing from ``summary`` get 0 counts (NaT for dates); a
    frame without partner_id is returned without the keys.
    Refuses the note columns (CONTACT_NOTE_KEYS): they never leave the master's
    history sheet.
    """
    notes = sorted(CONTACT_NOTE_KEYS.intersection(keys))
    if notes:
        raise ValueError(
            f"contact summary: {', '.join(notes)} are contact notes and stay in the "
            "partner master's history; ask for the counts instead"
        )
    out = frame.drop(columns=[k for k in keys if k in frame.columns])
    if "partner_id" not in out:
        return out  # nothing to join on: the workbook leaves the keys out
    part = summary[["partner_id", *keys]]
    out = out.merge(part, how="left", on="partner_id")
    for key in keys:
        if key != "last_contact_date":
            out[key] = out[key].fillna(0).astype("Int64")
    out.index = frame.index
    return out


def contact_history(log_frame: pd.DataFrame) -> pd.DataFrame:
    """Every contact of known partners, newest first, for the master's own sheet."""
    if not len(log_frame):
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    known = _known(log_frame)
    columns = [c for c in HISTORY_COLUMNS if c in known.columns]
    return known.sort_values(
        ["contact_date", "partner_id"], ascending=[False, True], kind="stable"
    )[columns].reset_index(drop=True)
