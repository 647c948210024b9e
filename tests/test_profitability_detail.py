"""Tests of the issue-5 views of metrics.profitability (profitability_detail,
partner_windows, cost_to_serve, receivables_view): every figure worked out by hand
on a small ledger whose arithmetic is written next to each assertion."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from ledgerflow.config import load_defaults
from ledgerflow.errors import ConfigError
from ledgerflow.metrics import profitability
from ledgerflow.partner_windows import trend, windows
from ledgerflow.period import Period
from ledgerflow.receivables_view import parse_terms

MARCH = Period(2024, 3)


def text(values):
    return pd.array(values, dtype="string")


def money(values):
    return pd.array(values, dtype="Float64")


def days(values):
    return pd.to_datetime(pd.Series(values))


def config(**sections):
    merged = copy.deepcopy(load_defaults())
    for section, values in sections.items():
        merged.setdefault(section, {}).update(values)
    return merged


SETTINGS = {
    # 0.0365 a year is 0.0001 a day: financing = amount × days × 0.0001
    "cost_to_serve": {
        "handling_cost_per_document": 1_000,
        "return_cost_per_document": 2_000,
        "cost_of_capital": 0.0365,
    }
}


@pytest.fixture
def sales():
    """A: an order of two lines and a return in March 2024, an order in March 2023.
    B: an undelivered February order, a March order due in April. C, D: last
    ordered in 2023 (lost; D crossed 365 days this month). E: December (dormant).
    F: first order this month (new). G: January (active)."""
    rows = [
        # partner, doc, date, qty, supply, cost, promised, delivered
        ("A", "D1", "2024-03-05", 1, 100_000, 60_000, "2024-03-10", "2024-03-12"),
        ("A", "D1", "2024-03-05", 1, 50_000, 30_000, "2024-03-10", "2024-03-12"),
        ("A", "R1", "2024-03-20", -1, 20_000, 12_000, None, None),
        ("A", "D2", "2023-03-15", 1, 80_000, 40_000, None, None),
        ("B", "D3", "2024-02-10", 1, 200_000, 150_000, "2024-02-15", None),
        ("B", "D4", "2024-03-28", 1, 30_000, 20_000, "2024-04-05", None),
        ("C", "D5", "2023-01-10", 1, 10_000, 5_000, None, None),
        ("D", "D6", "2023-03-20", 1, 5_000, 1_000, None, None),
        ("E", "D7", "2023-12-01", 1, 40_000, 10_000, None, None),
        ("F", "D8", "2024-03-02", 1, 10_000, 9_000, None, None),
        ("G", "D9", "2024-01-15", 1, 1_000, 500, None, None),
    ]
    columns = list(zip(*rows, strict=True))
    return pd.DataFrame(
        {
            "partner_id": text(columns[0]),
            "partner_code": text([f"0{p}" for p in columns[0]]),
            "doc_no": text(columns[1]),
            "doc_date": days(columns[2]),
            "qty": money(columns[3]),
            "supply_amount": money(columns[4]),
            "cost_amount": money(columns[5]),
            "promised_date": days(columns[6]),
            "delivered_date": days(columns[7]),
        }
    )


@pytest.fixture
def receivables():
    """A1 settled 03-11; A2 without a due date (A's terms: 월말 마감 익월 25일);
    B1 partly settled (100,000 of 220,000) on 03-21; E1 never settled, disputed."""
    return pd.DataFrame(
        {
            "partner_id": text(["A", "A", "B", "E"]),
            "partner_code": text(["0A", "0A", "0B", "0E"]),
            "invoice_no": text(["A1", "A2", "B1", "E1"]),
            "invoice_date": days(
                ["2024-02-01", "2024-03-15", "2023-12-20", "2023-09-10"]
            ),
            "due_date": days(["2024-03-02", None, "2024-01-19", "2023-10-10"]),
            "amount": money([165_000, 55_000, 220_000, 44_000]),
            "settled_date": days(["2024-03-11", None, "2024-03-21", None]),
            "settled_amount": money([None, None, 100_000, None]),
            "is_disputed": pd.array([False, False, False, True], dtype="boolean"),
        }
    )


@pytest.fixture
def costs():
    return pd.DataFrame(
        {
            "partner_id": text(["A", "A", "B", "B", "A", None]),
            "cost_date": days(
                [
                    "2024-03-05",
                    "2024-03-31",
                    "2024-03-10",
                    "2024-02-01",
                    "2023-03-10",
                    "2024-03-01",
                ]
            ),
            "category": text(
                ["운반비", "판매장려금", "카드 수수료", "잡비", "운반비", "x"]
            ),
            "amount": money([5_000, 3_000, 1_000, 700, 4_000, 9_999]),
        }
    )


@pytest.fixture
def master():
    return pd.DataFrame(
        {
            "partner_id": text(list("ABCDEFG")),
            "partner_code": text([f"0{p}" for p in "ABCDEFG"]),
            "partner_name": text([f"상사{p}" for p in "ABCDEFG"]),
            "payment_terms": text(
                ["월말 마감 익월 25일", None, None, None, None, None, None]
            ),
            "credit_limit": money([300_000, 100_000, None, None, None, None, None]),
        }
    )


@pytest.fixture
def result(sales, receivables, costs, master):
    return profitability(
        sales, receivables, master, MARCH, config(**SETTINGS), costs=costs
    )


def row(frame, partner):
    return frame.set_index("partner_id").loc[partner]


# ------------------------------------------------------------------ the windows


def test_windows_of_a_period():
    spans = {
        k: (f"{w.start:%Y-%m-%d}", f"{w.end:%Y-%m-%d}")
        for k, w in windows(Period(2024, 2)).items()
    }
    assert spans == {
        "month": ("2024-02-01", "2024-02-29"),
        "ytd": ("2024-01-01", "2024-02-29"),
        "last_12m": ("2023-03-01", "2024-02-29"),
        "month_prev_year": ("2023-02-01", "2023-02-28"),
        "ytd_prev_year": ("2023-01-01", "2023-02-28"),
        "last_12m_prev_year": ("2022-03-01", "2023-02-28"),
    }


def test_month_sales_figures_from_hand(result):
    month = result.detail.windows["month"]
    a = row(month, "A")
    # 100,000 + 50,000 sold; the return (qty −1, amount 20,000) counts −20,000.
    assert a["sales_amount"] == 150_000
    assert a["returns_amount"] == 20_000
    assert a["revenue"] == 130_000
    assert a["cost"] == 60_000 + 30_000 - 12_000
    assert a["gross_profit"] == 52_000
    assert a["n_orders"] == 1 and a["n_return_docs"] == 1 and a["n_lines"] == 3
    assert a["avg_order"] == 150_000
    total = result.detail.totals["month"]
    assert total["revenue"] == 130_000 + 30_000 + 10_000
    assert total["gross_profit"] == 52_000 + 10_000 + 1_000
    assert total["gross_margin"] == pytest.approx(63_000 / 170_000)
    # the old month table and the detail agree line for line
    assert result.month_total["revenue"] == total["revenue"]


def test_cost_to_serve_and_contribution_from_hand(result):
    month = result.detail.windows["month"]
    a = row(month, "A")
    assert a["freight_cost"] == 5_000
    assert a["discount_rebate"] == 3_000  # 판매장려금
    assert a["fee_cost"] == 0 and a["other_costs"] == 0
    assert a["handling_cost"] == 2 * 1_000  # the order and the return
    assert a["return_cost"] == 2_000
    # A1 owed 03-01..03-10 (10 days); A2 owed 03-15..03-31 (17 days)
    assert a["financing_cost"] == pytest.approx(165_000 * 10e-4 + 55_000 * 17e-4)
    assert a["cost_to_serve"] == pytest.approx(12_000 + 258.5)
    assert a["contribution_amount"] == pytest.approx(52_000 - 12_258.5)
    b = row(month, "B")
    # B1: 220,000 owed 03-01..03-20, then 120,000 still open 03-21..03-31
    assert b["financing_cost"] == pytest.approx((220_000 * 20 + 120_000 * 11) * 1e-4)
    assert b["fee_cost"] == 1_000 and b["other_costs"] == 0  # 잡비 is February
    assert b["contribution_amount"] == pytest.approx(10_000 - 1_000 - 1_000 - 572)
    # E bought nothing but its open invoice costs money to carry
    e = row(month, "E")
    assert e["revenue"] == 0 and e["contribution_amount"] == pytest.approx(-136.4)
    total = result.detail.totals["month"]
    assert total["contribution_amount"] == pytest.approx(
        month["contribution_amount"].sum()
    )
    assert total["contribution_margin"] == pytest.approx(
        total["contribution_amount"] / 170_000
    )
    ytd = row(result.detail.windows["ytd"], "B")
    assert ytd["other_costs"] == 700
    # the cost row without a partner is left out and said so
    assert any(n.startswith("costs_not_used: 1 rows") for n in result.notes)


def test_financing_from_the_due_date_charges_only_days_late(
    sales, receivables, costs, master
):
    settings = copy.deepcopy(SETTINGS)
    settings["cost_to_serve"]["financing_from"] = "due_date"
    out = profitability(
        sales, receivables, master, MARCH, config(**settings), costs=costs
    )
    a = row(out.detail.windows["month"], "A")
    # A1 due 03-02, paid 03-11: 9 days; A2 due 04-25 (from terms): nothing yet
    assert a["financing_cost"] == pytest.approx(165_000 * 9e-4)


def test_delivery_from_promised_and_delivered_dates(result):
    a = row(result.detail.windows["month"], "A")
    assert a["n_deliveries_due"] == 1 and a["n_late_deliveries"] == 1
    assert a["on_time_delivery_share"] == 0 and a["avg_delivery_days_late"] == 2
    b_month = row(result.detail.windows["month"], "B")
    # D4 is promised for 04-05: not late at the end of March
    assert b_month["on_time_delivery_share"] == 1
    assert pd.isna(b_month["avg_delivery_days_late"])  # nothing delivered
    b_ytd = row(result.detail.windows["ytd"], "B")
    # D3 was promised for 02-15 and never delivered: late
    assert b_ytd["n_deliveries_due"] == 2 and b_ytd["on_time_delivery_share"] == 0.5


def test_growth_on_the_year_and_trend(result):
    growth = result.detail.growth.set_index("partner_id")
    assert growth.loc["A", "revenue_month_prev_year"] == 80_000
    assert growth.loc["A", "growth_month"] == pytest.approx(130_000 / 80_000 - 1)
    assert growth.loc["D", "growth_month"] == pytest.approx(-1.0)
    assert pd.isna(growth.loc["F", "growth_month"])  # nothing a year earlier
    total = result.detail.growth_total
    assert total["revenue_month"] == 170_000
    assert total["revenue_month_prev_year"] == 85_000
    assert total["growth_month"] == pytest.approx(1.0)
    # a straight line 1..12 rises by 1 a month against an average month of 6.5
    series = np.arange(1, 13, dtype=float)[None, :]
    assert trend(series)[0] == pytest.approx(1 / 6.5)
    assert np.isnan(trend(np.zeros((1, 12)))[0])


def test_lifecycle_statuses(result):
    status = result.detail.lifecycle.set_index("partner_id")["lifecycle_status"]
    assert status.to_dict() == {
        "F": "new",
        "A": "repeat",
        "B": "repeat",
        "G": "active",  # 76 days since 2024-01-15
        "E": "dormant",  # 121 days since 2023-12-01
        "C": "lost",
        "D": "lost",
    }
    lost_now = result.detail.lifecycle.set_index("partner_id")["lost_in_period"]
    # D's last order (2023-03-20) was 346 days old on 02-29 and 377 on 03-31
    assert lost_now[lost_now].index.tolist() == ["D"]
    assert result.detail.lifecycle_counts == {
        "new": 1,
        "repeat": 2,
        "active": 1,
        "dormant": 1,
        "lost": 2,
        "lost_in_period": 1,
    }


def test_pareto_abc_and_concentration(result):
    pareto = result.detail.pareto
    # last 12 months (2023-04..2024-03): B 230,000, A 130,000, E 40,000,
    # F 10,000, G 1,000 = 411,000
    assert pareto["partner_id"].tolist() == ["B", "A", "E", "F", "G"]
    assert pareto["cumulative_share"].tolist() == pytest.approx(
        [230 / 411, 360 / 411, 400 / 411, 410 / 411, 1.0]
    )
    assert pareto["abc_class"].tolist() == ["A", "A", "B", "C", "C"]
    hhi = (230**2 + 130**2 + 40**2 + 10**2 + 1**2) / 411**2
    assert result.concentration["hhi"] == pytest.approx(hhi)
    assert result.concentration["top_share"] == 1.0
    assert result.concentration["warning"] is True
    assert any(n.startswith("concentration_high:") for n in result.notes)


def test_receivables_credit_and_risk(result):
    rec = result.detail.receivables.set_index("partner_id")
    assert rec["receivable_balance"].to_dict() == {
        "B": 120_000,
        "A": 55_000,
        "E": 44_000,
    }
    # B1 is 72 days past due (01-19 → 03-31); E1 173 days; A2 due 04-25
    assert rec.loc["B", "aging_61_90"] == 120_000
    assert rec.loc["E", "aging_121_plus"] == 44_000
    assert rec.loc["A", "aging_not_due"] == 55_000
    # calendar months: A2 March (당월), B1 December (3개월), E1 September (4-6개월)
    assert rec.loc["A", "aging_month_0"] == 55_000
    assert rec.loc["B", "aging_month_3"] == 120_000
    assert rec.loc["E", "aging_month_4_6"] == 44_000
    # DSO over 90 days: A invoiced 165,000 + 55,000 since 01-02
    assert rec.loc["A", "dso"] == pytest.approx(55_000 / 220_000 * 90)
    assert pd.isna(rec.loc["B", "dso"])
    # payment in the last 12 months: A1 39 days to pay, 9 late; B1 92 and 62
    assert rec.loc["A", "avg_days_to_pay"] == 39
    assert rec.loc["A", "avg_days_late"] == 9
    assert rec.loc["B", "avg_days_to_pay"] == 92
    assert rec.loc["B", "avg_days_late"] == 62
    assert rec.loc["B", "credit_use"] == pytest.approx(1.2)
    assert rec.loc["A", "credit_use"] == pytest.approx(55_000 / 300_000)
    assert rec["risk_grade"].to_dict() == {"B": "high", "A": "low", "E": "high"}
    assert any(n.startswith("due_from_terms: 1 invoices") for n in result.notes)


def test_risk_rule_is_data(result, sales, receivables, master):
    settings = config(
        credit={
            "risk_grades": ["watch", "ok"],
            "risk_rules": [
                {"grade": "watch", "column": "avg_days_to_pay", "op": ">", "value": 30}
            ],
        }
    )
    out = profitability(sales, receivables, master, MARCH, settings)
    grades = out.detail.receivables.set_index("partner_id")["risk_grade"]
    # E paid nothing in the year: no figure, so the rule cannot fire
    assert grades.to_dict() == {"B": "watch", "A": "watch", "E": "ok"}
    bad = config(credit={"risk_rules": [{"grade": "high", "column": "x", "op": ">"}]})
    with pytest.raises(ConfigError, match=r"risk_rules .*column must be one of"):
        profitability(sales, receivables, master, MARCH, bad)


def test_costs_without_any_export_are_empty_not_zero(sales, receivables, master):
    out = profitability(sales, receivables, master, MARCH, config())
    a = row(out.detail.windows["month"], "A")
    assert pd.isna(a["freight_cost"]) and a["handling_cost"] == 0
    assert any(n.startswith("no_costs_export:") for n in out.notes)
    assert any(n.startswith("handling_cost_not_set:") for n in out.notes)
    assert any(n.startswith("financing_not_set:") for n in out.notes)
    assert a["contribution_amount"] == a["gross_profit"]


@pytest.mark.parametrize(
    ("terms", "invoice", "due"),
    [
        ("월말 마감 익월 25일", "2024-01-31", "2024-02-25"),
        ("월말마감 익월25일", "2024-12-05", "2025-01-25"),
        ("30일", "2024-01-31", "2024-03-01"),
        ("발행 후 45일", "2024-01-10", "2024-02-24"),
        ("Net 30", "2024-02-15", "2024-03-16"),
        ("익월 말", "2024-01-10", "2024-02-29"),
        ("익월 31일", "2024-01-10", "2024-02-29"),
        ("15일 마감 익월 10일", "2024-01-20", "2024-03-10"),
        ("15일 마감 익월 10일", "2024-01-15", "2024-02-10"),
        ("월말 마감 후 60일", "2024-01-10", "2024-03-31"),
        ("2개월 후 10일", "2024-01-10", "2024-03-10"),
        ("현금", "2024-01-10", "2024-01-10"),
    ],
)
def test_payment_terms(terms, invoice, due):
    parsed = parse_terms(terms)
    got = parsed.due(pd.Series(pd.to_datetime([invoice])))
    assert f"{got.iloc[0]:%Y-%m-%d}" == due


def test_unreadable_terms_are_none_and_reported(sales, receivables, master):
    assert parse_terms("협의") is None and parse_terms("") is None
    master.loc[0, "payment_terms"] = "협의 후 결정"
    out = profitability(sales, receivables, master, MARCH, config())
    assert any(n.startswith("terms_not_understood: 1") for n in out.notes)
    with pytest.raises(ConfigError, match="default_payment_terms"):
        profitability(
            sales,
            receivables.assign(due_date=pd.NaT),
            None,
            MARCH,
            config(receivables={"default_payment_terms": "언젠가"}),
        )


def test_item_cost_table_fills_missing_costs(sales):
    sales = sales.assign(
        cost_amount=money([None] * len(sales)), item_code=text(["X"] * len(sales))
    )
    items = pd.DataFrame({"item_code": text(["X"]), "unit_cost": money([7_000])})
    out = profitability(sales, None, None, MARCH, config(), item_costs=items)
    a = row(out.detail.windows["month"], "A")
    # qty 1 + 1 − 1 at 7,000 each
    assert a["cost"] == 7_000
    assert any(n.startswith("cost_from_item_costs:") for n in out.notes)


def test_every_note_of_the_detail_has_a_label(result):
    from ledgerflow import labels

    for note in result.notes:
        code = note.split(":", 1)[0]
        assert labels.has("phrases", code), code


def test_cost_categories_are_config(sales, receivables, costs, master):
    settings = copy.deepcopy(SETTINGS)
    settings["cost_to_serve"]["categories"] = {"fee_cost": ["장려금"]}
    out = profitability(
        sales, receivables, master, MARCH, config(**settings), costs=costs
    )
    a = row(out.detail.windows["month"], "A")
    # 판매장려금 is now a fee; 운반비 matches nothing listed: other costs
    assert a["fee_cost"] == 3_000 and a["other_costs"] == 5_000
    assert a["freight_cost"] == 0 and a["discount_rebate"] == 0


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("cost_of_capital", 2, r"cost_of_capital: expected a number >= 0 and at most"),
        ("handling_cost_per_document", -1, r"handling_cost_per_document: expected"),
        ("financing_from", "settled_date", r"financing_from: expected"),
        ("categories", {"postage": ["x"]}, r"categories: expected a table"),
    ],
)
def test_bad_cost_to_serve_settings_are_refused(sales, key, value, message):
    with pytest.raises(ConfigError, match=message):
        profitability(sales, None, None, MARCH, config(cost_to_serve={key: value}))
