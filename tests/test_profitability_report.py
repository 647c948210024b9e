"""Tests of report/profitability.py (the profitability workbook) and of reading a
costs export through its profile, on the hand-worked ledger of
test_profitability_detail."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from ledgerflow import read, validate
from ledgerflow.config import load_defaults
from ledgerflow.metrics import profitability
from ledgerflow.report.profitability import write_profitability_workbook
from test_profitability_detail import (  # noqa: F401 - fixtures
    MARCH,
    SETTINGS,
    config,
    costs,
    master,
    receivables,
    sales,
)

CREATED = dt.datetime(2024, 3, 31)


@pytest.fixture
def written(sales, receivables, costs, master, tmp_path):  # noqa: F811
    master.loc[1, "partner_name"] = '=HYPERLINK("http://x")'
    result = profitability(
        sales, receivables, master, MARCH, config(**SETTINGS), costs=costs
    )
    paths = {}
    for lang in ("ko", "en"):
        paths[lang] = write_profitability_workbook(
            result,
            tmp_path / f"profitability_{lang}.xlsx",
            lang=lang,
            period=MARCH,
            created=CREATED,
            period_reason="period_requested",
        )
    return result, paths


def test_sheets_in_order_summary_first(written):
    _, paths = written
    book = openpyxl.load_workbook(paths["en"])
    assert book.sheetnames == [
        "Summary 2024-03",
        "Month 2024-03",
        "YTD 2024-01 to 03",
        "Last 12 months",
        "Growth",
        "By month",
        "Pareto",
        "Receivables and credit",
        "Partner lifecycle",
        "Assumptions and gaps",
    ]
    ko = openpyxl.load_workbook(paths["ko"])
    assert ko.sheetnames[:2] == ["요약 2024-03", "월간 2024-03"]
    assert ko.sheetnames[-1] == "가정과 자료 공백"


def test_month_sheet_headers_values_and_totals_from_totals(written):
    _, paths = written
    book = openpyxl.load_workbook(paths["en"], data_only=True)
    rows = list(book["Month 2024-03"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:9] == [
        "Partner ID",
        "Partner code",
        "Partner name",
        "Revenue",
        "Cost",
        "Gross profit",
        "Gross margin %",
        "Receivable balance",
        "Overdue amount",
    ]
    col = {name: i for i, name in enumerate(header)}
    body = {r[0]: r for r in rows[1:] if r[0] not in (None, "Total")}
    assert body["A"][col["Revenue"]] == 130_000
    assert body["A"][col["Contribution"]] == pytest.approx(39_741.5)
    # text from inputs is never a formula
    assert body["B"][col["Partner name"]] == '=HYPERLINK("http://x")'
    (total,) = [r for r in rows if r[0] == "Total"]
    assert total[col["Revenue"]] == 170_000
    assert total[col["Gross margin %"]] == pytest.approx(63_000 / 170_000)
    formulas = openpyxl.load_workbook(paths["en"])["Month 2024-03"]
    total_row = next(r for r in formulas.iter_rows() if r[0].value == "Total")
    assert total_row[col["Revenue"]].value.startswith("=SUM(")
    assert (
        total_row[col["Gross margin %"]].value == "=F6/D6"
    )  # 4 partners: A, B, E (owes), F


def test_summary_headline_and_charts(written):
    _, paths = written
    sheet = openpyxl.load_workbook(paths["en"])["Summary 2024-03"]
    rows = {r[0]: r for r in sheet.iter_rows(values_only=True) if r[0]}
    assert rows["Revenue net of returns"][1] == 170_000
    # the sales lines reach back to 2023-01: March 2023 is known (85,000)
    assert rows["Revenue net of returns"][2] == 85_000
    assert rows["Revenue net of returns"][3] == pytest.approx(1.0)
    assert rows["Receivable balance (period end)"][1] == 219_000
    assert "Warning: revenue is concentrated in few partners." in rows
    assert len(sheet._charts) == 4


def test_conditional_formats_and_a4_landscape(written):
    _, paths = written
    book = openpyxl.load_workbook(paths["en"])
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.page_setup.paperSize in (9, "9"), sheet.title
    month = book["Month 2024-03"]
    ranges = {str(r.sqref) for r in month.conditional_formatting}
    header = [c.value for c in month[1]]
    contribution = openpyxl.utils.get_column_letter(header.index("Contribution") + 1)
    overdue = openpyxl.utils.get_column_letter(header.index("Overdue amount") + 1)
    assert f"{contribution}2:{contribution}5" in ranges
    assert f"{overdue}2:{overdue}5" in ranges
    credit = book["Receivables and credit"]
    header = [c.value for c in credit[1]]
    risk = openpyxl.utils.get_column_letter(header.index("Credit risk") + 1)
    rules = [
        rule
        for cf in credit.conditional_formatting
        if str(cf.sqref) == f"{risk}2:{risk}4"
        for rule in cf.rules
    ]
    assert rules and rules[0].formula == ['"High"']


def test_notes_sheet_states_assumptions_and_gaps(written):
    _, paths = written
    notes = [
        r[0]
        for r in openpyxl.load_workbook(paths["ko"])["가정과 자료 공백"].iter_rows(
            min_row=2, values_only=True
        )
    ]
    assert notes[0] == "보고 월: 요청한 기간 (2024-03)" or "2024-03" in notes[0]
    assert any(
        n.startswith("만기일이 없는 세금계산서는 거래처 결제 조건") for n in notes
    )
    assert any(n.startswith("공헌이익 = 매출총이익") for n in notes)
    assert any("신용 노출액" in n for n in notes)


def test_same_bytes_twice(written, tmp_path):
    result, paths = written
    (tmp_path / "again").mkdir()
    again = write_profitability_workbook(
        result,
        tmp_path / "again" / paths["en"].name,
        lang="en",
        period=MARCH,
        created=CREATED,
        period_reason="period_requested",
    )
    assert again.read_bytes() == paths["en"].read_bytes()


def test_a_costs_export_is_read_and_validated(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "비용"
    sheet.append(["거래처별 비용 내역"])
    sheet.append([])
    sheet.append(["일자", "거래처코드", "거래처명", "비용구분", "금액"])
    sheet.append(["2024-03-05", "00123", "가나상사", "운반비", "12,000"])
    sheet.append(["2024-03-06", "00124", "다라", "판매장려금", 50000])
    sheet.append(["2024-03-07", "", "다라", "수수료", "x"])
    sheet.append(["합계", None, None, None, 62000])
    book.save(tmp_path / "비용내역.xlsx")
    settings = load_defaults()
    file_read = read.read_file(tmp_path / "비용내역.xlsx", settings)
    (table,) = file_read.tables
    assert (table.kind, table.profile) == ("costs", "generic_ko_costs")
    checked = validate.validate_table(table, settings, validate.load_table_schemas())
    used = checked.used
    assert used["partner_code"].tolist() == ["00123", "00124"]
    assert used["amount"].tolist() == [12_000, 50_000]
    assert str(used["cost_date"].dtype) == "datetime64[ns]"
    assert {r.rule for r in checked.rejects} == {
        "partner_code_missing",
        "amount_format",
    }
    assert table.rows_read == len(used) + len(table.skipped) + checked.rejected_rows


def test_english_costs_export(tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text(
        "Customer ID,Posting Date,Cost Type,Amount\n"
        "C1,3/5/2024,Freight,12.50\n"
        "C2,3/6/2024,Rebate,40\n",
        encoding="utf-8",
    )
    settings = load_defaults()
    (table,) = read.read_file(path, settings).tables
    assert table.profile == "generic_en_costs"
    used = validate.validate_table(table, settings, validate.load_table_schemas()).used
    assert used["cost_date"].tolist() == list(
        pd.to_datetime(["2024-03-05", "2024-03-06"])
    )
    assert used["category"].tolist() == ["Freight", "Rebate"]
