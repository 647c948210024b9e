"""The whole monthly job through Prefect: demo data and real public data.

These are the few tests that go through the Prefect engine; they share the session's
one temporary server (``prefect_harness`` in conftest). Figures are checked against
values worked out here a second way, straight from the input files.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from pathlib import Path

import openpyxl
import pytest

from ledgerflow.cli import _load_flow_module
from ledgerflow.demo import generate_demo

pytestmark = pytest.mark.prefect


@pytest.fixture(scope="module")
def flow(prefect_harness):
    return _load_flow_module("monthly_partner_report").monthly_partner_report


def _sheet_rows(path: Path, sheet_index: int | str = 0) -> tuple[list, list[tuple]]:
    """Header and data rows of a sheet (by position or name), stopping at the first
    blank row."""
    book = openpyxl.load_workbook(path, read_only=True)
    sheet = (
        book[sheet_index]
        if isinstance(sheet_index, str)
        else book.worksheets[sheet_index]
    )
    rows = list(sheet.iter_rows(values_only=True))
    book.close()
    header, body = list(rows[0]), []
    for row in rows[1:]:
        if all(v is None for v in row):
            break
        body.append(row)
    return header, body


# ---------------------------------------------------------------------------- demo


@pytest.fixture(scope="module")
def demo_run(flow, tmp_path_factory):
    base = tmp_path_factory.mktemp("demo")
    generate_demo(base / "input")
    summary = flow(
        input_dir=str(base / "input"), output_dir=str(base / "output"), lang="en"
    )
    return base, summary


def test_demo_run_writes_every_output_and_balances_every_file(demo_run):
    base, summary = demo_run
    period = summary["period"]
    assert summary["period_reason"] == "period_latest_sales"
    out = base / "output" / period
    for name in summary["outputs"]:
        assert (out / name).is_file(), name
    assert set(summary["outputs"]) >= {
        "partner_master.xlsx",
        f"profitability_{period}.xlsx",
        f"evaluation_{period[:4]}.xlsx",
        f"rejects_{period}.xlsx",
        f"insights_{period}.xlsx",
        "run.json",
    }
    written = json.loads((out / "run.json").read_text("utf-8"))
    assert written["period"] == period
    for entry in written["inputs"]:
        rows = entry["rows"]
        assert rows["read"] == rows["used"] + rows["skipped"] + rows["rejected"]
        raw = (base / "input" / entry["name"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(raw).hexdigest()
    assert {"pandas", "prefect", "ledgerflow"} <= set(written["versions"])


def test_demo_month_revenue_reconciles_with_the_sales_export(demo_run):
    """Partner revenue adds up to the total row and to the export's own lines of the
    month, minus exactly the rows the rejects workbook lists."""
    base, summary = demo_run
    period = summary["period"]
    out = base / "output" / period
    year, month = map(int, period.split("-"))

    header, body = _sheet_rows(out / f"rejects_{period}.xlsx")
    rejected = {(r[header.index("File")], r[header.index("Row")]) for r in body}

    expected = 0.0
    for path in sorted((base / "input").glob("매출내역_*.xlsx")):
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            day, amount = row[0], row[8]
            if not isinstance(day, dt.datetime) or (day.year, day.month) != (
                year,
                month,
            ):
                continue
            if (path.name, number) not in rejected:
                expected += amount

    # data_only: the total row's formulas are read through their cached results,
    # as any viewer that does not recalculate would show them.
    book = openpyxl.load_workbook(out / f"profitability_{period}.xlsx", data_only=True)
    sheet = book[f"Month {period}"]  # the summary sheet comes first
    rows = list(sheet.iter_rows(values_only=True))
    names = list(rows[0])
    revenue = names.index("Revenue")
    partners = [r for r in rows[1:] if r[1] is not None and r[0] is not None]
    total = next(r for r in rows[1:] if r[0] in ("Total", "합계") or "Total" in r)
    assert sum(r[revenue] for r in partners) == pytest.approx(expected)
    assert total[revenue] == pytest.approx(expected)
    assert {"Partner code", "Partner name", "Cost", "Gross profit"} <= set(names)
    assert {"Gross margin %", "Receivable balance", "Overdue amount"} <= set(names)


def test_demo_bad_rows_are_in_the_rejects_workbook_with_their_cells(demo_run):
    base, summary = demo_run
    header, body = _sheet_rows(
        base / "output" / summary["period"] / f"rejects_{summary['period']}.xlsx"
    )
    assert header[:6] == ["File", "Sheet", "Row", "Column", "Value", "Rule"]
    assert "Reason" in header
    found = {(r[header.index("Column")], r[header.index("Value")]) for r in body}
    assert ("수량", "abc") in found
    rejected = sum(e["rows"]["rejected"] for e in summary["inputs"])
    assert len({(r[0], r[2]) for r in body}) == rejected


def test_demo_evaluation_flags_prune_candidates_with_reasons(demo_run):
    base, summary = demo_run
    path = (
        base / "output" / summary["period"] / f"evaluation_{summary['period'][:4]}.xlsx"
    )
    header, body = _sheet_rows(path)
    for name in ("Partner code", "Partner name", "Score", "Grade", "Prune candidate"):
        assert name in header
    flag = header.index("Prune candidate")
    reason = next(i for i, h in enumerate(header) if h and "reason" in h.lower())
    flagged = [r for r in body if r[flag] in (True, "Yes", "예")]
    assert flagged, "the demo has loss-making and D-grade partners"
    assert all(r[reason] for r in flagged)


# --------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def retail_run(flow, shared_data, tmp_path_factory):
    """Online Retail (541,909 lines) with the Korean pension-fund partner list."""
    base = tmp_path_factory.mktemp("retail")
    inbox = base / "input"
    inbox.mkdir()
    retail = shared_data / "uci-online-retail" / "derived" / "Online Retail.xlsx"
    pension = shared_data / "kr-datatoys" / "derived" / "nationalPension_cp949.csv"
    (inbox / retail.name).symlink_to(retail)
    (inbox / pension.name).symlink_to(pension)
    summary = flow(input_dir=str(inbox), output_dir=str(base / "output"), lang="en")
    return base, summary


@pytest.fixture(scope="module")
def retail_rows(online_retail_rows):
    """The Online Retail sheet straight from python-calamine: the second method."""
    return online_retail_rows


@pytest.mark.slow
def test_retail_lines_without_customer_are_rejected_and_counted(
    retail_run, retail_rows
):
    _, summary = retail_run
    header, body = retail_rows
    customer = header.index("CustomerID")
    blank = sum(1 for r in body if r[customer] in ("", None))
    entry = next(e for e in summary["inputs"] if e["name"] == "Online Retail.xlsx")
    assert summary["period"] == "2011-12"
    assert entry["rows"]["read"] == len(body) == 541_909
    assert entry["reject_rules"]["partner_code_missing"] == blank == 135_080


@pytest.mark.slow
def test_retail_customer_revenue_in_a_month(retail_run, retail_rows):
    """Customer 17841 in 2011-12: lines net of cancellations, exact duplicate lines
    counted once, worked out by a plain loop over the sheet."""
    base, _ = retail_run
    header, body = retail_rows
    col = {name: header.index(name) for name in header}
    seen, expected = set(), 0.0
    for r in body:
        if str(r[col["CustomerID"]]).removesuffix(".0") != "17841":
            continue
        when = r[col["InvoiceDate"]]
        if (when.year, when.month) != (2011, 12):
            continue
        key = (
            r[col["InvoiceNo"]],
            when.date(),
            r[col["StockCode"]],
            r[col["Description"]],
            r[col["Quantity"]],
            r[col["UnitPrice"]],
        )
        if key in seen:
            continue
        seen.add(key)
        expected += r[col["Quantity"]] * r[col["UnitPrice"]]

    header_out, rows = _sheet_rows(
        base / "output" / "2011-12" / "profitability_2011-12.xlsx", "Month 2011-12"
    )
    code, revenue = header_out.index("Partner code"), header_out.index("Revenue")
    (row,) = [r for r in rows if r[code] == "17841"]
    assert row[revenue] == pytest.approx(expected, abs=0.005)
    assert expected > 0


@pytest.mark.slow
def test_retail_master_holds_customers_and_pension_workplaces(retail_run):
    base, summary = retail_run
    pension = next(e for e in summary["inputs"] if e["name"].startswith("national"))
    assert pension["encoding"] == "cp949"
    assert pension["rows"] == {
        "read": 29_975,
        "used": 29_975,
        "skipped": 0,
        "rejected": 0,
    }
    header, rows = _sheet_rows(base / "output" / "2011-12" / "partner_master.xlsx")
    ids = [r[header.index("Partner ID")] for r in rows]
    assert len(ids) == len(set(ids))
    # 29,965 workplaces (master tests) + 4,372 customers, who share no code or name.
    assert len(rows) == 29_965 + 4_372


def test_ibm_receivables_overdue_of_one_customer(flow, shared_data, tmp_path):
    """Customer 8102-ABPKQ's overdue amount at 2012-12-31, by a plain csv loop."""
    source = (
        shared_data / "ibm-accounts-receivable" / "WA_Fn-UseC_-Accounts-Receivable.csv"
    )
    asof = dt.date(2012, 12, 31)

    def day(text):
        month, dd, year = map(int, text.split("/"))
        return dt.date(year, month, dd)

    balance = overdue = 0.0
    with source.open(newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            if r["customerID"] != "8102-ABPKQ" or day(r["InvoiceDate"]) > asof:
                continue
            if day(r["SettledDate"]) <= asof:
                continue
            balance += float(r["InvoiceAmount"])
            if day(r["DueDate"]) < asof:
                overdue += float(r["InvoiceAmount"])

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / source.name).symlink_to(source)
    summary = flow(
        input_dir=str(tmp_path / "in"),
        output_dir=str(tmp_path / "out"),
        period="2012-12",
        lang="en",
    )
    assert summary["period_reason"] == "period_requested"
    header, rows = _sheet_rows(
        tmp_path / "out" / "2012-12" / "profitability_2012-12.xlsx", "Month 2012-12"
    )
    code = header.index("Partner code")
    (row,) = [r for r in rows if r[code] == "8102-ABPKQ"]
    assert row[header.index("Receivable balance")] == pytest.approx(balance)
    assert row[header.index("Overdue amount")] == pytest.approx(overdue)
    assert overdue > 0
