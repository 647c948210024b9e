"""Large xlsx sheets read column-wise (fastexcel, Arrow) instead of as rows of objects.

python-calamine gives a sheet as a list of rows of Python objects, which build_table
then turns into columns; for a million lines that is most of the read. fastexcel
reads the same XML (calamine inside) straight into one typed Arrow array per column.
This module gives build_table those columns, with the same meaning cell by cell.

Business rules (each "falls back": the sheet is then read row-wise as before):

- Only visible xlsx/xlsm sheets whose last row is numbered ``[read]
  columnar_min_rows`` or more (limits.DEFAULTS) take this path; small files keep
  the row-wise one.
- The header area (the first ``header_scan_rows`` + 1 rows) is still read by
  python-calamine, from a copy of the workbook cut after those rows, so titles,
  header cells, merged headers and the report period are found exactly as before.
- The body, from the row under the header, is one fastexcel load with every row
  sampled for the type. A number or date column arrives typed; a column mixing text
  with numbers or dates arrives as text, numbers written "96" or "1234.5", dates
  "2025-12-01 00:00:00". Such text is "uncertain": build_table checks that the cell
  means the same whether it was text or a number/date (Body), else falls back.
- Falls back: boolean or ISO-date cells (t="b", t="d": fastexcel makes TRUE a 1.0
  in a number column), elements with a namespace prefix, merged ranges not found
  at the end of the sheet XML (the pre-scan looks there), a vertical merge reaching
  below the header, a time-of-day cell (calamine gives a time, fastexcel a date in
  1899), a date past 9999-12-31 (calamine gives the serial number), a
  non-midnight date-time in a column that is not a date field, a column
  type other than text, number or date-time, and anything fastexcel refuses.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import zipfile
from collections.abc import Callable

import numpy as np
import pandas as pd

from ledgerflow import tables
from ledgerflow.read import limits
from ledgerflow.read.header import Header
from ledgerflow.read.table import Body
from ledgerflow.read.workbook import Sheet, SheetScan, Workbook

logger = logging.getLogger(__name__)

_ROW_START = re.compile(rb"<row[\s>/]")
_DIMENSION = re.compile(rb"<dimension\b[^>]*/>")
_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="'
    b'http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/>'
    b"</worksheet>"
)
_HEAD_CHUNK = 1 << 20
# How fastexcel writes a number, a date-time and a boolean in a text column: Rust's
# shortest round-trip form (no exponent, no leading or trailing zeros), ISO with a
# space, lower case.
NUMBER_TEXT = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?"
DATETIME_TEXT = r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
_UNCERTAIN = f"^(?:{NUMBER_TEXT}|{DATETIME_TEXT}|true|false)$"
_DATETIME_RE = re.compile(DATETIME_TEXT)
_FIRST_DAY = np.datetime64("1900-01-01", "ms")
# Past Python's last date python-calamine gives the serial number, not a date.
_PAST_PYTHON = np.datetime64("10000-01-01", "ms")


class Fallback(Exception):
    """The sheet cannot be read column-wise with the same result; read it row-wise."""


class _DropDtypeGuess(logging.Filter):
    """fastexcel warns for every all-blank column ("falling back to string")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Could not determine dtype" not in record.getMessage()


logging.getLogger("fastexcel.types.dtype").addFilter(_DropDtypeGuess())


def min_rows(settings: dict) -> int:
    """The ``[read] columnar_min_rows`` setting (limits.DEFAULTS)."""
    return limits.setting(settings, "columnar_min_rows")


def wanted(book: Workbook, sheet: Sheet, settings: dict) -> SheetScan | None:
    """The sheet's pre-scan when it should be read column-wise, else None.

    Runs the pre-scan (Workbook.check_sheet: size limits, formulas) when not done.
    """
    if book.format != "xlsx" or book.engine != "calamine":
        return None
    scan = book.check_sheet(sheet)
    if scan is None or scan.last_row < min_rows(settings):
        return None
    if scan.special_cells or scan.prefixed or scan.merges is None:
        return None
    return scan


# ------------------------------------------------------------------ header area


def head_grid(book: Workbook, sheet: Sheet, rows: int) -> list[list]:
    """The sheet's first ``rows`` rows (at least) as python-calamine gives them.

    A copy of the workbook whose sheet XML stops after ``rows`` <row> elements (rows
    are in order, so every row above the last one kept is complete) is read by
    python-calamine; other worksheets are left empty in the copy.
    """
    import python_calamine

    part = book.sheet_part(sheet.name)
    if part is None:
        raise Fallback("the sheet's XML part is unknown")
    with zipfile.ZipFile(io.BytesIO(book.data)) as archive:
        head = _head_xml(archive, part, rows)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as copy:
            for info in archive.infolist():
                if info.filename == part:
                    content = head
                elif info.filename.startswith("xl/worksheets/") and (
                    info.filename.endswith(".xml")
                ):
                    content = _EMPTY_SHEET
                else:
                    content = archive.read(info)
                copy.writestr(info.filename, content)
    buffer.seek(0)
    found = python_calamine.CalamineWorkbook.from_filelike(buffer)
    return found.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False)


def _head_xml(archive: zipfile.ZipFile, part: str, rows: int) -> bytes:
    """The sheet XML cut before its (rows + 1)-th <row> element, closed again."""
    buffer = b""
    seen = 0
    position = 0  # where matches were not searched yet
    with archive.open(part) as stream:
        while chunk := stream.read(_HEAD_CHUNK):
            buffer += chunk
            for match in _ROW_START.finditer(buffer, position):
                seen += 1
                if seen > rows:
                    head = buffer[: match.start()] + b"</sheetData></worksheet>"
                    return _DIMENSION.sub(b"", head, count=1)
            # a match needs 5 bytes: one starting in the last 4 is not found yet
            position = max(position, len(buffer) - 4)
    return buffer  # the whole sheet has no more rows than that


# ---------------------------------------------------------------------------- body


def body(
    book: Workbook,
    sheet: Sheet,
    scan: SheetScan,
    header: Header,
    width: int,
    settings: dict,
) -> Body:
    """The columns under ``header``, row 0 being the grid row under the header.

    ``width`` is the header grid's width; the body may add columns to the right
    (cells beyond the header's last column), which the row-wise path has too.
    """
    import fastexcel
    import pyarrow as pa
    import pyarrow.compute as pc

    start = header.last_row + 1
    for r0, _c0, r1, _c1 in scan.merges:
        if r1 > r0 and r1 >= start:
            raise Fallback(f"a merged range reaches row {r1 + 1}, under the header")
    try:
        reader = fastexcel.read_excel(book.data)
        loaded = reader.load_sheet(
            sheet.name,
            header_row=None,
            skip_rows=start,
            schema_sample_rows=None,
            dtype_coercion="coerce",
        )
        batch = loaded.to_arrow()
        where = [column.absolute_index for column in loaded.selected_columns]
    except Exception as exc:  # fastexcel's own errors: calamine then decides
        raise Fallback(f"fastexcel: {type(exc).__name__}: {exc}") from exc
    n = batch.num_rows
    total = max([width, *(c + 1 for c in where)])
    limits.check_extent(sheet.name, start + n, total, settings)
    field_of = {c: f for f, c in header.mapping.items()}
    columns: list[np.ndarray] = [np.full(n, None, dtype=object) for _ in range(total)]
    uncertain: dict[int, np.ndarray] = {}
    factorized: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for array, c in zip(batch.columns, where, strict=True):
        kind = array.type
        if pa.types.is_null(kind) or array.null_count == n:
            continue
        if pa.types.is_floating(kind):
            columns[c] = array.to_numpy(zero_copy_only=False)
        elif pa.types.is_timestamp(kind) and kind.tz is None:
            stamps = array.to_numpy(zero_copy_only=False).astype("datetime64[ms]")
            if c in field_of:  # elsewhere a date-time is just a non-blank cell
                _check_stamps(stamps, tables.FIELD_TYPES.get(field_of[c], "text"), c)
                _check_epoch_day(stamps, book.date1904, c)
            columns[c] = stamps
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            columns[c] = array.to_numpy(zero_copy_only=False)
            encoded = array.dictionary_encode()
            codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            distinct = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
            factorized[c] = (codes.astype(np.intp), distinct)
            mask = pc.match_substring_regex(array, _UNCERTAIN)
            mask = mask.fill_null(False).to_numpy(zero_copy_only=False)
            if mask.any():
                uncertain[c] = mask
        else:
            raise Fallback(f"column {c + 1} has cells of type {kind}")
    return Body(
        columns=columns,
        uncertain=uncertain,
        origin=_origin_reader(book.date1904),
        padding_formats=book.has_padding_formats(),
        factorized=factorized,
    )


def _check_stamps(stamps: np.ndarray, field_type: str, c: int) -> None:
    """Fallback for times of day, dates past the year 9999 (python-calamine
    gives their serial number), and date-times outside a date field."""
    known = ~np.isnat(stamps)
    if (stamps[known] < _FIRST_DAY).any():
        raise Fallback(f"column {c + 1} holds times of day")
    if (stamps[known] >= _PAST_PYTHON).any():
        raise Fallback(f"column {c + 1} holds date serials past 9999-12-31")
    if field_type != "date":
        days = stamps[known].astype("datetime64[D]").astype("datetime64[ms]")
        if (stamps[known] != days).any():
            raise Fallback(f"column {c + 1} holds date-times with a time of day")


def _check_epoch_day(stamps: np.ndarray, date1904: bool, c: int) -> None:
    """In a 1904 workbook a time of day falls on 1904-01-01; calamine gives a time."""
    if not date1904:
        return
    day = stamps.astype("datetime64[D]")
    if (day == np.datetime64("1904-01-01", "D")).any():
        raise Fallback(f"column {c + 1} may hold times of day (1904 date system)")


class _Unknown:
    """A cell whose row-wise value cannot be told (a time of day): never equal."""

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__

    def __str__(self) -> str:
        return "?"


def _origin_reader(date1904: bool) -> Callable[[str], object]:
    """What the cell behind an uncertain text would be if it was not text."""

    def origin(text: str) -> object:
        if text in ("true", "false"):
            return text == "true"
        if _DATETIME_RE.fullmatch(text):
            when = dt.datetime.fromisoformat(text)
            if when.year < 1900 or (date1904 and when.date() == dt.date(1904, 1, 1)):
                return _Unknown()
            return when
        return float(text)

    return origin


def safe_uncertain(texts: pd.Series, field_type: str) -> np.ndarray:
    """Uncertain texts known to mean the same as text and as a number or date.

    - amount/number: any number text (it parses to the number written).
    - code/text: whole numbers of up to 15 digits (the digits either way).
    - date: date-times from 1901 to 2261 (the text parses to that day).
    The rest is checked value by value (table._check_uncertain).
    """
    if field_type in ("amount", "number"):
        pattern = f"^{NUMBER_TEXT}$"
    elif field_type in ("code", "text"):
        pattern = r"^(?:0|-?[1-9][0-9]{0,14})$"
    elif field_type == "date":
        pattern = r"^(?:19(?:0[1-9]|[1-9][0-9])|2[01][0-9]{2}|22[0-5][0-9]|226[01])-"
    else:
        return np.zeros(len(texts), dtype=bool)
    return texts.str.match(pattern).fillna(False).to_numpy(dtype=bool)
