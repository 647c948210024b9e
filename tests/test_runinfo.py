"""run.json: input fingerprints, the row account per file, versions, stable JSON."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ledgerflow import runinfo
from ledgerflow.errors import LedgerflowError
from ledgerflow.period import Period
from ledgerflow.tables import FileRead, Reject, Skip, TableRead


def table(kind: str, sheet: str, rows_read: int, skipped: int = 0) -> TableRead:
    return TableRead(
        kind=kind,
        profile=f"{kind}_ko",
        sheet=sheet,
        header_row=3,
        frame=pd.DataFrame(),
        rows_read=rows_read,
        skipped=[Skip("f.xlsx", sheet, 100 + i, "total_row") for i in range(skipped)],
    )


def file_read(**changes) -> FileRead:
    values = dict(
        path=Path("input/매출_2024.xlsx"),
        name="매출_2024.xlsx",
        sha256="ab" * 32,
        size_bytes=12_345,
        format="xlsx",
        tables=[
            table("sales_lines", "매출", 10, skipped=1),
            table("sales_lines", "반품", 4),
        ],
        ignored_sheets=[("숨김", "hidden"), ("코드표", "veryHidden")],
    )
    values.update(changes)
    return FileRead(**values)


def test_file_sha256_streams_large_files(tmp_path):
    data = bytes(range(256)) * 9_000  # 2.2 MiB: more than two chunks
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert runinfo.file_sha256(path) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert runinfo.file_sha256(empty) == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_library_versions():
    versions = runinfo.library_versions()
    assert list(versions) == [
        "ledgerflow",
        "pandas",
        "numpy",
        "openpyxl",
        "python-calamine",
        "pandera",
        "prefect",
        "xlsxwriter",
    ]
    assert versions["pandas"] == pd.__version__
    assert versions["numpy"] == np.__version__
    assert all(versions.values())


def test_input_entry_for_a_balanced_file():
    entry = runinfo.input_entry(
        file_read(),
        used=10,
        skipped=1,
        rejected=3,
        skip_reasons={"total_row": 1},
        reject_rules={"vat_mismatch": 3, "date_format": 1},
    )
    assert entry == {
        "name": "매출_2024.xlsx",
        "sha256": "ab" * 32,
        "size_bytes": 12_345,
        "format": "xlsx",
        "encoding": None,
        "profiles": ["sales_lines_ko"],
        "kinds": ["sales_lines"],
        "sheets": [
            {
                "sheet": "매출",
                "kind": "sales_lines",
                "profile": "sales_lines_ko",
                "header_row": 3,
                "rows_read": 10,
            },
            {
                "sheet": "반품",
                "kind": "sales_lines",
                "profile": "sales_lines_ko",
                "header_row": 3,
                "rows_read": 4,
            },
        ],
        "ignored_sheets": [
            {"sheet": "숨김", "state": "hidden"},
            {"sheet": "코드표", "state": "veryHidden"},
        ],
        "rows": {"read": 14, "used": 10, "skipped": 1, "rejected": 3},
        "skip_reasons": {"total_row": 1},
        "reject_rules": {"vat_mismatch": 3, "date_format": 1},
        "refused": None,
        "notes": [],
    }


def test_input_entry_refuses_an_account_that_does_not_add_up():
    with pytest.raises(LedgerflowError) as raised:
        runinfo.input_entry(
            file_read(),
            used=10,
            skipped=1,
            rejected=2,
            skip_reasons={"total_row": 1},
            reject_rules={},
        )
    assert str(raised.value) == (
        "매출_2024.xlsx: row account does not add up: read 14 != used 10 + skipped 1 "
        "+ rejected 2; this is a bug in ledgerflow, not a problem of the file; please "
        "report it with run.json"
    )
    with pytest.raises(LedgerflowError, match="skip reasons count 2 rows but 1"):
        runinfo.input_entry(
            file_read(),
            used=10,
            skipped=1,
            rejected=3,
            skip_reasons={"total_row": 2},
            reject_rules={},
        )


def test_input_entry_for_a_refused_file():
    refused = Reject("secret.xlsx", "", None, None, None, "grade_D", "암호")
    entry = runinfo.input_entry(
        file_read(name="secret.xlsx", tables=[], ignored_sheets=[], refused=refused),
        used=0,
        skipped=0,
        rejected=0,
        skip_reasons={},
        reject_rules={},
    )
    assert entry["rows"] == {"read": 0, "used": 0, "skipped": 0, "rejected": 0}
    assert entry["refused"] == {
        "rule": "grade_D",
        "detail": "암호",
        "reason": "Grade D (암호)",
    }


def test_run_json_is_stable_utf8_with_iso_dates(tmp_path):
    info = {
        "period": Period(2024, 3),
        "inputs": [{"name": "매출.xlsx", "size_bytes": np.int64(5)}],
        "created": dt.date(2024, 3, 31),
        "finished": pd.Timestamp("2024-04-01 09:30:00"),
        "ratio": np.float64(0.5),
        "missing": [math.nan, pd.NA, pd.NaT, float("inf")],
        "where": Path("output/2024-03"),
        "flags": {"b", "a"},
        "skip": Skip("a.csv", "", 2, "total_row"),
        1: "numeric key",
    }
    path = runinfo.write_run_json(tmp_path / "2024-03" / "run.json", info)
    text = path.read_text("utf-8")
    assert "매출.xlsx" in text  # Hangul as is, not \\uXXXX
    assert text.endswith("}\n")
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert data["period"] == "2024-03"
    assert data["created"] == "2024-03-31"
    assert data["finished"] == "2024-04-01T09:30:00"
    assert data["inputs"] == [{"name": "매출.xlsx", "size_bytes": 5}]
    assert data["ratio"] == 0.5
    assert data["missing"] == [None, None, None, None]
    assert data["where"] == "output/2024-03"
    assert data["flags"] == ["a", "b"]
    assert data["skip"] == {
        "file": "a.csv",
        "sheet": "",
        "row": 2,
        "rule": "total_row",
        "detail": "",
    }
    assert data["1"] == "numeric key"
    runinfo.write_run_json(tmp_path / "again.json", info)
    assert (tmp_path / "again.json").read_text("utf-8") == text
    assert sorted(p.name for p in path.parent.iterdir()) == ["run.json"]
