"""Source records and their match keys.

Partner-list rows, and sales and receivable lines grouped by (code, name, BRN), become
one frame of records ordered newest first; match_keys derives what linking compares.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from ledgerflow.brn import check_brns
from ledgerflow.master.columns import TEXT_FIELDS
from ledgerflow.master.privacy import has_rrn_values
from ledgerflow.names import normalise_names, phone_keys, regions_of
from ledgerflow.tables import ORIGIN_COLUMNS, PARTNERS

_KIND_RANK = {"receivables": 0, "sales": 1, "partners": 2}
_NOT_DIGIT = re.compile(r"\D")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
# UK company numbers: 8 digits, or two letters (SC, NI, OC ...) and 6 digits.
_UK_PREFIXED = re.compile(r"^([A-Z]{2})(\d{1,6})$")
# A UK National Insurance number (a person, not a company): AB123456C.
_NINO = re.compile(r"^[A-CEGHJ-PR-TW-Z]{2}\d{6}[A-D]$")


def clean_text(values: pd.Series) -> pd.Series:
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


def group_codes(columns: list[pd.Series]) -> np.ndarray:
    """One integer per row for its combination of values in ``columns``.

    Codes count from 0 in the order each combination first appears; NA is a value
    like any other (as groupby(dropna=False) treats it).
    """
    codes = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    for column in columns:
        own, uniques = pd.factorize(column, use_na_sentinel=True)
        combined = codes * (len(uniques) + 1) + (own.astype(np.int64) + 1)
        codes = pd.factorize(combined)[0].astype(np.int64)
    return codes


def _line_records(lines: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One record per file, sheet and distinct (code, name, BRN) on the lines.

    The lines are first reduced to their distinct raw (file, sheet, code, name, BRN)
    combinations; text is cleaned on those few rows, and combinations that clean to
    the same values are merged, so a million lines are cleaned as a few thousand.
    """
    identity = ["partner_code", "partner_name", "brn"]
    keys = ["source_file", "source_sheet", *identity]
    wanted = [*keys, "source_row", "doc_date", "source_date"]
    frame = _with_columns(
        lines[[c for c in wanted if c in lines]],
        [*identity, *ORIGIN_COLUMNS, "doc_date"],
    )
    if frame.empty:
        return pd.DataFrame()
    group = group_codes([frame[column] for column in keys])
    parts = pd.DataFrame(
        {
            "source_row": frame["source_row"],
            "file_rank": _file_rank(frame),
            "doc_date": pd.to_datetime(frame["doc_date"], errors="coerce"),
        }
    )
    distinct = parts.groupby(group, sort=False).agg(
        source_row=("source_row", "min"),
        n_rows=("file_rank", "size"),
        file_rank=("file_rank", "max"),
        first_txn_date=("doc_date", "min"),
        last_txn_date=("doc_date", "max"),
    )
    first_rows = np.unique(group, return_index=True)[1]
    small = frame[keys].iloc[first_rows].reset_index(drop=True)
    small = pd.concat([small, distinct.reset_index(drop=True)], axis=1)
    for column in identity:
        small[column] = clean_text(small[column])
    small = small[small[identity].notna().any(axis=1)]
    if small.empty:
        return pd.DataFrame()
    grouped = small.groupby(keys, dropna=False, sort=False)
    out = grouped.agg(
        source_row=("source_row", "min"),
        n_rows=("n_rows", "sum"),
        file_rank=("file_rank", "max"),
        first_txn_date=("first_txn_date", "min"),
        last_txn_date=("last_txn_date", "max"),
    ).reset_index()
    out["source_kind"] = kind
    out["n_sales_lines"] = out["n_rows"] if kind == "sales" else 0
    if kind != "sales":
        out["first_txn_date"] = pd.NaT
        out["last_txn_date"] = pd.NaT
    return out


def source_records(partners, sales, receivables, config) -> pd.DataFrame:
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
    for column in [*TEXT_FIELDS, "source_file", "source_sheet"]:
        records[column] = clean_text(records[column])
    records["source_row"] = pd.to_numeric(records["source_row"]).astype("Int64")
    return records


def match_keys(records: pd.DataFrame) -> pd.DataFrame:
    """Match keys of each record: code, name, region, phone, BRN and its knowledge."""
    keys = pd.DataFrame(index=records.index)
    keys["code"] = records["partner_code"]
    keys["name"] = normalise_names(records["partner_name"])
    given = regions_of(records["region"]).fillna(records["region"])
    keys["region"] = given.fillna(regions_of(records["address"])).astype("string")
    keys["phone"] = phone_keys(records["phone"])

    # A 주민등록번호 typed into the BRN field is neither a BRN nor safe to show.
    rrn_brn = has_rrn_values(records["brn"])
    rrn_code = has_rrn_values(records["partner_code"])
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

    # Places of business: a valid BRN is known with its branch ("/" + 4 digits, or
    # "/" alone when the branch is unknown, which fits any branch of the number).
    keys["branch"] = branch_numbers(records["branch_no"], records["source_file"])
    branch = keys["branch"].fillna("")
    keys["brn_branch"] = keys["brn_full"] + "/" + branch
    keys["brn_known"] = keys["brn_branch"].fillna(keys["brn_known"])
    keys["company"] = company_numbers(records["company_no"])
    keys["bank"] = bank_digits(records["bank_account"])
    return keys


def _map_distinct(values: pd.Series, function) -> pd.Series:
    if values.empty:
        return pd.Series([], index=values.index, dtype="string")
    uniques = pd.unique(values.dropna().to_numpy(dtype=object)).tolist()
    return values.map({v: function(str(v)) for v in uniques}).astype("string")


def _branch(text: str) -> str | None:
    digits = _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", text))
    return digits.zfill(4) if digits else None


def branch_numbers(values: pd.Series, files: pd.Series) -> pd.Series:
    """종사업장번호 as 4 digits; "0000" for the head office, NA when unknown.

    Rules: digits only, zero-padded to 4 ("1" -> "0001"). A file that gives a branch
    number for any row lists places of business, so its blank rows are the head
    office (주사업장, "0000"); a file that gives none leaves the branch unknown.
    """
    branch = _map_distinct(values, _branch)
    if branch.isna().all():
        return branch
    with_branches = files.where(branch.notna()).dropna().unique()
    return branch.mask(branch.isna() & files.isin(with_branches), "0000")


def _company(text: str) -> str | None:
    folded = _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).upper())
    if not folded or _NINO.match(folded):
        return None
    if folded.isdigit():
        # UK numbers lose their leading zeros in spreadsheets: 1234567 = 01234567.
        return folded.zfill(8) if len(folded) <= 8 else folded
    prefixed = _UK_PREFIXED.match(folded)
    if prefixed:
        return prefixed.group(1) + prefixed.group(2).zfill(6)
    return folded


def company_numbers(values: pd.Series) -> pd.Series:
    """Company registration numbers as match keys (UK: 8 characters; others kept).

    Rules: NFKC, upper case, spaces and punctuation dropped; all digits and at most 8
    of them -> zero-padded to 8 (Companies House numbers that lost their leading
    zero: 1234567 -> 01234567); two letters and up to 6 digits -> the digits padded
    to 6 (SC55775 -> SC055775); longer numbers (법인등록번호, 13 digits) kept. A
    National Insurance number (AB123456C) is a person's, not a company's: no key.
    """
    return _map_distinct(values, _company)


def _bank(text: str) -> str | None:
    digits = _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", text))
    return digits if len(digits) >= 6 else None


def bank_digits(values: pd.Series) -> pd.Series:
    """The digits of a bank account number; NA under 6 digits (not an account)."""
    return _map_distinct(values, _bank)
