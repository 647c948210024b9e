"""Tests of ledgerflow.metrics: figures worked out by hand on tiny frames, and on the
real IBM receivables and Online Retail files by a second, plain-Python method."""

from __future__ import annotations

import copy
import csv
import datetime as dt
from collections import defaultdict

import pandas as pd
import pytest

from ledgerflow.config import load_defaults
from ledgerflow.errors import ConfigError
from ledgerflow.metrics import (
    PROFIT_COLUMNS,
    abc_class,
    aging,
    aging_columns,
    concentration,
    net_revenue,
    payment_behaviour,
    profitability,
    receivable_position,
)
from ledgerflow.period import Period


def text(values):
    return pd.array(values, dtype="string")


def money(values):
    return pd.array(values, dtype="Float64")


def config(**sections):
    """The shipped defaults with some keys overridden, e.g. receivables={...}."""
    merged = copy.deepcopy(load_defaults())
    for section, values in sections.items():
        merged[section].update(values)
    return merged


@pytest.fixture
def sales():
    """March 2024 with a return (negative qty, positive amount), a C-style
    cancellation (negative qty × price, no amount), a February line (YTD only), an
    April line and a 2023 line (neither), and a line with no partner."""
    return pd.DataFrame(
        {
            "partner_id": text(["P1", "P1", "P2", "P2", "P2", "P3", "P1", None]),
            "partner_code": text(
                ["001", "001", "002", "002", "002", "003", "001", "9"]
            ),
            "partner_name": text(
                ["가나", "가나", "다라", "다라", "다라", "마바", "가나", "x"]
            ),
            "doc_no": text(["D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8"]),
            "doc_date": pd.to_datetime(
                [
                    "2024-03-04",
                    "2024-03-15",
                    "2024-03-31",
                    "2024-03-01",
                    "2024-02-10",
                    "2024-04-01",
                    "2023-12-31",
                    "2024-03-10",
                ]
            ),
            "qty": money([10, -2, -1, 4, 1, 1, 1, 1]),
            "unit_price": money([10_000, 10_000, 30_000, 50_000, 60_000, 1, 1, 1]),
            "supply_amount": money(
                [100_000, 20_000, None, None, 60_000, 999_999, 5_000, 1_000]
            ),
            "vat_amount": money([10_000, 2_000, -3_000, 20_000, 6_000, 0, 500, 100]),
            "cost_amount": money(
                [70_000, 14_000, 22_000, 150_000, 30_000, 1, 1_000, 500]
            ),
        }
    )


@pytest.fixture
def receivables():
    """Invoices seen at 2024-03-31: settled, open and overdue, due on the day itself,
    partly settled, invoiced after the date, settled after the date (P4 has no
    sales)."""
    return pd.DataFrame(
        {
            "partner_id": text(["P1", "P1", "P1", "P2", "P2", "P4"]),
            "partner_code": text(["001", "001", "001", "002", "002", "004"]),
            "partner_name": text(["가나", "가나", "가나", "다라", "다라", "사아"]),
            "invoice_no": text(["I1", "I2", "I3", "I4", "I5", "I6"]),
            "invoice_date": pd.to_datetime(
                [
                    "2024-01-10",
                    "2024-02-15",
                    "2024-03-01",
                    "2024-01-05",
                    "2024-04-02",
                    "2023-11-01",
                ]
            ),
            "due_date": pd.to_datetime(
                [
                    "2024-02-09",
                    "2024-03-30",
                    "2024-03-31",
                    "2024-02-04",
                    "2024-05-02",
                    "2023-12-01",
                ]
            ),
            "amount": money([110_000, 50_000, 40_000, 100_000, 500_000, 25_000]),
            "settled_date": pd.to_datetime(
                ["2024-03-20", None, None, "2024-03-10", None, "2024-04-15"]
            ),
            "settled_amount": money([None, None, None, 30_000, None, None]),
        }
    )


def by_id(frame):
    return frame.set_index("partner_id")


# ----------------------------------------------------------------- net_revenue


def test_net_revenue_signs_returns_and_ignores_vat(sales):
    # D2 is "-2 units, 20,000": a return, so -20,000; D3 has no amount: -1 × 30,000;
    # D4 has no amount: 4 × 50,000. VAT never enters.
    expected = [100_000, -20_000, -30_000, 200_000, 60_000, 999_999, 5_000, 1_000]
    assert net_revenue(sales).tolist() == expected


def test_net_revenue_does_not_negate_twice():
    lines = pd.DataFrame({"qty": money([-3]), "supply_amount": money([-4_500])})
    assert net_revenue(lines).tolist() == [-4_500]


# --------------------------------------------------------------- profitability


def test_month_figures_from_hand(sales):
    result = profitability(sales, None, None, Period(2024, 3), config())
    month = result.month
    assert list(month.columns) == PROFIT_COLUMNS
    # Largest revenue first: P2 (200,000 − 30,000) before P1 (100,000 − 20,000).
    assert month["partner_id"].tolist() == ["P2", "P1"]
    rows = by_id(month)
    assert rows.loc["P1", "revenue"] == 80_000
    assert rows.loc["P1", "cost"] == 56_000  # 70,000 − 14,000 (the return's cost)
    assert rows.loc["P1", "gross_profit"] == 24_000
    assert rows.loc["P1", "gross_margin"] == pytest.approx(0.3)
    assert rows.loc["P2", "revenue"] == 170_000
    assert rows.loc["P2", "cost"] == 128_000  # 150,000 − 22,000
    assert rows.loc["P2", "gross_margin"] == pytest.approx(42_000 / 170_000)
    assert rows.loc["P1", "revenue_share"] == pytest.approx(0.32)
    assert rows.loc["P2", "revenue_share"] == pytest.approx(0.68)
    assert rows.loc["P1", "n_lines"] == 2 and rows.loc["P1", "n_documents"] == 2
    assert rows.loc["P1", "partner_code"] == "001"
    assert rows.loc["P1", "partner_name"] == "가나"


def test_total_margin_from_totals_not_averaged(sales):
    total = profitability(sales, None, None, Period(2024, 3), config()).month_total
    assert total["revenue"] == 250_000
    assert total["cost"] == 184_000
    assert total["gross_profit"] == 66_000
    # 66,000 / 250,000 = 0.264; the average of 0.3 and 0.247 would be 0.2735.
    assert total["gross_margin"] == pytest.approx(0.264)
    assert total["revenue_share"] == 1.0
    assert total["n_lines"] == 4
    assert total["n_documents"] == 4


def test_ytd_includes_earlier_months_only_of_the_year(sales):
    result = profitability(sales, None, None, Period(2024, 3), config())
    rows = by_id(result.ytd)
    assert rows.loc["P2", "revenue"] == 230_000  # + February's 60,000
    assert rows.loc["P1", "revenue"] == 80_000  # the 2023 line stays out
    assert "P3" not in rows.index  # April is after the period
    assert result.ytd_total["revenue"] == 310_000
    assert result.ytd_total["gross_margin"] == pytest.approx(96_000 / 310_000)


def test_reconciles_with_the_lines_used(sales):
    result = profitability(sales, None, None, Period(2024, 3), config())
    in_month = sales["doc_date"].between("2024-03-01", "2024-03-31")
    used = sales[in_month & sales["partner_id"].notna()]
    assert result.month["revenue"].sum() == result.month_total["revenue"]
    assert result.month_total["revenue"] == net_revenue(used).sum()
    assert any(n.startswith("lines_without_partner: 1 ") for n in result.notes)


def test_no_cost_column_gives_na_and_a_note(sales):
    result = profitability(
        sales.drop(columns="cost_amount"), None, None, Period(2024, 3), config()
    )
    assert result.month["cost"].isna().all()
    assert result.month["gross_profit"].isna().all()
    assert result.month["gross_margin"].isna().all()
    assert result.month_total["cost"] is pd.NA
    assert result.month_total["gross_margin"] is pd.NA
    assert any(n.startswith("no_cost_data:") for n in result.notes)


def test_default_margin_fills_cost_and_says_so(sales):
    settings = config(profitability={"default_margin": 0.25})
    result = profitability(
        sales.drop(columns="cost_amount"), None, None, Period(2024, 3), settings
    )
    rows = by_id(result.month)
    assert rows.loc["P1", "cost"] == 60_000  # 80,000 × 0.75
    assert rows.loc["P1", "gross_margin"] == pytest.approx(0.25)
    assert result.month_total["gross_profit"] == pytest.approx(62_500)
    assert any(n.startswith("cost_from_default_margin:") for n in result.notes)


def test_one_line_without_cost_makes_the_partner_cost_unknown(sales):
    sales.loc[3, "cost_amount"] = pd.NA  # P2's D4
    result = profitability(sales, None, None, Period(2024, 3), config())
    rows = by_id(result.month)
    assert pd.isna(rows.loc["P2", "cost"]) and pd.isna(rows.loc["P2", "gross_margin"])
    assert rows.loc["P1", "cost"] == 56_000
    assert result.month_total["cost"] is pd.NA


def test_bad_default_margin_is_refused(sales):
    with pytest.raises(ConfigError, match=r"default_margin: expected a fraction"):
        profitability(
            sales,
            None,
            None,
            Period(2024, 3),
            config(profitability={"default_margin": 25}),
        )


def test_empty_sales_give_empty_tables_and_zero_totals():
    empty = pd.DataFrame(columns=["partner_id", "doc_date", "supply_amount"])
    result = profitability(empty, None, None, Period(2024, 3), config())
    assert result.month.empty and list(result.month.columns) == PROFIT_COLUMNS
    assert result.month_total["revenue"] == 0
    assert result.month_total["revenue_share"] is pd.NA
    assert any(n.startswith("no_sales_lines:") for n in result.notes)


def test_master_names_win_over_line_names(sales):
    master = pd.DataFrame(
        {
            "partner_id": text(["P1", "P2"]),
            "partner_code": text(["001", "002"]),
            "partner_name": text(["(주)가나상사", "다라무역"]),
        }
    )
    month = profitability(sales, None, master, Period(2024, 3), config()).month
    assert by_id(month).loc["P1", "partner_name"] == "(주)가나상사"


# ----------------------------------------------------------------- receivables


def test_receivable_position_at_period_end(receivables):
    position = by_id(receivable_position(receivables, "2024-03-31", config()))
    # P1: I1 settled 03-20 → 0; I2 open, due 03-30 → overdue; I3 due on the day → not.
    assert position.loc["P1", "receivable_balance"] == 90_000
    assert position.loc["P1", "overdue_amount"] == 50_000
    # P2: I4 100,000 − 30,000 settled; I5 invoiced after the date is not counted.
    assert position.loc["P2", "receivable_balance"] == 70_000
    assert position.loc["P2", "overdue_amount"] == 70_000
    # P4: settled after the date, so still open on it.
    assert position.loc["P4", "overdue_amount"] == 25_000
    assert position.loc["P1", "n_open_invoices"] == 2


def test_overdue_after_days_moves_the_boundary(receivables):
    settings = config(receivables={"overdue_after_days": 1})
    position = by_id(receivable_position(receivables, "2024-03-31", settings))
    # I2 is due 03-30: one day late is still inside the grace day.
    assert position.loc["P1", "overdue_amount"] == 0
    settings = config(receivables={"overdue_after_days": 0})
    position = by_id(receivable_position(receivables, "2024-04-01", settings))
    # A day later I3 (due 03-31) is overdue too.
    assert position.loc["P1", "overdue_amount"] == 90_000


def test_receivables_fill_the_tables(sales, receivables):
    result = profitability(sales, receivables, None, Period(2024, 3), config())
    rows = by_id(result.month)
    assert rows.loc["P1", "receivable_balance"] == 90_000
    # P4 bought nothing but owes: a row with revenue 0, cost 0, margin empty.
    assert rows.loc["P4", "revenue"] == 0 and rows.loc["P4", "cost"] == 0
    assert pd.isna(rows.loc["P4", "gross_margin"])
    assert rows.loc["P4", "partner_name"] == "사아"
    assert result.month_total["receivable_balance"] == 185_000
    assert result.month_total["overdue_amount"] == 145_000
    assert result.month_total["revenue"] == 250_000
    assert by_id(result.ytd).loc["P2", "overdue_amount"] == 70_000
    # P1 comes after 68 % of the month's revenue: still A; P4 sold nothing: C.
    assert rows["abc_class"].to_dict() == {"P2": "A", "P1": "A", "P4": "C"}
    assert by_id(result.aging).loc["P4", "aging_121_plus"] == 25_000
    assert by_id(result.payment).loc["P2", "avg_days_late"] == 35
    # Last 12 months (2023-04..2024-03): P2 230,000 and P1 85,000 (its 2023-12-31
    # line of 5,000 too) of 315,000.
    assert result.concentration["top_share"] == pytest.approx(1.0)
    assert result.concentration["hhi"] == pytest.approx((230**2 + 85**2) / 315**2)


def test_no_receivables_is_na_but_none_owed_is_zero(sales, receivables):
    without = profitability(sales, None, None, Period(2024, 3), config())
    assert without.month["receivable_balance"].isna().all()
    assert without.month_total["overdue_amount"] is pd.NA
    assert any(n.startswith("no_receivables:") for n in without.notes)

    only_p1 = receivables[receivables["partner_id"] == "P1"]
    with_p1 = profitability(sales, only_p1, None, Period(2024, 3), config())
    assert by_id(with_p1.month).loc["P2", "receivable_balance"] == 0


# --------------------------------------------------- real data: IBM receivables

IBM = "ibm-accounts-receivable/WA_Fn-UseC_-Accounts-Receivable.csv"


def read_ibm(path):
    raw = pd.read_csv(path, dtype=str)
    mdy = {"format": "%m/%d/%Y"}
    return pd.DataFrame(
        {
            "partner_id": raw["customerID"].astype("string"),
            "partner_code": raw["customerID"].astype("string"),
            "invoice_no": raw["invoiceNumber"].astype("string"),
            "invoice_date": pd.to_datetime(raw["InvoiceDate"], **mdy),
            "due_date": pd.to_datetime(raw["DueDate"], **mdy),
            "amount": pd.to_numeric(raw["InvoiceAmount"]).astype("Float64"),
            "settled_date": pd.to_datetime(raw["SettledDate"], **mdy),
            "is_disputed": raw["Disputed"].eq("Yes").astype("boolean"),
        }
    )


def ibm_by_loop(path, asof, grace_days=0):
    """Open and overdue amounts per customer, one csv row at a time."""
    balance, overdue = defaultdict(float), defaultdict(float)
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day = {
                k: dt.datetime.strptime(row[k], "%m/%d/%Y").date()
                for k in ("InvoiceDate", "DueDate", "SettledDate")
            }
            if day["InvoiceDate"] > asof or day["SettledDate"] <= asof:
                continue
            balance[row["customerID"]] += float(row["InvoiceAmount"])
            if (asof - day["DueDate"]).days > grace_days:
                overdue[row["customerID"]] += float(row["InvoiceAmount"])
    return balance, overdue


def test_ibm_overdue_of_one_customer(shared_data):
    path = shared_data / IBM
    position = by_id(
        receivable_position(read_ibm(path), pd.Timestamp("2012-12-31"), config())
    )
    # Two invoices of 8102-ABPKQ were open and past due on 2012-12-31.
    assert position.loc["8102-ABPKQ", "overdue_amount"] == pytest.approx(148.71)
    _, overdue = ibm_by_loop(path, dt.date(2012, 12, 31))
    assert overdue["8102-ABPKQ"] == pytest.approx(148.71)


@pytest.mark.parametrize("grace", [0, 10])
def test_ibm_every_customer_matches_the_loop(shared_data, grace):
    path = shared_data / IBM
    settings = config(receivables={"overdue_after_days": grace})
    position = receivable_position(read_ibm(path), pd.Timestamp("2013-03-31"), settings)
    balance, overdue = ibm_by_loop(path, dt.date(2013, 3, 31), grace)
    rows = by_id(position)
    assert len(rows) == 100  # every customer had receivables, even if all settled
    for customer, row in rows.iterrows():
        assert row["receivable_balance"] == pytest.approx(balance.get(customer, 0.0))
        assert row["overdue_amount"] == pytest.approx(overdue.get(customer, 0.0))
    assert sum(overdue.values()) > 0


def test_every_note_code_has_a_label(sales, receivables):
    from ledgerflow import labels

    receivables.loc[1, "due_date"] = pd.NaT
    sales.loc[0, "supply_amount"] = pd.NA
    sales.loc[0, "qty"] = pd.NA
    settings = config(profitability={"default_margin": 0.2})
    notes = profitability(sales, receivables, None, Period(2024, 3), config()).notes
    notes += profitability(None, None, None, Period(2024, 3), settings).notes
    notes += profitability(
        sales.drop(columns="cost_amount"), None, None, Period(2024, 3), settings
    ).notes
    notes += profitability(
        sales.drop(columns="cost_amount"), None, None, Period(2024, 3), config()
    ).notes
    sales.loc[1, "cost_amount"] = pd.NA
    notes += profitability(sales, None, None, Period(2024, 3), settings).notes
    codes = {note.split(":", 1)[0] for note in notes}
    assert codes >= {
        "no_sales_lines",
        "no_cost_data",
        "no_receivables",
        "no_due_date",
        "lines_without_partner",
        "lines_without_amount",
        "cost_from_default_margin",
        "cost_partly_from_default_margin",
        "cost_missing_lines",
        "no_costs_export",
        "handling_cost_not_set",
        "financing_no_receivables",
        "financing_not_set",
        "exposure_rule",
        "no_credit_limits",
        "dso_rule",
        "concentration_high",
        "history_short",
    }
    for code in codes:
        assert labels.has("phrases", code), code


# ----------------------------------------------------- aging, behaviour, shares


def test_aging_bands_from_hand(receivables):
    bands = by_id(aging(receivables, "2024-03-31", config()))
    assert list(bands.columns) == aging_columns(config())[:] and len(bands) == 3
    assert aging_columns(config()) == [
        "aging_not_due",
        "aging_1_30",
        "aging_31_60",
        "aging_61_90",
        "aging_91_120",
        "aging_121_plus",
        "aging_no_due_date",
    ]
    # P1: I3 due on the day → not due; I2 one day past due.
    assert bands.loc["P1", "aging_not_due"] == 40_000
    assert bands.loc["P1", "aging_1_30"] == 50_000
    # P2: due 02-04 → 56 days; P4: due 2023-12-01 → 121 days, past the 120 bound.
    assert bands.loc["P2", "aging_31_60"] == 70_000
    assert bands.loc["P4", "aging_91_120"] == 0
    assert bands.loc["P4", "aging_121_plus"] == 25_000


def test_aging_buckets_from_config(receivables):
    settings = config(receivables={"aging_buckets": [60]})
    assert aging_columns(settings)[1:3] == ["aging_1_60", "aging_61_plus"]
    bands = by_id(aging(receivables, "2024-03-31", settings))
    assert bands.loc["P2", "aging_1_60"] == 70_000
    with pytest.raises(ConfigError, match=r"aging_buckets: expected rising"):
        aging(
            receivables, "2024-03-31", config(receivables={"aging_buckets": [60, 30]})
        )


def test_payment_behaviour_from_hand(receivables):
    receivables["is_disputed"] = pd.array([True, None, False, False, False, False])
    rows = by_id(payment_behaviour(receivables, "2024-03-01", "2024-03-31", config()))
    # Settled in March: I1 (P1: 70 days to pay, 40 days late) and I4 (P2: 65, 35).
    assert rows.loc["P1", "avg_days_to_pay"] == 70
    assert rows.loc["P1", "avg_days_late"] == 40
    assert rows.loc["P1", "on_time_share"] == 0
    assert rows.loc["P1", "n_disputed"] == 1
    assert rows.loc["P2", "avg_days_to_pay"] == 65
    assert "P4" not in rows.index  # settled in April


def test_concentration_and_abc_from_hand():
    revenue = pd.Series([50.0, 30.0, 15.0, 5.0, -10.0])
    figures = concentration(pd.DataFrame({"revenue": revenue}), top_n=2)
    assert figures["top_share"] == pytest.approx(0.8)
    assert figures["hhi"] == pytest.approx(0.365)  # .25 + .09 + .0225 + .0025
    # Cumulative share before each: 0, .5, .8, .95 → A, A, B, C; a net returner is C.
    assert abc_class(revenue).tolist() == ["A", "A", "B", "C", "C"]


def test_ibm_aging_and_behaviour_match_the_file(shared_data):
    path = shared_data / IBM
    frame = read_ibm(path)
    asof = pd.Timestamp("2013-03-31")
    bands = by_id(aging(frame, asof, config()))
    balance = by_id(receivable_position(frame, asof, config()))["receivable_balance"]
    band_sum = bands.sum(axis=1)
    assert (band_sum - balance.reindex(bands.index)).abs().max() < 1e-9
    assert bands["aging_no_due_date"].sum() == 0

    # DaysLate and DaysToSettle in the file are the oracle for the behaviour.
    behaviour = by_id(payment_behaviour(frame, "2013-01-01", "2013-12-31", config()))
    late, to_pay, on_time, disputed = (defaultdict(list) for _ in range(4))
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            settled = dt.datetime.strptime(row["SettledDate"], "%m/%d/%Y").date()
            if settled.year != 2013:
                continue
            customer = row["customerID"]
            late[customer].append(int(row["DaysLate"]))
            to_pay[customer].append(int(row["DaysToSettle"]))
            on_time[customer].append(int(row["DaysLate"]) == 0)
            disputed[customer].append(row["Disputed"] == "Yes")
    assert set(behaviour.index) == set(late)
    for customer, row in behaviour.iterrows():
        n = len(late[customer])
        assert row["n_invoices_paid"] == n
        assert row["avg_days_late"] == pytest.approx(sum(late[customer]) / n)
        assert row["avg_days_to_pay"] == pytest.approx(sum(to_pay[customer]) / n)
        assert row["on_time_share"] == pytest.approx(sum(on_time[customer]) / n)
        assert row["n_disputed"] == sum(disputed[customer])
