"""The month's cleaned sales lines as one file for other tools (issue 8).

A million lines do not belong in a sheet: other tools (BI, a database, pandas) get
the lines the month's figures were built from as Parquet, or CSV when asked.

Rules:
- The lines are the used sales lines (after validation, repeated files dropped)
  dated within the period, in input order: the canonical sales columns, then
  partner_id, then where each line came from (source_file, source_sheet,
  source_row). A canonical column an export did not have is there, empty, so every
  month has one schema.
- No contact data: the canonical sales table has no phone or email column and any
  other column is left out; a 주민등록번호 typed into partner_code, partner_name
  or brn is masked as in the partner master.
- Parquet keeps the types (text, dates, nullable numbers). CSV is UTF-8 with a BOM,
  so that Excel shows Hangul right; dates as YYYY-MM-DD, numbers without a
  thousands separator, empty for missing.
- CSV cannot mark a cell as text, so Excel would take text starting with = + - @,
  a TAB or a CR (or their full-width forms) for a formula. Such text gets a leading
  apostrophe ' (the protection OWASP recommends for CSV): Excel shows it as text,
  and a tool reading the file sees the apostrophe. The Parquet file keeps the text
  exactly. Excel also drops leading zeros of codes when it opens a CSV (import the
  column as text, or use the Parquet file).
- Written atomically (atomic.py): the file appears complete or not at all.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ledgerflow.config import LINES_EXPORT_FORMATS
from ledgerflow.errors import ConfigError
from ledgerflow.master.privacy import mask_frame
from ledgerflow.period import Period
from ledgerflow.report.atomic import atomic_path
from ledgerflow.report.outputs import check_shareable
from ledgerflow.tables import FIELD_TYPES, ORIGIN_COLUMNS, SALES_LINES

log = logging.getLogger(__name__)

FORMATS = LINES_EXPORT_FORMATS
COLUMNS = [*SALES_LINES, "partner_id", *ORIGIN_COLUMNS]
# Where a resident registration number may have been typed in a sales line.
MASKED_COLUMNS = ["partner_code", "partner_name", "brn"]
# First characters that make Excel read a CSV cell as a formula (with the
# full-width forms an IME types).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_DTYPES = {"date": "datetime64[ns]", "amount": "Float64", "number": "Float64"}


def export_name(period: Period, kind: str) -> str:
    """The file name of the export: lines_<YYYY-MM>.parquet or .csv."""
    return f"lines_{period}.{kind}"


def month_lines(sales: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The used sales lines dated within ``period``, in the export's columns."""
    dates = pd.to_datetime(sales["doc_date"]) if "doc_date" in sales else None
    if dates is None:
        lines = sales.iloc[0:0]
    else:
        lines = sales[(dates >= period.start) & (dates <= period.end)]
    out = pd.DataFrame(index=pd.RangeIndex(len(lines)))
    for column in COLUMNS:
        dtype = _dtype(column)
        if column in lines:
            out[column] = lines[column].reset_index(drop=True).astype(dtype)
        else:
            out[column] = pd.Series(pd.NA, index=out.index, dtype=dtype)
    check_shareable(list(out.columns), "lines export")
    return mask_frame(out, MASKED_COLUMNS)


def _dtype(column: str) -> str:
    if column == "source_row":
        return "Int64"
    return _DTYPES.get(FIELD_TYPES.get(column, "text"), "string")


def check_format(kind: str) -> str:
    """``kind`` when it is one of FORMATS, else a ConfigError saying what to write."""
    if kind not in FORMATS:
        raise ConfigError(
            f"output.lines_export: expected one of {', '.join(FORMATS)} (got "
            f"{kind!r}); fix it in ledgerflow.toml"
        )
    return kind


def write_lines(sales: pd.DataFrame, period: Period, folder: Path, kind: str) -> Path:
    """Write the period's used sales lines to ``folder`` as ``kind`` ("parquet" or
    "csv"); return the file's path (see the module's rules)."""
    if check_format(kind) == "none":
        raise ValueError("write_lines: kind 'none' writes nothing; do not call it")
    lines = month_lines(sales, period)
    path = Path(folder) / export_name(period, kind)
    with atomic_path(path) as temporary:
        if kind == "parquet":
            table = pa.Table.from_pandas(lines, preserve_index=False)
            pq.write_table(table, temporary)
        else:
            _csv_safe(lines).to_csv(
                temporary,
                index=False,
                encoding="utf-8-sig",
                date_format="%Y-%m-%d",
                float_format="%.15g",
                lineterminator="\r\n",
            )
    log.info("%s: %d sales lines of %s written", path.name, len(lines), period)
    return path


def _csv_safe(lines: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot start a formula in Excel (see the rules)."""
    out = lines.copy()
    for column in out.columns:
        if out[column].dtype != "string":
            continue
        text = out[column]
        risky = text.str.startswith(FORMULA_STARTS).fillna(False)
        if risky.any():
            out[column] = text.mask(risky, "'" + text)
    return out
