"""Canonical tables and the records every stage passes along.

Every stage speaks these column names (see ../shared/DESIGN.md). A row read from an
input keeps its origin (file, sheet, Excel row) in the ``source_*`` columns so that a
reject, a merge or a figure can be traced back to the cell a person can open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ORIGIN_COLUMNS = ["source_file", "source_sheet", "source_row"]

SALES_LINES = [
    "doc_no",
    "doc_date",
    "partner_code",
    "partner_name",
    "brn",
    "item_code",
    "item_name",
    "qty",
    "unit_price",
    "supply_amount",
    "vat_amount",
    "total_amount",
    "cost_amount",
    "promised_date",
    "delivered_date",
    "currency",
]

RECEIVABLES = [
    "partner_code",
    "partner_name",
    "invoice_no",
    "invoice_date",
    "due_date",
    "amount",
    "settled_date",
    "settled_amount",
    "is_disputed",
    "currency",
]

PARTNERS = [
    "partner_code",
    "partner_name",
    "brn",
    "branch_no",
    "company_no",
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
    "bank_account",
    "tags",
    "payment_terms",
    "credit_limit",
    "founded_date",
    "status",
]

# Purchase lines (supplier invoices or payments): the shape of a sales line, but
# never revenue; evaluated on the supplier side (evaluation.evaluate side="supplier").
PURCHASES = [c for c in SALES_LINES if c != "cost_amount"]

# Non-financial scores staff give a partner for a year (market influence, strategic
# fit, feedback ...), one row per partner, year and criterion.
ASSESSMENTS = ["partner_code", "partner_name", "year", "criterion", "score"]

# Costs booked to a partner outside the sales lines (freight, fees, discounts and
# rebates, ...), one row per booking; they make up the cost to serve.
COSTS = ["partner_code", "partner_name", "cost_date", "category", "amount", "currency"]

# Contacts with a partner (a visit, a call, a meeting), one row per contact, with the
# next action agreed and its due date; ``done`` says whether that action is finished.
CONTACTS_LOG = [
    "partner_code",
    "partner_name",
    "contact_date",
    "channel",
    "person",
    "subject",
    "next_action",
    "due_date",
    "done",
]

KINDS: dict[str, list[str]] = {
    "sales_lines": SALES_LINES,
    "receivables": RECEIVABLES,
    "partners": PARTNERS,
    "purchases": PURCHASES,
    "assessments": ASSESSMENTS,
    "costs": COSTS,
    "contacts_log": CONTACTS_LOG,
}

# How each canonical field is parsed from a cell. Fields not listed are text.
FIELD_TYPES: dict[str, str] = {
    "doc_date": "date",
    "invoice_date": "date",
    "due_date": "date",
    "settled_date": "date",
    "promised_date": "date",
    "delivered_date": "date",
    "founded_date": "date",
    "cost_date": "date",
    "contact_date": "date",
    "qty": "number",
    "unit_price": "number",
    "supply_amount": "amount",
    "vat_amount": "amount",
    "total_amount": "amount",
    "cost_amount": "amount",
    "amount": "amount",
    "settled_amount": "amount",
    "credit_limit": "amount",
    "year": "number",
    "score": "number",
    "is_disputed": "flag",
    "done": "flag",
    "partner_code": "code",
    "item_code": "code",
    "doc_no": "code",
    "invoice_no": "code",
    "postcode": "code",
    "brn": "code",
    "branch_no": "code",
    "company_no": "code",
    "bank_account": "code",
}


@dataclass(frozen=True)
class Reject:
    """One reason a row (or a whole file, with ``row`` None) was not used.

    ``rule`` is a stable code that the label catalogue turns into a sentence in Korean
    or English; ``detail`` holds the specifics (e.g. "expected 98,000").
    """

    file: str
    sheet: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    detail: str = ""

    @classmethod
    def for_file(cls, file: str, rule: str, detail: str = "") -> Reject:
        """A whole file refused: no sheet, row, column or value."""
        return cls(file, "", None, None, None, rule, detail)


@dataclass(frozen=True)
class Skip:
    """A row read but deliberately not used: a subtotal, a total, a footer."""

    file: str
    sheet: str
    row: int
    rule: str
    detail: str = ""


@dataclass
class TableRead:
    """One sheet (or one text file) read into one canonical table.

    ``frame`` holds the canonical columns the profile mapped, parsed to their types,
    plus ORIGIN_COLUMNS. A cell that could not be parsed is NA in the frame and has a
    Reject here; the validate stage drops such rows. ``rows_read`` counts every
    non-blank row under the header: rows_read == len(frame) + len(skipped).
    """

    kind: str
    profile: str
    sheet: str
    header_row: int
    frame: pd.DataFrame
    rows_read: int
    skipped: list[Skip] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    declared_period: tuple[pd.Timestamp, pd.Timestamp] | None = None
    notes: list[str] = field(default_factory=list)
    # canonical field -> the header text in the source, so every reject names the
    # column as the person sees it in the file.
    source_columns: dict[str, str] = field(default_factory=dict)


@dataclass
class FileRead:
    """Everything learnt from one input file."""

    path: Path
    name: str
    sha256: str
    size_bytes: int
    format: str
    encoding: str | None = None
    tables: list[TableRead] = field(default_factory=list)
    ignored_sheets: list[tuple[str, str]] = field(default_factory=list)
    refused: Reject | None = None
    notes: list[str] = field(default_factory=list)


def empty_table(kind: str) -> pd.DataFrame:
    """An empty frame with the canonical and origin columns of ``kind``."""
    return pd.DataFrame(columns=KINDS[kind] + ORIGIN_COLUMNS)
