"""The column-wise read (fastexcel) gives the very tables of the row-wise read.

Every workbook is read twice: ``[read] columnar_min_rows`` huge (python-calamine,
row by row, the reference) and 0 (every xlsx sheet column-wise, or falling back
where the columns cannot say the same). Frames, skips, rejects, row accounts and
notes must be identical. The hand-made sheets also say which path must be taken,
so a fallback cannot hide the column-wise path, and a few figures are checked.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter
from columnar_pair import (
    COLUMN_WISE,
    ROW_WISE,
    assert_same,
    both,
    config_with,
    read_with,
)

from ledgerflow import tables
from ledgerflow.demo import generate_demo
from ledgerflow.read import read_file

HEADER = [
    "일자",
    "전표번호",
    "거래처코드",
    "거래처명",
    "품목명",
    "수량",
    "공급가액",
    "비고",
]


# ------------------------------------------------------------- shared workbooks


def _workbooks(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in (".xlsx", ".xlsm") and p.name != "Online Retail.xlsx"
    )


def test_every_case_workbook_reads_the_same(cases_dir, caplog):
    paths = _workbooks(cases_dir)
    assert len(paths) >= 8
    taken = {p.name: both(p, caplog)[1] for p in paths}
    # the plain exports of case 01 and 18 go column-wise; case 02's number codes
    # with a 00000 format and case 04's serial dates among text dates fall back
    assert taken["sales_by_partner_2024-03.xlsx"] == COLUMN_WISE
    assert taken["sales_lines_2024-03.xlsx"] == COLUMN_WISE
    assert taken["partners_master.xlsx"] == ROW_WISE
    assert taken["sales_vouchers_2024-03.xlsx"] == ROW_WISE


def test_every_shared_data_workbook_reads_the_same(shared_data, caplog):
    paths = _workbooks(shared_data)
    assert paths
    for path in paths:
        both(path, caplog)


def test_demo_workbooks_read_the_same(tmp_path, caplog):
    written = generate_demo(tmp_path, partners=60, months=3)
    paths = [p for p in written if p.suffix == ".xlsx"]
    assert len(paths) >= 2
    for path in paths:
        _, used = both(path, caplog)
        assert used == COLUMN_WISE, path.name


@pytest.fixture(scope="session")
def retail_both(shared_data) -> tuple[tables.FileRead, tables.FileRead]:
    path = shared_data / "uci-online-retail" / "derived" / "Online Retail.xlsx"
    return read_file(path, config_with(10**12)), read_file(path, config_with(0))


@pytest.mark.slow
def test_online_retail_reads_the_same(retail_both):
    rows, columns = retail_both
    assert_same(rows, columns)
    assert columns.tables[0].rows_read == 541_909


# ------------------------------------------------------------ hand-made sheets


def _book(path: Path, build, **options) -> Path:
    book = xlsxwriter.Workbook(path, options)
    sheet = book.add_worksheet("매출")
    build(book, sheet)
    book.close()
    return path


def _lines(sheet, fmt, first_row: int, rows: list[list], col: int = 0) -> None:
    for r, row in enumerate(rows, start=first_row):
        for c, value in enumerate(row, start=col):
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, fmt)
            else:
                sheet.write(r, c, value)


def test_title_rows_subtotals_and_text_negatives(tmp_path, caplog):
    """A leading empty row and column, titles, △ text among numbers, 소계/합계, a
    footer and a formula column with cached results: all column-wise."""

    def build(book, sheet):
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write(1, 1, "매출 내역")
        sheet.write(2, 1, "조회기간 : 2025-12-01 ~ 2025-12-31")
        sheet.write_row(3, 1, HEADER)
        d1, d2 = dt.datetime(2025, 12, 1), dt.datetime(2025, 12, 2, 14, 30)
        rows = [
            [d1, "A-1", "00457", "가나상사", "볼트", 10, 1000, "x"],
            [d1, "A-2", "00457", "가나상사", "너트", 2, "△1,000", None],
            [d2, "A-3", "10021", "다라(주)", "와셔", 3, 1234.5, "메모"],
            [None, None, None, "소계", None, 15, 1234.5, None],
            [d2, "A-4", "10021", "다라(주)", "볼트", 1, "1,500", None],
            ["합  계", None, None, None, None, 16, 2734.5, None],
        ]
        _lines(sheet, day, 4, rows, col=1)
        sheet.write(11, 1, "※ 부가세 별도")
        for r in range(4, 10):  # a formula column with cached results
            sheet.write_formula(r, 9, f"=G{r + 1}*2", None, 2)

    path = _book(tmp_path / "매출_2025-12.xlsx", build)
    result, used = both(path, caplog)
    assert used == COLUMN_WISE
    table = result.tables[0]
    assert table.header_row == 4
    assert list(table.frame["supply_amount"]) == [1000.0, -1000.0, 1234.5, 1500.0]
    assert list(table.frame["partner_code"]) == ["00457", "00457", "10021", "10021"]
    assert list(table.frame["source_row"]) == [5, 6, 7, 9]
    assert [(s.row, s.rule) for s in table.skipped] == [
        (8, "subtotal"),
        (10, "control_total"),
        (12, "footer"),
    ]


def test_codes_as_numbers_with_a_zero_padding_format(tmp_path, caplog):
    """Number codes shown 00457 by their format: column-wise, padded as shown."""

    def build(book, sheet):
        padded = book.add_format({"num_format": "00000"})
        sheet.write_row(0, 0, HEADER)
        for r, code in enumerate([457, 10021, 3], start=1):
            sheet.write(r, 0, f"2025-12-0{r}")
            sheet.write(r, 1, f"D{r}")
            sheet.write_number(r, 2, code, padded)
            sheet.write(r, 3, "상사")
            sheet.write(r, 6, 100 * r)

    result, used = both(_book(tmp_path / "codes.xlsx", build), caplog)
    assert used == COLUMN_WISE
    codes = list(result.tables[0].frame["partner_code"])
    assert codes == ["00457", "10021", "00003"]


def test_codes_mixing_text_and_padded_numbers_fall_back(tmp_path, caplog):
    def build(book, sheet):
        padded = book.add_format({"num_format": "00000"})
        sheet.write_row(0, 0, HEADER)
        sheet.write_row(1, 0, ["2025-12-01", "D1", "00457", "상사", None, 1, 100])
        sheet.write_row(2, 0, ["2025-12-02", "D2", None, "상사", None, 1, 200])
        sheet.write_number(2, 2, 458, padded)

    result, used = both(_book(tmp_path / "mixed_codes.xlsx", build), caplog)
    assert used == ROW_WISE
    assert list(result.tables[0].frame["partner_code"]) == ["00457", "00458"]


def test_date_serials_among_text_dates_fall_back(tmp_path, caplog):
    def build(book, sheet):
        sheet.write_row(0, 0, HEADER)
        sheet.write_row(1, 0, ["2024-03-06", "D1", "C1", "상사", None, 1, 100])
        sheet.write_row(2, 0, [45358, "D2", "C1", "상사", None, 1, 200])

    result, used = both(_book(tmp_path / "serials.xlsx", build), caplog)
    assert used == ROW_WISE
    dates = list(result.tables[0].frame["doc_date"])
    assert dates == [pd.Timestamp("2024-03-06"), pd.Timestamp("2024-03-07")]


def test_numbers_in_a_text_column(tmp_path, caplog):
    """Partner names that are numbers: 1234.5 reads "1234.5" either way; 1e-05
    would read "0.00001" column-wise and "1e-05" row-wise, so that sheet falls back."""

    def build(names):
        def write(book, sheet):
            sheet.write_row(0, 0, HEADER)
            for r, name in enumerate(names, start=1):
                sheet.write_row(r, 0, ["2025-12-01", f"D{r}", "C1", name, None, 1, 9])

        return write

    result, used = both(_book(tmp_path / "a.xlsx", build(["상사", 1234.5, 77])), caplog)
    assert used == COLUMN_WISE
    assert list(result.tables[0].frame["partner_name"]) == ["상사", "1234.5", "77"]
    _, used = both(_book(tmp_path / "b.xlsx", build(["상사", 0.00001])), caplog)
    assert used == ROW_WISE


def test_a_lone_number_in_an_unused_column_falls_back(tmp_path, caplog):
    """Row-wise a lone number is a data row, a lone text a footer; column-wise the
    number arrives as text in a text column, so the sheet is read row-wise."""

    def build(book, sheet):
        sheet.write_row(0, 0, [*HEADER, "XYZ"])
        sheet.write_row(1, 0, ["2025-12-01", "D1", "C1", "상사", None, 1, 9])
        sheet.write(1, 8, "참고")
        sheet.write(2, 8, 5)

    result, used = both(_book(tmp_path / "lone.xlsx", build), caplog)
    assert used == ROW_WISE
    assert len(result.tables[0].frame) == 2


def test_merged_header_cells_and_a_merge_in_the_body(tmp_path, caplog):
    def build(body_merge):
        def write(book, sheet):
            sheet.merge_range(0, 0, 1, 0, "일자")
            sheet.merge_range(0, 1, 1, 1, "전표번호")
            sheet.merge_range(0, 2, 0, 3, "거래처")
            sheet.write_row(1, 2, ["코드", "명"])
            sheet.merge_range(0, 4, 1, 4, "공급가액")
            sheet.write_row(2, 0, ["2025-12-01", "D1", "C1", "상사", 100])
            sheet.write_row(3, 0, ["2025-12-02", "D2", "C2", "물산", 200])
            if body_merge:
                sheet.merge_range(4, 0, 5, 0, "2025-12-03")
                sheet.write_row(4, 1, ["D3", "C3", "무역", 300])
                sheet.write_row(5, 1, ["D4", "C3", "무역", 400])

        return write

    result, used = both(_book(tmp_path / "merged.xlsx", build(False)), caplog)
    assert used == COLUMN_WISE
    frame = result.tables[0].frame
    assert list(frame["partner_code"]) == ["C1", "C2"]
    assert list(frame["partner_name"]) == ["상사", "물산"]
    result, used = both(_book(tmp_path / "merged_body.xlsx", build(True)), caplog)
    assert used == ROW_WISE
    assert result.tables[0].frame["doc_date"].iloc[-1] == pd.Timestamp("2025-12-03")


def test_booleans_times_errors_and_rich_text(tmp_path, caplog):
    def build_bool(book, sheet):
        sheet.write_row(0, 0, HEADER)
        sheet.write_row(1, 0, ["2025-12-01", "D1", "C1", "상사", None, 1, True])

    result, used = both(_book(tmp_path / "bool.xlsx", build_bool), caplog)
    assert used == ROW_WISE
    assert [r.rule for r in result.tables[0].rejects] == ["amount_format"]

    def build_rest(book, sheet):
        bold = book.add_format({"bold": True})
        clock = book.add_format({"num_format": "hh:mm"})
        sheet.write_row(0, 0, [*HEADER, "납기일"])
        sheet.write_row(1, 0, ["2025-12-01", "D1", "C1", None, None, 1, 100])
        sheet.write_rich_string(1, 3, "가나", bold, "상사")
        sheet.write_formula(1, 7, "=1/0", None, "#DIV/0!")
        sheet.write_row(2, 0, ["2025-12-02", "D2", "C1", "상사", None, 1, 200])
        sheet.write_datetime(2, 8, dt.datetime(1899, 12, 31, 9, 30), clock)

    result, used = both(_book(tmp_path / "rest.xlsx", build_rest), caplog)
    assert used == ROW_WISE  # a time of day in the 납기일 (date) column
    assert result.tables[0].frame["partner_name"].iloc[0] == "가나상사"


def test_1904_dates_and_out_of_range_dates(tmp_path, caplog):
    def build(book, sheet):
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write_row(0, 0, HEADER)
        rows = [
            [dt.datetime(2025, 12, 1), "D1", "C1", "상사", None, 1, 100],
            [dt.datetime(2025, 12, 2), "D2", 457, "상사", None, 1, 200],
            [dt.datetime(2025, 12, 3), "D3", 457.5, "상사", None, 1, 300],
        ]
        _lines(sheet, day, 1, rows)

    path = _book(tmp_path / "d1904.xlsx", build, date_1904=True)
    result, used = both(path, caplog)
    # "457.5" could be text or a number (code_not_integer): row-wise
    assert used == ROW_WISE
    assert [r.rule for r in result.tables[0].rejects] == ["code_not_integer"]

    def build_far(book, sheet):
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write_row(0, 0, HEADER)
        rows = [
            [dt.datetime(2025, 12, 1), "D1", "C1", "상사", None, 1, 100],
            [dt.datetime(9999, 12, 31), "D2", "C2", "상사", None, 1, 200],
        ]
        _lines(sheet, day, 1, rows)

    result, used = both(_book(tmp_path / "far.xlsx", build_far, date_1904=True), caplog)
    assert used == COLUMN_WISE
    rejects = result.tables[0].rejects
    assert [(r.row, r.rule, r.value) for r in rejects] == [
        (3, "date_out_of_range", "9999-12-31")
    ]


def test_threshold_keeps_small_sheets_row_wise(tmp_path, caplog):
    def build(book, sheet):
        sheet.write_row(0, 0, HEADER)
        sheet.write_row(1, 0, ["2025-12-01", "D1", "C1", "상사", None, 1, 100])

    path = _book(tmp_path / "small.xlsx", build)
    _, used = read_with(path, 3, caplog)  # two <row> elements, fewer than 3
    assert used == ROW_WISE
    _, used = read_with(path, 2, caplog)
    assert used == COLUMN_WISE
