"""Workbooks (xlsx, xlsm, xls) into grids of raw cells, plus what the grid cannot say.

Business rules:

- Values come from python-calamine (fast, reads the sheet XML itself, so a wrong
  dimension record or inline strings of a "web export" do no harm).
- Only visible sheets are read; hidden and very hidden ones are listed with their
  state, never loaded as data.
- The 1904 date system is read from xl/workbook.xml (``workbookPr date1904``) so that
  date serials stored as plain numbers are converted with the right epoch.
- Number formats matter only for code columns whose cells are numbers (457 shown as
  00457): they are looked up with openpyxl, and only when the workbook defines a
  format that pads with zeros at all.
- Formula cells are found in the sheet XML (``<f>``). A formula without a cached
  result, or a sheet whose every formula caches 0 (XlsxWriter's default), is not
  trusted: the file is refused, never loaded with 0s or blanks.
- ``engine="openpyxl"`` reads the values with openpyxl instead, for checking that both
  engines give one result; it is slower and meant for small files.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from defusedxml import ElementTree

from ledgerflow.errors import FileRefused
from ledgerflow.labels import message
from ledgerflow.read import limits

logger = logging.getLogger(__name__)

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z]+:)?f[\s>/]")
_ROOT_PREFIX = re.compile(rb"<([A-Za-z][\w.-]*):worksheet[\s>]")
# A <mergeCell> element (any prefix), its attributes; its ref, quoted either way.
_MERGE_TAG = re.compile(rb"<(?:[A-Za-z][\w.-]*:)?mergeCell\b(?!s)([^>]*)>")
_MERGE_ATTR = re.compile(rb"""(?:^|\s)ref\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_MERGE_REF = re.compile(
    rb"\$?([A-Za-z]{1,3})\$?([0-9]+)(?::\$?([A-Za-z]{1,3})\$?([0-9]+))?"
)
_MERGE_WORD = b"mergeCell"
# Cell types the column-wise reader does not take (see columnar.py): booleans, which
# fastexcel turns into 1.0 in a number column, and ISO date cells. Excel writes
# t="b"; XML also allows t='b' and spaces around "=" (one search starting at "t":
# about 2 ms a megabyte).
_SPECIAL_CELL = re.compile(rb"""t\s*=\s*["'][bd]["']""")
_ROW_NUMBER = re.compile(rb'\sr="([0-9]+)"')
_CHUNK = 1 << 22
# Visibility states as Excel writes them.
VISIBLE, HIDDEN, VERY_HIDDEN = "visible", "hidden", "veryHidden"


@dataclass
class Sheet:
    """One sheet of a workbook: its name, state and (once loaded) its cells."""

    name: str
    state: str
    rows: list[list] = field(default_factory=list)
    # (first_row, first_col, last_row, last_col), 0-based, inclusive.
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)


@dataclass
class Workbook:
    """An opened workbook; ``data`` is kept for the XML and number-format lookups."""

    data: bytes
    format: str
    sheets: list[Sheet]
    date1904: bool = False
    engine: str = "calamine"
    _calamine: object = None
    _xml_paths: dict[str, str] | None = None
    _padding_formats: bool | None = None
    _formula_tags: dict[str, bool] = field(default_factory=dict)
    # what the pre-scan of each xlsx sheet found (SheetScan), for the columnar path
    scans: dict[str, SheetScan] = field(default_factory=dict)
    limits: dict = field(default_factory=dict)  # [read] settings (limits.DEFAULTS)

    # ------------------------------------------------------------------ values

    def load(self, sheet: Sheet) -> Sheet:
        """Fill ``sheet.rows`` (row 0 is Excel row 1) and ``sheet.merges``.

        Before an engine sees an xlsx sheet, one pass over its XML bounds the used
        range (limits.py: one far-away cell makes calamine lay out billions of cells
        and abort the process) and notes whether the sheet holds formulas.
        """
        try:
            if self.format == "xlsx" and sheet.name not in self.scans:
                self._check_extent(sheet.name)
            if self.engine == "openpyxl" and self.format == "xlsx":
                return self._load_openpyxl(sheet)
            return self._load_calamine(sheet)
        except FileRefused:
            raise
        except Exception as exc:  # the engines raise their own types for bad parts
            raise _damaged(sheet, exc) from exc

    def check_sheet(self, sheet: Sheet) -> SheetScan | None:
        """The pre-scan of an xlsx sheet (size limits, formulas; see load), once.

        None when the sheet's XML part is unknown or the workbook is not xlsx.
        """
        if self.format != "xlsx":
            return None
        if sheet.name not in self.scans:
            try:
                self._check_extent(sheet.name)
            except FileRefused:
                raise
            except Exception as exc:  # a damaged part: refused as load refuses it
                raise _damaged(sheet, exc) from exc
        return self.scans.get(sheet.name)

    def sheet_part(self, name: str) -> str | None:
        """The path of a sheet's XML part inside the xlsx archive, or None."""
        return self._sheet_xml_path(name)

    def has_padding_formats(self) -> bool:
        """True when the workbook defines a number format that pads with zeros."""
        return self.format == "xlsx" and self._has_padding_formats()

    def _check_extent(self, name: str) -> None:
        """FileRefused("sheet_too_large") when the sheet's used range is too big."""
        path = self._sheet_xml_path(name)
        # unknown part (broken relationships): bound every worksheet in the archive
        paths = [path] if path else _worksheet_parts(self.data)
        for part in paths:
            scan = _scan_sheet(self.data, part)
            rows, columns = scan.rows, scan.columns
            if rows * columns > limits.setting(self.limits, "max_sheet_cells"):
                with (
                    zipfile.ZipFile(io.BytesIO(self.data)) as archive,
                    archive.open(part) as stream,
                ):
                    rows, columns = limits.exact_extent(stream)
                limits.check_extent(name, rows, columns, self.limits)
            if part == path:
                self._formula_tags[name] = scan.formulas
                self.scans[name] = scan

    def _search_formulas(self, name: str, path: str) -> None:
        self._formula_tags[name] = _has_formula_tag(self.data, path)

    def _load_calamine(self, sheet: Sheet) -> Sheet:
        found = self._calamine.get_sheet_by_name(sheet.name)
        sheet.rows = found.to_python(skip_empty_area=False)
        try:
            merged = found.merged_cell_ranges or []
        except Exception:  # merges are a nicety; xls files may not carry them
            merged = []
        sheet.merges = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in merged]
        return sheet

    def _load_openpyxl(self, sheet: Sheet) -> Sheet:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(self.data), data_only=True)
        ws = book[sheet.name]
        sheet.rows = [
            ["" if v is None else v for v in row]
            for row in ws.iter_rows(min_row=1, min_col=1, values_only=True)
        ]
        sheet.merges = [
            (m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1)
            for m in ws.merged_cells.ranges
        ]
        return sheet

    # --------------------------------------------------------- number formats

    def _has_padding_formats(self) -> bool:
        """True when styles.xml defines a number format that shows leading zeros."""
        if self._padding_formats is None:
            self._padding_formats = False
            try:
                styles = _zip_read(self.data, "xl/styles.xml")
            except KeyError:
                return False
            root = ElementTree.fromstring(styles)
            for fmt in root.iter(f"{_MAIN_NS}numFmt"):
                code = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", fmt.get("formatCode", ""))
                integer_part = code.split(";")[0].split(".")[0]
                if integer_part.count("0") >= 2:
                    self._padding_formats = True
                    break
        return self._padding_formats

    def number_formats(
        self, sheet: Sheet, row_range: tuple[int, int], columns: list[int]
    ) -> dict[int, dict[int, str]] | None:
        """Number format of each cell: {col: {row: format}} (0-based), or None.

        xlsx: only workbooks that define a zero-padding format need this (openpyxl,
        read-only); for the rest the answer is None and no second pass is made.
        xls: xlrd's formatting records.
        """
        if not columns:
            return None
        if self.format == "xls":
            return _xls_number_formats(self.data, sheet.name, row_range, columns)
        if self.format != "xlsx" or not self._has_padding_formats():
            return None
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(self.data), read_only=True)
        try:
            ws = book[sheet.name]
            ws.reset_dimensions()  # web exports declare a wrong dimension
            first, last = row_range
            found: dict[int, dict[int, str]] = {c: {} for c in columns}
            low, high = min(columns), max(columns)
            for r, row in enumerate(
                ws.iter_rows(
                    min_row=first + 1,
                    max_row=last + 1,
                    min_col=low + 1,
                    max_col=high + 1,
                ),
                start=first,
            ):
                for cell in row:
                    col = getattr(cell, "column", None)
                    if col is not None and col - 1 in found:
                        found[col - 1][r] = cell.number_format
            return found
        finally:
            book.close()

    # --------------------------------------------------------------- formulas

    def _sheet_xml_path(self, name: str) -> str | None:
        if self._xml_paths is None:
            self._xml_paths = _sheet_paths(self.data)
        return self._xml_paths.get(name)

    def formula_problem(self, sheet: Sheet) -> str | None:
        """Why the sheet's formula results cannot be trusted, or None if they can."""
        if self.format != "xlsx":
            return None
        path = self._sheet_xml_path(sheet.name)
        if path is None:
            return None
        if sheet.name not in self._formula_tags:
            self._search_formulas(sheet.name, path)
        if not self._formula_tags[sheet.name]:
            return None
        missing, zero, total, examples = _formula_cells(self.data, path)
        if missing:
            return message(
                "formula_results_missing",
                sheet=sheet.name,
                missing=missing,
                total=total,
                cells=", ".join(examples["missing"][:3]),
            )
        if total >= 2 and zero == total:
            return message(
                "formula_results_zero",
                sheet=sheet.name,
                total=total,
                cells=", ".join(examples["zero"][:3]),
            )
        return None


def _damaged(sheet: Sheet, exc: Exception) -> FileRefused:
    return FileRefused(
        "file_corrupt",
        f"sheet {sheet.name!r} is damaged ({type(exc).__name__}: {exc}); open "
        "the file in Excel, save it as xlsx and drop it again",
    )


def _zip_read(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def _sheet_paths(data: bytes) -> dict[str, str]:
    """Sheet name -> its XML part, from workbook.xml and its relationships."""
    try:
        book = ElementTree.fromstring(_zip_read(data, "xl/workbook.xml"))
        rels = ElementTree.fromstring(_zip_read(data, "xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {
        rel.get("Id"): rel.get("Target", "")
        for rel in rels.iter(f"{_PKG_REL_NS}Relationship")
    }
    paths = {}
    for sheet in book.iter(f"{_MAIN_NS}sheet"):
        target = targets.get(sheet.get(f"{_REL_NS}id"), "")
        if not target:
            continue
        if target.startswith("/"):
            paths[sheet.get("name")] = target.lstrip("/")
        else:
            paths[sheet.get("name")] = str(PurePosixPath("xl") / target)
    return paths


@dataclass
class SheetScan:
    """What one streaming pass over a sheet's XML found.

    ``rows``/``columns`` are limits.SheetExtent's upper bounds; ``last_row`` is the
    number of the last <row> element (0 when it has none); ``merges`` are the merged
    ranges, 0-based and inclusive like Sheet.merges, or None when the end of the
    sheet data was not found near the end of the part.
    """

    rows: int
    columns: int
    formulas: bool
    last_row: int = 0
    special_cells: bool = False  # boolean (t="b") or ISO date (t="d") cells
    prefixed: bool = False  # elements written with a namespace prefix (<x:row>)
    merges: list[tuple[int, int, int, int]] | None = None


def _has_formula_tag(data: bytes, path: str) -> bool:
    """True when the sheet XML holds a formula element (see _scan_sheet)."""
    return _scan_sheet(data, path).formulas


def _scan_sheet(data: bytes, path: str) -> SheetScan:
    """Stream the sheet XML once: bounds of its used range, formulas and more.

    The bounds are limits.SheetExtent's. For formulas, one substring search per
    chunk: "<f" or, when the sheet writes its elements with a namespace prefix
    (``<x:worksheet>``), "<x:f"; the regex only confirms a hit. For the column-wise
    reader: boolean and ISO date cells (one search per chunk), and from the last
    two chunks the last row's number and the merged ranges (after </sheetData>).
    The merges are known (not None) only when no "mergeCell" appears before that
    </sheetData> (a <mergeCells> written before the cells, as XML allows) and each
    <mergeCell> after it has a ref that can be read.
    """
    extent = limits.SheetExtent()
    found = special = prefixed = False
    first_merge = -1  # offset in the part of the first "mergeCell", if any
    offset = 0  # bytes of the part before the current chunk
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(path) as stream:
        tail = b""
        needle = b"<f"
        prefix_tag = b""
        first = True
        before = last = b""
        while chunk := stream.read(_CHUNK):
            window = tail + chunk
            if first:
                first = False
                prefix = _ROOT_PREFIX.search(window[:4096])
                if prefix:
                    needle = b"<" + prefix.group(1) + b":f"
                    prefix_tag = prefix.group(1) + b":"
                    prefixed = True
            extent.update(window)
            if not found and needle in window and _FORMULA_TAG.search(window):
                found = True
            special = special or _SPECIAL_CELL.search(window) is not None
            if first_merge < 0 and (at := window.find(_MERGE_WORD)) >= 0:
                first_merge = offset - len(tail) + at
            tail = window[-64:]
            before, last = last, chunk
            offset += len(chunk)
    end = before + last
    end_at = offset - len(end)  # offset of ``end`` in the part
    last_row = 0
    at = end.rfind(b"<" + prefix_tag + b"row ")
    if at >= 0 and (number := _ROW_NUMBER.search(end, at, end.find(b">", at) + 1)):
        last_row = int(number.group(1))
    merges = None
    data_end = end.rfind(b"</" + prefix_tag + b"sheetData>")
    data_found = data_end >= 0 or b"<" + prefix_tag + b"sheetData/>" in end
    # a "mergeCell" before </sheetData>: merges may be anywhere (None)
    merges_after = data_end < 0 or first_merge < 0 or first_merge >= end_at + data_end
    if data_found and merges_after:
        merges = _merge_ranges(end[max(data_end, 0) :])
    return SheetScan(
        rows=extent.rows,
        columns=extent.columns,
        formulas=found,
        last_row=last_row,
        special_cells=special,
        prefixed=prefixed,
        merges=None if merges is None else list(dict.fromkeys(merges)),
    )


def _merge_ranges(window: bytes) -> list[tuple[int, int, int, int]] | None:
    """(first_row, first_col, last_row, last_col), 0-based, of <mergeCell> refs.

    None when a "mergeCell" in ``window`` is not an element whose ref reads
    (the caller then cannot say where the merges are).
    """
    found = []
    elements = 0
    for attributes in _MERGE_TAG.findall(window):
        elements += 1
        ref = _MERGE_ATTR.search(attributes)
        cells = ref and _MERGE_REF.fullmatch(ref.group(1) or ref.group(2) or b"")
        if not cells:
            return None
        c0, r0, c1, r1 = cells.groups()
        first_col = limits.column_number(c0.upper()) - 1
        first_row = int(r0) - 1
        last_col = limits.column_number(c1.upper()) - 1 if c1 else first_col
        last_row = int(r1) - 1 if r1 else first_row
        found.append((first_row, first_col, last_row, last_col))
    closing = len(re.findall(rb"</(?:[A-Za-z][\w.-]*:)?mergeCell>", window))
    words = len(re.findall(rb"mergeCell(?!s)", window))
    if words != elements + closing:
        return None
    return found


def _worksheet_parts(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [
            n
            for n in archive.namelist()
            if n.startswith("xl/worksheets/") and n.endswith(".xml")
        ]


def _formula_cells(data: bytes, path: str) -> tuple[int, int, int, dict]:
    """(missing results, zero results, formula cells, example refs) of one sheet."""
    missing = zero = total = 0
    examples: dict[str, list[str]] = {"missing": [], "zero": []}
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(path) as stream:
        for _event, element in ElementTree.iterparse(stream, events=("end",)):
            if element.tag.rsplit("}", 1)[-1] != "c":
                continue
            children = {child.tag.rsplit("}", 1)[-1]: child for child in element}
            if "f" in children:
                total += 1
                value = children.get("v")
                text = None if value is None else (value.text or "")
                ref = element.get("r", "?")
                if text is None or (text == "" and element.get("t") != "str"):
                    missing += 1
                    examples["missing"].append(ref)
                elif element.get("t") in (None, "n") and _is_zero(text):
                    zero += 1
                    examples["zero"].append(ref)
            element.clear()
    return missing, zero, total, examples


def _is_zero(text: str) -> bool:
    try:
        return float(text) == 0.0
    except ValueError:
        return False


def _date1904(data: bytes) -> bool:
    try:
        root = ElementTree.fromstring(_zip_read(data, "xl/workbook.xml"))
    except (KeyError, ElementTree.ParseError):
        return False
    for pr in root.iter(f"{_MAIN_NS}workbookPr"):
        return pr.get("date1904", "").lower() in ("1", "true")
    return False


def _xls_number_formats(
    data: bytes, sheet_name: str, row_range: tuple[int, int], columns: list[int]
) -> dict[int, dict[int, str]] | None:
    """Number formats of cells in a legacy xls, from its XF records (xlrd)."""
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True)
        sheet = book.sheet_by_name(sheet_name)
    except Exception:  # xlrd only adds formats; calamine already read the values
        logger.debug("xls number formats unavailable", exc_info=True)
        return None
    found: dict[int, dict[int, str]] = {c: {} for c in columns}
    first, last = row_range
    for r in range(first, min(last + 1, sheet.nrows)):
        for c in columns:
            if c >= sheet.ncols:
                continue
            xf = book.xf_list[sheet.cell_xf_index(r, c)]
            fmt = book.format_map.get(xf.format_key)
            if fmt is not None:
                found[c][r] = fmt.format_str
    return found


def _xls_date1904(data: bytes) -> bool:
    try:
        import xlrd

        return bool(xlrd.open_workbook(file_contents=data, on_demand=True).datemode)
    except Exception:  # xlrd is only asked about the epoch; calamine reads the data
        return False


_STATES = {"Visible": VISIBLE, "Hidden": HIDDEN, "VeryHidden": VERY_HIDDEN}


def open_workbook(
    data: bytes, fmt: str, engine: str = "calamine", settings: dict | None = None
) -> Workbook:
    """Open an xlsx/xls workbook held in memory; FileRefused when it is damaged.

    ``settings`` are the [read] settings; the limits of limits.py are taken there.
    """
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types and plain ones
        raise FileRefused(
            "file_corrupt",
            f"the {fmt} workbook could not be opened ({type(exc).__name__}: {exc}); "
            "open it in Excel, save it as xlsx and drop it again",
        ) from exc
    sheets = []
    for meta in book.sheets_metadata:
        if str(getattr(meta, "typ", "")).endswith("ChartSheet"):
            continue
        visible = str(meta.visible).rsplit(".", 1)[-1]
        sheets.append(Sheet(meta.name, _STATES.get(visible, VISIBLE)))
    date1904 = _date1904(data) if fmt == "xlsx" else _xls_date1904(data)
    return Workbook(
        data=data,
        format=fmt,
        sheets=sheets,
        date1904=date1904,
        engine=engine,
        _calamine=book,
        limits=dict(settings or {}),
    )
