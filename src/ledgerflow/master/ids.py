"""Partner IDs that stay the same from one monthly run to the next.

The registry (output/.state/partner_ids.csv) maps each key of a partner (valid BRN,
code, name|region|BRN digits) to its ID, with a snapshot of the watched fields for
the change watch of the next run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ledgerflow.master.columns import (
    REGISTRY_COLUMNS,
    REGISTRY_OPTIONAL,
    MasterResult,
    RegistryError,
    empty_frame,
)
from ledgerflow.master.privacy import has_rrn, mask_frame

log = logging.getLogger(__name__)

_ID_PATTERN = re.compile(r"^P(\d+)$")
# Key types of the registry, strongest first.
_PRIORITY = {"brn": 0, "company_no": 1, "code": 2, "name": 3}


def _code_key(code: str) -> str:
    """A code as the registry stores it; an RRN-shaped code only as a hash."""
    if has_rrn(code):
        return "sha256:" + hashlib.sha256(code.encode("utf-8")).hexdigest()[:32]
    return code


def identity_keys(records: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """Registry keys of each component: BRNs, company numbers, codes, names.

    A BRN key is the ten digits, with "/" and the 종사업장번호 for a place of
    business other than the head office; a name key is name|region|BRN digits.
    ``priority`` orders them when a previous ID is looked up: a BRN beats a company
    number, which beats a code, which beats a name.
    """
    comp = records["comp"]
    parts = []
    place = keys["brn_branch"].str.removesuffix("/").str.removesuffix("/0000")
    brn = place.dropna()
    parts.append(pd.DataFrame({"comp": comp[brn.index], "key_type": "brn", "key": brn}))
    company = keys["company"].dropna()
    parts.append(
        pd.DataFrame(
            {"comp": comp[company.index], "key_type": "company_no", "key": company}
        )
    )
    code = keys["code"].dropna()
    parts.append(
        pd.DataFrame(
            {"comp": comp[code.index], "key_type": "code", "key": code.map(_code_key)}
        )
    )
    name = keys["name"].dropna()
    name_key = (
        name
        + "|"
        + keys.loc[name.index, "region"].fillna("")
        + "|"
        + keys.loc[name.index, "brn_known"].fillna("").str.removesuffix("/")
    )
    parts.append(
        pd.DataFrame({"comp": comp[name.index], "key_type": "name", "key": name_key})
    )
    out = pd.concat(parts, ignore_index=True).drop_duplicates()
    out["key"] = out["key"].astype("string")
    out["priority"] = out["key_type"].map(_PRIORITY).astype("int64")
    return out


def assign_ids(
    identity: pd.DataFrame, order: pd.Series, previous: pd.DataFrame | None
) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """partner_id per component: carried from the registry, else the next number.

    Rules:
    - A component takes the previous ID its strongest key (BRN, code, name) points
      to; with several, the one most of its keys point to, then the lowest ID.
    - An ID goes to one component only: when a partner was split, the component
      with the stronger and more numerous keys keeps it, the other gets a new ID.
    - New IDs continue after the highest ID ever issued (retired IDs are not reused),
      in order of first appearance in the input.
    Returns (ID per component, key type that carried it, merged-ID conflicts).
    """
    carried: dict[int, str] = {}
    matched_by: dict[int, str] = {}
    merged = []
    top = 0
    if previous is not None and len(previous):
        numbers = previous["partner_id"].str.extract(_ID_PATTERN, expand=False)
        top = int(pd.to_numeric(numbers, errors="coerce").max(skipna=True) or 0)
        hits = identity.merge(
            previous[["key_type", "key", "partner_id"]].drop_duplicates(),
            on=["key_type", "key"],
        )
        if len(hits):
            scored = hits.groupby(["comp", "partner_id"], as_index=False).agg(
                priority=("priority", "min"), n_keys=("key", "size")
            )
            scored["order"] = scored["comp"].map(order)
            scored = scored.sort_values(
                ["priority", "n_keys", "order", "partner_id"],
                ascending=[True, False, True, True],
            )
            types = {rank: kind for kind, rank in _PRIORITY.items()}
            taken: set[str] = set()
            for comp, pid, priority in scored[
                ["comp", "partner_id", "priority"]
            ].itertuples(index=False):
                if comp in carried or pid in taken:
                    continue
                carried[comp] = pid
                matched_by[comp] = types[priority]
                taken.add(pid)
            # A component that several previous IDs point to: two partners merged.
            others = scored[~scored["partner_id"].isin(list(carried.values()))]
            others = others[others["comp"].isin(list(carried))]
            for comp, ids in others.groupby("comp")["partner_id"]:
                merged.append((comp, "partner_id", "; ".join(sorted(ids))))
    ids = {}
    for comp in order.sort_values(kind="stable").index:
        if comp in carried:
            ids[comp] = carried[comp]
        else:
            top += 1
            ids[comp] = f"P{top:06d}"
    conflicts = pd.DataFrame(merged, columns=["comp", "field", "values"])
    return pd.Series(ids), pd.Series(matched_by, dtype="string"), conflicts


def load_id_registry(path: Path) -> pd.DataFrame | None:
    """The previous run's registry (REGISTRY_COLUMNS, all text), or None if absent.

    Raises RegistryError when the file exists but is not a registry, because
    carrying on would hand every partner a new ID without anyone noticing.
    """
    path = Path(path)
    if not path.exists():
        log.info("registry %s: not found, every partner gets a new ID", path)
        return None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise RegistryError(
            f"{path}: not a partner-ID registry ({e}); restore it from the last run's "
            "output or delete it to issue new IDs"
        ) from e
    for column in REGISTRY_OPTIONAL:
        if column not in frame.columns:
            frame[column] = ""
    missing = [c for c in REGISTRY_COLUMNS if c not in frame.columns]
    if missing:
        raise RegistryError(
            f"{path}: columns {', '.join(missing)} missing (found "
            f"{', '.join(frame.columns)}); restore the file written by the last run "
            "or delete it to issue new IDs"
        )
    frame = frame[REGISTRY_COLUMNS].replace("", pd.NA).astype("string")
    bad = frame["partner_id"].isna() | ~frame["partner_id"].fillna("").str.match(
        _ID_PATTERN
    )
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise RegistryError(
            f"{path} row {row}: partner_id {frame['partner_id'].iloc[row - 2]!r} is "
            "not of the form P000001; fix the row or delete the file"
        )
    log.info(
        "registry %s: %d keys of %d partners",
        path,
        len(frame),
        frame["partner_id"].nunique(),
    )
    return frame


def save_id_registry(master_result: MasterResult, path: Path) -> None:
    """Write the registry for the next run, atomically (temporary file + replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    registry = master_result.registry
    if registry is None or registry.empty:
        registry = empty_frame(REGISTRY_COLUMNS)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            registry[REGISTRY_COLUMNS].to_csv(handle, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("registry %s: %d keys saved", path, len(registry))


def registry_frame(
    identity: pd.DataFrame,
    ids: pd.Series,
    snapshot: pd.DataFrame,
    previous: pd.DataFrame | None,
) -> pd.DataFrame:
    """This run's keys with a snapshot of the watched fields, plus absent partners.

    ``snapshot``: per partner_id, the watched fields as the master shows them plus
    bank_account_hash (privacy.bank_fingerprint), what the next run compares.
    """
    current = identity.assign(partner_id=identity["comp"].map(ids))
    current = current.join(snapshot, on="partner_id")
    current = current[REGISTRY_COLUMNS]
    parts = [current]
    if previous is not None and len(previous):
        # Partners absent this month keep their keys, so their IDs come back.
        absent = previous[~previous["partner_id"].isin(current["partner_id"])]
        parts.append(absent[REGISTRY_COLUMNS])
    out = pd.concat(parts, ignore_index=True).astype("string")
    out = out.drop_duplicates(["key_type", "key"])
    out = out.sort_values(["partner_id", "key_type", "key"], kind="stable")
    out = mask_frame(out, ["key", "partner_name", "representative", "address", "brn"])
    return out.reset_index(drop=True)


def group_ids(master: pd.DataFrame) -> pd.Series:
    """group_id: the partner_id of the head office of each partner's BRN.

    Rules: the places of business of one valid BRN (종사업장번호) are separate
    partners, each with its own ID, address and contacts, since invoices and
    deliveries go to a place; they share a group_id so that reports can add them up
    per company. The group's ID is the head office's (branch "0000", or no branch
    number), the lowest such ID if several, else the lowest ID of the group.
    Partners without a valid BRN are a group of their own (group_id = partner_id).
    """
    valid = master["brn_status"] == "valid"
    frame = pd.DataFrame(
        {
            "brn": master["brn"].where(valid),
            "branch": master["branch_no"].fillna("0000"),
            "pid": master["partner_id"],
        }
    ).dropna(subset=["brn"])
    frame["head"] = frame["branch"] != "0000"  # False sorts first: head offices
    frame = frame.sort_values(["brn", "head", "pid"], kind="stable")
    first = frame.drop_duplicates("brn").set_index("brn")["pid"]
    group = master["brn"].where(valid).map(first.to_dict()).astype("string")
    return group.fillna(master["partner_id"].astype("string"))
