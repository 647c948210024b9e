"""Rows that are not data (totals, subtotals, footers) and the report period.

Business rules:

- A control row carries a label such as 합계, 합  계, 총계, Total, Grand Total (rule
  ``control_total``) or 소계, Subtotal, ``2026/03 계`` (rule ``subtotal``) in a text
  column, and no identifying value (partner code, document number, item code, BRN)
  other than such a label. The patterns are data: ``_layout.toml`` and a profile's
  [layout] table.
- A footer is a row with a single text cell that is a note ("※ ...", "* ...",
  "출력일시 ...", page numbers) or that sits in a column the profile does not use.
- The report period comes from the title rows ("조회기간 : 2024-03-01 ~ 2024-03-31",
  "(2024년 3월)"), else from the sheet name, the file name (2024-03, 202403,
  2024년 03월) or the folder name.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

NONE, CONTROL_TOTAL, SUBTOTAL, FOOTER = 0, 1, 2, 3
RULES = {CONTROL_TOTAL: "control_total", SUBTOTAL: "subtotal", FOOTER: "footer"}


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split())


_NEVER = re.compile(r"(?!x)x")


def _combine(patterns: list[str]) -> re.Pattern:
    """One regex matching any of ``patterns`` (one fullmatch per cell, not many)."""
    if not patterns:
        return _NEVER
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@dataclass
class RowRules:
    """Compiled control-row, subtotal and footer patterns of one profile."""

    control_total: re.Pattern
    subtotal: re.Pattern
    footer: re.Pattern

    @classmethod
    def from_layout(cls, layout: dict[str, list[str]]) -> RowRules:
        return cls(
            _combine(layout.get("control_total", [])),
            _combine(layout.get("subtotal", [])),
            _combine(layout.get("footer", [])),
        )

    def label_kind(self, text: str) -> int:
        """CONTROL_TOTAL, SUBTOTAL or NONE for a cell's text."""
        if len(text) > 40:  # a label is short; a long text is a name or a remark
            return NONE
        folded = _fold(text)
        if not folded:
            return NONE
        if self.control_total.fullmatch(folded):
            return CONTROL_TOTAL
        if self.subtotal.fullmatch(folded):
            return SUBTOTAL
        return NONE

    def is_footer(self, text: str) -> bool:
        folded = _fold(text)
        return bool(folded) and self.footer.fullmatch(folded) is not None


@dataclass
class ColumnScan:
    """Per-cell facts of one column."""

    blank: np.ndarray  # bool
    label: np.ndarray  # int8: NONE / CONTROL_TOTAL / SUBTOTAL
    number: np.ndarray  # bool: a number cell (int/float, not bool)


def scan_plain(values: np.ndarray) -> ColumnScan:
    """Blank cells only (for amount and date columns, which never hold a label)."""
    blank = np.asarray(pd.isna(values), dtype=bool)
    if values.dtype == object:  # typed (column-wise) arrays hold no "" cells
        blank |= values == ""
    zeros = np.zeros(len(values), dtype=bool)
    return ColumnScan(blank=blank, label=zeros.astype(np.int8), number=zeros)


def scan_column(
    values: np.ndarray,
    rules: RowRules,
    factorized: tuple[np.ndarray, np.ndarray] | None = None,
) -> ColumnScan:
    """Blank, label and number facts; each distinct value is looked at once.

    ``factorized`` (codes with -1 for missing, distinct values), when the reader
    has them already (an Arrow dictionary), saves factorizing ``values`` again.
    """
    if factorized is None:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    else:
        codes, uniques = factorized
    count = len(uniques)
    blank_u = np.zeros(count + 1, dtype=bool)
    label_u = np.zeros(count + 1, dtype=np.int8)
    number_u = np.zeros(count + 1, dtype=bool)
    blank_u[count] = True  # the NA sentinel (-1) indexes the last slot
    for i, value in enumerate(uniques):
        if isinstance(value, str):
            if not value.strip():
                blank_u[i] = True
            else:
                label_u[i] = rules.label_kind(value)
        elif isinstance(value, bool | np.bool_):
            continue
        elif isinstance(value, int | float | np.integer | np.floating):
            number_u[i] = True
    codes = np.where(codes < 0, count, codes)
    return ColumnScan(
        blank=blank_u[codes], label=label_u[codes], number=number_u[codes]
    )


# ------------------------------------------------------------------------ period

_DATE = r"(\d{4})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})\s*일?\.?"
_RANGE = re.compile(_DATE + r"\s*(?:~|∼|〜|～|–|—|-|부터|to)\s*" + _DATE)
_MONTH_KO = re.compile(r"(\d{4})\s*년\s*(\d{1,2})\s*월(?!\s*\d{1,2}\s*일)")
_MONTH_DASHED = re.compile(
    r"(?<![\d.])(\d{4})\s*[-./_]\s*(\d{1,2})(?![\d])(?!\s*[-./]\s*\d)"
)
_MONTH_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(?!\d)")
_RANGE_COMPACT = re.compile(
    r"(?<!\d)(\d{4})(\d{2})(\d{2})\s*[-_~]\s*(\d{4})(\d{2})(\d{2})(?!\d)"
)


def _month(year: str, month: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    y, m = int(year), int(month)
    if not (1990 <= y <= 2099 and 1 <= m <= 12):
        return None
    last = calendar.monthrange(y, m)[1]
    return pd.Timestamp(y, m, 1), pd.Timestamp(y, m, last)


def _range(parts: tuple[str, ...]) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    try:
        start = pd.Timestamp(int(parts[0]), int(parts[1]), int(parts[2]))
        end = pd.Timestamp(int(parts[3]), int(parts[4]), int(parts[5]))
    except ValueError:
        return None
    if start > end or not 1990 <= start.year <= 2099:
        return None
    return start, end


def period_in_text(text: str, *, compact: bool = False):
    """A (start, end) period written in ``text``, or None.

    Ranges win over months. ``compact`` also accepts 202403 and 20240301_20240331
    (safe in file names, too loose for free text).
    """
    text = unicodedata.normalize("NFKC", text)
    if (match := _RANGE.search(text)) and (found := _range(match.groups())):
        return found
    match = _RANGE_COMPACT.search(text) if compact else None
    if match and (found := _range(match.groups())):
        return found
    for pattern in (_MONTH_KO, _MONTH_DASHED) + ((_MONTH_COMPACT,) if compact else ()):
        for match in pattern.finditer(text):
            if found := _month(*match.groups()):
                return found
    return None


def declared_period(
    title_cells: list[str], sheet_name: str, file_name: str, folder_name: str = ""
) -> tuple[tuple[pd.Timestamp, pd.Timestamp] | None, str]:
    """The report period and where it was found ("" when none).

    Titles first, then the sheet name, the file name and the name of the folder the
    file sits in ("2024년 03월/매출 현황 (최종).csv").
    """
    for text in title_cells:
        if found := period_in_text(text):
            return found, f"title {text!r}"
    if found := period_in_text(sheet_name, compact=True):
        return found, f"sheet name {sheet_name!r}"
    if found := period_in_text(file_name, compact=True):
        return found, f"file name {file_name!r}"
    if folder_name and (found := period_in_text(folder_name, compact=True)):
        return found, f"folder name {folder_name!r}"
    return None, ""
