"""The read stage: every dropped export into canonical tables, or a clear refusal.

Public API:

- ``list_inputs(folder)``: the files to read, sorted, without lock/temp files.
- ``load_profiles(folder=None)``: the source profiles (schemas/profiles/*.toml).
- ``read_file(path, config, profiles=None)``: one file into a ``FileRead``.

Business rules of ``read_file``:

- The format is decided by content (see sniff.py): xlsx/xlsm, legacy xls, encrypted
  OOXML (opened in memory with the password from the environment variable named by
  ``config["read"]["password_env"]``), HTML or text saved as .xls, csv/tsv/txt.
- In a workbook only visible sheets are read; each one whose header matches a
  profile becomes one TableRead. Hidden, very hidden, empty and unrecognised sheets
  are listed in ``ignored_sheets`` with the reason.
- A file that cannot be used at all is refused (``FileRead.refused``) with a rule
  code and a detail that says what was expected, what was found and what to do. Bad
  input never raises; other files are unaffected.
"""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd
from defusedxml import DefusedXmlException

from ledgerflow import tables
from ledgerflow.errors import FileRefused
from ledgerflow.labels import message
from ledgerflow.read import limits as _limits
from ledgerflow.read import sniff as _sniff
from ledgerflow.read.columnar import Fallback
from ledgerflow.read.header import NearMiss, cell_label, find_header
from ledgerflow.read.layout import RowRules, declared_period
from ledgerflow.read.profiles import Profile, load_profiles, normalise_header
from ledgerflow.read.table import AmbiguousCells, SheetContext, build_table
from ledgerflow.read.text import read_text

__all__ = [
    "Profile",
    "list_archived",
    "list_inputs",
    "load_profiles",
    "normalise_header",
    "read_file",
]

logger = logging.getLogger(__name__)

SKIPPED_FOLDERS = ("archive", "rejected")
_SYSTEM_FILES = ("thumbs.db", "desktop.ini")
_DEFAULT_SCAN_ROWS = 30
_DEFAULT_PASSWORD_ENV = "LEDGERFLOW_XLSX_PASSWORD"


# --------------------------------------------------------------------- listing


def _is_junk(name: str) -> bool:
    """Lock files, temp files and hidden files that no person dropped as an export."""
    lowered = name.lower()
    return (
        name.startswith(("~$", "."))  # Excel lock files; dotfiles, .~lock.x.csv#
        or lowered.endswith(".tmp")  # ~WRL0001.tmp and other temp files
        or lowered in _SYSTEM_FILES
    )


def list_inputs(folder: Path) -> list[Path]:
    """The files under ``folder`` to read, sorted by their NFC path.

    - Sub-folders are searched, except archive/ and rejected/ (files already dealt
      with) and hidden folders.
    - Skipped: Excel lock files (``~$매출.xlsx``), temp files (``~*.tmp``, LibreOffice
      ``.~lock.*#``), hidden dotfiles, Thumbs.db and desktop.ini.
    - Paths are returned as they are on disk, so a Hangul name stored decomposed
      (NFD, from a Mac) opens; the order uses the composed (NFC) spelling.
    """
    folder = Path(folder)
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [
            d
            for d in dirs
            if not d.startswith(".")
            and unicodedata.normalize("NFC", d).lower() not in SKIPPED_FOLDERS
        ]
        for name in files:
            if not _is_junk(unicodedata.normalize("NFC", name)):
                found.append(Path(root) / name)
    return sorted(
        found,
        key=lambda p: unicodedata.normalize("NFC", p.relative_to(folder).as_posix()),
    )


def _refuse(result: tables.FileRead, rule: str, detail: str) -> None:
    """Mark ``result`` refused as a whole: no table of it is used."""
    result.refused = tables.Reject.for_file(result.name, rule, detail)
    result.tables = []


def list_archived(folder: Path) -> list[Path]:
    """The exports earlier runs moved to ``folder``/archive/<YYYY-MM>/.

    They are history, not new input: a run reads them too (from the store, as a
    rule, so cheaply) so that year-to-date figures and the annual evaluation keep
    the months already archived. Sorted by their NFC path, oldest month first.
    """
    archived = Path(folder) / "archive"
    if not archived.is_dir():
        return []
    found = [
        Path(root) / name
        for root, dirs, files in os.walk(archived)
        for name in files
        if not _is_junk(unicodedata.normalize("NFC", name))
        and not any(part.startswith(".") for part in Path(root).parts)
    ]
    return sorted(
        found,
        key=lambda p: unicodedata.normalize("NFC", p.relative_to(folder).as_posix()),
    )


# --------------------------------------------------------------------- reading


def read_file(
    path: Path, config: dict[str, Any], profiles: list[Profile] | None = None
) -> tables.FileRead:
    """Read one export into canonical tables (see the module docstring)."""
    path = Path(path)
    name = unicodedata.normalize("NFC", path.name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        result = tables.FileRead(path, name, "", 0, "unknown")
        _refuse(
            result,
            "file_unreadable",
            f"the file could not be opened ({exc.strerror or exc}); close it in other "
            "programs and check the permissions",
        )
        return result
    result = tables.FileRead(
        path=path,
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        format="unknown",
    )
    if profiles is None:
        profiles = load_profiles()
    settings = config.get("read", {})
    try:
        _read_content(result, data, settings, profiles)
    except FileRefused as exc:
        _refuse(result, exc.rule, exc.detail)
    except DefusedXmlException as exc:  # XML markup Excel never writes
        _refuse(
            result,
            "xml_dtd",
            f"the XML declares entities or a document type ({type(exc).__name__}), "
            "which Excel never writes; the file was not read. Ask the sender for a "
            "workbook saved by Excel",
        )
    except Exception as exc:  # the contract: bad input never stops the run
        # one line for the user's log; the traceback only at debug level
        logger.warning(
            "%s: reading failed unexpectedly (%s: %s)", name, type(exc).__name__, exc
        )
        logger.debug("%s: traceback", name, exc_info=True)
        _refuse(
            result,
            "file_unreadable",
            f"the file could not be read ({type(exc).__name__}: {exc}); save it again "
            "as xlsx or csv and drop it again",
        )
    if result.refused:
        logger.warning("%s: refused (%s)", name, result.refused.rule)
    else:
        rows = sum(t.rows_read for t in result.tables)
        logger.info(
            "%s: %s, %d tables, %d rows read",
            name,
            result.format,
            len(result.tables),
            rows,
        )
    return result


def _read_content(
    result: tables.FileRead, data: bytes, settings: dict, profiles: list[Profile]
) -> None:
    fmt = _sniff.sniff(data)
    if fmt == "ole_encrypted":
        result.format = fmt
        env = settings.get("password_env", _DEFAULT_PASSWORD_ENV)
        data = _sniff.decrypt(data, env)
        result.notes.append(f"encrypted workbook opened with the password in ${env}")
        fmt = _sniff.sniff(data)
        if fmt not in ("xlsx", "xls"):
            raise FileRefused(
                "file_corrupt", "the decrypted content is not a workbook; save it again"
            )
    result.format = fmt
    if fmt == "xlsx":
        _limits.check_package(data, settings)  # bombs and DTDs, before any parser
    sheets: list[tuple[str, tuple[list[list], list]]] = []
    separator = None  # text files only: lets a profile rejoin a split text field
    if fmt in ("xlsx", "xls"):
        _read_workbook(result, data, fmt, settings, profiles)
        return
    if fmt == "html":
        from ledgerflow.read.html import read_html_tables

        grids, result.encoding = read_html_tables(data)
        sheets = [(f"table {i + 1}", (grid, [])) for i, grid in enumerate(grids)]
    elif fmt == "xml_spreadsheet":
        from ledgerflow.read.html import read_xml_spreadsheet

        sheets = [(sheet, (grid, [])) for sheet, grid in read_xml_spreadsheet(data)]
        result.encoding = "utf-8"
    else:
        text = read_text(data)
        result.encoding = text.encoding
        result.notes.extend(text.notes)
        sheets = [("", (text.rows, []))]
        separator = text.separator
    _read_grids(result, sheets, settings, profiles, date1904=False, separator=separator)


def _read_workbook(
    result: tables.FileRead,
    data: bytes,
    fmt: str,
    settings: dict,
    profiles: list[Profile],
) -> None:
    from ledgerflow.read.workbook import VISIBLE, open_workbook

    book = open_workbook(
        data, fmt, engine=settings.get("engine", "calamine"), settings=settings
    )
    if book.date1904:
        result.notes.append("the workbook uses the 1904 date system")
    visible = []
    for sheet in book.sheets:
        if sheet.state != VISIBLE:
            result.ignored_sheets.append((sheet.name, sheet.state))
            logger.info(
                "%s: sheet %r ignored (%s)", result.name, sheet.name, sheet.state
            )
        else:
            visible.append(sheet)

    scan_rows = int(settings.get("header_scan_rows", _DEFAULT_SCAN_ROWS))

    def load(sheet):
        # rows of the header area, merges, and (large sheets) the column-wise body
        found = _columnar_load(book, sheet, settings, scan_rows)
        if found is not None:
            return found
        return row_wise(sheet)

    def row_wise(sheet):
        book.load(sheet)
        return sheet.rows, sheet.merges

    def check(sheet_name: str) -> None:
        sheet = next(s for s in visible if s.name == sheet_name)
        problem = book.formula_problem(sheet)
        if problem:
            raise FileRefused("formula_not_calculated", problem)

    def formats_for(sheet_name: str):
        sheet = next(s for s in visible if s.name == sheet_name)
        return lambda rows, cols: book.number_formats(sheet, rows, cols)

    _read_grids(
        result,
        ((s.name, s) for s in visible),
        settings,
        profiles,
        date1904=book.date1904,
        load=load,
        check=check,
        formats_for=formats_for,
        row_wise=row_wise,
    )


def _columnar_load(book, sheet, settings: dict, scan_rows: int):
    """(header-area rows, merges, body loader) of a large sheet, or None.

    None: the sheet is read row-wise (columnar.py says when). The body loader takes
    the found Header and returns a table.Body, or raises columnar.Fallback.
    """
    from ledgerflow.read import columnar

    scan = columnar.wanted(book, sheet, settings)
    if scan is None:
        return None
    try:
        head = columnar.head_grid(book, sheet, scan_rows + 1)
    except Exception as exc:  # python-calamine on the cut copy; row-wise decides
        logger.info("sheet %r: header area not read column-wise (%s)", sheet.name, exc)
        return None
    if not any(v not in ("", None) for row in head for v in row):
        return None  # blank on top: the row-wise path says "empty" or "no header"
    width = max((len(row) for row in head), default=0)

    def body(header):
        return columnar.body(book, sheet, scan, header, width, settings)

    return head, list(scan.merges), body


def _fill_vertical_merges(rows: list[list], merges: list) -> None:
    """Give every cell of a vertically merged block the block's value."""
    for r0, c0, r1, c1 in merges:
        if r1 == r0 or r0 >= len(rows):
            continue
        value = rows[r0][c0] if c0 < len(rows[r0]) else ""
        for r in range(r0, min(r1 + 1, len(rows))):
            for c in range(c0, min(c1 + 1, len(rows[r]))):
                if rows[r][c] in ("", None):
                    rows[r][c] = value


def _read_grids(
    result: tables.FileRead,
    sheets,
    settings: dict,
    profiles: list[Profile],
    *,
    date1904: bool,
    load=None,
    check=None,
    formats_for=None,
    separator: str | None = None,
    row_wise=None,
) -> None:
    """Find a header in each grid and read it; refuse the file when none matches.

    ``load(source)`` gives (grid, merges) or, for a sheet read column-wise,
    (header-area grid, merges, body loader); when the column-wise body cannot give
    the same table, the sheet is read again through ``row_wise(source)``.
    """
    scan_rows = int(settings.get("header_scan_rows", _DEFAULT_SCAN_ROWS))
    nearest: NearMiss | None = None
    nearest_sheet = ""
    filled = 0
    for sheet_name, source in sheets:
        loaded = load(source) if load is not None else source
        grid, merges, body = (*loaded, None)[:3]
        args = (result, sheet_name, grid, merges, settings, profiles, scan_rows)
        options = dict(
            date1904=date1904, check=check, formats_for=formats_for, separator=separator
        )
        try:
            outcome, near = _read_sheet(*args, body=body, **options)
        except (Fallback, AmbiguousCells) as exc:
            logger.info(
                "%s, sheet %r: read row by row (%s)", result.name, sheet_name, exc
            )
            grid, merges = row_wise(source)
            args = (result, sheet_name, grid, merges, settings, profiles, scan_rows)
            outcome, near = _read_sheet(*args, body=None, **options)
        filled += outcome != "empty"
        if near is not None and (
            nearest is None or len(near.found) > len(nearest.found)
        ):
            nearest, nearest_sheet = near, sheet_name
    if not filled:
        raise FileRefused("file_empty", message("empty_no_cells"))
    if not result.tables:
        raise FileRefused(
            "no_profile", _no_profile_detail(result, nearest, nearest_sheet, scan_rows)
        )
    for sheet_name, state in result.ignored_sheets:
        if state == "no matching header":
            result.notes.append(f"sheet {sheet_name!r}: no known header, not read")


def _read_sheet(
    result: tables.FileRead,
    sheet_name: str,
    grid: list[list],
    merges: list,
    settings: dict,
    profiles: list[Profile],
    scan_rows: int,
    *,
    date1904: bool,
    check,
    formats_for,
    separator: str | None,
    body,
) -> tuple[str, NearMiss | None]:
    """One grid: ("empty" | "no header" | "table", near miss); a table is appended.

    With ``body`` (column-wise), ``grid`` holds the header area only; Fallback or
    AmbiguousCells are raised before ``result`` changes.
    """
    _limits.check_grid(sheet_name, grid, settings)
    if not any(v not in ("", None) for row in grid for v in row):
        if sheet_name:
            result.ignored_sheets.append((sheet_name, "empty"))
        return "empty", None
    _fill_vertical_merges(grid, merges)
    header, near = find_header(grid, profiles, scan_rows, merges)
    if header is None:
        if sheet_name:
            result.ignored_sheets.append((sheet_name, "no matching header"))
        return "no header", near
    if check is not None:
        check(sheet_name)
    titles = [
        cell_label(v)
        for row in grid[: header.first_row]
        for v in row
        if isinstance(v, str) and v.strip()
    ]
    folder = unicodedata.normalize("NFC", result.path.parent.name)
    period, origin = declared_period(titles, sheet_name, result.name, folder)
    context = SheetContext(
        file=result.name,
        sheet=sheet_name,
        date1904=date1904,
        period=period,
        formats_for=formats_for(sheet_name) if formats_for else None,
        separator=separator,
    )
    rules = RowRules.from_layout(header.profile.layout)
    columns = body(header) if body is not None else None
    table = build_table(grid, header, rules, context, columns)
    if header.last_row > header.first_row:
        table.notes.append(
            f"two-row header on rows {header.first_row + 1}-{header.last_row + 1}"
        )
    if period is not None:
        table.notes.append(
            f"report period {period[0]:%Y-%m-%d} ~ {period[1]:%Y-%m-%d} (from {origin})"
        )
        _date_undated_summary(table, period)
    if header.unmapped:
        table.notes.append(
            f"columns not used by profile {header.profile.name}: "
            + ", ".join(header.unmapped)
        )
    result.tables.append(table)
    logger.debug(
        "%s, sheet %r: profile %s, header row %d, %d rows%s",
        result.name,
        sheet_name,
        header.profile.name,
        table.header_row,
        table.rows_read,
        " (column-wise)" if body is not None else "",
    )
    return "table", None


def _date_undated_summary(
    table: tables.TableRead, period: tuple[pd.Timestamp, pd.Timestamp]
) -> None:
    """Date a sales summary without a date column by its report period's last day.

    A "매출처별 매출 현황" lists each partner's sales for the period the report
    declares; its rows belong to that period, so they take its last day as doc_date
    (and a note says so). Without a declared period the column stays absent and
    the validate stage says what is missing.
    """
    if table.kind != "sales_lines" or "doc_date" in table.frame:
        return
    dates = pd.Series(period[1], index=table.frame.index, dtype="datetime64[ns]")
    table.frame.insert(0, "doc_date", dates)
    table.notes.append(
        f"no date column: every row dated {period[1]:%Y-%m-%d}, the end of the "
        "report period"
    )


def _no_profile_detail(
    result: tables.FileRead, near: NearMiss | None, sheet: str, scan_rows: int
) -> str:
    """A coded message (labels: no_profile_*) on the closest layout, if any."""
    if near is None:
        return message("no_profile_none", rows=scan_rows)
    return message(
        "no_profile_closest_sheet" if sheet else "no_profile_closest",
        profile=near.profile.name,
        label=near.profile.label,
        sheet=sheet,
        row=near.row + 1,
        found=", ".join(near.found) or "-",
        lacking="; ".join(near.lacking),
    )
