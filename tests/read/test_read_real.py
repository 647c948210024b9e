"""Real public exports from ../shared/data read end to end, checked a second way."""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd
import pytest
import python_calamine

from ledgerflow.config import load_config
from ledgerflow.read import read_file

CONFIG = load_config()


@pytest.fixture(scope="module")
def online_retail(shared_data):
    """One read of the 541,909-line workbook for every test here."""
    path = shared_data / "uci-online-retail" / "derived" / "Online Retail.xlsx"
    return path, read_file(path, CONFIG)


@pytest.mark.slow
def test_online_retail_rows_and_missing_customers(online_retail):
    path, file_read = online_retail
    assert file_read.refused is None and file_read.format == "xlsx"
    (table,) = file_read.tables
    assert table.profile == "generic_en_sales"
    assert table.rows_read == 541_909 == len(table.frame)
    assert table.skipped == [] and table.rejects == []
    assert table.frame["source_row"].iloc[[0, -1]].tolist() == [2, 541_910]

    # Second method: count blank CustomerID cells with calamine directly.
    rows = python_calamine.CalamineWorkbook.from_path(path).get_sheet_by_index(0)
    rows = rows.to_python()
    column = rows[0].index("CustomerID")
    blank = sum(1 for row in rows[1:] if row[column] in ("", None))
    assert blank == 135_080
    assert int(table.frame["partner_code"].isna().sum()) == blank
    # CustomerID cells are numbers (17850.0): codes are their digits.
    assert table.frame["partner_code"].iloc[0] == "17850"
    assert table.frame["doc_date"].iloc[0] == pd.Timestamp(2010, 12, 1)


def test_ibm_receivables_dates_are_month_first(shared_data):
    path = (
        shared_data / "ibm-accounts-receivable" / "WA_Fn-UseC_-Accounts-Receivable.csv"
    )
    file_read = read_file(path, CONFIG)
    (table,) = file_read.tables
    assert (table.kind, table.profile) == ("receivables", "generic_en_receivables")
    assert table.rows_read == 2_466 == len(table.frame)
    assert table.rejects == []

    with path.open(newline="", encoding="utf-8") as handle:
        raw = list(csv.DictReader(handle))

    def us_date(text):
        return pd.Timestamp(dt.datetime.strptime(text, "%m/%d/%Y"))

    for field, column in (
        ("invoice_date", "InvoiceDate"),
        ("due_date", "DueDate"),
        ("settled_date", "SettledDate"),
    ):
        assert table.frame[field].tolist() == [us_date(r[column]) for r in raw]
    # The first line: 1/2/2013 is 2 January, not 1 February.
    assert table.frame["invoice_date"].iloc[0] == pd.Timestamp(2013, 1, 2)
    assert table.frame["invoice_no"].iloc[0] == "611365"
    assert int(table.frame["is_disputed"].sum()) == 561
    assert table.frame["amount"].sum() == pytest.approx(
        sum(float(r["InvoiceAmount"]) for r in raw)
    )


def test_national_pension_cp949(shared_data):
    path = shared_data / "kr-datatoys" / "derived" / "nationalPension_cp949.csv"
    file_read = read_file(path, CONFIG)
    assert file_read.encoding == "cp949"
    (table,) = file_read.tables
    assert (table.kind, table.profile) == ("partners", "generic_ko_partners")
    assert table.rows_read == 29_975 == len(table.frame)
    assert table.frame["partner_name"].iloc[0] == "우성기전(주)"
    assert table.frame["postcode"].iloc[0] == "12816"
    assert table.frame["founded_date"].iloc[0] == pd.Timestamp(1988, 1, 1)
    # The row holding only a name is a row, not a footer.
    only_name = table.frame[table.frame["partner_name"] == "(주)쿠앤"]
    assert len(only_name) == 1 and only_name["brn"].isna().all()


def test_calderdale_supplier_payments_are_purchases(shared_data):
    """Invoice payments are read as purchases (the supplier side), every line used;
    the card-payment files, which name no supplier ID, are refused saying why."""
    import csv

    path = shared_data / "uk-calderdale-spend" / "2021-01.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        lines = sum(1 for _ in csv.reader(handle)) - 1
    (table,) = read_file(path, CONFIG).tables
    assert (table.kind, table.profile) == ("purchases", "generic_en_supplier_payments")
    assert table.rows_read == len(table.frame) == lines

    card = read_file(path.with_name("2021-01-card.csv"), CONFIG)
    assert card.tables == []
    assert card.refused.rule == "no_profile"
    assert card.refused.file == "2021-01-card.csv"
