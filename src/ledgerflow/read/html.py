"""Workbooks that are really markup: HTML tables and Excel 2003 XML saved as .xls.

Many Korean ERPs and web systems offer "엑셀 다운로드" that writes an HTML table with an
.xls name; Excel opens it with a warning, pandas' Excel readers fail on it. Every
cell is read as text, like a CSV; colspan and rowspan are spread so that columns
stay aligned.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from defusedxml import ElementTree

from ledgerflow.errors import FileRefused
from ledgerflow.read.limits import MAX_COLUMNS, MAX_ROWS
from ledgerflow.read.text import decode

_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_SS = "{urn:schemas-microsoft-com:office:spreadsheet}"


class _TableParser(HTMLParser):
    """Collect every <table> as rows of cell texts (nested tables are flattened)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._rows: list[list[str]] | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = (1, 1)
        self._pending: dict[int, list[tuple[int, str]]] = {}  # rowspans still open

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._rows = []
            self._pending = {}
        elif tag == "tr" and self._rows is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._span = (_int(attrs.get("colspan")), _int(attrs.get("rowspan")))
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            text = " ".join("".join(self._cell).split())
            colspan, rowspan = self._span
            self._fill_spans()
            # a span past Excel's last column or row is no table: stop at one past
            # it, so the width check refuses the file instead of filling memory
            colspan = max(1, min(colspan, MAX_COLUMNS + 1 - len(self._row)))
            rowspan = min(rowspan, MAX_ROWS + 1)
            for i in range(colspan):
                column = len(self._row)
                self._row.append(text if i == 0 else "")
                if rowspan > 1:
                    self._pending[column] = [(rowspan - 1, text)]
            self._cell = None
        elif tag == "tr" and self._row is not None and self._rows is not None:
            self._fill_spans(final=True)
            self._rows.append(self._row)
            self._row = None
        elif tag == "table" and self._rows is not None:
            self.tables.append(self._rows)
            self._rows = None

    def _fill_spans(self, final: bool = False) -> None:
        """Insert the cells a rowspan above covers (they repeat its value)."""
        while True:
            column = len(self._row)
            pending = self._pending.get(column)
            if not pending:
                if final and any(k > column for k in self._pending):
                    self._row.append("")
                    continue
                return
            left, text = pending[0]
            self._row.append(text)
            if left > 1:
                self._pending[column] = [(left - 1, text)]
            else:
                del self._pending[column]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _int(value) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def read_html_tables(data: bytes) -> tuple[list[list[list[str]]], str]:
    """Every table of an HTML document as a grid of text cells; and the encoding."""
    declared = _CHARSET.search(data[:4096])
    text = encoding = None
    if declared:
        name = declared.group(1).decode("ascii").lower()
        name = "cp949" if name in ("euc-kr", "ks_c_5601-1987", "ksc5601") else name
        try:
            text, encoding = data.decode(name), name
        except (LookupError, UnicodeDecodeError):
            text = None
    if text is None:
        text, encoding = decode(data)
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    return [t for t in parser.tables if t], encoding


def read_xml_spreadsheet(data: bytes) -> list[tuple[str, list[list[str]]]]:
    """Sheets of an Excel 2003 XML spreadsheet as (name, grid of text cells).

    A row or cell index (ss:Index, ss:MergeAcross) that is not a whole number, or
    that points past Excel's last row or column, refuses the file: it cannot be a
    sheet Excel wrote, and filling the gap would fill memory.
    """
    root = ElementTree.fromstring(data)
    sheets = []
    for worksheet in root.iter(f"{_SS}Worksheet"):
        name = worksheet.get(f"{_SS}Name", "Sheet")
        grid: list[list[str]] = []
        for row in worksheet.iter(f"{_SS}Row"):
            if row.get(f"{_SS}Index"):
                index = _index(row.get(f"{_SS}Index"), MAX_ROWS, name, "row")
                while len(grid) < index - 1:
                    grid.append([])
            cells: list[str] = []
            for cell in row.iter(f"{_SS}Cell"):
                at = cell.get(f"{_SS}Index")
                if at:
                    cells += [""] * (
                        _index(at, MAX_COLUMNS, name, "cell") - 1 - len(cells)
                    )
                value = cell.find(f"{_SS}Data")
                text = "".join(value.itertext()) if value is not None else ""
                cells.append(text)
                merge = cell.get(f"{_SS}MergeAcross") or "0"
                cells += [""] * (
                    _index(merge, MAX_COLUMNS, name, "merge") if merge != "0" else 0
                )
                if len(cells) > MAX_COLUMNS:
                    break  # limits.check_grid refuses the sheet
            grid.append(cells)
        sheets.append((name, grid))
    return sheets


def _index(text: str, largest: int, sheet: str, what: str) -> int:
    """A 1-based ss:Index (or MergeAcross count) within Excel's limits."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not 1 <= number <= largest:
        raise FileRefused(
            "sheet_too_large" if number > largest else "file_corrupt",
            f"sheet {sheet!r}: a {what} index of {text!r} (expected 1 to {largest:,}); "
            "open the file in Excel, save it as xlsx and drop that",
        )
    return number
