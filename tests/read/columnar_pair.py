"""Reading one workbook both ways (column-wise and row-wise) and comparing them;
shared by test_columnar_read.py and test_columnar_breaks.py."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import pandas as pd

from ledgerflow import tables
from ledgerflow.config import load_config
from ledgerflow.read import read_file

COLUMN_WISE = "column-wise"
ROW_WISE = "row-wise"


def config_with(min_rows: int) -> dict:
    config = copy.deepcopy(load_config())
    config.setdefault("read", {})["columnar_min_rows"] = min_rows
    return config


def read_with(path: Path, min_rows: int, caplog) -> tuple[tables.FileRead, str]:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="ledgerflow.read"):
        result = read_file(path, config_with(min_rows))
    used = any("(column-wise)" in r.getMessage() for r in caplog.records)
    return result, COLUMN_WISE if used else ROW_WISE


def assert_same(rows: tables.FileRead, columns: tables.FileRead) -> None:
    """Everything a reader returns, compared field by field."""
    assert rows.refused == columns.refused
    assert rows.ignored_sheets == columns.ignored_sheets
    assert rows.notes == columns.notes
    assert len(rows.tables) == len(columns.tables)
    for a, b in zip(rows.tables, columns.tables, strict=True):
        pd.testing.assert_frame_equal(a.frame, b.frame)
        assert a.skipped == b.skipped
        assert a.rejects == b.rejects
        assert (a.kind, a.profile, a.sheet, a.header_row) == (
            b.kind,
            b.profile,
            b.sheet,
            b.header_row,
        )
        assert a.rows_read == b.rows_read == len(b.frame) + len(b.skipped)
        assert a.declared_period == b.declared_period
        assert a.notes == b.notes
        assert a.source_columns == b.source_columns


def both(path: Path, caplog) -> tuple[tables.FileRead, str]:
    """Read both ways, assert they agree; (the column-wise result, path taken)."""
    rows, used = read_with(path, 10**12, caplog)
    assert used == ROW_WISE
    columns, used = read_with(path, 0, caplog)
    assert_same(rows, columns)
    return columns, used
