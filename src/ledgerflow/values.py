"""Cell parsers: raw cells from any reader into typed, canonical values.

Every parser takes a Series of raw cells as a reader gives them (str, int, float, bool,
datetime/date, None/NaN from calamine, openpyxl or a CSV read as text) and returns a
``Parsed``: the typed values, and per cell a rule code for an error or a warning.

Rules shared by every parser:

- A blank cell (None, NaN, NaT, NA, or text made only of spaces) is missing, with no
  error: whether a field is required is the validate stage's question.
- A value that cannot be parsed is never silently turned into missing: it is NA in
  ``values`` and carries a rule code in ``errors`` (labels in labels/values.toml).
- A value accepted with a correction (e.g. a zip code padded to 5 digits) carries a
  rule code in ``warnings``.
- The index of the input is kept, so results line up with the source rows.

Columns that are already typed (all datetimes, all numbers) take vectorised paths;
text is parsed once per distinct string, so repeated values cost nothing. A column of
text only (pandas "str"/"string" or an object column of str) is handled in Arrow, and
text and code values that are already clean (plain ASCII and Hangul syllables, no
odd or outer spaces) are kept as they are without a Python call each: a column of
400,000 distinct document numbers costs a few vectorised passes.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ledgerflow import tables

logger = logging.getLogger(__name__)

__all__ = [
    "RULE_CODES",
    "WARNING_CODES",
    "Parsed",
    "clean_text",
    "parse_amounts",
    "parse_codes",
    "parse_dates",
    "parse_field",
    "parse_flags",
    "parse_numbers",
]

# Every code the parsers put in ``Parsed.errors``; labels in labels/values.toml.
RULE_CODES = (
    "amount_format",
    "amount_ambiguous_separator",
    "amount_not_finite",
    "number_format",
    "number_ambiguous_separator",
    "number_not_finite",
    "date_format",
    "date_invalid",
    "date_no_year",
    "date_ambiguous_order",
    "date_out_of_range",
    "code_not_integer",
    "code_precision_lost",
    "code_scientific_notation",
    "code_format",
    "flag_format",
)
# Every code the parsers put in ``Parsed.warnings`` (value accepted, corrected).
WARNING_CODES = ("postcode_padded", "code_nan_text")


@dataclass
class Parsed:
    """A parsed column: typed values plus one error/warning code (or None) per cell."""

    values: pd.Series  # parsed, same index as the input
    errors: pd.Series  # object dtype: None where fine, else a rule code (str)
    warnings: pd.Series  # object dtype: None or a rule code for a corrected value

    @property
    def ok(self) -> pd.Series:
        """True where the cell parsed without error (missing cells included)."""
        return self.errors.isna()


# --------------------------------------------------------------------------- cells

_BLANK, _TEXT, _NUMBER, _DATETIME, _BOOL, _OTHER = range(6)

# infer_dtype answers that mean "every non-missing cell is of one kind".
_INFERRED_KIND = {
    "empty": _BLANK,
    "string": _TEXT,
    "integer": _NUMBER,
    "floating": _NUMBER,
    "mixed-integer-float": _NUMBER,
    "decimal": _NUMBER,
    "boolean": _BOOL,
    "datetime": _DATETIME,
    "datetime64": _DATETIME,
    "date": _DATETIME,
}


def _kind_of_type(cell_type: type) -> int:
    if issubclass(cell_type, str):
        return _TEXT
    if issubclass(cell_type, bool | np.bool_):
        return _BOOL
    if issubclass(cell_type, int | float | np.integer | np.floating | Decimal):
        return _NUMBER
    if issubclass(cell_type, dt.date | np.datetime64):  # Timestamp is a datetime
        return _DATETIME
    return _OTHER


class _Cells:
    """A column as an object array, each cell tagged with the kind of value it holds."""

    def __init__(self, values: pd.Series):
        self.index = values.index
        self.raw = values.to_numpy(dtype=object)
        self.n = len(self.raw)
        missing = np.asarray(pd.isna(self.raw), dtype=bool)
        inferred = pd.api.types.infer_dtype(self.raw, skipna=True)
        if inferred in _INFERRED_KIND:
            self.kind = np.full(self.n, _INFERRED_KIND[inferred], dtype=np.int8)
        else:
            # A mixed column: decide once per Python type, not once per cell.
            types = np.fromiter(map(type, self.raw), dtype=object, count=self.n)
            type_codes, distinct = pd.factorize(types)
            kinds = np.array([_kind_of_type(t) for t in distinct], dtype=np.int8)
            self.kind = kinds[type_codes]
        self.kind[missing] = _BLANK

    def where(self, kind: int) -> np.ndarray:
        return np.flatnonzero(self.kind == kind)


def _codes(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


def _per_unique(
    raw: np.ndarray, idx: np.ndarray, parse: Callable[[object], tuple], width: int
) -> list[np.ndarray]:
    """Apply ``parse`` once per distinct cell of ``raw[idx]``; spread its ``width``
    results back. Only for cells of one kind: factorize sees 1 == 1.0 == True."""
    codes, uniques = pd.factorize(raw[idx])
    results = [parse(cell) for cell in uniques]
    columns = []
    for i in range(width):
        column = np.empty(len(results), dtype=object)
        column[:] = [r[i] for r in results]
        columns.append(column[codes])
    return columns


# Text that cleaning leaves exactly as it is: printable ASCII and Hangul syllables
# (NFC already, nothing to translate), no space at either end, not empty. Any other
# text takes the per-value path, which decides.
_CLEAN_AS_IS = r"^[!-~가-힣](?:[ -~가-힣]*[!-~가-힣])?$"


def _arrow_text(values: pd.Series) -> pa.Array | None:
    """The column as Arrow strings (missing -> null) when every cell is text or
    missing; None for any other column (numbers, dates, mixed kinds)."""
    if isinstance(values.dtype, pd.StringDtype):
        array = pa.array(values.array)
        return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    if values.dtype != object or not len(values):
        return None
    raw = values.to_numpy()
    if pd.api.types.infer_dtype(raw, skipna=True) != "string":
        return None
    missing = np.asarray(pd.isna(raw), dtype=bool)
    if missing.any():
        raw = raw.copy()
        raw[missing] = None
    try:
        return pa.array(raw, type=pa.large_string())
    except (pa.ArrowException, UnicodeError):  # e.g. a lone surrogate
        return None


def _distinct_texts(strings: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(position of each cell's text among the distinct texts, -1 if missing;
    the distinct texts)."""
    encoded = pc.dictionary_encode(strings)
    positions = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return positions.astype(np.int64, copy=False), encoded.dictionary


def _spread(per_text: list, positions: np.ndarray, missing: object) -> np.ndarray:
    """Per distinct text results to per cell (object array); ``missing`` for -1."""
    column = np.empty(len(per_text) + 1, dtype=object)
    column[: len(per_text)] = per_text
    column[-1] = missing
    return column[positions]


def _kept_or_parsed(
    strings: pa.Array,
    keep: Callable[[pa.Array], np.ndarray],
    parse: Callable[[str], tuple],
    width: int,
) -> tuple[pa.Array, np.ndarray, list[list]]:
    """Distinct texts: those ``keep`` marks stay as they are (no error, no
    warning), the others go through ``parse`` -> (text or None, *codes).

    Returns (the text per cell as Arrow, missing -> null; each cell's position among
    the distinct texts, -1 if missing; the other ``width - 1`` results per distinct
    text).
    """
    positions, uniques = _distinct_texts(strings)
    kept = keep(uniques)
    others = np.flatnonzero(~kept)
    found = [parse(text) for text in uniques.take(others).to_pylist()]
    extra = [[None] * len(uniques) for _ in range(width - 1)]
    for i, result in zip(others, found, strict=True):
        for k in range(width - 1):
            extra[k][i] = result[k + 1]
    texts = uniques.cast(pa.large_string())
    if len(others):
        mask = pa.array(~kept)
        texts = pc.replace_with_mask(
            texts, mask, pa.array([r[0] for r in found], type=pa.large_string())
        )
    missing = positions < 0
    cells = texts.take(pa.array(np.where(missing, 0, positions), mask=missing))
    return cells, positions, extra


def _each_distinct(
    strings: pa.Array, parse: Callable[[str], tuple], width: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """``parse`` once per distinct text; (each cell's position among the distinct
    texts, -1 if missing; the ``width`` results per distinct text, object arrays)."""
    positions, uniques = _distinct_texts(strings)
    found = [parse(text) for text in uniques.to_pylist()]
    columns = []
    for k in range(width):
        column = np.empty(len(found), dtype=object)
        column[:] = [r[k] for r in found]
        columns.append(column)
    return positions, columns


def _clean_as_is(uniques: pa.Array) -> np.ndarray:
    """True for distinct texts that ``_clean_one`` returns unchanged."""
    found = pc.match_substring_regex(uniques, _CLEAN_AS_IS)
    return found.to_numpy(zero_copy_only=False).astype(bool)


def _code_as_is(uniques: pa.Array) -> np.ndarray:
    """True for distinct texts that ``_code_from_text`` returns unchanged: clean
    text with no digit-E-digit in it (maybe "5.86E+09") that is not "nan"."""
    kept = _clean_as_is(uniques)
    for pattern in (r"\d[eE][-+]?\d", r"^[nN][aA][nN]$"):
        found = pc.match_substring_regex(uniques, pattern)
        kept &= ~found.to_numpy(zero_copy_only=False).astype(bool)
    return kept


def _as_string(cells: pa.Array) -> pd.api.extensions.ExtensionArray:
    """Arrow strings to a pandas "string" array (NA for null)."""
    return pd.StringDtype().__from_arrow__(pa.chunked_array([cells]))


def _result(
    index: pd.Index, values: pd.Series | pd.api.extensions.ExtensionArray, errors, warns
) -> Parsed:
    return Parsed(
        values=pd.Series(values, index=index),
        errors=pd.Series(errors, index=index, dtype=object),
        warnings=pd.Series(warns, index=index, dtype=object),
    )


# ---------------------------------------------------------------------------- text

# Every Unicode space separator except the plain space becomes a plain space.
_ODD_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
_ODD_SPACES += "\u2009\u200a\u202f\u205f\u3000"
_TEXT_TABLE: dict[int, str | int | None] = {ord(c): " " for c in _ODD_SPACES}
# Zero-width space, word joiner and a stray BOM are invisible copy-paste debris.
_TEXT_TABLE.update({0x200B: None, 0x2060: None, 0xFEFF: None})
# Full-width ASCII forms (U+FF01-FF5E) to their ASCII twins.
_TEXT_TABLE.update({cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)})


def _clean_one(text: str) -> str | None:
    """NFC, odd spaces to spaces, full-width ASCII to ASCII, strip; blank -> None."""
    # Half-width first: "Ａ" + U+0301 only composes to "Á" once "Ａ" is "A".
    text = unicodedata.normalize("NFC", text.translate(_TEXT_TABLE)).strip()
    return text or None


def _cell_as_text(value: object) -> str | None:
    """A non-text cell in a text column, written the way a person reads it."""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            return str(value)
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, dt.datetime | pd.Timestamp):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.isoformat(sep=" ")
    return _clean_one(str(value))


def clean_text(values: pd.Series) -> pd.Series:
    """Text cells tidied for comparison and display, as pandas "string" dtype.

    - Unicode NFC, so Hangul decomposed by macOS (NFD) equals the composed form.
    - Non-breaking and other odd spaces (U+00A0, U+202F, U+3000 ...) become a plain
      space; zero-width spaces and a stray BOM are removed.
    - Full-width ASCII forms (U+FF01-FF5E, e.g. "（주）", "ＡＢＣ") become ASCII.
    - Leading and trailing spaces are stripped; blank becomes NA.
    - Everything else is kept exactly (inner spaces, case, ㈜, line breaks).
    - Non-text cells are written as a person reads them (123.0 -> "123").
    """
    strings = _arrow_text(values)
    if strings is not None:
        found, _, _ = _kept_or_parsed(
            strings, _clean_as_is, lambda t: (_clean_one(t),), 1
        )
        return pd.Series(_as_string(found), index=values.index)
    cells = _Cells(values)
    out = np.full(cells.n, None, dtype=object)
    text_idx = cells.where(_TEXT)
    if len(text_idx):
        (out[text_idx],) = _per_unique(
            cells.raw, text_idx, lambda t: (_clean_one(t),), 1
        )
    for kind in (_NUMBER, _DATETIME):
        idx = cells.where(kind)
        if len(idx):
            (out[idx],) = _per_unique(cells.raw, idx, lambda v: (_cell_as_text(v),), 1)
    for kind in (_BOOL, _OTHER):
        for i in cells.where(kind):
            out[i] = _cell_as_text(cells.raw[i])
    return pd.Series(out, index=cells.index, dtype="string")


# ------------------------------------------------------------------------- numbers

_NUMBER_DROP = str.maketrans("", "", "₩원\\")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\ufe63": "-", "\uff0d": "-"})
_GROUPED_OR_PLAIN = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
# Shapes that are numbers under another convention: 1.234.000 (dot grouping),
# 1.234,50 (European), 55,94 (decimal comma). Guessing would risk a factor of 1000.
# XXX: a single dot group ("1.234") still reads as 1.234, as 55.94 must; in a KRW
# column it may mean 1,234 (see test_amount_accepted). The validate stage's
# whole-number check for KRW is where such a value shows up.
_OTHER_CONVENTION = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+,\d{1,2}")
_NEGATIVE_MARKS = "△▲"


def _number_from_text(text: str, prefix: str) -> tuple[float | None, str | None]:
    """Parse one text amount; return (value, error code)."""
    # NFKC turns full-width digits, commas and minus into ASCII, odd spaces to spaces.
    text = unicodedata.normalize("NFKC", text).translate(_MINUS_SIGNS)
    text = "".join(text.translate(_NUMBER_DROP).split())
    if text == "-":  # accounting zero
        return 0.0, None

    # Peel off exactly one sign convention; a second one is not a number.
    negative = False
    if len(text) > 2 and text[0] == "(" and text[-1] == ")":
        negative, text = True, text[1:-1]
    elif text[:1] in _NEGATIVE_MARKS or text[:1] == "-":
        negative, text = True, text[1:]
    elif text[:1] == "+":
        text = text[1:]
    elif len(text) > 1 and text[-1] == "-":  # trailing minus (SAP style)
        negative, text = True, text[:-1]

    if _GROUPED_OR_PLAIN.fullmatch(text):
        value = float(text.replace(",", ""))
        return (-value if negative and value else value), None
    if _OTHER_CONVENTION.fullmatch(text):
        return None, f"{prefix}_ambiguous_separator"
    return None, f"{prefix}_format"


def _parse_numeric(values: pd.Series, prefix: str) -> Parsed:
    index = values.index
    not_finite = f"{prefix}_not_finite"

    # Fast path: a column already numeric (not bool) needs no per-cell work.
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    ):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(numbers)
        errors = _codes(len(numbers))
        errors[np.isinf(numbers)] = not_finite
        bad = missing | np.isinf(numbers)
        array = pd.arrays.FloatingArray(np.where(bad, 0.0, numbers), bad)
        return _result(index, array, errors, _codes(len(numbers)))

    def parse(text: str) -> tuple:
        if not text.strip():
            return None, None
        return _number_from_text(text, prefix)

    strings = _arrow_text(values)
    if strings is not None:
        positions, (found, codes) = _each_distinct(strings, parse, 2)
        ok = np.array([v is not None for v in found] + [False], dtype=bool)
        known = np.where(ok[:-1], found, 0.0).astype("float64")
        numbers = np.append(known, 0.0)[positions]
        errors = _spread(list(codes), positions, None)
        array = pd.arrays.FloatingArray(numbers, ~ok[positions])
        return _result(index, array, errors, _codes(len(positions)))

    cells = _Cells(values)
    numbers = np.zeros(cells.n, dtype="float64")
    missing = np.ones(cells.n, dtype=bool)
    errors = _codes(cells.n)

    idx = cells.where(_NUMBER)
    if len(idx):
        found = np.array([float(v) for v in cells.raw[idx]], dtype="float64")
        finite = np.isfinite(found)
        numbers[idx[finite]] = found[finite]
        missing[idx[finite]] = False
        errors[idx[~finite]] = not_finite

    idx = cells.where(_TEXT)
    if len(idx):
        found, codes = _per_unique(cells.raw, idx, parse, 2)
        ok = np.array([v is not None for v in found], dtype=bool)
        numbers[idx[ok]] = found[ok].astype("float64")
        missing[idx[ok]] = False
        errors[idx] = codes

    for kind in (_DATETIME, _BOOL, _OTHER):
        errors[cells.where(kind)] = f"{prefix}_format"

    array = pd.arrays.FloatingArray(numbers, missing)
    return _result(index, array, errors, _codes(cells.n))


def parse_amounts(values: pd.Series) -> Parsed:
    """Money cells to "Float64" (whole numbers for KRW), never changing a sign.

    - Number cells pass through; inf is ``amount_not_finite`` (NaN is how pandas
      marks an empty cell, so it is missing like None).
    - Text is normalised first: NFKC (full-width digits and commas to ASCII), ₩, 원
      and every kind of space removed (U+00A0, U+202F, U+2009 ...), U+2212 and the
      full-width minus read as "-".
    - Negatives: "-x", "(x)", "△x", "▲x" and a trailing minus "x-" all give -x.
    - A lone "-" is the accounting zero: 0.
    - The rest must be grouped or plain digits with an optional decimal part
      (1,234,000 / 1234000 / 1,234.50); 1.234.000, 1.234,5 and 55,94 belong to
      another convention: ``amount_ambiguous_separator``; any other text ("N/A",
      "12 EA", "1.2E+07") is ``amount_format``. Bool and date cells are
      ``amount_format`` too.
    """
    return _parse_numeric(values, "amount")


def parse_numbers(values: pd.Series) -> Parsed:
    """Quantities and unit prices to "Float64"; the same rules as ``parse_amounts``.

    Codes: ``number_format``, ``number_ambiguous_separator``, ``number_not_finite``.
    Decimals are kept (2.5 kg, 55.94 per unit).
    """
    return _parse_numeric(values, "number")


# --------------------------------------------------------------------------- dates

_EXCEL_EPOCH = {False: dt.date(1899, 12, 30), True: dt.date(1904, 1, 1)}
_SERIAL_RANGE = (20_000, 80_000)  # 1954-10-03 .. 2119-01-11 in the 1900 system
_YYYYMMDD_RANGE = (1800_01_01, 2199_12_31)
# datetime64[ns] can hold these dates only.
_FIRST_DATE = dt.date(1677, 9, 22)
_LAST_DATE = dt.date(2262, 4, 11)

_TIME = (
    r"(?:(?:[ T]+|\s*(?=오전|오후))(?:(?P<ampm1>오전|오후|AM|PM)\s*)?"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
    r"(?:\s*(?P<ampm2>AM|PM|오전|오후))?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
# ECOUNT voucher keys carry the voucher's number after the date: "2024/03/15 -4".
_VOUCHER_SUFFIX = r"(?:\s+-\s*\d+)?"
_END = _TIME + _VOUCHER_SUFFIX + r"\s*$"
_YEAR_FIRST = re.compile(
    r"^(?P<y>\d{4})\s*(?P<sep>[-./])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*(?P<d>\d{1,2})\.?"
    + _END,
    re.IGNORECASE,
)
_SHORT_FIRST = re.compile(
    r"^(?P<a>\d{1,2})\s*(?P<sep>[-./])\s*(?P<b>\d{1,2})\s*(?P=sep)\s*"
    r"(?P<c>\d{4}|\d{2})\.?" + _END,
    re.IGNORECASE,
)
_NO_YEAR = re.compile(r"^(?P<a>\d{1,2})\s*(?P<sep>[-./])\s*(?P<b>\d{1,2})\.?\s*$")
_WEEKDAY = r"(?:\s*\(?[월화수목금토일](?:요일)?\)?)?"
_KOREAN = re.compile(
    r"^(?P<y>\d{4}|\d{2})\s*년\s*(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일?"
    + _WEEKDAY
    + _END,
    re.IGNORECASE,
)
_KOREAN_NO_YEAR = re.compile(r"^(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일?\s*$")
_EIGHT_DIGITS = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_DAY_MONTH_NAME = re.compile(
    r"^(?P<d>\d{1,2})[-\s](?P<mon>[a-z]{3,9})\.?[-\s,]+(?P<y>\d{4}|\d{2})" + _END,
    re.IGNORECASE,
)
_MONTH_NAME_DAY = re.compile(
    r"^(?P<mon>[a-z]{3,9})\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>\d{4})" + _END, re.IGNORECASE
)
_ORDERS = ("YMD", "MDY", "DMY")


def _two_digit_year(year: int) -> int:
    """Excel's rule: 00-29 are 2000-2029, 30-99 are 1930-1999."""
    return 2000 + year if year < 30 else 1900 + year


def _make_date(year: int, month: int, day: int) -> tuple[dt.date | None, str | None]:
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None, "date_invalid"
    if not _FIRST_DATE <= date <= _LAST_DATE:
        return None, "date_out_of_range"
    return date, None


def _time_ok(match: re.Match) -> bool:
    """A time of day written next to a date must be a real one (it is then dropped)."""
    if match.group("hour") is None:
        return True
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    second = int(match.group("second") or 0)
    limit = 12 if (match.group("ampm1") or match.group("ampm2")) else 23
    return hour <= limit and minute <= 59 and second <= 59


def _date_from_text(
    text: str, order: str, default_year: int | None
) -> tuple[dt.date | None, str | None]:
    """Parse one text date; return (date, error code)."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None, None

    def dated(match: re.Match, year: int, month: int, day: int) -> tuple:
        if "hour" in match.re.groupindex and not _time_ok(match):
            return None, "date_invalid"
        return _make_date(year, month, day)

    if match := _EIGHT_DIGITS.match(text):
        return dated(match, *(int(match.group(g)) for g in "ymd"))
    if match := _YEAR_FIRST.match(text):
        return dated(match, *(int(match.group(g)) for g in "ymd"))
    if match := _KOREAN.match(text):
        year = int(match.group("y"))
        year = _two_digit_year(year) if len(match.group("y")) == 2 else year
        return dated(match, year, int(match.group("m")), int(match.group("d")))
    if match := _SHORT_FIRST.match(text):
        a, b, c = (int(match.group(g)) for g in "abc")
        year = _two_digit_year(c) if len(match.group("c")) == 2 else c
        if order == "MDY":
            return dated(match, year, a, b)
        if order == "DMY":
            return dated(match, year, b, a)
        # Year-first order: only YY-MM-DD is year-first; 03/15/2024 needs an order.
        if len(match.group("c")) == 2:
            return dated(match, _two_digit_year(a), b, c)
        return None, "date_ambiguous_order"
    for pattern in (_DAY_MONTH_NAME, _MONTH_NAME_DAY):
        if match := pattern.match(text):
            month = _MONTHS.get(match.group("mon").lower())
            if month is None:
                return None, "date_format"
            year = int(match.group("y"))
            year = _two_digit_year(year) if len(match.group("y")) == 2 else year
            return dated(match, year, month, int(match.group("d")))

    # Month and day without a year: the year comes from the report period.
    if match := _NO_YEAR.match(text):
        a, b = int(match.group("a")), int(match.group("b"))
        month, day = (b, a) if order == "DMY" else (a, b)
    elif match := _KOREAN_NO_YEAR.match(text):
        month, day = int(match.group("m")), int(match.group("d"))
    else:
        return None, "date_format"
    if default_year is None:
        return None, "date_no_year"
    return _make_date(default_year, month, day)


def _dates_from_numbers(
    numbers: np.ndarray, date1904: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Excel serials and yyyymmdd integers to dates (vectorised); (dates, errors)."""
    dates = np.full(len(numbers), np.datetime64("NaT"), dtype="datetime64[ns]")
    errors = np.full(len(numbers), "date_format", dtype=object)
    finite = np.isfinite(numbers)

    serial = finite & (numbers >= _SERIAL_RANGE[0]) & (numbers <= _SERIAL_RANGE[1])
    epoch = np.datetime64(_EXCEL_EPOCH[date1904], "D")
    days = np.floor(numbers[serial]).astype("int64")
    dates[serial] = (epoch + days.astype("timedelta64[D]")).astype("datetime64[ns]")
    errors[serial] = None

    whole = finite & (np.mod(numbers, 1, where=finite, out=np.ones_like(numbers)) == 0)
    eight = whole & (numbers >= _YYYYMMDD_RANGE[0]) & (numbers <= _YYYYMMDD_RANGE[1])
    if eight.any():
        text = pd.Series(numbers[eight].astype("int64").astype(str))
        parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
        found = parsed.astype("datetime64[ns]").to_numpy()
        dates[eight] = found
        errors[eight] = np.where(np.isnat(found), "date_invalid", None)
    return dates, errors


def _stamps_to_dates(stamps: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A datetime64 Series (any unit, maybe tz-aware) to midnight datetime64[ns]."""
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_localize(None)
    stamps = stamps.dt.normalize()
    inside = stamps.isna() | stamps.between(
        pd.Timestamp(_FIRST_DATE), pd.Timestamp(_LAST_DATE)
    )
    errors = _codes(len(stamps))
    errors[~inside.to_numpy()] = "date_out_of_range"
    # astype (unlike to_numpy(dtype=...)) refuses to wrap around out-of-range dates.
    dates = stamps.where(inside).astype("datetime64[ns]").to_numpy()
    return dates, errors


def _dates_from_datetimes(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Date and datetime cells to midnight datetime64[ns]; (dates, errors)."""
    try:
        return _stamps_to_dates(pd.to_datetime(pd.Series(raw, dtype=object)))
    except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError, TypeError):
        logger.debug("dates: vectorised conversion failed, converting cell by cell")
    dates = np.full(len(raw), np.datetime64("NaT"), dtype="datetime64[ns]")
    errors = _codes(len(raw))
    for i, value in enumerate(raw):
        when = value if isinstance(value, dt.date) else pd.Timestamp(value)
        date, errors[i] = _make_date(when.year, when.month, when.day)
        if date is not None:
            dates[i] = np.datetime64(date, "D")
    return dates, errors


def parse_dates(
    values: pd.Series,
    *,
    order: str = "YMD",
    default_year: int | None = None,
    date1904: bool = False,
) -> Parsed:
    """Date cells to datetime64[ns] at midnight (the time of day is dropped).

    - Date and datetime cells are taken as they are.
    - Numbers 20000-80000 are Excel serials (epoch 1899-12-30, or 1904-01-01 when the
      workbook uses the 1904 system: ``date1904=True``); a fraction is a time of day.
    - 8-digit integers and 8-digit text are yyyymmdd (20240312).
    - Text, year first: 2024.03.07, 2024-03-08, 2024/3/11, "2024. 3. 14.",
      "2024년 3월 19일", ISO with a time (2024-03-18 14:30[:00], T, Z or offset,
      오전/오후), ECOUNT voucher keys "2024/03/15 -4", "18-Mar-2024", "Mar 18, 2024".
    - Text with a short first part: ``order="YMD"`` reads 24-03-15 as 2024-03-15
      (two-digit years: 00-29 -> 20xx, 30-99 -> 19xx); ``order="MDY"`` reads US
      exports (1/2/2013 is 2 January) and ``order="DMY"`` day-first ones. With
      "YMD", 03/15/2024 is ``date_ambiguous_order``.
    - Month and day only ("03/13", "3월 13일") take ``default_year`` (the report's
      year, never today's); without one: ``date_no_year``.
    - A date that does not exist (2024.02.30, 20240230) is ``date_invalid``; one that
      datetime64[ns] cannot hold (9999-12-31) is ``date_out_of_range``; anything else
      (other numbers, bools, times, text) is ``date_format``.
    """
    if order not in _ORDERS:
        raise ValueError(f"parse_dates: order must be one of {_ORDERS} (got {order!r})")
    index = values.index

    # Fast path: a datetime64 column (e.g. Online Retail's 541,909 invoice dates).
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        dates, errors = _stamps_to_dates(values)
        return _result(index, dates, errors, _codes(len(values)))
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    ):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        dates, errors = _dates_from_numbers(numbers, date1904)
        errors[np.isnan(numbers)] = None
        return _result(index, dates, errors, _codes(len(values)))

    def parse(text: str) -> tuple:
        date, error = _date_from_text(text, order, default_year)
        found = np.datetime64("NaT") if date is None else np.datetime64(date, "D")
        return found, error

    strings = _arrow_text(values)
    if strings is not None:
        positions, (found, codes) = _each_distinct(strings, parse, 2)
        found = np.append(found.astype("datetime64[ns]"), np.datetime64("NaT", "ns"))
        errors = _spread(list(codes), positions, None)
        return _result(index, found[positions], errors, _codes(len(positions)))

    cells = _Cells(values)
    dates = np.full(cells.n, np.datetime64("NaT"), dtype="datetime64[ns]")
    errors = _codes(cells.n)

    idx = cells.where(_DATETIME)
    if len(idx):
        dates[idx], errors[idx] = _dates_from_datetimes(cells.raw[idx])

    idx = cells.where(_NUMBER)
    if len(idx):
        numbers = np.array([float(v) for v in cells.raw[idx]], dtype="float64")
        dates[idx], errors[idx] = _dates_from_numbers(numbers, date1904)

    idx = cells.where(_TEXT)
    if len(idx):
        found, codes = _per_unique(cells.raw, idx, parse, 2)
        dates[idx] = found.astype("datetime64[ns]")
        errors[idx] = codes

    for kind in (_BOOL, _OTHER):
        errors[cells.where(kind)] = "date_format"
    return _result(index, dates, errors, _codes(cells.n))


# --------------------------------------------------------------------------- codes

_EXPONENT = re.compile(r"[-+]?\d(?:\.\d+)?E[-+]?\d+", re.IGNORECASE)
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')
# The largest integer a float (and so an Excel number cell) holds exactly.
_EXACT_FLOAT_LIMIT = 2**53


def _format_digits(number_format: object) -> int | None:
    """How many digits an Excel number format shows at least: "00000" -> 5.

    Quoted literals, escapes and [colour] parts are ignored; only the first
    section (positive numbers) counts; "General", "@" and formats without a "0"
    placeholder give None.
    """
    if not isinstance(number_format, str):
        return None
    section = _FORMAT_LITERALS.sub("", number_format).split(";")[0]
    zeros = section.split(".")[0].count("0")
    return zeros or None


def _zfill_digits(codes: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Zero-pad all-digit codes shorter than their width (in place); return where.

    Worked out once per distinct (code, width) pair: a column of 500,000 codes
    holds a few thousand of them.
    """
    code_ids, _ = pd.factorize(codes)  # None -> -1
    width_ids, width_values = pd.factorize(widths)
    pairs, _ = pd.factorize((code_ids + 1) * (len(width_values) + 1) + width_ids)
    first = np.empty(pairs.max() + 1 if len(pairs) else 0, dtype=np.int64)
    first[pairs[::-1]] = np.arange(len(pairs))[::-1]  # first cell of each pair

    padded = np.empty(len(first), dtype=object)
    changed = np.zeros(len(first), dtype=bool)
    for pair, cell in enumerate(first):
        code, width = codes[cell], int(widths[cell])
        padded[pair] = code
        if code is not None and code.isdigit() and len(code) < width:
            padded[pair], changed[pair] = code.zfill(width), True
    codes[:] = padded[pairs]
    return changed[pairs]


def _pad_to_formats(codes: np.ndarray, idx: np.ndarray, formats: np.ndarray) -> None:
    """Zero-pad the number codes at ``idx`` to the digits their format shows."""
    format_ids, distinct = pd.factorize(formats)
    # One width per distinct format; the extra last 0 serves "no format" (-1).
    widths = np.array([_format_digits(f) or 0 for f in distinct] + [0])[format_ids]
    found = codes[idx]
    _zfill_digits(found, widths)
    codes[idx] = found


def _code_from_number(value: object, number_format: object) -> tuple:
    """(code, error) for a number cell in a code column."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float | np.floating):
        if not math.isfinite(value) or not float(value).is_integer():
            return None, "code_not_integer"
        if abs(value) > _EXACT_FLOAT_LIMIT:
            return None, "code_precision_lost"
    digits = str(int(value))
    width = _format_digits(number_format)
    if width and digits.isdigit():
        digits = digits.zfill(width)
    return digits, None


def _code_from_text(text: str) -> tuple:
    """(code, error, warning) for a text cell in a code column."""
    code = _clean_one(text)
    if code is None:
        return None, None, None
    if _EXPONENT.fullmatch(code):  # "5.86E+09": a CSV that lost the digits
        return None, "code_scientific_notation", None
    if code.lower() == "nan":  # pandas' text for an empty cell (pandas#20377)
        return None, None, "code_nan_text"
    return code, None, None


def parse_codes(
    values: pd.Series,
    number_formats: pd.Series | None = None,
    width: int | None = None,
) -> Parsed:
    """Code cells (partner, item, document codes, zip codes, BRNs) to "string".

    - Text stays text: NFC, odd spaces, full-width ASCII, stripped (``clean_text``).
    - A whole number (int, or float like 17850.0) becomes its digits: "17850".
    - With ``number_formats`` (the Excel number format of each cell, same index):
      numbers are zero-padded to the digits the format shows, which is what the
      person saw (457 with "00000" -> "00457"; 5860196690 with "000-00-00000" ->
      "5860196690"); "General" and "@" pad nothing.
    - With ``width`` (5 for Korean zip codes): an all-digit value shorter than
      ``width`` is zero-padded (3000 -> "03000") with warning ``postcode_padded``.
    - Errors: a number with a fraction ``code_not_integer``; a float beyond 2**53
      ``code_precision_lost``; text like "5.86E+09" ``code_scientific_notation``;
      a bool or date cell ``code_format`` (Excel turns codes like 3-15 into dates).
    - The text "nan" (what pandas wrote for an empty cell) is missing, with
      warning ``code_nan_text``.
    """
    index = values.index
    strings = _arrow_text(values)
    if strings is not None:
        found, positions, (found_errors, found_warns) = _kept_or_parsed(
            strings, _code_as_is, _code_from_text, 3
        )
        errors = _spread(found_errors, positions, None)
        warns = _spread(found_warns, positions, None)
        if not width:
            return _result(index, _as_string(found), errors, warns)
        codes = np.empty(len(found), dtype=object)
        codes[:] = found.to_pylist()
        return _padded_codes(index, codes, errors, warns, width)

    cells = _Cells(values)
    codes = np.full(cells.n, None, dtype=object)
    errors = _codes(cells.n)
    warns = _codes(cells.n)

    idx = cells.where(_TEXT)
    if len(idx):
        codes[idx], errors[idx], warns[idx] = _per_unique(
            cells.raw, idx, _code_from_text, 3
        )

    idx = cells.where(_NUMBER)
    if len(idx):
        codes[idx], errors[idx] = _per_unique(
            cells.raw, idx, lambda v: _code_from_number(v, None), 2
        )
        if number_formats is not None:
            if not number_formats.index.equals(index):
                number_formats = number_formats.reindex(index)
            formats = number_formats.to_numpy(dtype=object)[idx]
            _pad_to_formats(codes, idx, formats)

    for kind in (_DATETIME, _BOOL, _OTHER):
        errors[cells.where(kind)] = "code_format"
    return _padded_codes(index, codes, errors, warns, width)


def _padded_codes(
    index: pd.Index,
    codes: np.ndarray,
    errors: np.ndarray,
    warns: np.ndarray,
    width: int | None,
) -> Parsed:
    """Domain width (zip codes): pad short all-digit codes and say so."""
    if width:
        padded = _zfill_digits(codes, np.full(len(codes), width, dtype=np.int64))
        warns[padded] = "postcode_padded"
    result = pd.Series(codes, index=index, dtype="string")
    return _result(index, result.array, errors, warns)


# --------------------------------------------------------------------------- flags

# Status words count too: a contact log's 완료 column says 완료/미완료 or done/open.
_TRUE_WORDS = {
    "yes",
    "y",
    "true",
    "t",
    "1",
    "예",
    "o",
    "○",
    "여",
    "참",
    "완료",
    "done",
    "closed",
    "처리",
    "처리완료",
}
_FALSE_WORDS = {
    "no",
    "n",
    "false",
    "f",
    "0",
    "아니오",
    "아니요",
    "x",
    "×",
    "부",
    "거짓",
    "미완료",
    "미처리",
    "진행중",
    "open",
    "pending",
}


def _flag_from_text(text: str) -> tuple:
    word = unicodedata.normalize("NFKC", text).strip().casefold()
    if not word:
        return None, None
    if word in _TRUE_WORDS:
        return True, None
    if word in _FALSE_WORDS:
        return False, None
    return None, "flag_format"


def parse_flags(values: pd.Series) -> Parsed:
    """Yes/no cells to "boolean".

    - Bool cells as they are; numbers 1 and 0.
    - Text, any case: Yes/No, Y/N, True/False, T/F, 1/0, 예/아니오 (아니요),
      O/X (and ○/×), 여/부, 참/거짓; status words 완료/미완료, 처리/미처리,
      진행중, done/closed/open/pending.
    - Anything else (other numbers, dates, "maybe") is ``flag_format``.
    """
    index = values.index
    cells = _Cells(values)
    flags = np.zeros(cells.n, dtype=bool)
    missing = np.ones(cells.n, dtype=bool)
    errors = _codes(cells.n)

    idx = cells.where(_BOOL)
    flags[idx] = [bool(v) for v in cells.raw[idx]]
    missing[idx] = False

    idx = cells.where(_NUMBER)
    numbers = np.array([float(v) for v in cells.raw[idx]], dtype="float64")
    ok = (numbers == 0.0) | (numbers == 1.0)
    flags[idx[ok]] = numbers[ok] == 1.0
    missing[idx[ok]] = False
    errors[idx[~ok]] = "flag_format"

    idx = cells.where(_TEXT)
    if len(idx):
        found, codes = _per_unique(cells.raw, idx, _flag_from_text, 2)
        ok = np.array([v is not None for v in found], dtype=bool)
        flags[idx[ok]] = found[ok].astype(bool)
        missing[idx[ok]] = False
        errors[idx] = codes

    for kind in (_DATETIME, _OTHER):
        errors[cells.where(kind)] = "flag_format"
    array = pd.arrays.BooleanArray(flags, missing)
    return _result(index, array, errors, _codes(cells.n))


# ------------------------------------------------------------------------ dispatch


def _parse_text(values: pd.Series) -> Parsed:
    n = len(values)
    return _result(values.index, clean_text(values), _codes(n), _codes(n))


_PARSERS: dict[str, Callable[..., Parsed]] = {
    "text": _parse_text,
    "amount": parse_amounts,
    "number": parse_numbers,
    "date": parse_dates,
    "code": parse_codes,
    "flag": parse_flags,
}
# Domain defaults per field, overridable through ``options``.
_FIELD_DEFAULTS: dict[str, dict[str, object]] = {"postcode": {"width": 5}}


def parse_field(field: str, values: pd.Series, **options) -> Parsed:
    """Parse a canonical field's cells by its type in ``tables.FIELD_TYPES``.

    Fields not listed there are text. ``options`` may hold options of every parser
    (``order``, ``default_year``, ``date1904``, ``number_formats``, ``width``): each
    parser takes the ones it knows, so a reader can pass one set for all columns.
    Zip codes (``postcode``) default to ``width=5``.
    """
    parser = _PARSERS[tables.FIELD_TYPES.get(field, "text")]
    known = inspect.signature(parser).parameters
    chosen = {**_FIELD_DEFAULTS.get(field, {}), **options}
    return parser(values, **{k: v for k, v in chosen.items() if k in known})
