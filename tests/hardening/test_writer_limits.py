"""Writer limits: sheet names, Excel's 32,767 characters, time zones, infinities.

Through report.workbook.write_workbook, the layer every workbook of a run uses, and
read back with openpyxl.
"""

from __future__ import annotations

import datetime as dt
import math

import openpyxl
import pandas as pd

from ledgerflow.report.workbook import SheetSpec, clean_sheet_name, write_workbook


def test_sheet_names_follow_excels_rules_and_stay_unique():
    taken: set[str] = set()
    names = [
        clean_sheet_name(n, taken)
        for n in ["a/b:c*d?[e]\\f", "'quoted'", "", "History", "x" * 40, "X" * 40, "a"]
    ]
    assert names == [
        "a_b_c_d__e__f",
        "quoted",
        "Sheet",
        "History_",
        "x" * 31,
        "X" * 27 + " (2)",  # unique ignoring case, as Excel compares
        "a",
    ]
    assert all(len(n) <= 31 for n in names)


def test_long_text_infinities_and_time_zones(tmp_path):
    frame = pd.DataFrame(
        {
            "partner_name": ["가" * 40_000, '=HYPERLINK("x")', "\r-1"],
            "revenue": [math.inf, -math.inf, -5.0],
            "first_txn_date": pd.to_datetime(
                ["2026-11-30 15:30", "2026-11-30 23:00", "9999-12-31 00:00"]
            ).tz_localize("UTC"),
        }
    )
    path = write_workbook(
        tmp_path / "limits.xlsx",
        [SheetSpec("rejects", frame, ["partner_name", "revenue", "first_txn_date"])],
        lang="en",
        created=dt.date(2026, 11, 30),
    )
    sheet = openpyxl.load_workbook(path).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2, max_row=4)]
    assert len(values[0][0]) == 32_767 and set(values[0][0]) == {"가"}
    assert values[1][0] == '=HYPERLINK("x")' and sheet["A3"].data_type == "s"
    # xlsxwriter stores CR as Excel's escape _x000D_ (Excel shows a CR); openpyxl
    # does not unescape it. Either way a text cell, never a formula.
    assert values[2][0] in ("\r-1", "_x000D_-1") and sheet["A4"].data_type == "s"
    assert values[0][1] is None and values[1][1] is None and values[2][1] == -5
    # UTC 15:30 is 00:30 the next day in Seoul; 23:00 UTC is 08:00 in Seoul
    assert values[0][2] == dt.datetime(2026, 12, 1, 0, 30)
    assert values[1][2] == dt.datetime(2026, 12, 1, 8, 0)
    notes = [c.value for c in sheet["A"] if isinstance(c.value, str)]
    assert any("32,767" in n or "cut" in n.lower() for n in notes), notes
    assert any("infinite" in n.lower() for n in notes), notes
