"""Validate one read table against its schema: used rows, rejects, flags.

The rules of each canonical table are data, in ``schemas/tables/<kind>.toml`` (the
format is described at the top of ``sales_lines.toml``). This module turns them into a
pandera ``DataFrameSchema`` and validates lazily, so every failure of every row comes
out of one pass; each failure becomes a ``Reject`` carrying the Excel row a person can
open, never an exception that stops the run.

Glossary: 공급가액 supply amount, 부가세 VAT, 합계 total, 전표번호 document number,
사업자등록번호 business registration number (BRN), 거래처 partner.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ledgerflow import brn, paths
from ledgerflow.errors import ProfileError
from ledgerflow.labels import message, term
from ledgerflow.tables import KINDS, ORIGIN_COLUMNS, Reject, TableRead

log = logging.getLogger(__name__)

DTYPES = ("string", "datetime64[ns]", "Float64", "boolean")
SEVERITIES = ("reject", "flag")
# A refused table (a required column is absent) has one reject with no row.
REQUIRED_COLUMN_MISSING = "required_column_missing"
# A cell whose dtype did not match the contract and could not be converted.
VALUE_TYPE = "value_type"
# Slack for binary floating point in the amount cross-checks, far below any unit.
_EPSILON = 1e-6


@dataclass
class Validated:
    """The outcome of validating one TableRead.

    ``rejected_rows`` counts the rows of the frame not used (every row of a refused
    table), so rows_read == len(used) + len(skipped) + rejected_rows.
    """

    used: pd.DataFrame
    rejects: list[Reject]
    rejected_rows: int
    flags: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------
# Schemas as data


@dataclass(frozen=True)
class ColumnRule:
    """One canonical column as ``schemas/tables/<kind>.toml`` declares it."""

    name: str
    dtype: str
    required: bool = False
    nullable: bool = True
    checks: tuple[str, ...] = ()
    severity: str = "reject"

    @property
    def missing_rule(self) -> str:
        return f"{self.name}_missing"


@dataclass(frozen=True)
class RowCheck:
    """A check across the columns of a row, reported on ``column``."""

    rule: str
    column: str
    needs: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    setting: str | None = None
    severity: str = "reject"


@dataclass(frozen=True)
class Derivation:
    """A column computed when the source lacks it."""

    column: str
    how: str
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSchema:
    """The rules of one canonical table."""

    kind: str
    columns: dict[str, ColumnRule]
    checks: tuple[RowCheck, ...] = ()
    derive: tuple[Derivation, ...] = ()


def _fail(path: Path, what: str) -> ProfileError:
    return ProfileError(f"{path}: {what}; fix the schema file")


def _parse_schema(path: Path, data: dict[str, Any]) -> TableSchema:
    kind = data.get("kind", path.stem)
    if kind not in KINDS:
        raise _fail(path, f"kind {kind!r} is not one of {', '.join(KINDS)}")
    columns: dict[str, ColumnRule] = {}
    for name, spec in data.get("columns", {}).items():
        if name not in KINDS[kind]:
            raise _fail(path, f"[columns.{name}] is not a column of {kind}")
        if spec.get("dtype") not in DTYPES:
            raise _fail(path, f"[columns.{name}] dtype must be one of {DTYPES}")
        unknown = [c for c in spec.get("checks", []) if c not in ELEMENT_RULES]
        if unknown:
            raise _fail(path, f"[columns.{name}] unknown checks {unknown}")
        columns[name] = ColumnRule(
            name=name,
            dtype=spec["dtype"],
            required=bool(spec.get("required", False)),
            nullable=bool(spec.get("nullable", True)),
            checks=tuple(spec.get("checks", [])),
            severity=_severity(path, name, spec),
        )
    checks = []
    for spec in data.get("checks", []):
        rule = spec.get("rule")
        if rule not in ROW_RULES:
            raise _fail(path, f"[[checks]] rule {rule!r} is not a check in validate.py")
        checks.append(
            RowCheck(
                rule=rule,
                column=spec["column"],
                needs=tuple(spec.get("needs", [])),
                unless=tuple(spec.get("unless", [])),
                setting=spec.get("setting"),
                severity=_severity(path, rule, spec),
            )
        )
    derive = []
    for spec in data.get("derive", []):
        if spec.get("how") not in DERIVATIONS:
            raise _fail(path, f"[[derive]] how {spec.get('how')!r} is unknown")
        derive.append(Derivation(spec["column"], spec["how"], tuple(spec["needs"])))
    return TableSchema(kind, columns, tuple(checks), tuple(derive))


def _severity(path: Path, where: str, spec: dict[str, Any]) -> str:
    severity = spec.get("severity", "reject")
    if severity not in SEVERITIES:
        raise _fail(path, f"{where}: severity must be one of {SEVERITIES}")
    return severity


def load_table_schemas(folder: Path | None = None) -> dict[str, TableSchema]:
    """Every ``<kind>.toml`` in ``folder`` (default ``schemas/tables``), by kind."""
    folder = Path(folder) if folder else paths.schemas_dir() / "tables"
    schemas = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise _fail(path, f"not valid TOML ({exc})") from exc
        schema = _parse_schema(path, data)
        schemas[schema.kind] = schema
    return schemas


# ---------------------------------------------------------------------------------
# Checks: each returns True where a row passes (blank inputs pass)


@dataclass(frozen=True)
class _Context:
    config: dict[str, Any]
    period: tuple[pd.Timestamp, pd.Timestamp] | None
    source_columns: frozenset[str]

    @property
    def tolerance(self) -> float:
        return float(self.config.get("read", {}).get("vat_tolerance", 1)) + _EPSILON

    @property
    def vat_rate(self) -> float:
        return float(self.config.get("read", {}).get("vat_rate", 0.1))


def _brn_rules(values: pd.Series) -> pd.Series:
    """The BRN rule each value breaks (NA if none), once per distinct value."""
    distinct = values.dropna().unique()
    broken = {value: _BRN_STATUS_RULE.get(brn.brn_status(value)) for value in distinct}
    return values.map(broken)


# brn.brn_status() -> the rule a non-valid status breaks.
_BRN_STATUS_RULE = {
    "invalid_checksum": "brn_checksum",
    "wrong_length": "brn_length",
    "partial": "brn_masked",
}


def _brn_check(rule: str) -> Callable[[pd.Series], pd.Series]:
    def check(values: pd.Series) -> pd.Series:
        return _brn_rules(values) != rule

    return check


ELEMENT_RULES: dict[str, Callable[[pd.Series], pd.Series]] = {
    "brn_length": _brn_check("brn_length"),
    "brn_masked": _brn_check("brn_masked"),
    "brn_checksum": _brn_check("brn_checksum"),
}


def _passes(mask: pd.Series) -> pd.Series:
    """A nullable comparison as a plain bool mask: blank inputs pass."""
    return mask.fillna(True).astype(bool)


def _expected_vat(supply: pd.Series, rate: float) -> pd.Series:
    # truncated towards zero, so a return line mirrors the sale it reverses
    magnitude = np.floor(supply.abs() * rate + _EPSILON)
    return magnitude * np.sign(supply)


def _not_before(later: pd.Series, earlier: pd.Series) -> pd.Series:
    # datetime comparisons give False, not NA, for NaT: blanks pass explicitly
    return (later >= earlier) | later.isna() | earlier.isna()


def _in_period(frame: pd.DataFrame, ctx: _Context) -> pd.Series:
    if ctx.period is None:
        return pd.Series(True, index=frame.index)
    start, end = ctx.period
    date = frame["doc_date"]
    return ((date >= start) & (date <= end)) | date.isna()


def _supply_agrees(frame: pd.DataFrame, ctx: _Context) -> pd.Series:
    product = frame["qty"] * frame["unit_price"]
    return _passes((frame["supply_amount"] - product).abs() <= ctx.tolerance)


def _vat_agrees(frame: pd.DataFrame, ctx: _Context) -> pd.Series:
    expected = _expected_vat(frame["supply_amount"], ctx.vat_rate)
    return _passes((frame["vat_amount"] - expected).abs() <= ctx.tolerance)


def _total_agrees(frame: pd.DataFrame, ctx: _Context) -> pd.Series:
    expected = frame["supply_amount"] + frame["vat_amount"]
    return _passes((frame["total_amount"] - expected).abs() <= ctx.tolerance)


def _doc_no_first(frame: pd.DataFrame, ctx: _Context) -> pd.Series:
    doc_no = frame["doc_no"]
    return ~(doc_no.duplicated(keep="first") & doc_no.notna())


def _line_columns(frame: pd.DataFrame, ctx: _Context) -> list[str]:
    # the fields the source gave; derived columns follow from them
    return [c for c in KINDS["sales_lines"] if c in ctx.source_columns and c in frame]


def _line_first(frame: pd.DataFrame, ctx: _Context) -> pd.Series:
    return ~frame.duplicated(subset=_line_columns(frame, ctx), keep="first")


def _due_not_before(frame: pd.DataFrame, ctx: _Context) -> pd.Series:
    return _not_before(frame["due_date"], frame["invoice_date"])


def _settled_not_before(frame: pd.DataFrame, ctx: _Context) -> pd.Series:
    return _not_before(frame["settled_date"], frame["invoice_date"])


def _has_partner_id(frame: pd.DataFrame, ctx: _Context) -> pd.Series:
    present = pd.Series(False, index=frame.index)
    for column in ("partner_code", "partner_name"):
        if column in frame:
            present |= frame[column].notna().to_numpy()
    return present


# ---------------------------------------------------------------------------------
# Details: the specifics of each failure, for the failing rows only


def _amount(value: Any) -> str:
    if pd.isna(value):
        return ""
    value = float(value)
    return f"{value:,.0f}" if value == math.floor(value) else f"{value:,.2f}"


def _day(value: Any) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _pairs(got: pd.Series, expected: pd.Series) -> list[str]:
    """Coded details "<got>, expected <expected>" (labels: got_expected)."""
    return [
        message("got_expected", got=_amount(a), expected=_amount(b))
        for a, b in zip(got.tolist(), expected.tolist(), strict=True)
    ]


def _period_detail(rows: pd.DataFrame, frame: pd.DataFrame, ctx: _Context) -> list:
    start, end = ctx.period or (pd.NaT, pd.NaT)
    return [
        message("date_outside_period", date=_day(d), start=_day(start), end=_day(end))
        for d in rows["doc_date"].tolist()
    ]


def _supply_detail(rows: pd.DataFrame, frame: pd.DataFrame, ctx: _Context) -> list:
    return _pairs(rows["supply_amount"], rows["qty"] * rows["unit_price"])


def _vat_detail(rows: pd.DataFrame, frame: pd.DataFrame, ctx: _Context) -> list:
    return _pairs(
        rows["vat_amount"], _expected_vat(rows["supply_amount"], ctx.vat_rate)
    )


def _total_detail(rows: pd.DataFrame, frame: pd.DataFrame, ctx: _Context) -> list:
    return _pairs(rows["total_amount"], rows["supply_amount"] + rows["vat_amount"])


def _first_seen(keys: pd.Series | list[pd.Series], frame: pd.DataFrame) -> pd.Series:
    return (
        frame["source_row"].groupby(keys, dropna=False, sort=False).transform("first")
    )


def _doc_no_detail(rows: pd.DataFrame, frame: pd.DataFrame, ctx: _Context) -> list:
    first = _first_seen(frame["doc_no"], frame).loc[rows.index]
    return [message("first_seen_row", row=int(r)) for r in first.tolist()]


def _line_detail(rows: pd.DataFrame, frame: pd.DataFrame, ctx: _Context) -> list:
    columns = _line_columns(frame, ctx)
    group = frame.groupby(columns, dropna=False, sort=False).ngroup()
    first = _first_seen(group, frame).loc[rows.index]
    return [message("first_seen_row", row=int(r)) for r in first.tolist()]


def _dates_detail(later: str) -> Callable[..., list]:
    def detail(rows: pd.DataFrame, frame: pd.DataFrame, ctx: _Context) -> list:
        return [
            message("date_before", date=_day(a), before=_day(b))
            for a, b in zip(rows[later], rows["invoice_date"], strict=True)
        ]

    return detail


def _no_detail(rows: pd.DataFrame, frame: pd.DataFrame, ctx: _Context) -> list:
    return [""] * len(rows)


RowTest = Callable[[pd.DataFrame, _Context], pd.Series]
RowDetail = Callable[[pd.DataFrame, pd.DataFrame, _Context], list]

ROW_RULES: dict[str, tuple[RowTest, RowDetail]] = {
    "date_outside_file_period": (_in_period, _period_detail),
    "supply_mismatch": (_supply_agrees, _supply_detail),
    "vat_mismatch": (_vat_agrees, _vat_detail),
    "total_mismatch": (_total_agrees, _total_detail),
    "duplicate_doc_no": (_doc_no_first, _doc_no_detail),
    "duplicate_line": (_line_first, _line_detail),
    "due_before_invoice": (_due_not_before, _dates_detail("due_date")),
    "settled_before_invoice": (_settled_not_before, _dates_detail("settled_date")),
    "partner_id_missing": (_has_partner_id, _no_detail),
}


# ---------------------------------------------------------------------------------
# Derivations


def _qty_times_unit_price(frame: pd.DataFrame) -> pd.Series:
    return frame["qty"] * frame["unit_price"]


def _amount_when_settled(frame: pd.DataFrame) -> pd.Series:
    return frame["amount"].where(frame["settled_date"].notna()).astype("Float64")


DERIVATIONS: dict[str, tuple[Callable[[pd.DataFrame], pd.Series], str]] = {
    "qty_times_unit_price": (
        _qty_times_unit_price,
        "supply_amount derived from qty × unit_price (the source has no amount column)",
    ),
    "amount_when_settled": (
        _amount_when_settled,
        "settled_amount taken as the full amount where a settled_date is given (the "
        "source has no settled amount column)",
    ),
}


# ---------------------------------------------------------------------------------
# Validation


def _conform(
    frame: pd.DataFrame, schema: TableSchema
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Columns cast to their declared dtype; the cells that would not convert.

    The reader already delivers these dtypes; this only absorbs a different datetime
    resolution or an object column, and never turns a value into NA silently.
    """
    failed: dict[str, pd.Series] = {}
    for name, rule in schema.columns.items():
        if name not in frame or str(frame[name].dtype) == rule.dtype:
            continue
        before = frame[name]
        if rule.dtype == "Float64":
            after = pd.to_numeric(before, errors="coerce").astype("Float64")
        elif rule.dtype == "datetime64[ns]":
            after = pd.to_datetime(before, errors="coerce").astype("datetime64[ns]")
        elif rule.dtype == "boolean":
            known = before.map({True: True, False: False}, na_action="ignore")
            after = known.astype("boolean")
        else:
            after = before.astype("string")
        lost = before.notna().to_numpy() & after.isna().to_numpy()
        if lost.any():
            failed[name] = before[lost]
        frame[name] = after
    return frame, failed


def _pandera_schema(
    schema: TableSchema, frame: pd.DataFrame, row_checks: list[RowCheck], ctx: _Context
) -> pa.DataFrameSchema:
    columns = {
        name: pa.Column(
            rule.dtype,
            nullable=rule.nullable,
            required=False,
            checks=[pa.Check(ELEMENT_RULES[c], name=c) for c in rule.checks],
        )
        for name, rule in schema.columns.items()
        if name in frame
    }
    checks = [
        pa.Check(lambda df, test=ROW_RULES[c.rule][0]: test(df, ctx), name=c.rule)
        for c in row_checks
    ]
    return pa.DataFrameSchema(columns, checks=checks, coerce=False)


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """pandera's failure cases as (check, column, index), one per cell and rule."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return pd.DataFrame(columns=["schema_context", "check", "column", "index"])
    unplaced = cases[cases["index"].isna()]
    if len(unplaced):
        # dtype or column-level failures: _conform makes them impossible, so this is
        # a bug in this module, not a problem of the input
        raise RuntimeError(f"validate: failures without a row:\n{unplaced}")
    # a dataframe-level check repeats each failing row once per column
    cases = cases.drop_duplicates(["schema_context", "check", "index"])
    cases = cases[["schema_context", "check", "column", "index"]].copy()
    cases["index"] = cases["index"].astype("int64")
    return cases


def _cell_text(value: Any) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        if np.isnan(value):
            return None
        return str(int(value)) if value == math.floor(value) else repr(value)
    return str(value)


def _records(
    frame: pd.DataFrame,
    positions: np.ndarray,
    column: str | None,
    rule: str,
    details: list[str] | None = None,
    values: list | None = None,
) -> list[tuple[int, Reject]]:
    """Rejects for the rows at ``positions``, paired with the position for sorting."""
    if len(positions) == 0:
        return []
    rows = frame.iloc[positions]
    if values is None:
        values = rows[column].tolist() if column in frame else [None] * len(rows)
    details = details if details is not None else [""] * len(rows)
    return [
        (
            int(pos),
            Reject(
                file=str(file),
                sheet=str(sheet),
                row=int(row),
                column=column,
                value=_cell_text(value),
                rule=rule,
                detail=detail,
            ),
        )
        for pos, file, sheet, row, value, detail in zip(
            positions,
            rows["source_file"].tolist(),
            rows["source_sheet"].tolist(),
            rows["source_row"].tolist(),
            values,
            details,
            strict=True,
        )
    ]


def _refuse(table: TableRead, frame: pd.DataFrame, absent: list[str]) -> Validated:
    """Every row rejected: a column the table cannot do without is not in the source."""
    file = str(frame["source_file"].iloc[0]) if len(frame) else ""
    # the file's own headers as written, not our field names (a table built in
    # code has none: its column names then)
    written = list(table.source_columns.values()) or [
        c for c in frame.columns if c not in ORIGIN_COLUMNS
    ]
    found = ", ".join(written)
    rejects = list(table.rejects) + [
        Reject(
            file=file,
            sheet=table.sheet,
            row=None,
            column=column,
            value=None,
            rule=REQUIRED_COLUMN_MISSING,
            detail=message("column_absent", column=term(column), found=found)
            if found
            else message("column_absent_nothing", column=term(column)),
        )
        for column in absent
    ]
    log.warning(
        "%s, sheet %s: %s lacks %s; all %d rows rejected",
        file,
        table.sheet,
        table.kind,
        ", ".join(absent),
        len(frame),
    )
    return Validated(_canonical(frame.iloc[0:0], table.kind), rejects, len(frame))


def _canonical(frame: pd.DataFrame, kind: str, schema: TableSchema | None = None):
    """Every canonical column of ``kind`` (absent ones all NA), origin, then extras."""
    out = frame.copy()
    for name in KINDS[kind]:
        if name not in out:
            rule = schema.columns.get(name) if schema else None
            out[name] = pd.Series(
                pd.NA, index=out.index, dtype=rule.dtype if rule else "string"
            )
    canonical = KINDS[kind] + ORIGIN_COLUMNS
    extras = [c for c in out.columns if c not in canonical]
    return out[canonical + extras]


def validate_table(
    table: TableRead, config: dict[str, Any], schemas: dict | None = None
) -> Validated:
    """Split a read table into used rows and rejects (plus soft flags).

    Rules (declared in ``schemas/tables/<kind>.toml``):

    - A column the table cannot do without (``required``) absent from the source
      refuses the whole table: one reject without a row, every row rejected.
    - A blank cell in a ``nullable = false`` column rejects the row
      (``<column>_missing``), but only when the source has the column and the cell
      did not already fail to parse (the reader's reject says why it is blank).
    - Element checks (BRN length, masking, check digit) and row checks run on every
      row; a row gets one reject per (column, rule) it breaks. Blank inputs pass a
      check: blanks are judged by the missing rules only.
    - Amount checks allow ``read.vat_tolerance`` either way: supply = qty × unit
      price; VAT = supply × ``read.vat_rate`` with the fraction dropped (floor for a
      sale; a return line mirrors its sale, -60,005 -> -6,000); total = supply + VAT.
    - Duplicates keep the first row: a repeated doc_no when the source has no item
      columns (one row, one document), else a line equal in every source field
      (``validate.reject_duplicate_lines``, default true).
    - A failure of a check with severity "flag" is a flag: the row is still used.
    - Rows with a parse reject from the reader are never used.
    - Columns the source lacks are derived where the schema says how (with a note),
      and currency is filled from ``config["run"]["currency"]`` where blank.
    - ``used`` holds every canonical column of the kind, then ORIGIN_COLUMNS.
    """
    schemas = schemas if schemas is not None else load_table_schemas()
    if table.kind not in schemas:
        raise ProfileError(
            f"no schema for table kind {table.kind!r} in schemas/tables; "
            f"known kinds: {', '.join(sorted(schemas))}"
        )
    schema = schemas[table.kind]
    frame = table.frame.reset_index(drop=True)
    source_columns = frozenset(c for c in frame.columns if c in schema.columns)

    # A table without a column it cannot do without is refused as a whole.
    absent = [n for n, r in schema.columns.items() if r.required and n not in frame]
    if absent:
        return _refuse(table, frame, absent)

    # Cast to the declared dtypes, then derive what the source does not give.
    frame, unconverted = _conform(frame.copy(), schema)
    notes: list[str] = []
    for derivation in schema.derive:
        if derivation.column in frame or not all(c in frame for c in derivation.needs):
            continue
        compute, note = DERIVATIONS[derivation.how]
        frame[derivation.column] = compute(frame).astype(
            schema.columns[derivation.column].dtype
        )
        notes.append(note)

    # Row checks run when their columns are there and no setting turns them off.
    settings = config.get("validate", {})
    ctx = _Context(config, table.declared_period, source_columns)
    row_checks = [
        c
        for c in schema.checks
        if all(n in frame for n in c.needs)
        and not any(n in source_columns for n in c.unless)
        and (c.setting is None or settings.get(c.setting, True))
    ]
    cases = _failures(_pandera_schema(schema, frame, row_checks, ctx), frame)

    # Parse rejects: their rows are not used and their blank cells are not "missing".
    parse_failed = _parse_failed_cells(table, schema)
    records, flagged = _reject_records(
        frame, cases, schema, row_checks, ctx, parse_failed
    )
    for name, original in unconverted.items():
        positions = original.index.to_numpy()
        records += _records(
            frame, positions, name, VALUE_TYPE, values=original.tolist()
        )

    # Used rows: those without a reject of any kind.
    rejected = np.zeros(len(frame), dtype=bool)
    rejected[[pos for pos, _ in records]] = True
    position = pd.Series(np.arange(len(frame)), index=frame["source_row"].to_numpy())
    parsed_rows = [r.row for r in table.rejects if r.row in position.index]
    rejected[position.loc[parsed_rows].to_numpy()] = True
    used = frame.loc[~rejected]
    if "currency" in KINDS[table.kind]:
        used = _fill_currency(used, config, notes)
    used = _canonical(used.reset_index(drop=True), table.kind, schema)

    result = Validated(
        used=used,
        rejects=_in_sheet_order(
            list(table.rejects) + _as_written([r for _, r in records], table),
            frame,
            table.source_columns,
        ),
        rejected_rows=int(rejected.sum()),
        flags=_in_sheet_order(
            _as_written([r for _, r in flagged], table), frame, table.source_columns
        ),
        notes=notes,
    )
    log.info(
        "%s (profile %s, sheet %s): read %d = used %d + skipped %d + rejected %d; "
        "%d rejects, %d flags",
        table.kind,
        table.profile,
        table.sheet,
        table.rows_read,
        len(result.used),
        len(table.skipped),
        result.rejected_rows,
        len(result.rejects),
        len(result.flags),
    )
    return result


def _reject_records(
    frame: pd.DataFrame,
    cases: pd.DataFrame,
    schema: TableSchema,
    row_checks: list[RowCheck],
    ctx: _Context,
    parse_failed: set[tuple[int | None, str | None]],
) -> tuple[list[tuple[int, Reject]], list[tuple[int, Reject]]]:
    """pandera's failure cases as (rejects, flags), each paired with its position."""
    records: list[tuple[int, Reject]] = []
    flagged: list[tuple[int, Reject]] = []
    by_rule = {c.rule: c for c in row_checks}
    keys = ["schema_context", "check", "column"]
    groups = cases.groupby(keys, sort=False, dropna=False)
    for (context, check, column), group in groups:
        positions = group["index"].to_numpy()
        if context == "Column" and check == "not_nullable":
            rows = frame["source_row"].to_numpy()[positions]
            fresh = [
                (int(r), column) not in parse_failed
                and (int(r), None) not in parse_failed
                for r in rows
            ]
            rule = schema.columns[column].missing_rule
            records += _records(frame, positions[fresh], column, rule)
        elif context == "Column":
            # element checks: the detail is the value as written
            out = flagged if schema.columns[column].severity == "flag" else records
            values = [str(v) for v in frame[column].iloc[positions]]
            out += _records(frame, positions, column, check, values)
        else:
            row_check = by_rule[check]
            detail = ROW_RULES[check][1](frame.iloc[positions], frame, ctx)
            out = flagged if row_check.severity == "flag" else records
            out += _records(frame, positions, row_check.column, check, detail)
    return records, flagged


def _parse_failed_cells(table: TableRead, schema: TableSchema) -> set[tuple]:
    """(row, canonical column) of the cells the reader could not parse.

    The reader names a column by its header as written (e.g. 수량); the table's
    source_columns map turns it back into the field. A header it does not know
    (a table built by hand) covers its whole row (column None).
    """
    field_of = {label: name for name, label in table.source_columns.items()}
    failed = set()
    for r in table.rejects:
        column = field_of.get(r.column, r.column)
        failed.add((r.row, column if column in schema.columns else None))
    return failed


def _as_written(records: list[Reject], table: TableRead) -> list[Reject]:
    """Rejects name the column by the header the person sees in the file."""
    labels = table.source_columns
    return [
        dataclasses.replace(r, column=labels[r.column]) if r.column in labels else r
        for r in records
    ]


def _fill_currency(
    used: pd.DataFrame, config: dict[str, Any], notes: list[str]
) -> pd.DataFrame:
    """Blank or absent currency becomes the configured one (Korean ERPs never say)."""
    default = config.get("run", {}).get("currency", "KRW")
    given = used.get("currency")
    if given is not None and given.notna().all():
        return used
    if len(used):
        notes.append(f"currency {default} assumed where the source gives none")
    currency = pd.Series(given, index=used.index, dtype="string").fillna(default)
    return used.assign(currency=currency)


def _in_sheet_order(
    records: list[Reject], frame: pd.DataFrame, labels: dict[str, str] | None = None
) -> list[Reject]:
    """By row (file-level first), then by the column's place in the frame."""
    order = {name: i for i, name in enumerate(frame.columns)}
    order.update(
        {label: order[name] for name, label in (labels or {}).items() if name in order}
    )
    return sorted(
        records,
        key=lambda r: (
            -1 if r.row is None else r.row,
            order.get(r.column, len(order)),
        ),
    )
