"""One sheet's grid under a found header into a TableRead: rows, skips, parsed values.

Business rules:

- Every non-blank row under the header is read: it becomes a data row, or a skip
  (control_total, subtotal, footer). Fully blank rows are not rows.
- Each mapped field is parsed by ledgerflow.values; a cell that fails is NA in the
  frame and a Reject naming the source header and the raw cell text. Corrections
  (a zip code padded to 5 digits) are counted in a note, the row is kept.
- Control rows are checked against the data rows above them (a total against all
  rows since the top, a subtotal against the rows since the previous subtotal). A
  mismatch makes that skip ``control_total_mismatch`` (the row stays skipped, so the
  row account still balances) and adds a note to the table; the figures are never
  "corrected".
- Profile constants ([fixed], e.g. currency = "KRW") fill their column.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ledgerflow import tables, values
from ledgerflow.labels import message
from ledgerflow.read.header import Header
from ledgerflow.read.layout import (
    CONTROL_TOTAL,
    FOOTER,
    NONE,
    RULES,
    SUBTOTAL,
    ColumnScan,
    RowRules,
    scan_column,
    scan_plain,
)

logger = logging.getLogger(__name__)

# A row that names one of these is a partner's or a document's row, not a total.
IDENTIFYING = ("partner_code", "doc_no", "invoice_no", "item_code", "brn")
# Figures a control row totals (unit prices are not summed).
_SUMMED_TYPES = ("amount", "number")
_NOT_SUMMED = ("unit_price",)
# what a cell of each field type should look like (labels: phrases expected_*)
# Uncertain texts of one column checked value by value, at most (else row-wise).
_MAX_CHECKED = 200_000
_EXPECTED = {
    "date": "expected_date",
    "amount": "expected_amount",
    "number": "expected_number",
    "code": "expected_code",
    "flag": "expected_flag",
}
FormatsFor = Callable[[tuple[int, int], list[int]], "dict[int, dict[int, str]] | None"]


class AmbiguousCells(Exception):
    """A column-wise body cannot say what a cell means; read the sheet row-wise."""


@dataclass
class Body:
    """The rows under the header as columns, read column-wise (columnar.py).

    ``columns[c]`` holds grid column ``c`` from the row under the header: float64
    (number cells), datetime64[ms] (date cells) or object (text and None). A cell
    in ``uncertain[c]`` is text that may have been a number, date or boolean cell
    written as text; ``origin`` gives that other value for one such text.
    """

    columns: list[np.ndarray]
    uncertain: dict[int, np.ndarray] = field(default_factory=dict)
    origin: Callable[[str], object] = str
    padding_formats: bool = False
    # text columns factorized by the reader: (codes, -1 for blank; distinct values)
    factorized: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


@dataclass
class SheetContext:
    """What build_table needs to know beyond the grid."""

    file: str
    sheet: str
    date1904: bool = False
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None
    formats_for: FormatsFor | None = None
    notes: list[str] = field(default_factory=list)
    separator: str | None = None  # of a text file; None for workbooks


def cell_text(value: object) -> str:
    """A raw cell as text for a reject record (what a person sees in the cell)."""
    if value is None:
        return ""
    if isinstance(value, np.datetime64):  # a column-wise date cell
        if np.isnat(value):
            return ""
        value = pd.Timestamp(value).to_pydatetime()
    if isinstance(value, float):
        value = float(value)  # a column-wise np.float64 would repr "np.float64(..)"
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _columns(body: list[list], width: int) -> tuple[list[np.ndarray], int]:
    """Column arrays of the body (ragged rows padded); and how many rows overflowed."""
    if not body:
        return [np.empty(0, dtype=object) for _ in range(width)], 0
    lengths = set(map(len, body))
    overflow = 0
    if len(lengths) > 1 or width not in lengths:
        longest = max(lengths)
        if longest > width:
            overflow = sum(
                1 for row in body if any(v not in ("", None) for v in row[width:])
            )
        body = [
            list(row[:width]) + [""] * (width - len(row)) if len(row) != width else row
            for row in body
        ]
    grid = np.empty((len(body), width), dtype=object)
    grid[:] = body
    return [grid[:, c] for c in range(width)], overflow


def _rejoin(body: list[list], width: int, column: int, separator: str):
    """Rows with too many fields, put back together inside ``column``.

    Text exports that do not quote their fields split an address like
    "24, place Kléber" in two; a profile names the free-text field where that
    happens ([layout] separator_in), and the extra fields are joined back there.
    """
    repaired = 0
    out = []
    for row in body:
        extra = len(row) - width
        if extra > 0 and len(row) > column:
            joined = separator.join(str(v) for v in row[column : column + extra + 1])
            row = [*row[:column], joined, *row[column + extra + 1 :]]
            repaired += 1
        out.append(row)
    return out, repaired


def _format_number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def build_table(
    grid: list[list],
    header: Header,
    rules: RowRules,
    context: SheetContext,
    columnar: Body | None = None,
) -> tables.TableRead:
    """Read the rows under ``header`` into a TableRead (see the module docstring).

    With ``columnar`` the rows under the header come as its columns, not from
    ``grid``; AmbiguousCells when one of its uncertain cells could change the table.
    """
    profile = header.profile
    start = header.last_row + 1
    width = len(header.labels)
    notes = context.notes
    if columnar is not None:
        return _build(header, rules, context, columnar.columns, 0, columnar)
    body = grid[start:]
    joinable = [
        header.mapping[f]
        for f in profile.layout.get("separator_in", [])
        if f in header.mapping
    ]
    if context.separator and joinable:
        body, repaired = _rejoin(body, width, joinable[0], context.separator)
        if repaired:
            notes.append(
                f"{header.labels[joinable[0]]}: {repaired} rows held the separator "
                "inside the text; their fields were joined back"
            )
    arrays, overflow = _columns(body, width)
    return _build(header, rules, context, arrays, overflow, None)


def _build(
    header: Header,
    rules: RowRules,
    context: SheetContext,
    arrays: list[np.ndarray],
    overflow: int,
    columnar: Body | None,
) -> tables.TableRead:
    profile = header.profile
    start = header.last_row + 1
    width = len(header.labels)
    notes = context.notes
    uncertain = columnar.uncertain if columnar is not None else {}
    field_of = {c: f for f, c in header.mapping.items()}
    # Amount, number and flag columns never carry a label: a cheap scan. Date
    # columns do ("2026/03 계" in ECOUNT's 일자-No.).
    plain = {
        c
        for c, f in field_of.items()
        if tables.FIELD_TYPES.get(f, "text") in ("amount", "number", "flag")
    }
    factorized = columnar.factorized if columnar is not None else {}
    scans: list[ColumnScan] = [
        scan_plain(a) if c in plain else scan_column(a, rules, factorized.get(c))
        for c, a in enumerate(arrays)
    ]
    if overflow:
        notes.append(
            f"{overflow} rows have more fields than the header's {width} columns; the "
            "extra fields were ignored (unquoted separators in a text field?)"
        )

    for c, mask in uncertain.items():
        if (scans[c].label[mask] != NONE).any():
            raise AmbiguousCells(f"column {c + 1}: a label that may be a number")

    # Which rows are data, control rows or footers.
    n = len(arrays[0]) if arrays else 0
    nonblank = np.zeros(n, dtype=np.int32)
    for scan in scans:
        nonblank += ~scan.blank
    present = nonblank > 0
    label = np.full(n, NONE, dtype=np.int8)
    for scan in scans:
        label = np.maximum(label, np.where(scan.label == CONTROL_TOTAL, 3, 0))
        label = np.maximum(label, np.where(scan.label == SUBTOTAL, 2, 0))
    kind = np.where(label == 3, CONTROL_TOTAL, np.where(label == 2, SUBTOTAL, NONE))
    for f in IDENTIFYING:
        if f in header.mapping:
            scan = scans[header.mapping[f]]
            identified = ~scan.blank & (scan.label == NONE)
            kind = np.where(identified, NONE, kind)
    footer_text: dict[int, str] = {}
    for i in np.flatnonzero((nonblank == 1) & (kind == NONE)):
        c = next(c for c, scan in enumerate(scans) if not scan.blank[i])
        value = arrays[c][i]
        if isinstance(value, str) and (c not in field_of or rules.is_footer(value)):
            if c in uncertain and uncertain[c][i]:
                raise AmbiguousCells(f"row {start + i + 1}: a footer or a number?")
            footer_text[int(i)] = value.strip()
    footer = np.zeros(n, dtype=bool)
    footer[list(footer_text)] = True
    kind = np.where(footer, FOOTER, kind)
    kind = np.where(present, kind, NONE)
    data = present & (kind == NONE)
    data_idx = np.flatnonzero(data)
    excel_rows = data_idx + start + 1

    # Parse each mapped field with the values module.
    options: dict[str, object] = {"order": profile.date_order}
    options["date1904"] = context.date1904
    if context.period is not None:
        options["default_year"] = context.period[0].year
    formats = _number_formats(header, scans, data_idx, start, context)
    nulls = list(profile.layout.get("null_tokens", []))
    columns: dict[str, pd.Series] = {}
    rejects: list[tables.Reject] = []
    warned: dict[tuple[str, str], list[int]] = {}
    for field_name, c in header.mapping.items():
        raw = arrays[c][data_idx].copy()
        raw[scans[c].blank[data_idx]] = None
        if nulls:
            # A database export's literal NULL is a blank cell, not the text "NULL".
            raw[np.isin(raw.astype(str), nulls)] = None
        if raw.dtype == object:
            series = pd.Series(raw, dtype=object).infer_objects()
        else:  # a typed column-wise array: numbers or date-times
            series = pd.Series(raw)
        field_options = dict(options)
        if c in formats:
            field_options["number_formats"] = formats[c]
        if field_name == "postcode":
            # Korean postcodes have 5 digits (3000 -> 03000); a profile for other
            # countries sets [layout] postcode_width = [] to leave them as given.
            widths = profile.layout.get("postcode_width", ["5"])
            field_options["width"] = int(widths[0]) if widths else None
        if c in uncertain:
            checked = {k: v for k, v in field_options.items() if k != "number_formats"}
            _check_uncertain(field_name, arrays[c], uncertain[c], columnar, checked)
            if nulls:
                _check_uncertain_nulls(arrays[c], uncertain[c], columnar, nulls)
        parsed = values.parse_field(field_name, series, **field_options)
        columns[field_name] = parsed.values.reset_index(drop=True)
        column_label = header.labels[c]
        field_type = tables.FIELD_TYPES.get(field_name, "text")
        for i in np.flatnonzero(parsed.errors.notna().to_numpy()):
            rejects.append(
                tables.Reject(
                    file=context.file,
                    sheet=context.sheet,
                    row=int(excel_rows[i]),
                    column=column_label,
                    value=cell_text(raw[i]),
                    rule=str(parsed.errors.iloc[i]),
                    detail=message(_EXPECTED[field_type])
                    if field_type in _EXPECTED
                    else "",
                )
            )
        for i in np.flatnonzero(parsed.warnings.notna().to_numpy()):
            key = (column_label, str(parsed.warnings.iloc[i]))
            warned.setdefault(key, []).append(int(excel_rows[i]))
    for (column_label, rule), rows in warned.items():
        shown = ", ".join(map(str, rows[:10])) + (" ..." if len(rows) > 10 else "")
        notes.append(
            f"{column_label}: {len(rows)} values corrected ({rule}), rows {shown}"
        )

    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(data_idx)))
    for field_name, constant in profile.fixed.items():
        if field_name not in frame:
            frame[field_name] = pd.Series([constant] * len(frame), dtype="string")
    frame["source_file"] = pd.Series([context.file] * len(frame), dtype="string")
    frame["source_sheet"] = pd.Series([context.sheet] * len(frame), dtype="string")
    frame["source_row"] = pd.Series(excel_rows, dtype="int64")

    skipped = _skips(arrays, kind, footer_text, start, header, frame, data_idx, context)
    table = tables.TableRead(
        kind=profile.kind,
        profile=profile.name,
        sheet=context.sheet,
        header_row=header.first_row + 1,
        frame=frame,
        rows_read=int(present.sum()),
        skipped=skipped,
        rejects=rejects,
        declared_period=context.period,
        notes=notes,
        source_columns={f: header.labels[c] for f, c in header.mapping.items()},
    )
    return table


def _check_uncertain(
    field_name: str,
    column: np.ndarray,
    mask: np.ndarray,
    columnar: Body,
    options: dict[str, object],
) -> None:
    """AmbiguousCells unless each uncertain text of the column means the same as
    text and as the number/date/boolean cell it may have been.

    Compared with the field's own parser: value, error, warning and, for an error,
    the text a reject shows. Texts known to agree are not parsed (safe_uncertain).
    """
    from ledgerflow.read.columnar import safe_uncertain

    field_type = tables.FIELD_TYPES.get(field_name, "text")
    texts = pd.Series(pd.unique(column[mask]), dtype=object)
    if field_type == "code" and columnar.padding_formats:
        # a number cell would be padded to its format (00457); a text cell not
        raise AmbiguousCells(f"{field_name}: codes that may be numbers with a format")
    texts = texts[~safe_uncertain(texts, field_type)].reset_index(drop=True)
    if not len(texts):
        return
    if len(texts) > _MAX_CHECKED:
        raise AmbiguousCells(f"{field_name}: {len(texts):,} texts that may be numbers")
    as_text = values.parse_field(field_name, texts, **options)
    origins = pd.Series([columnar.origin(t) for t in texts], dtype=object)
    as_cell = values.parse_field(field_name, origins, **options)
    left, right = as_text.values, as_cell.values
    same = (left.isna() & right.isna()) | (left == right).fillna(False)
    same &= as_text.errors.to_numpy() == as_cell.errors.to_numpy()
    same &= as_text.warnings.to_numpy() == as_cell.warnings.to_numpy()
    for i in np.flatnonzero(as_text.errors.notna().to_numpy()):
        same.iloc[i] &= cell_text(texts.iloc[i]) == cell_text(origins.iloc[i])
    if not same.all():
        example = texts[~same.to_numpy()].iloc[0]
        raise AmbiguousCells(f"{field_name}: {example!r} may be a number or date")


def _check_uncertain_nulls(column, mask, columnar: Body, nulls: list[str]) -> None:
    """AmbiguousCells when a null token is an uncertain text or its cell's text."""
    texts = pd.unique(column[mask])
    as_cells = [str(columnar.origin(t)) for t in texts]
    if np.isin(texts, nulls).any() or np.isin(as_cells, nulls).any():
        raise AmbiguousCells("a null token that may be a number")


def _number_formats(
    header: Header, scans, data_idx: np.ndarray, start: int, context: SheetContext
) -> dict[int, pd.Series]:
    """Number formats of code columns that hold number cells (for zero padding)."""
    if context.formats_for is None or not len(data_idx):
        return {}
    wanted = [
        c
        for f, c in header.mapping.items()
        if tables.FIELD_TYPES.get(f) == "code" and scans[c].number[data_idx].any()
    ]
    if not wanted:
        return {}
    first, last = start + int(data_idx[0]), start + int(data_idx[-1])
    found = context.formats_for((first, last), wanted)
    if not found:
        return {}
    out = {}
    for c, by_row in found.items():
        out[c] = pd.Series([by_row.get(start + int(i)) for i in data_idx], dtype=object)
    return out


def _skips(arrays, kind, footer_text, start, header, frame, data_idx, context):
    """Skip records for control rows and footers, checking control totals."""
    skipped: list[tables.Skip] = []
    summed = [
        (f, c)
        for f, c in header.mapping.items()
        if tables.FIELD_TYPES.get(f) in _SUMMED_TYPES and f not in _NOT_SUMMED
    ]
    position = np.searchsorted(data_idx, np.arange(len(kind)))  # data rows above
    last_subtotal_at = 0
    for i in np.flatnonzero(kind != NONE):
        row = start + int(i) + 1
        rule = RULES[int(kind[i])]
        if kind[i] == FOOTER:
            text = footer_text[int(i)][:80]
            skipped.append(tables.Skip(context.file, context.sheet, row, rule, text))
            continue
        above = int(position[i])
        first = 0 if kind[i] == CONTROL_TOTAL else last_subtotal_at
        if kind[i] == SUBTOTAL:
            last_subtotal_at = above
        problems, checked = _check_total(arrays, i, summed, frame, first, above, header)
        if problems:
            detail = "; ".join(problems)
            context.notes.append(
                f"row {row} ({rule}): control total does not match: {detail}"
            )
            logger.warning(
                "%s, %s row %d: control total does not match: %s",
                context.file,
                context.sheet,
                row,
                detail,
            )
            skipped.append(
                tables.Skip(
                    context.file, context.sheet, row, "control_total_mismatch", detail
                )
            )
        else:
            detail = message("total_row_matches", rows=above - first) if checked else ""
            skipped.append(tables.Skip(context.file, context.sheet, row, rule, detail))
    return skipped


def _check_total(arrays, i, summed, frame, first, above, header):
    """Compare one control row's figures with the sum of data rows [first, above)."""
    problems, checked = [], False
    for field_name, c in summed:
        raw = arrays[c][i]
        if raw in ("", None):
            continue
        parsed = values.parse_field(field_name, pd.Series([raw], dtype=object))
        stated = parsed.values.iloc[0]
        if pd.isna(stated):
            continue
        rows = frame[field_name].iloc[first:above]
        total = float(rows.sum(skipna=True)) if len(rows) else 0.0
        checked = True
        tolerance = max(0.005, abs(total) * 1e-9)
        if abs(float(stated) - total) > tolerance:
            blanks = int(rows.isna().sum())
            problems.append(
                message(
                    "total_row_differs_blanks" if blanks else "total_row_differs",
                    column=header.labels[c],
                    stated=_format_number(float(stated)),
                    rows=above - first,
                    total=_format_number(total),
                    blanks=blanks,
                )
            )
    return problems, checked
