"""Glue between stages that is still pure: combining validated tables, choosing the
period, attaching partner IDs and keeping the account of every row.

The Prefect flow calls these; keeping them here means the bookkeeping is tested
without Prefect.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePath

import pandas as pd

from ledgerflow.errors import UsageError
from ledgerflow.period import Period, latest_period
from ledgerflow.tables import KINDS, ORIGIN_COLUMNS, FileRead, Reject, Skip

log = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    """One input file after reading and validation, with its row account."""

    read: FileRead
    used: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    flags: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_used: int = 0
    rows_rejected: int = 0

    @property
    def fully_used(self) -> bool:
        return self.read.refused is None and self.rows_rejected == 0


def account_file(file_read: FileRead, validated: list) -> FileOutcome:
    """Collect a file's validated tables and check read = used + skipped + rejected.

    ``validated`` pairs with ``file_read.tables`` (one Validated per TableRead).
    """
    outcome = FileOutcome(read=file_read, notes=list(file_read.notes))
    for table, result in zip(file_read.tables, validated, strict=True):
        outcome.used.setdefault(table.kind, []).append(result.used)
        outcome.rejects.extend(result.rejects)
        outcome.skipped.extend(table.skipped)
        outcome.flags.extend(getattr(result, "flags", []))
        outcome.notes.extend(table.notes)
        outcome.notes.extend(getattr(result, "notes", []))
        outcome.rows_read += table.rows_read
        outcome.rows_used += len(result.used)
        outcome.rows_rejected += result.rejected_rows
    balance = outcome.rows_used + len(outcome.skipped) + outcome.rows_rejected
    if balance != outcome.rows_read:
        # A bookkeeping bug, never a data problem: stop loudly rather than report
        # figures that do not add up.
        raise RuntimeError(
            f"{file_read.name}: rows read {outcome.rows_read} != used "
            f"{outcome.rows_used} + skipped {len(outcome.skipped)} + rejected "
            f"{outcome.rows_rejected}"
        )
    return outcome


# Names a copy gets from Windows, Excel or a mail client: "매출 (1).xlsx",
# "매출 - 복사본.xlsx", "매출 - Copy.xlsx", "매출_copy.xlsx", "Copy of 매출.xlsx".
_COPY_NAME = re.compile(
    r"(\s\(\d+\)|\s-\s(복사본|사본|copy)(\s\(\d+\))?|[_ ]copy\d*)$|^copy of\s",
    re.IGNORECASE,
)


def looks_like_copy(name: str) -> bool:
    """True when ``name`` (a file name) has the mark of a copy of another file."""
    return _COPY_NAME.search(PurePath(name).stem) is not None


def drop_repeated_files(outcomes: list[FileOutcome]) -> list[FileOutcome]:
    """The same export dropped twice (same bytes, another name) counts once.

    Of the files with the same bytes, the one whose name is not a copy's ("매출
    (1).xlsx" and "매출 - 복사본.xlsx" are copies of "매출.xlsx") is used, else the
    first in input order; each other one is refused with rule ``file_repeated``
    naming the file used, so its rows are not added twice and the rejects workbook
    says why.
    """
    used: dict[str, FileOutcome] = {}
    for outcome in sorted(
        (o for o in outcomes if o.read.refused is None),
        key=lambda o: looks_like_copy(o.read.name),  # stable: input order next
    ):
        used.setdefault(outcome.read.sha256, outcome)
    kept = []
    for outcome in outcomes:
        read = outcome.read
        first = used.get(read.sha256) if read.refused is None else None
        if first is not None and first is not outcome:
            keeper = first.read.name
            refused = dataclasses.replace(
                read,
                tables=[],
                refused=Reject.for_file(read.name, "file_repeated", keeper),
            )
            outcome = FileOutcome(read=refused)
            log.warning("%s: same content as %s; used once", read.name, keeper)
        kept.append(outcome)
    return kept


def combine(outcomes: list[FileOutcome], kind: str) -> pd.DataFrame:
    """All used rows of one canonical table, in input order."""
    frames = [f for o in outcomes for f in o.used.get(kind, []) if len(f)]
    if not frames:
        return pd.DataFrame(columns=KINDS[kind] + ORIGIN_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def choose_period(
    requested: str | None, sales: pd.DataFrame, receivables: pd.DataFrame
) -> tuple[Period, str]:
    """The reporting month and how it was chosen (a phrase code of labels/run.toml).

    Rules: an explicit --period wins; else the latest month with sales lines; else the
    latest month with invoices. Raises UsageError when there is nothing to report on.
    """
    if requested:
        return Period.parse(requested), "period_requested"
    if "doc_date" in sales and (found := latest_period(sales["doc_date"])):
        return found, "period_latest_sales"
    if "invoice_date" in receivables and (
        found := latest_period(receivables["invoice_date"])
    ):
        return found, "period_latest_invoices"
    raise UsageError(
        "no dated sales lines or invoices were read, so there is no month to report "
        "on; add a sales or receivables export, or give --period YYYY-MM"
    )


def period_notes(period: Period, sales: pd.DataFrame) -> list[str]:
    """What a reader of the month's figures must know about the data behind them.

    Notes (codes of labels/run.toml, with the date as detail): the month has no sales
    lines at all (a requested month outside the data); or the data stops before the
    month ends (a month exported part-way, such as Online Retail's 2011-12).
    """
    dates = pd.to_datetime(sales.get("doc_date"), errors="coerce")
    if dates is None or dates.dropna().empty:
        return []
    inside = dates[(dates >= period.start) & (dates <= period.end)]
    if inside.empty:
        return [f"period_no_sales: {period}"]
    last = dates.max()
    if last < period.end:
        return [f"period_partial: {last.date()}"]
    return []


# A sales line is the same line in two exports when all of these agree.
_LINE_KEY = ["doc_no", "doc_date", "partner_code", "item_code", "qty", "supply_amount"]
# Two files share "many" lines from this count on, or when one holds nothing else.
OVERLAP_MIN_LINES = 10


def overlap_notes(sales: pd.DataFrame) -> list[str]:
    """Notes naming pairs of files that hold the same sales lines.

    The same month exported twice with another title row (or a monthly and a yearly
    export side by side) is not byte-identical, so drop_repeated_files keeps both and
    revenue counts twice. Lines equal on _LINE_KEY in two files are counted per pair
    of files; a pair is noted ("lines_in_two_files: a / b: n") when it shares at least
    OVERLAP_MIN_LINES lines or all lines of one of the two. Only files whose date
    ranges meet are compared, so a year of monthly exports costs one groupby.
    """
    key = [c for c in _LINE_KEY if c in sales]
    if "source_file" not in sales or "doc_date" not in key or len(key) < 3:
        return []
    dates = sales.groupby("source_file", sort=True)["doc_date"].agg(["min", "max"])
    dates = dates.dropna()
    files = list(dates.index)
    pairs = [
        (a, b)
        for i, a in enumerate(files)
        for b in files[i + 1 :]
        if dates.at[a, "min"] <= dates.at[b, "max"]
        and dates.at[b, "min"] <= dates.at[a, "max"]
    ]
    if not pairs:
        return []
    involved = {f for pair in pairs for f in pair}
    lines = sales.loc[sales["source_file"].isin(involved), [*key, "source_file"]]
    sizes = lines.groupby("source_file").size()
    unique = lines.drop_duplicates()
    both = unique.merge(unique, on=key, suffixes=("_a", "_b"))
    both = both[both["source_file_a"] < both["source_file_b"]]
    shared = both.groupby(["source_file_a", "source_file_b"]).size()
    notes = []
    for (a, b), count in shared.items():
        if count >= OVERLAP_MIN_LINES or count >= min(sizes[a], sizes[b]):
            notes.append(f"lines_in_two_files: {a} / {b}: {count}")
            log.warning("%s and %s hold %d identical sales lines", a, b, count)
    return notes


def attach_partner_ids(frame: pd.DataFrame, code_map: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with the master's partner_id for each partner_code."""
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is untouched
    if out.empty or "partner_code" not in out:
        out["partner_id"] = pd.Series(dtype="string")
        return out
    mapping = dict(zip(code_map["partner_code"], code_map["partner_id"], strict=True))
    out["partner_id"] = map_distinct(out["partner_code"], mapping)
    return out


def map_distinct(values: pd.Series, mapping: dict) -> pd.Series:
    """``values.map(mapping)`` as "string", looked up once per distinct value.

    A million lines name a few thousand partner codes: the codes are factorised
    (NA included, so NA maps as ``Series.map`` maps it) and only those are mapped.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    mapped = pd.Series(uniques).map(mapping).astype("string").array
    return pd.Series(mapped.take(codes), index=values.index, name=values.name)


def rule_counts(records: list[Reject] | list[Skip]) -> dict[str, int]:
    """How many records each rule produced, most frequent first."""
    return dict(Counter(r.rule for r in records).most_common())
