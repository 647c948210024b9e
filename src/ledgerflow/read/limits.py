"""Limits checked before a workbook is handed to a parser: bombs and far-away cells.

A workbook is a zip of XML parts, and its parsers trust it: python-calamine inflates
a part whole and lays a sheet out as one dense block from A1 to its last cell, so a
1 MB file can ask for gigabytes (a zip bomb, or one value in XFD1048576: 17 billion
cells, which aborts the process). These checks run first and refuse such a file with
a clear rule; every limit is a setting of ``[read]`` (defaults in DEFAULTS).

Business rules (each refusal names the part and the figure found):

- ``zip_too_many_parts``: more parts in the archive than ``max_zip_parts``.
- ``zip_bomb``: the parts would inflate to more than ``max_unzipped_bytes`` in all,
  or a part larger than ``ratio_floor_bytes`` inflates more than ``max_zip_ratio``
  times its packed size (real exports pack about 5-30 times), or a part's packed
  size is larger than its declared size allows (the declared size is a lie).
- ``xml_dtd``: an XML part carries a document type declaration (``<!DOCTYPE``),
  which Office never writes (ECMA-376 forbids it) and which is how entity expansion
  ("billion laughs") and external entities get in. Nothing is expanded: the part is
  refused before any parser sees it. Our own XML reading uses defusedxml as well.
- ``sheet_too_large``: a sheet's used range, from A1 to its last row and column, has
  more than ``max_sheet_cells`` cells (a far-away cell, a million empty columns), or
  a text/HTML/XML export has a row wider than Excel's 16,384 columns.

One more ``[read]`` setting lives in DEFAULTS though it limits nothing:
``columnar_min_rows`` (20,000), the size from which an xlsx sheet is read
column-wise (see columnar.py); 0 reads every xlsx sheet that way.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from ledgerflow.errors import FileRefused

DEFAULTS = {
    "max_zip_parts": 10_000,
    "max_unzipped_bytes": 1 << 30,
    "max_zip_ratio": 200,
    "ratio_floor_bytes": 16 << 20,
    "max_sheet_cells": 30_000_000,
    # Not a limit: xlsx sheets whose last row is numbered this or more are read
    # column-wise (columnar.py, fastexcel); smaller ones row-wise (python-calamine).
    "columnar_min_rows": 20_000,
}
# Deflate never grows data by more than a few bytes per 16 KB block.
_DEFLATE_SLACK = 1.01
_PROLOG_CHUNK = 1 << 16
_DOCTYPE = (
    b"<!DOCTYPE",
    "<!DOCTYPE".encode("utf-16-le"),
    "<!DOCTYPE".encode("utf-16-be"),
)
_ROOT_START = re.compile(rb"<[A-Za-z_]")
# Cheap signals in the sheet XML: a column of two or three letters, a <row> or a cell
# reference numbered 1,000,000 or more (see SheetExtent).
_WIDE_COLUMN = re.compile(rb'c r="([A-Z]{2,3})[0-9]')
_BIG_ROW = re.compile(rb'row r="([0-9]{7,})"')
_FAR_CELL_ROW = re.compile(rb'c r="[A-Z]{1,3}([0-9]{7,})"')
_ANY_REF = re.compile(rb' r="([A-Z]{0,3})([0-9]+)"')
_CHUNK = 1 << 22
_OVERLAP = 64
# Excel's own limits: no export Excel can open goes past them.
MAX_COLUMNS = 16_384
MAX_ROWS = 1_048_576


def setting(settings: dict, key: str) -> int:
    """The ``[read]`` setting ``key``, or its default."""
    return int(settings.get(key, DEFAULTS[key]))


def check_package(data: bytes, settings: dict) -> None:
    """Refuse a zip workbook that is a bomb or carries a DTD (see module rules)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:  # sniff already opened it; a race is harmless
        raise FileRefused("file_corrupt", f"the zip is damaged ({exc})") from exc
    try:
        with archive:
            _check_archive(archive, settings)
    except FileRefused:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError) as exc:
        # zipfile raises these for damaged headers, streams and seek positions
        raise FileRefused(
            "file_corrupt",
            f"the xlsx zip is damaged ({type(exc).__name__}: {exc}); save it again "
            "from Excel or download it again",
        ) from exc


def _check_archive(archive: zipfile.ZipFile, settings: dict) -> None:
    infos = archive.infolist()
    limit = setting(settings, "max_zip_parts")
    if len(infos) > limit:
        raise FileRefused(
            "zip_too_many_parts",
            f"the workbook holds {len(infos):,} parts (the limit is {limit:,}); an "
            "export has a few dozen. Open it in Excel, save it as a new xlsx "
            "and drop that",
        )
    _check_sizes(infos, settings)
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rels", ".vml")):
            _check_prolog(archive, info)


def _check_sizes(infos: list[zipfile.ZipInfo], settings: dict) -> None:
    total = sum(i.file_size for i in infos)
    limit = setting(settings, "max_unzipped_bytes")
    if total > limit:
        raise FileRefused(
            "zip_bomb",
            f"the workbook would unpack to {total:,} bytes (the limit is {limit:,} "
            "bytes, setting read.max_unzipped_bytes); split the export by period or "
            "raise the limit if the file is genuine",
        )
    ratio_limit = setting(settings, "max_zip_ratio")
    floor = setting(settings, "ratio_floor_bytes")
    for info in infos:
        packed, size = info.compress_size, info.file_size
        deflated = info.compress_type != zipfile.ZIP_STORED
        if deflated and packed > size * _DEFLATE_SLACK + 64:
            raise FileRefused(
                "zip_bomb",
                f"part {info.filename} declares {size:,} bytes but packs {packed:,}: "
                "its declared size is false. Save the workbook again from Excel",
            )
        if size > floor and size > ratio_limit * max(packed, 1):
            raise FileRefused(
                "zip_bomb",
                f"part {info.filename} unpacks {size // max(packed, 1):,} times its "
                f"packed size ({packed:,} -> {size:,} bytes; the limit is "
                f"{ratio_limit} times, setting read.max_zip_ratio); a real export "
                "never packs like that",
            )


def _check_prolog(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse the part if a DOCTYPE comes before its root element."""
    seen = b""
    with archive.open(info) as stream:
        while chunk := stream.read(_PROLOG_CHUNK):
            seen = seen[-16:] + chunk
            # UTF-16 parts: drop the NUL bytes so the ASCII markup can be found
            probe = seen.replace(b"\x00", b"") if b"\x00" in seen else seen
            if any(mark in seen for mark in _DOCTYPE) or b"<!DOCTYPE" in probe:
                raise FileRefused(
                    "xml_dtd",
                    f"part {info.filename} declares a document type (<!DOCTYPE ...>), "
                    "which Excel never writes and which can expand entities or "
                    "read other files; the file was not opened. Ask the sender for a "
                    "workbook saved by Excel",
                )
            root = _ROOT_START.search(probe.replace(b"<?", b"  ").replace(b"<!", b"  "))
            if root is not None:
                return


class SheetExtent:
    """Upper bounds of a sheet's last row and column, fed the sheet XML in chunks.

    Cheap searches only; without a two-letter column the last column is taken as
    Z (26); the last row is the largest <row> or cell reference numbered 1,000,000
    or more, else 999,999. When these bounds exceed the limit, ``exact_extent``
    reads every reference to decide.
    """

    def __init__(self) -> None:
        self.rows, self.columns = 999_999, 26

    def update(self, window: bytes) -> None:
        for letters in set(_WIDE_COLUMN.findall(window)):
            self.columns = max(self.columns, column_number(letters))
        for digits in _BIG_ROW.findall(window):
            self.rows = max(self.rows, int(digits))
        for digits in _FAR_CELL_ROW.findall(window):
            self.rows = max(self.rows, int(digits))


def exact_extent(stream: io.BufferedIOBase) -> tuple[int, int]:
    """(last row, last column) named by any reference in a sheet XML (slow pass)."""
    last_col = last_row = 0
    tail = b""
    while chunk := stream.read(_CHUNK):
        window = tail + chunk
        for letters, digits in _ANY_REF.findall(window):
            last_row = max(last_row, int(digits))
            if letters:
                last_col = max(last_col, column_number(letters))
        tail = window[-_OVERLAP:]
    return last_row, last_col


def column_number(letters: bytes) -> int:
    """Excel column letters to a 1-based number: A -> 1, Z -> 26, XFD -> 16384."""
    number = 0
    for ch in letters:
        number = number * 26 + (ch - 64)
    return number


def check_extent(sheet: str, rows: int, columns: int, settings: dict) -> None:
    """Refuse a sheet whose used range exceeds ``max_sheet_cells``."""
    limit = setting(settings, "max_sheet_cells")
    if rows * columns > limit:
        raise FileRefused(
            "sheet_too_large",
            f"sheet {sheet!r} reaches row {rows:,} and column {columns:,}: "
            f"{rows * columns:,} cells (the limit is {limit:,}, setting "
            "read.max_sheet_cells); a stray value far from the table does this. "
            "Delete the empty rows and columns after the table in Excel (Ctrl+End "
            "shows the last cell) and save again",
        )


def check_grid(sheet: str, grid: list[list], settings: dict) -> None:
    """Refuse a grid wider than Excel allows or with more than ``max_sheet_cells``.

    Text, HTML and XML exports are not bounded by Excel: a 10 MB line of commas is a
    row of five million cells. No export Excel can open is wider than 16,384 columns.
    """
    columns = max((len(row) for row in grid), default=0)
    where = f"sheet {sheet!r}" if sheet else "the text"
    if columns > MAX_COLUMNS:
        raise FileRefused(
            "sheet_too_large",
            f"{where} has a row of {columns:,} cells; Excel stops at {MAX_COLUMNS:,} "
            "columns, so this is not a table export. Check the separator, or export "
            "the data again",
        )
    check_extent(sheet, len(grid), columns, settings)
