"""Partner master: every source's partners resolved into one record per real partner.

A partner turns up in partner lists (ERP, hand-kept masters, public lists), and by
code and name on sales lines and invoices. This stage links those source rows into
partners, keeps each partner's ID from one monthly run to the next, says how every
record was formed and which values disagreed, and scores the quality of its data.

Glossary: 거래처 partner, 사업자등록번호 (BRN) business registration number,
주민등록번호 (RRN) resident registration number, 업태 business type, 종목 item.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ledgerflow.brn import check_brns
from ledgerflow.errors import LedgerflowError
from ledgerflow.names import (
    distinct,
    normalise_names,
    phone_key,
    phone_keys,
    regions_of,
)
from ledgerflow.tables import ORIGIN_COLUMNS, PARTNERS

log = logging.getLogger(__name__)

MASTER_COLUMNS = [
    "partner_id",
    "partner_code",
    "partner_codes",
    "partner_name",
    "brn",
    "brn_status",
    "business_kind",
    "representative",
    "business_type",
    "business_item",
    "industry",
    "region",
    "address",
    "postcode",
    "size",
    "phone",
    "email",
    "tags",
    "payment_terms",
    "credit_limit",
    "founded_date",
    "list_status",
    "status",
    "first_txn_date",
    "last_txn_date",
    "n_sales_lines",
    "source_files",
    "match_rule",
    "n_source_rows",
    "quality_score",
    "quality_issues",
]
CODE_MAP_COLUMNS = ["partner_code", "partner_id"]
LINK_COLUMNS = [
    "partner_id",
    "source_kind",
    "source_file",
    "source_sheet",
    "source_row",
    "n_rows",
    "partner_code",
    "partner_name",
    "brn",
    "match_rule",
]
CONFLICT_COLUMNS = ["partner_id", "field", "values", "n_values", "sources"]
CHANGE_COLUMNS = ["partner_id", "field", "previous", "current", "matched_by"]
REGISTRY_COLUMNS = [
    "partner_id",
    "key_type",
    "key",
    "partner_name",
    "representative",
    "address",
    "brn",
]

# How a partner record was formed, strongest first; "single": one source record.
MATCH_RULES = ("brn", "code", "name_region", "name_phone", "name", "single")
# Quality issue codes with the points each one costs (out of 100).
QUALITY_WEIGHTS = {
    "brn_missing": 30,
    "brn_invalid": 30,
    "brn_partial": 15,
    "rrn_in_record": 10,
    "contact_missing": 15,
    "address_missing": 10,
    "representative_missing": 5,
    "not_in_partner_list": 20,
    "conflicting_values": 10,
    "stale": 10,
}
# Fields compared across a partner's source rows; disagreements become conflicts.
CONFLICT_FIELDS = [
    "partner_name",
    "brn",
    "representative",
    "address",
    "phone",
    "email",
    "business_type",
    "business_item",
    "region",
]
# Fields of the registry compared with the current master (risk signals).
WATCHED_FIELDS = ["partner_name", "representative", "address", "brn"]

_TEXT_FIELDS = [f for f in PARTNERS if f not in ("credit_limit", "founded_date")]
_KIND_RANK = {"receivables": 0, "sales": 1, "partners": 2}
_ID_PATTERN = re.compile(r"^P(\d+)$")
# 주민등록번호: YYMMDD, then 1-8 (century and sex), then six digits; hyphen optional.
_RRN = re.compile(
    r"(?<!\d)(\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
    r"[ \t]*-?[ \t]*([1-8])\d{6}(?!\d)"
)
_WIDE = re.compile("[０-９]")  # full-width digits: check the NFKC form too
_SPACES = re.compile(r"\s+")
_CONFLICT_WORK = ["comp", "field", "values", "n_values", "sources"]


class RegistryError(LedgerflowError, ValueError):
    """The partner-ID registry of the previous run cannot be used as it is."""


@dataclass
class MasterResult:
    """The partner master and everything needed to trust it.

    - master: one row per partner (MASTER_COLUMNS).
    - code_map: each partner_code seen in any source -> the partner_id it belongs to
      (one row per code; raw codes, for joining sales and receivables).
    - links: provenance, one row per source record merged (LINK_COLUMNS). Sales and
      receivable lines are one record per file, sheet and (code, name, BRN), with
      the first Excel row in source_row and the number of lines in n_rows.
    - conflicts: values that disagree within a partner (CONFLICT_COLUMNS).
    - registry: the keys -> ID table to save for the next run (REGISTRY_COLUMNS).
    - changes: watched fields that differ from the previous run (CHANGE_COLUMNS).
    """

    master: pd.DataFrame
    code_map: pd.DataFrame
    links: pd.DataFrame
    conflicts: pd.DataFrame
    registry: pd.DataFrame = field(default_factory=lambda: _empty(REGISTRY_COLUMNS))
    changes: pd.DataFrame = field(default_factory=lambda: _empty(CHANGE_COLUMNS))


# ----------------------------------------------------------------------- privacy


def _mask_rrn_text(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    if not _RRN.search(folded):
        return text
    return _RRN.sub(lambda m: f"{m.group(1)}-{m.group(2)}******", folded)


def has_rrn(text: str | None) -> bool:
    """True when ``text`` holds something shaped like a 주민등록번호."""
    if text is None or text is pd.NA:
        return False
    return bool(_RRN.search(unicodedata.normalize("NFKC", str(text))))


def _has_rrn(values: pd.Series) -> pd.Series:
    hits = [v for v in distinct(values) if has_rrn(v)]
    return values.isin(hits).fillna(False).astype(bool)


def mask_rrn(values):
    """Resident registration numbers masked: 900101-1234567 -> 900101-1******.

    Takes a str (or None) or a Series; any other text in the value is kept.
    """
    return _map_text(values, _mask_rrn_text)


def _mask_phone_text(text: str) -> str:
    digits = phone_key(text) or re.sub(r"\D", "", unicodedata.normalize("NFKC", text))
    if len(digits) < 7:
        return "*" * len(digits) if digits else text
    head = 2 if digits.startswith("02") else 3
    return f"{digits[:head]}-{'*' * (len(digits) - head - 4)}-{digits[-4:]}"


def mask_phone(values):
    """Phone numbers with the middle digits hidden: 010-1234-5678 -> 010-****-5678.

    Seoul numbers keep the 02 area code (02-123-4567 -> 02-***-4567); +82 becomes 0.
    Takes a str (or None) or a Series, for workbooks that are shared outside.
    """
    return _map_text(values, _mask_phone_text)


def _mask_email_text(text: str) -> str:
    local, at, domain = text.strip().rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_email(values):
    """Email addresses with the local part hidden: hong@example.com -> h***@example.com.

    Takes a str (or None) or a Series.
    """
    return _map_text(values, _mask_email_text)


def _map_text(values, function):
    if isinstance(values, pd.Series):
        if values.empty:
            return values.astype("string")
        uniques = distinct(values)
        return values.map({v: function(str(v)) for v in uniques}).astype("string")
    if values is None or values is pd.NA:
        return None
    return function(str(values))


# -------------------------------------------------------------------- the records


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})


def _clean_text(values: pd.Series) -> pd.Series:
    """Text as "string": NFC, outer spaces stripped, blank -> NA."""
    text = values.astype("string")
    if text.isna().all():
        return text
    text = text.str.strip().str.normalize("NFC")
    return text.mask(text == "")


def _file_rank(frame: pd.DataFrame) -> np.ndarray:
    """Recency of each row's file: a source_date column if given, else frame order.

    Row-level ranks (ties keep the row order), so a higher rank is a newer export.
    """
    order = pd.factorize(frame["source_file"])[0]
    if "source_date" not in frame:
        return order.astype("int64")
    dates = pd.to_datetime(frame["source_date"], errors="coerce")
    stamps = dates.to_numpy("datetime64[ns]").astype("int64")  # NaT sorts first
    ranks = np.empty(len(frame), dtype="int64")
    ranks[np.lexsort((np.arange(len(frame)), order, stamps))] = np.arange(len(frame))
    return ranks


def _with_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        if column not in out:
            out[column] = pd.NA
    return out


def _partner_records(partners: pd.DataFrame) -> pd.DataFrame:
    frame = _with_columns(partners, PARTNERS + ORIGIN_COLUMNS)
    out = frame[PARTNERS + ORIGIN_COLUMNS].copy()
    out["file_rank"] = _file_rank(frame)
    out["source_kind"] = "partners"
    out["n_rows"] = 1
    out["n_sales_lines"] = 0
    out["first_txn_date"] = pd.NaT
    out["last_txn_date"] = pd.NaT
    return out


def _line_records(lines: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One record per file, sheet and distinct (code, name, BRN) on the lines."""
    identity = ["partner_code", "partner_name", "brn"]
    frame = _with_columns(lines, [*identity, *ORIGIN_COLUMNS, "doc_date"])
    frame["file_rank"] = _file_rank(frame)
    for column in identity:
        frame[column] = _clean_text(frame[column])
    frame = frame[frame[identity].notna().any(axis=1)]
    if frame.empty:
        return pd.DataFrame()
    dates = pd.to_datetime(frame["doc_date"], errors="coerce")
    frame = frame.assign(doc_date=dates, n_rows=1)
    keys = ["source_file", "source_sheet", *identity]
    grouped = frame.groupby(keys, dropna=False, sort=False)
    out = grouped.agg(
        source_row=("source_row", "min"),
        n_rows=("n_rows", "size"),
        file_rank=("file_rank", "max"),
        first_txn_date=("doc_date", "min"),
        last_txn_date=("doc_date", "max"),
    ).reset_index()
    out["source_kind"] = kind
    out["n_sales_lines"] = out["n_rows"] if kind == "sales" else 0
    if kind != "sales":
        out["first_txn_date"] = pd.NaT
        out["last_txn_date"] = pd.NaT
    return out


def _records(partners, sales, receivables, config) -> pd.DataFrame:
    """Every source record in one frame, newest first (position 0 = newest).

    Rules: partner lists outrank sales lines, which outrank invoices (a list is kept
    to describe partners; lines only fill gaps); within a kind the newest export wins
    (``source_date`` if the frames carry one, else the later file in frame order);
    config ``master.prefer = "oldest"`` turns the file order round.
    """
    parts = [_partner_records(partners)]
    parts.append(_line_records(sales, "sales"))
    parts.append(_line_records(receivables, "receivables"))
    parts = [p for p in parts if len(p)]
    if not parts:
        return _with_columns(
            pd.DataFrame(), [*PARTNERS, *ORIGIN_COLUMNS, "source_kind"]
        ).iloc[:0]
    records = pd.concat(parts, ignore_index=True)
    records = _with_columns(records, PARTNERS)
    records["input_order"] = np.arange(len(records))
    records["kind_rank"] = records["source_kind"].map(_KIND_RANK).astype("int64")
    newest_first = config.get("master", {}).get("prefer", "newest") != "oldest"
    records["file_rank"] = records["file_rank"].astype("int64")
    records["row_rank"] = pd.to_numeric(records["source_row"], errors="coerce")
    records = records.sort_values(
        ["kind_rank", "file_rank", "row_rank"],
        ascending=[False, not newest_first, False],
        kind="stable",
    ).reset_index(drop=True)
    for column in [*_TEXT_FIELDS, "source_file", "source_sheet"]:
        records[column] = _clean_text(records[column])
    records["source_row"] = pd.to_numeric(records["source_row"]).astype("Int64")
    return records


def _keys(records: pd.DataFrame) -> pd.DataFrame:
    """Match keys of each record: code, name, region, phone, BRN and its knowledge."""
    keys = pd.DataFrame(index=records.index)
    keys["code"] = records["partner_code"]
    keys["name"] = normalise_names(records["partner_name"])
    given = regions_of(records["region"]).fillna(records["region"])
    keys["region"] = given.fillna(regions_of(records["address"])).astype("string")
    keys["phone"] = phone_keys(records["phone"])

    # A 주민등록번호 typed into the BRN field is neither a BRN nor safe to show.
    rrn_brn = _has_rrn(records["brn"])
    rrn_code = _has_rrn(records["partner_code"])
    keys["has_rrn"] = (rrn_brn | rrn_code).astype(bool)
    checked = check_brns(records["brn"].mask(rrn_brn.astype(bool)))
    keys["brn_digits"] = checked["brn"]
    keys["brn_status"] = checked["brn_status"].fillna("missing")
    keys["brn_status"] = keys["brn_status"].mask(rrn_brn.astype(bool), "wrong_length")
    keys["brn_kind"] = checked["brn_kind"]
    valid = keys["brn_status"] == "valid"
    keys["brn_full"] = keys["brn_digits"].where(valid)
    # What is known of the number: all ten digits, or the leading ones of a partial.
    partial = keys["brn_status"] == "partial"
    leading = keys["brn_digits"].str.extract(r"^(\d+)", expand=False)
    keys["brn_known"] = keys["brn_full"].fillna(leading.where(partial))
    return keys


# -------------------------------------------------------------------------- linking


class _Components:
    """Union-find over records that refuses to join incompatible BRNs.

    Each component knows the longest BRN digits seen in it; two components join only
    if one's digits are a prefix of the other's. So two different valid numbers never
    merge, and neither do partial numbers that disagree in a known digit.
    """

    def __init__(self, known: list[str | None]):
        n = len(known)
        self.parent = list(range(n))
        self.size = [1] * n
        self.known = [k or "" for k in known]
        self.rule: list[str | None] = [None] * n
        self.rules: dict[int, set[str]] = {}

    def find(self, item: int) -> int:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def compatible(self, a: int, b: int) -> bool:
        first, second = self.known[self.find(a)], self.known[self.find(b)]
        if len(first) > len(second):
            first, second = second, first
        return second.startswith(first)

    def union(self, a: int, b: int, rule: str) -> bool:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        if not self.compatible(root_a, root_b):
            return False
        if self.size[root_a] < self.size[root_b]:
            root_a, root_b = root_b, root_a
        self.parent[root_b] = root_a
        self.size[root_a] += self.size[root_b]
        if len(self.known[root_b]) > len(self.known[root_a]):
            self.known[root_a] = self.known[root_b]
        rules = self.rules.setdefault(root_a, set())
        rules |= self.rules.pop(root_b, set())
        rules.add(rule)
        for item in (a, b):
            if self.rule[item] is None:
                self.rule[item] = rule
        return True

    def link_groups(self, key: pd.Series, rule: str) -> None:
        """Join the records sharing a key; newest first, each to the first it fits."""
        present = key.dropna()
        positions = present.index.to_numpy()
        for members in present.groupby(present, sort=False).indices.values():
            if len(members) > 1:
                self._first_fit(sorted(positions[members]), rule)

    def _first_fit(self, members: list[int], rule: str) -> None:
        """Join each member to the first earlier component of the group it fits.

        Components left apart in a group have pairwise incompatible BRN digits, so
        none is a prefix of another: a member's digits fit at most one component
        whose digits are a prefix of them, plus those extending them. Both are
        looked up by prefix, so a group costs O(members x 10), not O(members^2).
        """
        anchors: list[int] = []
        exact: dict[str, int] = {}  # known digits -> anchor number
        extending: dict[str, list[int]] = {}  # proper prefix -> anchor numbers

        def register(number: int, old: str, new: str) -> None:
            if exact.get(old) == number:
                del exact[old]
            exact[new] = number
            for length in range(max(len(old), 1), len(new)):
                extending.setdefault(new[:length], []).append(number)

        for member in members:
            known = self.known[self.find(member)]
            if not known:
                candidates = [0] if anchors else []
            else:
                candidates = [
                    exact[known[:i]]
                    for i in range(len(known) + 1)
                    if known[:i] in exact
                ]
                candidates += extending.get(known, [])
            for number in sorted(set(candidates)):
                anchor = anchors[number]
                before = self.known[self.find(anchor)]
                if self.union(anchor, member, rule):
                    after = self.known[self.find(anchor)]
                    if after != before:
                        register(number, before, after)
                    break
            else:
                anchors.append(member)
                register(len(anchors) - 1, "", known)

    def link_bare_names(self, keys: pd.DataFrame) -> None:
        """A record with only a name joins the one partner of that name, if unique.

        "Only a name": no code, no valid BRN, no region and no phone. It joins when
        exactly one other partner with the same name key is compatible with it (its
        BRN digits, if any, agree); when the name has no other partner, such records
        join each other (first fit, as link_groups).
        """
        bare = (
            keys["code"].isna()
            & keys["brn_full"].isna()
            & keys["region"].isna()
            & keys["phone"].isna()
            & keys["name"].notna()
        )
        names = keys["name"].where(keys["name"].isin(keys.loc[bare, "name"]))
        present = names.dropna()
        positions = present.index.to_numpy()
        is_bare = bare.to_numpy()
        for members in present.groupby(present, sort=False).indices.values():
            if len(members) < 2:
                continue
            members = sorted(positions[members])
            lonely = [m for m in members if is_bare[m]]
            others = list(
                dict.fromkeys(self.find(m) for m in members if not is_bare[m])
            )
            if not others:
                self._first_fit(lonely, "name")
                continue
            # Index the other partners by their digits (a snapshot before joining).
            unknown, exact, extending = [], {}, {}
            for root in others:
                known = self.known[root]
                if not known:
                    unknown.append(root)
                    continue
                exact.setdefault(known, []).append(root)
                for length in range(1, len(known)):
                    extending.setdefault(known[:length], []).append(root)
            for member in lonely:
                known = self.known[self.find(member)]
                if not known:
                    fits = others
                else:
                    fits = unknown + extending.get(known, [])
                    for i in range(1, len(known) + 1):
                        fits = fits + exact.get(known[:i], [])
                if len(fits) == 1:
                    self.union(fits[0], member, "name")


def _link(keys: pd.DataFrame) -> _Components:
    """Link records in the order of issue 4: BRN, code, name + region/phone, name."""
    components = _Components(
        keys["brn_known"].astype(object).where(keys["brn_known"].notna(), None).tolist()
    )
    components.link_groups(keys["brn_full"], "brn")
    components.link_groups(keys["code"], "code")
    components.link_groups(keys["name"] + "\x1f" + keys["region"], "name_region")
    components.link_groups(keys["name"] + "\x1f" + keys["phone"], "name_phone")
    components.link_bare_names(keys)
    return components


# ------------------------------------------------------------------- partner IDs


def _code_key(code: str) -> str:
    """A code as the registry stores it; an RRN-shaped code only as a hash."""
    if has_rrn(code):
        return "sha256:" + hashlib.sha256(code.encode("utf-8")).hexdigest()[:32]
    return code


def _identity_keys(records: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """Registry keys of each component: valid BRNs, codes, name|region|BRN digits.

    ``priority`` orders them when a previous ID is looked up: a BRN beats a code,
    which beats a name.
    """
    comp = records["comp"]
    parts = []
    brn = keys["brn_full"].dropna()
    parts.append(pd.DataFrame({"comp": comp[brn.index], "key_type": "brn", "key": brn}))
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
        + keys.loc[name.index, "brn_known"].fillna("")
    )
    parts.append(
        pd.DataFrame({"comp": comp[name.index], "key_type": "name", "key": name_key})
    )
    out = pd.concat(parts, ignore_index=True).drop_duplicates()
    out["key"] = out["key"].astype("string")
    out["priority"] = out["key_type"].map({"brn": 0, "code": 1, "name": 2})
    return out


def _assign_ids(
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
            types = {0: "brn", 1: "code", 2: "name"}
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
        registry = _empty(REGISTRY_COLUMNS)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            registry[REGISTRY_COLUMNS].to_csv(handle, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("registry %s: %d keys saved", path, len(registry))


# ---------------------------------------------------------------- the master rows


def _join_unique(values: pd.Series, by: pd.Series) -> pd.Series:
    """Distinct values per group, sorted and joined with "; "."""
    frame = pd.DataFrame({"by": by, "value": values}).dropna().drop_duplicates()
    frame = frame.sort_values(["by", "value"])
    several = frame["by"].duplicated(keep=False)
    # Most partners have one value: join in Python only where there are several.
    single = frame.loc[~several].set_index("by")["value"]
    joined = frame.loc[several].groupby("by")["value"].agg("; ".join)
    return pd.concat([single, joined]) if len(joined) else single


def _compare_key(values: pd.Series) -> pd.Series:
    """Text folded for comparison: NFKC, case folded, runs of spaces as one."""
    uniques = distinct(values)
    folded = {
        v: _SPACES.sub(" ", unicodedata.normalize("NFKC", v)).strip().casefold()
        for v in uniques
    }
    return values.map(folded).astype("string")


def _conflicts(rec: pd.DataFrame, keys: pd.DataFrame, fields: list[str]):
    """Fields whose values disagree within a component, newest value first."""
    compare = {
        "partner_name": keys["name"],
        "brn": keys["brn_full"].fillna(keys["brn_digits"]),
        "phone": keys["phone"],
        "region": keys["region"],
    }
    rows = []
    for name in fields:
        value = keys["region"] if name == "region" else rec[name]
        cmp = compare.get(name)
        if cmp is None:
            cmp = _compare_key(rec[name])
        sub = pd.DataFrame(
            {
                "comp": rec["comp"],
                "value": value,
                "cmp": cmp,
                "file": rec["source_file"],
            }
        ).dropna(subset=["value", "cmp"])
        counts = sub.groupby("comp")["cmp"].nunique()
        several = counts[counts > 1]
        if several.empty:
            continue
        sub = sub[sub["comp"].isin(several.index)]
        values = sub.drop_duplicates(["comp", "cmp"]).groupby("comp")["value"]
        files = sub.drop_duplicates(["comp", "file"]).dropna(subset=["file"])
        found = pd.DataFrame(
            {
                "field": name,
                "values": values.agg("; ".join),
                "n_values": several,
                "sources": files.groupby("comp")["file"].agg("; ".join),
            }
        )
        rows.append(found.rename_axis("comp").reset_index())
    if not rows:
        return pd.DataFrame(columns=_CONFLICT_WORK)
    return pd.concat(rows, ignore_index=True)


def _activity(master: pd.DataFrame, config: dict) -> pd.Series:
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


def _quality(master: pd.DataFrame, flags: pd.DataFrame, config: dict) -> pd.DataFrame:
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


def _mask_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A copy with 주민등록번호 masked in ``columns``."""
    out = frame.copy()
    for column in columns:
        if column not in out or not len(out):
            continue
        text = out[column].astype("string")
        # Look at each distinct value once; most hold no 13-digit run at all.
        hits = [v for v in distinct(text) if _RRN.search(v) or _WIDE.search(v)]
        if hits:
            masked = {v: _mask_rrn_text(v) for v in hits}
            text = text.mask(text.isin(hits), text.map(masked, na_action="ignore"))
        out[column] = text
    return out


def build_master(
    partners: pd.DataFrame,
    sales: pd.DataFrame,
    receivables: pd.DataFrame,
    previous_ids: pd.DataFrame | None,
    config: dict,
) -> MasterResult:
    """Resolve every source's partners into one record per partner.

    Rules:
    - Sources: each partner-list row is a record; sales and receivable lines give one
      record per file, sheet and distinct (code, name, BRN). A partner seen only on
      lines is still a partner (source_kind sales/receivables).
    - Linking, strongest first: the same valid BRN ("brn"); the same partner code
      across sources ("code"); the same normalised name (names.normalise_name) and
      region ("name_region") or phone ("name_phone"); a record with nothing but a
      name joins the one partner of that name ("name"). A partial or masked BRN never
      links by itself, and no link ever joins two different valid BRNs or partial
      BRNs that disagree (MATCH_RULES; links.match_rule says which rule attached
      each record).
    - Values: per field, the first non-blank value of the newest record wins
      (partner lists before lines, see _records); a valid BRN wins over any other.
      Disagreements are listed in ``conflicts``, never silently dropped.
    - IDs: carried from ``previous_ids`` (load_id_registry) by BRN, code or name,
      new partners get the next number (_assign_ids).
    - Privacy: 주민등록번호 found in any text field is masked (900101-1******) in
      master, links, conflicts and registry; config ``master.contacts = false``
      leaves phone and email out. code_map keeps raw codes, for joining only.
    - Quality: quality_issues codes and a 0-100 score (QUALITY_WEIGHTS, config
      ``master.quality_weights``); status new/active/dormant/inactive (_activity).
    """
    settings = config.get("master", {})
    contacts = bool(settings.get("contacts", True))
    records = _records(partners, sales, receivables, config)
    if records.empty:
        log.info("master: no partners in any source")
        return MasterResult(
            master=_empty(MASTER_COLUMNS),
            code_map=_empty(CODE_MAP_COLUMNS),
            links=_empty(LINK_COLUMNS),
            conflicts=_empty(CONFLICT_COLUMNS),
            registry=previous_ids
            if previous_ids is not None
            else _empty(REGISTRY_COLUMNS),
        )
    if not contacts:
        records["phone"] = pd.Series(pd.NA, index=records.index, dtype="string")
        records["email"] = pd.Series(pd.NA, index=records.index, dtype="string")
    keys = _keys(records)

    # Link records into components, then name each component by a partner ID.
    components = _link(keys)
    roots = [components.find(i) for i in range(len(records))]
    rec = records.assign(comp=roots)
    order = rec.groupby("comp")["input_order"].min()
    identity = _identity_keys(rec, keys)
    ids, matched_by, merged_ids = _assign_ids(identity, order, previous_ids)

    # Field values: the first non-blank value of the newest record.
    by_comp = rec.groupby("comp", sort=False)
    winners = rec[["comp", *PARTNERS]].groupby("comp", sort=False).first()
    winners["region"] = keys["region"].groupby(rec["comp"], sort=False).first()
    brn_rows = pd.DataFrame(
        {
            "comp": rec["comp"],
            "rank": keys["brn_full"].isna().astype(int),
            "brn": keys["brn_full"].fillna(rec["brn"]),
            "brn_status": keys["brn_status"],
            "business_kind": keys["brn_kind"],
        }
    ).dropna(subset=["brn"])
    brn_rows = brn_rows.sort_values("rank", kind="stable").drop_duplicates("comp")
    brn_rows = brn_rows.set_index("comp")

    master = pd.DataFrame(index=order.index)
    master["partner_id"] = ids.reindex(master.index).astype("string")
    master["partner_code"] = winners["partner_code"]
    master["partner_codes"] = _join_unique(rec["partner_code"], rec["comp"])
    master["partner_name"] = winners["partner_name"]
    master["brn"] = brn_rows["brn"]
    master["brn_status"] = brn_rows["brn_status"]
    master["brn_status"] = master["brn_status"].fillna("missing")
    master["business_kind"] = brn_rows["business_kind"]
    for column in PARTNERS:
        if column not in master and column != "status":
            master[column] = winners[column]
    master["credit_limit"] = pd.to_numeric(
        master["credit_limit"], errors="coerce"
    ).astype("Float64")
    founded = pd.to_datetime(master["founded_date"], errors="coerce")
    master["founded_date"] = founded.astype("datetime64[ns]")
    master["list_status"] = winners["status"]
    master["first_txn_date"] = by_comp["first_txn_date"].min()
    master["last_txn_date"] = by_comp["last_txn_date"].max()
    master["n_sales_lines"] = by_comp["n_sales_lines"].sum().astype("Int64")
    master["status"] = _activity(master, config)
    master["source_files"] = _join_unique(rec["source_file"], rec["comp"])
    master["match_rule"] = [
        next(
            (r for r in MATCH_RULES if r in components.rules.get(c, ())),
            "single",
        )
        for c in master.index
    ]
    master["match_rule"] = master["match_rule"].astype("string")
    master["n_source_rows"] = by_comp["n_rows"].sum().astype("Int64")

    # Conflicts: disagreeing values, codes shared by partners, merged previous IDs.
    fields = [f for f in CONFLICT_FIELDS if contacts or f not in ("phone", "email")]
    conflicts = _conflicts(rec, keys, fields)
    shared = _shared_codes(rec, ids)
    if len(merged_ids):
        merged_ids["n_values"] = merged_ids["values"].str.count(";") + 1
        merged_ids["sources"] = "registry"
    conflicts = pd.concat(
        [c for c in (conflicts, shared, merged_ids) if len(c)] or [conflicts],
        ignore_index=True,
    )

    # Quality flags need facts the master columns do not show.
    flags = pd.DataFrame(index=master.index)
    flags["has_rrn"] = keys["has_rrn"].groupby(rec["comp"]).any()
    in_list = (rec["source_kind"] == "partners").groupby(rec["comp"]).any()
    flags["in_list"] = in_list
    flags["any_list"] = bool(in_list.any())
    flags["has_conflict"] = master.index.isin(conflicts["comp"])
    master = master.join(_quality(master, flags, config))

    master = _mask_frame(master, [*_TEXT_FIELDS, "partner_codes", "list_status"])
    master = master.reset_index(drop=True)[MASTER_COLUMNS]
    master = master.sort_values("partner_id", kind="stable").reset_index(drop=True)

    result = MasterResult(
        master=master,
        code_map=_code_map(rec, ids),
        links=_links(rec, ids, components),
        conflicts=_finish_conflicts(conflicts, ids),
        registry=_registry(identity, ids, master, previous_ids),
        changes=_changes(master, ids, matched_by, previous_ids),
    )
    counts = result.master["match_rule"].value_counts().to_dict()
    log.info(
        "master: %d source records -> %d partners (%s), %d conflicts, %d new IDs",
        len(rec),
        len(result.master),
        ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
        len(result.conflicts),
        len(ids) - len(matched_by),
    )
    return result


def _shared_codes(rec: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """A code found on several partners (kept apart by their BRNs)."""
    pairs = rec[["partner_code", "comp", "source_file"]].dropna(subset=["partner_code"])
    pairs = pairs.drop_duplicates(["partner_code", "comp"])
    counts = pairs.groupby("partner_code")["comp"].transform("nunique")
    pairs = pairs[counts > 1]
    if pairs.empty:
        return pd.DataFrame(columns=_CONFLICT_WORK)
    pairs = pairs.assign(pid=pairs["comp"].map(ids))
    rows = []
    for code, group in pairs.groupby("partner_code"):
        for comp, pid in group[["comp", "pid"]].itertuples(index=False):
            others = sorted(set(group["pid"]) - {pid})
            rows.append(
                (
                    comp,
                    "partner_code",
                    f"{code} (also {'; '.join(others)})",
                    len(others) + 1,
                    "; ".join(sorted(set(group["source_file"].dropna()))),
                )
            )
    return pd.DataFrame(
        rows, columns=["comp", "field", "values", "n_values", "sources"]
    )


def _finish_conflicts(conflicts: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    if conflicts.empty:
        return _empty(CONFLICT_COLUMNS).astype({"n_values": "Int64"})
    out = conflicts.assign(partner_id=conflicts["comp"].map(ids))
    out = _mask_frame(out, ["values"])
    out = out.sort_values(["partner_id", "field"], kind="stable")
    out = out[CONFLICT_COLUMNS].reset_index(drop=True)
    for column in ("partner_id", "field", "values", "sources"):
        out[column] = out[column].astype("string")
    out["n_values"] = out["n_values"].astype("Int64")
    return out


def _code_map(rec: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """One partner per code: the one holding the code's lines, else the most rows."""
    coded = rec.dropna(subset=["partner_code"])
    if coded.empty:
        return _empty(CODE_MAP_COLUMNS)
    coded = coded.assign(
        on_lines=coded["source_kind"] != "partners", newest=coded.index
    )
    stats = coded.groupby(["partner_code", "comp"], as_index=False).agg(
        on_lines=("on_lines", "any"),
        n_rows=("n_rows", "sum"),
        newest=("newest", "min"),
    )
    stats = stats.sort_values(
        ["partner_code", "on_lines", "n_rows", "newest"],
        ascending=[True, False, False, True],
    ).drop_duplicates("partner_code")
    out = pd.DataFrame(
        {"partner_code": stats["partner_code"], "partner_id": stats["comp"].map(ids)}
    )
    return out.astype("string").reset_index(drop=True)


def _links(rec: pd.DataFrame, ids: pd.Series, components: _Components):
    rules = [r or "single" for r in components.rule]
    out = pd.DataFrame(
        {
            "partner_id": rec["comp"].map(ids).astype("string"),
            "source_kind": rec["source_kind"].astype("string"),
            "source_file": rec["source_file"],
            "source_sheet": rec["source_sheet"],
            "source_row": rec["source_row"],
            "n_rows": rec["n_rows"].astype("Int64"),
            "partner_code": rec["partner_code"],
            "partner_name": rec["partner_name"],
            "brn": rec["brn"],
            "match_rule": pd.Series(rules, index=rec.index, dtype="string"),
            "input_order": rec["input_order"],
        }
    )
    out = out.sort_values(["partner_id", "input_order"], kind="stable")
    out = _mask_frame(out, ["partner_code", "partner_name", "brn"])
    return out[LINK_COLUMNS].reset_index(drop=True)


def _registry(
    identity: pd.DataFrame,
    ids: pd.Series,
    master: pd.DataFrame,
    previous: pd.DataFrame | None,
) -> pd.DataFrame:
    """This run's keys with a snapshot of the watched fields, plus absent partners."""
    current = identity.assign(partner_id=identity["comp"].map(ids))
    snapshot = master.set_index("partner_id")[WATCHED_FIELDS]
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
    out = _mask_frame(out, ["key", "partner_name", "representative", "address", "brn"])
    return out.reset_index(drop=True)


def _changes(
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
        return _empty(CHANGE_COLUMNS)
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
            old_key, new_key = _compare_key(old), _compare_key(new)
        differs = (old_key.fillna("") != new_key.fillna("")).to_numpy()
        for pid in carried.index[differs]:
            rows.append((pid, name, old[pid], new[pid], carried[pid]))
    out = pd.DataFrame(rows, columns=CHANGE_COLUMNS).astype("string")
    return out.sort_values(["partner_id", "field"]).reset_index(drop=True)
