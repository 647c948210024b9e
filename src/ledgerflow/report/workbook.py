"""A safe, deterministic xlsx writer for the management workbooks.

``write_workbook`` turns a list of SheetSpec (a frame, the column keys to show, rows to
highlight, a total row, notes, page setup, conditional formats) into one workbook.
Workbooks with more than tables (a drop-down, charts, a one-page layout) use
``open_workbook``: its WorkbookWriter adds SheetSpec sheets the same way and gives
empty sheets, formats and charts for the rest, filled through ``write_cell``.
Business rules it applies:

- Text from inputs never becomes a formula or a link: xlsxwriter's string conversions
  are off and every text value is written with ``write_string``, exactly as found
  (``=HYPERLINK(...)``, ``+플러스상사``, ``@홈마트``, a TAB-prefixed memo).
- The only formulas are the ones ledgerflow writes in a total row (ColumnSum, Ratio);
  each carries its computed result as the cached value, so a reader that trusts cached
  values (LibreOffice, Excel's protected view, pandas) sees the figure, never 0.
- Numbers stay numbers, negatives included; a missing value (NA, NaN, NaT) is an
  empty cell, never 0; an infinite value is an empty cell with a note.
- Codes are text (leading zeros kept); text longer than Excel's 32,767 characters is
  cut, with a note.
- Datetimes with a time zone are shown in Asia/Seoul time, without the zone.
- The same frames give the same bytes: document dates come from ``created`` (set from
  the period by the caller), never from the clock.
- Written under a temporary name and renamed when complete (see atomic.py).
- Made for people: headers in the chosen language, frozen header row, filters, number
  formats by column kind (labels catalogue), widths measured from the text (Hangul
  counts double), highlighted rows in light red, a bold total row, notes under the
  table.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import functools
import itertools
import logging
import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.utility import xl_rowcol_to_cell

from ledgerflow import labels
from ledgerflow.report.atomic import atomic_path, output_error

log = logging.getLogger(__name__)

TIMEZONE = "Asia/Seoul"
MAX_CELL_CHARS = 32_767  # Excel's limit, in UTF-16 code units
MAX_DATA_ROWS = 1_000_000  # Excel stops at 1,048,576 rows; room for total and notes
MAX_SHEET_NAME = 31
MAX_COLUMN_WIDTH = 60
WIDTH_SAMPLE_ROWS = 5_000  # widths are measured on the first rows only
# Above this many cells xlsxwriter streams rows to disk instead of holding them.
CONSTANT_MEMORY_CELLS = 2_000_000

A4 = 9  # xlsxwriter's paper code
HIGHLIGHT_FILL = "#FFC7CE"  # Excel's "light red fill"
HEADER_FILL = "#D9E1F2"
NUMBER_FORMATS = {
    "money": "#,##0",
    "int": "#,##0",
    "number": "#,##0.0",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
}
# Currencies without minor units; any other currency shows two decimals.
WHOLE_CURRENCIES = {"KRW", "JPY", "VND", "CLP", "ISK", "TWD", "HUF"}
NUMERIC_KINDS = {"money", "int", "number", "percent"}
WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": False,
}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class ColumnSum:
    """A total cell written as ``=SUM(...)`` of the column, caching ``value``.

    The writer checks ``value`` against the cells it wrote; if they disagree it writes
    the plain value (with a warning) rather than a formula that would change it.
    """

    value: float | None


@dataclass(frozen=True)
class Ratio:
    """A total cell written as numerator/denominator of two total-row cells.

    E.g. Ratio("gross_profit", "revenue", 0.131): the margin of the totals, computed
    from the totals, never the average of the rows. ``value`` None leaves it empty.
    """

    numerator: str
    denominator: str
    value: float | None


@dataclass
class SheetSpec:
    """One sheet: a frame and how to show it.

    ``title_key`` names a [sheets.<key>] catalogue entry, filled with
    ``title_values``. ``columns`` are the keys to show, in order; keys the frame lacks
    are left out, frame columns not listed are not written. ``highlight`` is a boolean
    Series (by position) marking the rows to colour. ``total`` maps column keys to the
    total row's values (plain, ColumnSum or Ratio). ``money_decimals`` forces 0 or 2
    decimals on money columns; None decides from ``frame.attrs["currency"]``, else
    from the values.
    """

    title_key: str
    frame: pd.DataFrame
    columns: Sequence[str]
    highlight: pd.Series | None = None
    total: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    title_values: dict[str, Any] = field(default_factory=dict)
    money_decimals: int | None = None
    page: PageSetup | None = None
    conditional_formats: list[ConditionalFormat] = field(default_factory=list)


@dataclass(frozen=True)
class PageSetup:
    """How a sheet prints: paper, orientation, fit, margins (inches) and more.

    ``fit_height`` 0 means as many pages down as needed; ``repeat_header`` repeats
    the first row on every printed page; ``footer`` is an Excel header/footer code
    such as "&C&P / &N" (page n of m, centred).
    """

    paper: int = A4
    landscape: bool = False
    fit_width: int = 1
    fit_height: int = 0
    margins: dict[str, float] = field(default_factory=dict)
    center_horizontally: bool = False
    repeat_header: bool = False
    footer: str = ""


@dataclass(frozen=True)
class ConditionalFormat:
    """Colour a column's data cells when ``cell <criteria> value`` holds.

    E.g. ConditionalFormat("gross_profit", "<", 0, {"bg_color": "#FFC7CE"}). A text
    ``value`` is compared as text (quoted for Excel by the writer). ``style`` holds
    xlsxwriter format properties. A column the sheet does not show is skipped.
    """

    column: str
    criteria: str
    value: Any
    style: dict[str, Any]


class WorkbookWriter:
    """The sheets of one workbook being written; get one from ``open_workbook``.

    ``add_sheet(spec)`` writes a table sheet with every rule of this module;
    ``raw_sheet(title)`` gives an empty sheet for a free layout (a one-page
    proposal, a summary with charts), to be filled through ``write_cell`` only, so
    text from inputs stays text there too. ``add_format`` and ``add_chart`` give
    formats and charts of this workbook.
    """

    def __init__(self, workbook: xlsxwriter.Workbook, lang: str):
        self.workbook = workbook
        self.lang = lang
        self._styles = _Styles(workbook)
        self._taken: set[str] = set()
        self._formats: dict[tuple, Any] = {}

    def add_sheet(self, spec: SheetSpec):
        """Write ``spec`` as a new sheet (named from its catalogue title); return
        the xlsxwriter worksheet for additions such as a drop-down list."""
        title = labels.sheet_title(spec.title_key, self.lang, **spec.title_values)
        sheet = self.workbook.add_worksheet(clean_sheet_name(title, self._taken))
        _write_sheet(sheet, spec, self.lang, self._styles)
        if spec.page is not None:
            set_page(sheet, spec.page)
        self._conditional_formats(sheet, spec)
        return sheet

    def raw_sheet(self, title: str, page: PageSetup | None = None):
        """A new empty sheet named ``title`` (made legal and unique)."""
        sheet = self.workbook.add_worksheet(clean_sheet_name(title, self._taken))
        if page is not None:
            set_page(sheet, page)
        return sheet

    def add_format(self, properties: dict[str, Any]):
        """The workbook's format with ``properties`` (one object per distinct set)."""
        key = tuple(sorted(properties.items()))
        if key not in self._formats:
            self._formats[key] = self.workbook.add_format(properties)
        return self._formats[key]

    def add_chart(self, options: dict[str, Any]):
        """A new xlsxwriter chart of this workbook, to insert into a sheet."""
        return self.workbook.add_chart(options)

    def _conditional_formats(self, sheet, spec: SheetSpec) -> None:
        rows = len(spec.frame)
        if not rows:
            return
        keys = [key for key in spec.columns if key in spec.frame.columns]
        for rule in spec.conditional_formats:
            if rule.column not in keys:
                continue
            col = keys.index(rule.column)
            value = f'"{rule.value}"' if isinstance(rule.value, str) else rule.value
            options = {"type": "cell", "criteria": rule.criteria, "value": value}
            options["format"] = self.add_format(rule.style)
            sheet.conditional_format(1, col, rows, col, options)


def set_page(sheet, page: PageSetup) -> None:
    """Apply ``page`` to an xlsxwriter worksheet."""
    sheet.set_paper(page.paper)
    if page.landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(page.fit_width, page.fit_height)
    if page.margins:
        sheet.set_margins(**page.margins)
    if page.center_horizontally:
        sheet.center_horizontally()
    if page.repeat_header:
        sheet.repeat_rows(0)
    if page.footer:
        sheet.set_footer(page.footer)


def write_cell(sheet, row: int, col: int, value, style=None) -> None:
    """Write one value of a free layout: text always as text (never a formula or a
    link), bools, datetimes and numbers as such, None as an empty cell."""
    _write_value(sheet, row, col, value, style)


@contextlib.contextmanager
def open_workbook(
    path: Path,
    *,
    lang: str,
    created: dt.datetime | dt.date,
    title: str | None = None,
    cells: int = 0,
) -> Iterator[WorkbookWriter]:
    """Open ``path`` for writing atomically; yield a WorkbookWriter.

    The file appears (replacing an older one) only when the block ends without an
    error; ``created`` is the document date (from the data, for the same bytes);
    ``cells`` above CONSTANT_MEMORY_CELLS makes xlsxwriter stream rows to disk.
    """
    path = Path(path)
    options = dict(WORKBOOK_OPTIONS)
    if cells > CONSTANT_MEMORY_CELLS:
        options.update(constant_memory=True, use_zip64=True)
    with atomic_path(path) as temporary:
        workbook = xlsxwriter.Workbook(str(temporary), options)
        try:
            workbook.set_properties(_properties(path, created, title))
            yield WorkbookWriter(workbook, lang)
        except BaseException:
            # release xlsxwriter's temporary files; the half-written output is
            # removed by atomic_path, and the first error is the one that matters
            with contextlib.suppress(Exception):
                workbook.close()
            raise
        _close(workbook, path)


def write_workbook(
    path: Path,
    sheets: list[SheetSpec],
    *,
    lang: str,
    created: dt.datetime | dt.date,
    title: str | None = None,
) -> Path:
    """Write ``sheets`` to ``path`` atomically and return ``path``.

    ``created`` becomes the document's created/modified date, so it must come from
    the data (the period), not the clock, for the bytes to be reproducible.
    """
    path = Path(path)
    with open_workbook(
        path, lang=lang, created=created, title=title, cells=table_cells(sheets)
    ) as writer:
        for spec in sheets:
            writer.add_sheet(spec)
    log.info("%s: %d sheet(s) written", path.name, len(sheets))
    return path


def table_cells(sheets: Sequence[SheetSpec]) -> int:
    """Cells the tables of ``sheets`` fill (the ``cells`` of open_workbook)."""
    return sum(len(s.frame) * max(len(s.columns), 1) for s in sheets)


def _close(workbook: xlsxwriter.Workbook, path: Path) -> None:
    """Write the zip; an OSError underneath becomes an OutputError naming ``path``."""
    try:
        workbook.close()
    except FileCreateError as exc:
        cause = exc.args[0] if exc.args else None
        if isinstance(cause, OSError):
            raise output_error(path, cause, "write") from exc
        raise


def _properties(path: Path, created: dt.datetime | dt.date, title: str | None) -> dict:
    if not isinstance(created, dt.datetime):
        created = dt.datetime(created.year, created.month, created.day)
    if created.tzinfo is not None:
        created = created.astimezone(dt.UTC).replace(tzinfo=None)
    return {
        "title": title or path.stem,
        "author": "ledgerflow",
        "comments": "Written by ledgerflow",
        "created": created,
    }


def clean_sheet_name(name: str, taken: set[str]) -> str:
    """``name`` made legal for Excel and unique among ``taken`` (which it extends).

    Rules: characters []:*?/\\ become "_", no leading or trailing apostrophe, at most
    31 characters, not empty, and unique ignoring case (as Excel compares them): a
    repeat gets " (2)", " (3)", ... within the 31 characters.
    """
    cleaned = _BAD_SHEET_CHARS.sub("_", str(name)).strip().strip("'").strip()
    cleaned = cleaned[:MAX_SHEET_NAME].rstrip() or "Sheet"
    if cleaned.lower() == "history":  # reserved by Excel
        cleaned = f"{cleaned}_"
    candidate, number = cleaned, 1
    while candidate.lower() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = cleaned[: MAX_SHEET_NAME - len(suffix)].rstrip() + suffix
    taken.add(candidate.lower())
    return candidate


def display_width(text: str) -> int:
    """Columns ``text`` takes on screen: East Asian wide characters count double."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# names repeat from sheet to sheet; measuring Hangul goes character by character
_text_width = functools.lru_cache(maxsize=1 << 16)(display_width)


class _Styles:
    """The workbook's formats, created once each in a fixed order (same bytes)."""

    def __init__(self, workbook: xlsxwriter.Workbook):
        self.workbook = workbook
        self.cache: dict[tuple, Any] = {}
        self.header = workbook.add_format(
            {
                "bold": True,
                "bg_color": HEADER_FILL,
                "bottom": 1,
                "text_wrap": True,
                "valign": "top",
            }
        )
        self.heading = workbook.add_format({"bold": True})

    def cell(self, num_format: str | None, highlight: bool, total: bool):
        key = (num_format, highlight, total)
        if key not in self.cache:
            spec: dict[str, Any] = {}
            if num_format:
                spec["num_format"] = num_format
            if highlight:
                spec["bg_color"] = HIGHLIGHT_FILL
            if total:
                spec.update(bold=True, top=1)
            self.cache[key] = self.workbook.add_format(spec) if spec else None
        return self.cache[key]


@dataclass
class _Column:
    key: str
    kind: str
    header: str
    num_format: str | None
    values: list  # float | int | str | bool | datetime | None, one per row
    infinite_rows: list[int] = field(default_factory=list)
    cut_rows: list[int] = field(default_factory=list)
    # what ``values`` holds besides None: "numbers", "bools", "dates", "text", or
    # "mixed" (anything, one type check per value)
    shape: str = "mixed"
    # for "numbers": the values that decide the width (largest, smallest, -0.0)
    extremes: list = field(default_factory=list)
    # for every shape but "mixed": True where ``values`` holds None
    empty: np.ndarray | None = None


def _write_sheet(sheet, spec: SheetSpec, lang: str, styles: _Styles) -> None:
    frame = spec.frame
    notes = list(spec.notes)

    # rows beyond Excel's sheet limit cannot be shown; say so rather than fail
    if len(frame) > MAX_DATA_ROWS:
        notes.append(labels.phrase("rows_cut", lang, count=len(frame) - MAX_DATA_ROWS))
        log.warning("%s: %d rows beyond the sheet limit", spec.title_key, len(frame))
        frame = frame.iloc[:MAX_DATA_ROWS]
    keys = [key for key in spec.columns if key in frame.columns]
    columns = [_prepare_column(frame, key, lang, spec) for key in keys]
    marked = _highlight_mask(spec.highlight, len(spec.frame))[: len(frame)]

    for col, column in enumerate(columns):
        _write_value(sheet, 0, col, column.header, styles.header)
    _write_rows(sheet, columns, marked, styles)

    # the total row sits right under the data; people and SUM() see it as such
    last_row = len(frame)
    if spec.total is not None and columns:
        last_row += 1
        _write_total(sheet, last_row, columns, spec.total, len(frame), lang, styles)

    for column in columns:
        notes.extend(_column_notes(column, lang))
    if not len(frame):
        notes.insert(0, labels.phrase("no_rows", lang))
    if notes:
        sheet.write_string(
            last_row + 2, 0, labels.phrase("notes_heading", lang), styles.heading
        )
        for offset, note in enumerate(notes, start=3):
            sheet.write_string(last_row + offset, 0, _cut(str(note))[0])

    if columns:
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)
        for col, column in enumerate(columns):
            sheet.set_column(col, col, _width(column))
        # codes such as 00123 are text on purpose: no green "number as text" flags
        last = xl_rowcol_to_cell(max(last_row, 1), len(columns) - 1)
        sheet.ignore_errors({"number_stored_as_text": f"A1:{last}"})


def _write_rows(sheet, columns: list[_Column], marked: np.ndarray, styles) -> None:
    """The data cells, each through the xlsxwriter call ``_write_value`` would pick,
    without the A1-notation wrapper (rows and columns are ints).

    The order matters for the bytes in two ways only: xlsxwriter numbers shared
    strings in the order they are first written, and in constant_memory mode it
    flushes a row as soon as a later row is written. Otherwise a cell lands in its
    own (row, col) slot whatever the order, so numbers, dates and flags are written
    a column at a time, and text in reading order (row by row, left to right).
    """
    if not columns or not len(marked):
        return
    plain, highlighted = _row_styles(columns, marked, styles)
    streaming = getattr(sheet, "constant_memory", True)
    if streaming or any(column.empty is None for column in columns):
        _write_in_reading_order(sheet, columns, marked, plain, highlighted)
    else:
        _write_by_column(sheet, columns, marked, plain, highlighted)


def _write_in_reading_order(sheet, columns, marked, plain, highlighted) -> None:
    writers = [_column_writers(sheet, column) for column in columns]
    values = [column.values for column in columns]
    numbers = range(len(columns))
    rows = zip(
        marked.tolist(),
        zip(*writers, strict=True),
        zip(*values, strict=True),
        strict=True,
    )
    for row, (highlight, row_writers, row_values) in enumerate(rows, start=1):
        row_styles = highlighted if highlight else plain
        for col, write, value, style in zip(
            numbers, row_writers, row_values, row_styles, strict=True
        ):
            write(row, col, value, style)


def _write_by_column(sheet, columns, marked, plain, highlighted) -> None:
    """Every cell of ``columns`` (none "mixed"; xlsxwriter keeping rows in memory)
    with the loops in C: map() over prepared rows, values and styles."""
    count = len(marked)
    rows = np.arange(1, count + 1)
    shown = np.empty((count, len(columns)), dtype=bool)
    cell_styles = np.empty((count, len(columns)), dtype=object)
    for col, column in enumerate(columns):
        shown[:, col] = ~column.empty
        choice = np.empty(2, dtype=object)
        choice[0] = plain[col] if plain is not None else None
        choice[1] = highlighted[col] if highlighted is not None else None
        cell_styles[:, col] = choice[marked.astype(np.intp)]
    blank = _undecorated(sheet, "write_blank")
    texts = []
    for col, column in enumerate(columns):
        empty = column.empty
        if empty.any():  # only a formatted blank is written; any order will do
            _call_each(
                blank,
                rows[empty].tolist(),
                itertools.repeat(col),
                itertools.repeat(None),
                cell_styles[empty, col].tolist(),
            )
        if column.shape == "text":
            texts.append(col)
            continue
        keep = ~empty
        _call_each(
            _undecorated(sheet, _SHAPE_WRITERS[column.shape]),
            rows[keep].tolist(),
            itertools.repeat(col),
            itertools.compress(column.values, keep.tolist()),
            cell_styles[keep, col].tolist(),
        )
    if texts:
        # reading order: the flat, row-major positions of the text cells
        grid = np.empty((count, len(texts)), dtype=object)
        for index, col in enumerate(texts):
            grid[:, index] = columns[col].values
        cells = np.flatnonzero(shown[:, texts].ravel())
        text_cols = np.asarray(texts)[cells % len(texts)]
        _call_each(
            _undecorated(sheet, "write_string"),
            (cells // len(texts) + 1).tolist(),
            text_cols.tolist(),
            grid.ravel()[cells].tolist(),
            cell_styles[:, texts].ravel()[cells].tolist(),
        )


def _call_each(write, *arguments) -> None:
    """write(*cell) for each cell of the zipped ``arguments``, looping in C."""
    collections.deque(map(write, *arguments), maxlen=0)


def _row_styles(columns: list[_Column], marked: np.ndarray, styles) -> tuple:
    """The plain and highlighted style of each column, (plain, highlighted).

    Formats are made in the order the cells first need them (the first row's kind
    first, across the columns; then the other kind if any row has it), so the
    workbook's format table is the same as when each cell asked for its own.
    """
    first = bool(marked[0])
    states = [first] if bool((marked == first).all()) else [first, not first]
    made = {
        state: [styles.cell(column.num_format, state, False) for column in columns]
        for state in states
    }
    return made.get(False), made.get(True)


def _column_writers(sheet, column: _Column) -> list:
    """The xlsxwriter call of each cell of ``column`` (see ``_write_value``)."""
    calls = {name: _undecorated(sheet, name) for name in _WRITERS}
    blank = calls["write_blank"]
    if column.shape == "mixed":
        return [blank if v is None else calls[_writer_of(v)] for v in column.values]
    write = calls[_SHAPE_WRITERS[column.shape]]
    return [blank if value is None else write for value in column.values]


_SHAPE_WRITERS = {
    "numbers": "write_number",
    "bools": "write_boolean",
    "dates": "write_datetime",
    "text": "write_string",
}
_WRITERS = ("write_blank", *_SHAPE_WRITERS.values())


def _undecorated(sheet, name: str):
    """xlsxwriter's ``_<name>``: ``<name>`` without the A1-notation wrapper, which
    only turns "B3" into (2, 1) and costs a call per cell. The public method if a
    later xlsxwriter has no such twin."""
    return getattr(sheet, f"_{name}", None) or getattr(sheet, name)


def _writer_of(value) -> str:
    """The xlsxwriter call ``_write_value`` picks for a value other than None."""
    if isinstance(value, str):
        return "write_string"
    if isinstance(value, bool):
        return "write_boolean"
    if isinstance(value, dt.datetime):
        return "write_datetime"
    return "write_number"


def _prepare_column(frame: pd.DataFrame, key: str, lang: str, spec) -> _Column:
    series = frame[key]
    kind = labels.kind(key)
    num_format = NUMBER_FORMATS.get(kind)
    if kind == "money" and _money_decimals(series, spec) == 2:
        num_format = "#,##0.00"
    column = _Column(key, kind, labels.label(key, lang), num_format, [])
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    missing = series.isna().to_numpy(dtype=bool, na_value=True)
    prepare = _fast_preparer(series.dtype, kind)
    if prepare is None or not prepare(series, missing, column):
        _prepare_values(series, missing, column)
    return column


def _fast_preparer(dtype, kind: str):
    """The whole-column preparer for a column of ``dtype`` shown as ``kind``, or
    None when the values must be looked at one by one (object columns, and types
    the kind turns into text). Each gives exactly what ``_prepare_values`` would."""
    if isinstance(dtype, pd.StringDtype):
        return _prepare_text  # every converter keeps text as found
    numeric = kind in NUMERIC_KINDS
    if pd.api.types.is_bool_dtype(dtype):
        return _prepare_bools if numeric or kind == "bool" else None
    if pd.api.types.is_datetime64_dtype(dtype):
        return _prepare_dates if numeric or kind == "date" else None
    if not numeric:
        return None
    if pd.api.types.is_float_dtype(dtype):
        return _prepare_numbers
    if pd.api.types.is_integer_dtype(dtype):
        base = np.dtype(getattr(dtype, "numpy_dtype", dtype))
        return _prepare_numbers if base.kind == "i" or base.itemsize < 8 else None
    return None


def _prepare_numbers(series: pd.Series, missing: np.ndarray, column: _Column) -> bool:
    """Ints stay Python ints, floats Python floats; inf becomes empty, noted."""
    if pd.api.types.is_integer_dtype(series.dtype):
        data = series.to_numpy(dtype="int64", na_value=0)
        empty = missing
    else:
        data = series.to_numpy(dtype="float64", na_value=np.nan)
        infinite = np.isinf(data) & ~missing
        column.infinite_rows = (np.flatnonzero(infinite) + 2).tolist()
        empty = missing | infinite
    column.values = _with_none(data.tolist(), empty)
    column.shape, column.empty = "numbers", empty
    # widths: the formatted length grows with the size of the number, and a minus
    # sign (kept by Python even on -0.0) adds one, so these decide the widest
    sample = data[:WIDTH_SAMPLE_ROWS]
    shown = ~empty[:WIDTH_SAMPLE_ROWS]
    if shown.any():
        rows = np.flatnonzero(shown)
        picks = {rows[sample[rows].argmax()], rows[sample[rows].argmin()]}
        negative_zero = rows[(sample[rows] == 0) & np.signbit(sample[rows])]
        picks.update(negative_zero[:1])
        column.extremes = [column.values[row] for row in sorted(picks)]
    return True


def _prepare_bools(series: pd.Series, missing: np.ndarray, column: _Column) -> bool:
    data = series.to_numpy(dtype=bool, na_value=False)
    column.values = _with_none(data.tolist(), missing)
    column.shape, column.empty = "bools", missing
    return True


def _prepare_dates(series: pd.Series, missing: np.ndarray, column: _Column) -> bool:
    """Naive datetimes (time zones already in Asia/Seoul) to the microsecond, as
    Timestamp.to_pydatetime gives them; False for years Python cannot hold."""
    data = series.to_numpy().astype("datetime64[us]")
    shown = data[~missing]
    if len(shown) and (shown.min() < _FIRST_DAY or shown.max() > _LAST_DAY):
        return False
    column.values = _with_none(data.astype(object).tolist(), missing)
    column.shape, column.empty = "dates", missing
    return True


_FIRST_DAY = np.datetime64("0001-01-01", "us")
_LAST_DAY = np.datetime64("9999-12-31T23:59:59.999999", "us")


def _prepare_text(series: pd.Series, missing: np.ndarray, column: _Column) -> bool:
    values = _with_none(series.to_numpy(dtype=object, na_value=None).tolist(), missing)
    # only text longer than half the limit can be over it (see _cut)
    lengths = series.str.len().to_numpy(dtype=float, na_value=0)
    for row in np.flatnonzero(lengths > MAX_CELL_CHARS // 2).tolist():
        values[row], was_cut = _cut(values[row])
        if was_cut:
            column.cut_rows.append(row + 2)
    column.values = values
    column.shape, column.empty = "text", missing
    return True


def _with_none(values: list, empty: np.ndarray) -> list:
    for row in np.flatnonzero(empty).tolist():
        values[row] = None
    return values


def _prepare_values(series: pd.Series, missing: np.ndarray, column: _Column) -> None:
    """Convert value by value (object columns and the like)."""
    raw = series.astype(object).tolist()
    convert = _CONVERTERS.get(column.kind, _to_text)
    values = column.values
    for row, (value, is_missing) in enumerate(zip(raw, missing, strict=True)):
        if is_missing or value is None:
            values.append(None)
            continue
        value = convert(value)
        if isinstance(value, float) and math.isinf(value):
            column.infinite_rows.append(row + 2)
            value = None
        elif isinstance(value, str):
            value, was_cut = _cut(value)
            if was_cut:
                column.cut_rows.append(row + 2)
        values.append(value)


def _money_decimals(series: pd.Series, spec: SheetSpec) -> int:
    if spec.money_decimals is not None:
        return spec.money_decimals
    currency = spec.frame.attrs.get("currency")
    if currency:
        return 0 if str(currency).upper() in WHOLE_CURRENCIES else 2
    numbers = pd.to_numeric(series, errors="coerce").astype("Float64").dropna()
    numbers = numbers[np.isfinite(numbers.to_numpy(dtype=float))]
    return 0 if (numbers.round() == numbers).all() else 2


def _highlight_mask(highlight: pd.Series | None, rows: int) -> np.ndarray:
    if highlight is None:
        return np.zeros(rows, dtype=bool)
    if len(highlight) != rows:
        raise ValueError(
            f"highlight has {len(highlight)} values for {rows} rows; pass one boolean "
            "per row of the frame, in the frame's order"
        )
    mask = pd.Series(highlight).astype("boolean").fillna(False)
    return mask.to_numpy(dtype=bool)


def _to_number(value):
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return _to_date(value)
    return _to_text(value)  # text in a numeric column is shown as found


def _to_date(value):
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = pd.Timestamp(value).tz_convert(TIMEZONE).tz_localize(None)
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime(warn=False)
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return _to_text(value)


def _to_bool(value):
    if isinstance(value, bool | np.bool_):
        return bool(value)
    return _to_text(value)


def _to_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return "; ".join(str(item) for item in items if not _is_missing(item))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.strftime("%Y-%m-%d")
    return str(value)


def _is_missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


_CONVERTERS = {
    "money": _to_number,
    "int": _to_number,
    "number": _to_number,
    "percent": _to_number,
    "date": _to_date,
    "bool": _to_bool,
    "text": _to_text,
}


def _cut(text: str) -> tuple[str, bool]:
    """``text`` within Excel's 32,767 UTF-16 units, and whether it was cut."""
    if len(text) <= MAX_CELL_CHARS // 2:
        return text, False
    encoded = text.encode("utf-16-le", "surrogatepass")
    if len(encoded) <= 2 * MAX_CELL_CHARS:
        return text, False
    kept = encoded[: 2 * MAX_CELL_CHARS].decode("utf-16-le", "ignore")
    return kept, True


def _write_value(sheet, row: int, col: int, value, style) -> None:
    if value is None:
        if style is not None:
            sheet.write_blank(row, col, None, style)
    elif isinstance(value, str):
        sheet.write_string(row, col, value, style)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, style)
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(row, col, value, style)
    else:
        sheet.write_number(row, col, value, style)


def _write_total(sheet, row, columns, total, n_rows, lang, styles) -> None:
    position = {column.key: col for col, column in enumerate(columns)}
    # "Total" goes in the first text column that has no total of its own
    label_col = next(
        (
            col
            for col, c in enumerate(columns)
            if c.kind == "text" and _total_value(total.get(c.key), "text") is None
        ),
        None,
    )
    for col, column in enumerate(columns):
        style = styles.cell(column.num_format, False, True)
        value = total.get(column.key)
        if col == label_col:
            sheet.write_string(row, col, labels.phrase("total", lang), style)
        elif isinstance(value, ColumnSum):
            _write_sum(sheet, row, col, column, value, n_rows, style)
        elif isinstance(value, Ratio):
            _write_ratio(sheet, row, col, value, position, style)
        else:
            _write_value(sheet, row, col, _total_value(value, column.kind), style)


def _total_value(value, kind: str):
    if value is None or _is_missing(value):
        return None
    value = _CONVERTERS.get(kind, _to_text)(value)
    if isinstance(value, float) and math.isinf(value):
        return None
    return _cut(value)[0] if isinstance(value, str) else value


def _write_sum(sheet, row, col, column: _Column, total: ColumnSum, n_rows, style):
    value = total.value
    if value is None or _is_missing(value) or not math.isfinite(value):
        sheet.write_blank(row, col, None, style)
        return
    if column.shape == "numbers":  # ints and floats only, in the same order
        written = sum([v for v in column.values if v is not None])
    else:
        written = sum(
            v
            for v in column.values
            if isinstance(v, int | float) and not isinstance(v, bool)
        )
    if n_rows == 0 or not math.isclose(written, value, rel_tol=1e-9, abs_tol=1e-6):
        if n_rows:
            log.warning(
                "total of %s: given %s but the rows sum to %s; writing the value",
                column.key,
                value,
                written,
            )
        sheet.write_number(row, col, value, style)
        return
    first = xl_rowcol_to_cell(1, col)
    last = xl_rowcol_to_cell(n_rows, col)
    sheet.write_formula(row, col, f"=SUM({first}:{last})", style, value)


def _write_ratio(sheet, row, col, ratio: Ratio, position, style) -> None:
    value = ratio.value
    if value is None or _is_missing(value) or not math.isfinite(value):
        sheet.write_blank(row, col, None, style)
        return
    if ratio.numerator not in position or ratio.denominator not in position:
        sheet.write_number(row, col, value, style)
        return
    top = xl_rowcol_to_cell(row, position[ratio.numerator])
    bottom = xl_rowcol_to_cell(row, position[ratio.denominator])
    sheet.write_formula(row, col, f"={top}/{bottom}", style, value)


def _column_notes(column: _Column, lang: str) -> list[str]:
    notes = []
    for phrase, rows in (
        ("infinite_values", column.infinite_rows),
        ("cells_cut", column.cut_rows),
    ):
        if rows:
            shown = ", ".join(str(r) for r in rows[:10]) + (
                " ..." if len(rows) > 10 else ""
            )
            notes.append(
                labels.phrase(
                    phrase, lang, column=column.header, count=len(rows), rows=shown
                )
            )
    return notes


def _width(column: _Column) -> float:
    widest = max((display_width(part) for part in column.header.split()), default=0)
    widest = max(widest, min(display_width(column.header), 20))
    sample = column.values[:WIDTH_SAMPLE_ROWS]
    if column.shape == "numbers" and column.num_format:
        sample = column.extremes
    elif column.shape in ("bools", "dates"):
        # every value of these shows the same width (see _value_width)
        sample = [value for value in sample if value is not None][:1]
    elif column.shape == "text":
        sample = set(sample)
    for value in sample:
        widest = max(widest, _value_width(value, column.num_format))
    return min(widest + 2, MAX_COLUMN_WIDTH)


def _value_width(value, num_format: str | None) -> int:
    """Characters ``value`` shows with ``num_format`` (near enough for a width)."""
    if value is None:
        return 0
    if isinstance(value, str):
        return _text_width(value)
    if isinstance(value, bool):
        return 5
    if isinstance(value, dt.datetime):
        return 10
    if num_format == "0.0%":
        return len(f"{value:.1%}")
    decimals = len(num_format.rpartition(".")[2]) if "." in (num_format or "") else 0
    if num_format is None:
        return len(str(value))
    return len(f"{value:,.{decimals}f}")
