"""The whole-column paths of report.workbook (issue 8): each kind of column, prepared
at once and written through xlsxwriter's undecorated calls, must show what the rules
of the module say, value by value, in both of xlsxwriter's modes.

Expected values are worked out by hand from the frames below; the workbooks are read
back with openpyxl (and, where the XML itself is the point, from the zip).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from ledgerflow.report import workbook
from ledgerflow.report.workbook import ColumnSum, Ratio, SheetSpec, write_workbook

CREATED = dt.date(2024, 3, 31)
RED = "FFFFC7CE"


def write(path: Path, frame: pd.DataFrame, **spec) -> Path:
    columns = spec.pop("columns", list(frame.columns))
    sheet = SheetSpec("evaluation", frame, columns, title_values={"year": 2024}, **spec)
    return write_workbook(path, [sheet], lang="en", created=CREATED)


def sheet_of(path: Path, data_only: bool = False):
    return openpyxl.load_workbook(path, data_only=data_only).worksheets[0]


def values(path: Path, data_only: bool = False) -> list[tuple]:
    return list(sheet_of(path, data_only).iter_rows(values_only=True))


def sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode()


def cell_xml(path: Path, ref: str) -> str:
    """The <c> element of cell ``ref`` ("" when the cell is not written)."""
    found = re.search(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', sheet_xml(path))
    return found.group(0) if found else ""


def test_missing_values_are_empty_cells_of_every_kind(tmp_path):
    frame = pd.DataFrame(
        {
            "partner_name": pd.Series(["가나상사", None, "ACME"], dtype="string"),
            "revenue": pd.Series([1000.0, None, -250.5], dtype="Float64"),
            "n_lines": pd.Series([3, None, -2], dtype="Int64"),
            "qty": pd.Series([1.25, np.nan, 0.0]),
            "doc_date": pd.Series(pd.to_datetime(["2024-03-01", None, "2024-03-31"])),
            "is_disputed": pd.Series([True, None, False], dtype="boolean"),
        }
    )
    path = write(tmp_path / "x.xlsx", frame)
    assert values(path)[:4] == [
        ("Partner name", "Revenue", "Lines", "Quantity", "Date", "Disputed"),
        ("가나상사", 1000, 3, 1.25, dt.datetime(2024, 3, 1), True),
        (None, None, None, None, None, None),
        ("ACME", -250.5, -2, 0, dt.datetime(2024, 3, 31), False),
    ]
    sheet = sheet_of(path)
    # the empty cells of formatted columns keep their format; 250.5 asks for cents
    assert [sheet.cell(3, col).number_format for col in range(2, 6)] == [
        "#,##0.00",
        "#,##0",
        "#,##0.0",
        "yyyy-mm-dd",
    ]
    # an empty text cell without a format is not written at all, never "" or 0
    assert cell_xml(path, "A3") == ""
    assert cell_xml(path, "B3") == '<c r="B3" s="2"/>'


def test_infinite_values_are_empty_with_a_note(tmp_path):
    frame = pd.DataFrame({"gross_margin": [0.5, np.inf, -np.inf, -0.125]})
    path = write(tmp_path / "x.xlsx", frame)
    rows = values(path)
    assert rows[1:5] == [(0.5,), (None,), (None,), (-0.125,)]
    assert rows[6:] == [
        ("Notes",),
        ("Gross margin %: 2 infinite value(s) left empty (row 3, 4).",),
    ]


def test_whole_numbers_and_fractions_are_written_as_numbers(tmp_path):
    frame = pd.DataFrame(
        {
            "n_lines": pd.Series([1, 12_345_678_901_234_567, -7], dtype="Int64"),
            "revenue": pd.Series([2.0, -0.5, 3.0], dtype="Float64"),
            "rank": pd.Series([4, 5, 6], dtype="int32"),
        }
    )
    path = write(tmp_path / "x.xlsx", frame)
    assert values(path)[1:] == [
        (1, 2, 4),
        (1.234567890123457e16, -0.5, 5),
        (-7, 3, 6),
    ]
    # an int and a whole float give the same XML: 17 digits are shown as Excel would
    assert "<v>1.234567890123457E+16</v>" in cell_xml(path, "A3")
    assert cell_xml(path, "B2").endswith("><v>2</v></c>")


def test_flags_in_number_columns_stay_flags(tmp_path):
    frame = pd.DataFrame(
        {
            "revenue": pd.Series([True, False, None, True, False], dtype="boolean"),
            "qty": pd.Series([True, 3, 2.5, "12a", None], dtype=object),
        }
    )
    path = write(tmp_path / "x.xlsx", frame, columns=["revenue", "qty"])
    assert values(path)[1:6] == [
        (True, True),
        (False, 3),
        (None, 2.5),
        (True, "12a"),
        (False, None),
    ]
    assert ' t="b"><v>1</v>' in cell_xml(path, "A2")
    assert ' t="b"><v>1</v>' in cell_xml(path, "B2")


def test_text_in_number_columns_is_shown_as_found(tmp_path):
    found = ["=1+2", "00123", " 5 ", None, "+82 10"]
    frame = pd.DataFrame({"revenue": pd.Series(found, dtype="string")})
    path = write(tmp_path / "x.xlsx", frame)
    xml = sheet_xml(path)
    assert "<f>" not in xml  # never a formula
    for row in (2, 3, 4, 6):
        assert ' t="s"><v>' in cell_xml(path, f"A{row}")
    with zipfile.ZipFile(path) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert re.findall(r"<t[^>]*>(.*?)</t>", strings) == [
        "Revenue",
        "=1+2",
        "00123",
        " 5 ",
        "+82 10",
    ]


def test_text_is_cut_at_excels_limit_in_utf16_units(tmp_path):
    frame = pd.DataFrame(
        {
            "partner_name": pd.Series(
                ["가" * 40_000, "😀" * 20_000, "a" * 32_767, "b"], dtype="string"
            )
        }
    )
    path = write(tmp_path / "x.xlsx", frame)
    rows = values(path)
    # Hangul is one UTF-16 unit a character, an emoji two: 32,766 units keep 16,383
    assert rows[1][0] == "가" * 32_767
    assert rows[2][0] == "😀" * 16_383
    assert rows[3][0] == "a" * 32_767
    assert rows[4][0] == "b"
    assert rows[-1] == (
        "Partner name: 2 cell(s) cut to Excel's limit of 32,767 characters (row 2, 3).",
    )


def test_datetimes_with_a_zone_are_shown_in_seoul_time(tmp_path):
    utc = pd.to_datetime(["2024-03-31 15:30", None, "2024-01-01 00:00"], utc=True)
    frame = pd.DataFrame(
        {
            "doc_date": pd.Series(utc),
            "due_date": pd.Series(utc.tz_convert("America/New_York")),
        }
    )
    path = write(tmp_path / "x.xlsx", frame)
    assert values(path)[1:4] == [
        (dt.datetime(2024, 4, 1, 0, 30), dt.datetime(2024, 4, 1, 0, 30)),
        (None, None),
        (dt.datetime(2024, 1, 1, 9, 0), dt.datetime(2024, 1, 1, 9, 0)),
    ]


def test_highlighted_rows_are_coloured_across_the_row(tmp_path):
    frame = pd.DataFrame(
        {
            "partner_name": pd.Series(["a", None, "c", "d"], dtype="string"),
            "revenue": pd.Series([1.0, None, 3.0, 4.0], dtype="Float64"),
            "doc_date": pd.Series(pd.to_datetime(["2024-01-02", None, None, None])),
        }
    )
    highlight = pd.Series([True, True, None, False], dtype="boolean")
    path = write(tmp_path / "x.xlsx", frame, highlight=highlight)
    sheet = sheet_of(path)
    for row, coloured in ((2, True), (3, True), (4, False), (5, False)):
        for col in (1, 2, 3):
            cell = sheet.cell(row, col)
            assert (cell.fill.fgColor.rgb == RED) is coloured, (row, col)
    # coloured or not, the columns keep their number formats
    assert sheet.cell(3, 2).number_format == "#,##0"
    assert sheet.cell(5, 2).number_format == "#,##0"
    assert sheet.cell(2, 3).number_format == "yyyy-mm-dd"
    # the empty text cell of a coloured row is written (for its colour), still empty
    assert sheet.cell(3, 1).value is None
    assert cell_xml(path, "A3").endswith("/>")


def test_total_row_sums_and_ratios(tmp_path):
    frame = pd.DataFrame(
        {
            "partner_name": pd.Series(["a", "b", "c"], dtype="string"),
            "revenue": pd.Series([1000.0, None, -250.0], dtype="Float64"),
            "gross_profit": pd.Series([200.0, None, -50.0], dtype="Float64"),
            "gross_margin": pd.Series([0.2, None, 0.2]),
            "n_lines": pd.Series([1, 2, 3], dtype="Int64"),
        }
    )
    total = {
        "revenue": ColumnSum(750.0),
        "gross_profit": ColumnSum(150.0),
        "gross_margin": Ratio("gross_profit", "revenue", 0.2),
        "n_lines": ColumnSum(7),  # the rows sum to 6: the value, not a formula
    }
    path = write(tmp_path / "x.xlsx", frame, total=total)
    assert values(path)[4] == ("Total", "=SUM(B2:B4)", "=SUM(C2:C4)", "=C5/B5", 7)
    assert values(path, data_only=True)[4] == ("Total", 750, 150, 0.2, 7)
    sheet = sheet_of(path)
    assert all(sheet.cell(5, col).font.b for col in range(1, 6))


def test_shared_strings_are_numbered_in_reading_order(tmp_path):
    frame = pd.DataFrame(
        {
            "partner_code": pd.Series(["B", "A"], dtype="string"),
            "partner_name": pd.Series(["x", "B"], dtype="string"),
        }
    )
    path = write(tmp_path / "x.xlsx", frame)
    with zipfile.ZipFile(path) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode()
    # headers, then row 2 left to right ("B", "x"), then row 3's new one ("A")
    assert re.findall(r"<t[^>]*>(.*?)</t>", strings) == [
        "Partner code",
        "Partner name",
        "B",
        "x",
        "A",
    ]
    assert '<sst xmlns="http://schemas.openxmlformats.org/' in strings
    assert 'count="6" uniqueCount="5"' in strings


def mixed_frame() -> pd.DataFrame:
    stamps = ["2024-03-31 15:30:00.123456789", None, "1960-01-01 00:00:00.0000015"]
    return pd.DataFrame(
        {
            "partner_code": pd.Series(["007", "08", None], dtype="string"),
            "partner_name": pd.Series(["가나 상사", "x" * 40_000, "b"], dtype="str"),
            "revenue": pd.Series([1234.5, None, -0.5], dtype="Float64"),
            "cost": pd.Series([-1_234_567.0, 0.0, None], dtype="Float64"),
            "n_lines": pd.Series([None, 2, -3], dtype="Int64"),
            "qty": pd.Series([-0.0, np.inf, np.nan]),
            "gross_margin": pd.Series([-0.0004, 1.5, np.nan]),
            "doc_date": pd.Series(pd.to_datetime(stamps)),
            "due_date": pd.Series(pd.to_datetime([*stamps[:2], None], utc=True)),
            "is_disputed": pd.Series([None, True, False], dtype="boolean"),
            "rank": pd.Series([True, False, True]),
        }
    )


@pytest.mark.parametrize("highlight", [None, [False, True, True], [True, False, True]])
def test_typed_columns_give_the_bytes_of_value_by_value_columns(tmp_path, highlight):
    frame = mixed_frame()
    marks = None if highlight is None else pd.Series(highlight)
    total = {"revenue": ColumnSum(1234.0), "cost": ColumnSum(-1_234_567.0)}
    typed = write(tmp_path / "a" / "x.xlsx", frame, highlight=marks, total=total)
    # object columns take the value-by-value path: every rule there, one at a time
    plain = frame.astype(object)
    assert all(plain[key].dtype == object for key in plain.columns)
    slow = write(tmp_path / "b" / "x.xlsx", plain, highlight=marks, total=total)
    assert typed.read_bytes() == slow.read_bytes()


def test_constant_memory_mode_shows_the_same_cells(tmp_path, monkeypatch):
    frame = mixed_frame()
    marks = pd.Series([False, True, False])
    total = {"revenue": ColumnSum(1234.0)}
    kept = write(tmp_path / "a" / "x.xlsx", frame, highlight=marks, total=total)
    monkeypatch.setattr(workbook, "CONSTANT_MEMORY_CELLS", 0)
    streamed = write(tmp_path / "b" / "x.xlsx", frame, highlight=marks, total=total)
    assert "inlineStr" in sheet_xml(streamed)
    assert "inlineStr" not in sheet_xml(kept)
    assert values(streamed) == values(kept)
    first, second = sheet_of(kept), sheet_of(streamed)
    for row_a, row_b in zip(first.iter_rows(), second.iter_rows(), strict=True):
        for a, b in zip(row_a, row_b, strict=True):
            assert (a.number_format, a.fill.fgColor.rgb, a.font.b) == (
                b.number_format,
                b.fill.fgColor.rgb,
                b.font.b,
            )
    assert values(streamed)[1][:3] == ("007", "가나 상사", 1234.5)
    assert second.cell(3, 1).fill.fgColor.rgb == RED


@pytest.mark.parametrize(
    ("key", "numbers"),
    [
        ("rank", [0.0, -0.0]),  # "-0" is wider than "0"
        ("rank", [-0.0, 0.0]),
        ("revenue", [-0.4, 0.3]),  # "-0" from rounding
        ("cost", [999.0, -1_234_567_890_123.0, 5.0]),
        ("gross_margin", [0.0004, -0.0004, 12.3456]),
        ("qty", [1e300, -1e299, np.nan]),
        ("n_lines", [7, -12_345_678_901]),
    ],
)
def test_widths_from_the_extremes_match_widths_of_every_value(key, numbers):
    frame = pd.DataFrame({key: pd.Series(numbers)})
    spec = SheetSpec("evaluation", frame, [key])
    fast = workbook._prepare_column(frame, key, "en", spec)
    slow = workbook._prepare_column(frame.astype(object), key, "en", spec)
    assert (fast.shape, slow.shape) == ("numbers", "mixed")
    assert fast.values == slow.values
    assert workbook._width(fast) == workbook._width(slow)


def test_width_counts_the_minus_of_negative_zero():
    frame = pd.DataFrame({"rank": pd.Series([0.0, -0.0])})
    spec = SheetSpec("evaluation", frame, ["rank"])
    column = workbook._prepare_column(frame, "rank", "en", spec)
    column.header = "R"  # a header narrower than the numbers
    assert workbook._width(column) == len("-0") + 2
