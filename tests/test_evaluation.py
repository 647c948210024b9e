"""Tests of ledgerflow.evaluation (the annual scorecard), with scores worked out by
hand, plus the Online Retail tests of metrics and evaluation: both share one read of
the 24 MB workbook, which is why the metrics ones live here too."""

from __future__ import annotations

import bisect
import copy
from collections import defaultdict

import pandas as pd
import pytest

from ledgerflow.config import load_defaults
from ledgerflow.errors import ConfigError
from ledgerflow.evaluation import (
    EVALUATION_COLUMNS,
    breakdown,
    evaluate,
    prune_simulation,
)
from ledgerflow.metrics import net_revenue, profitability
from ledgerflow.period import Period


def text(values):
    return pd.array(values, dtype="string")


def money(values):
    return pd.array(values, dtype="Float64")


def config(guard_top_n=None, **evaluation):
    merged = copy.deepcopy(load_defaults())
    merged["evaluation"].update(evaluation)
    if guard_top_n is not None:
        merged["evaluation"]["guard_rules"] = [
            {
                "code": "top_10_revenue",
                "column": "revenue_rank",
                "op": "<=",
                "value": guard_top_n,
            }
        ]
    return merged


@pytest.fixture
def sales():
    """2024 lines: A margin 40 %, B 20 %, C −10 % (a loss), D 25 %; C and D tie on
    revenue. A 2023 line of C must not count."""
    return pd.DataFrame(
        {
            "partner_id": text(["A", "B", "C", "D", "C"]),
            "partner_code": text(["01", "02", "03", "04", "03"]),
            "partner_name": text(["에이", "비", "씨", "디", "씨"]),
            "doc_no": text(["1", "2", "3", "4", "0"]),
            "doc_date": pd.to_datetime(
                ["2024-01-05", "2024-06-05", "2024-12-31", "2024-01-01", "2023-12-31"]
            ),
            "supply_amount": money([1_000_000, 500_000, 200_000, 200_000, 9_999_999]),
            "cost_amount": money([600_000, 400_000, 220_000, 150_000, 1]),
        }
    )


@pytest.fixture
def receivables():
    """A pays on the due date; B pays 400 of 1,000 late; C pays nothing; C's invoice
    due 2025-01-01 is outside 2024; D has no invoices."""
    return pd.DataFrame(
        {
            "partner_id": text(["A", "B", "B", "C", "C"]),
            "invoice_date": pd.to_datetime(
                ["2024-05-31", "2024-03-01", "2024-05-01", "2024-11-15", "2024-12-02"]
            ),
            "due_date": pd.to_datetime(
                ["2024-06-30", "2024-03-31", "2024-05-31", "2024-12-15", "2025-01-01"]
            ),
            "amount": money([1_000, 400, 600, 300, 999]),
            "settled_date": pd.to_datetime(
                ["2024-06-30", "2024-04-10", "2024-05-01", None, None]
            ),
        }
    )


def by_id(frame):
    return frame.set_index("partner_id")


def test_scores_grades_and_ranks_from_hand(sales, receivables):
    result = evaluate(sales, receivables, None, 2024, config())
    assert list(result.columns) == EVALUATION_COLUMNS
    rows = by_id(result)
    # Revenue points, 100 × average rank / 4: C and D share ranks 1-2 → 37.5.
    assert rows["points_revenue"].to_dict() == {
        "A": 100.0,
        "B": 75.0,
        "D": 37.5,
        "C": 37.5,
    }
    # Margin points: 0 at 0 %, 100 at 40 %: A 100, B 50, C clamped to 0, D 62.5.
    assert rows.loc["B", "points_margin"] == pytest.approx(50)
    assert rows.loc["C", "points_margin"] == 0
    assert rows.loc["D", "points_margin"] == pytest.approx(62.5)
    # Payment points: B paid 400 of 1,000 late → 60; C paid nothing → 0; D none → NA.
    assert rows.loc["B", "overdue_share"] == pytest.approx(0.4)
    assert rows.loc["C", "points_payment"] == 0
    assert pd.isna(rows.loc["D", "points_payment"])
    # Scores with weights 40/35/25; D re-weighted over 40 + 35.
    assert rows.loc["A", "score"] == 100
    assert rows.loc["B", "score"] == 62.5  # (40×75 + 35×50 + 25×60) / 100
    assert rows.loc["C", "score"] == 15  # (40×37.5) / 100
    assert rows.loc["D", "score"] == 49.17  # (40×37.5 + 35×62.5) / 75 = 49.1666…
    assert rows["grade"].to_dict() == {"A": "A", "B": "B", "D": "C", "C": "D"}
    assert result["partner_id"].tolist() == ["A", "B", "D", "C"]
    assert result["rank"].tolist() == [1, 2, 3, 4]
    assert rows.loc["C", "revenue"] == 200_000  # the 2023 line stays out


def test_guard_keeps_a_top_partner_and_says_why(sales, receivables):
    rows = by_id(evaluate(sales, receivables, None, 2024, config()))
    assert rows.loc["C", "prune_reason"] == "grade_D; negative_gross_profit"
    assert rows.loc["C", "guard_reason"] == "top_10_revenue"
    assert not rows.loc["C", "is_prune_candidate"]
    assert pd.isna(rows.loc["A", "prune_reason"]) and pd.isna(
        rows.loc["A", "guard_reason"]
    )


def test_flagged_when_outside_the_guard(sales, receivables):
    rows = by_id(evaluate(sales, receivables, None, 2024, config(guard_top_n=2)))
    # Revenue ranks: A 1, B 2, C and D 3: the top 2 guard does not cover C.
    assert rows.loc["C", "is_prune_candidate"]
    assert pd.isna(rows.loc["C", "guard_reason"])
    assert rows["is_prune_candidate"].sum() == 1


def test_rules_written_as_data(sales, receivables):
    settings = config(
        prune_rules=[
            {"code": "low_margin", "column": "gross_margin", "op": "<", "value": 0.21},
        ],
        guard_rules=[],
    )
    rows = by_id(evaluate(sales, receivables, None, 2024, settings))
    assert rows.index[rows["is_prune_candidate"]].tolist() == ["B", "C"]
    assert rows.loc["B", "prune_reason"] == "low_margin"


def test_unknown_rule_column_is_refused(sales):
    settings = config(
        prune_rules=[{"code": "x", "column": "profit", "op": "<", "value": 0}]
    )
    with pytest.raises(ConfigError, match=r"reads unknown column 'profit'"):
        evaluate(sales, None, None, 2024, settings)


def test_missing_criteria_are_na_and_weights_renormalised(sales):
    no_cost = sales.drop(columns="cost_amount")
    result = evaluate(no_cost, None, None, 2024, config())
    rows = by_id(result)
    assert rows["points_margin"].isna().all() and rows["points_payment"].isna().all()
    # Only revenue has points, so the score is the revenue points.
    assert rows["score"].tolist() == rows["points_revenue"].tolist()
    assert rows["grade"].to_dict() == {"A": "A", "B": "B", "C": "D", "D": "D"}
    notes = result.attrs["notes"]
    assert any(n.startswith("no_margin_data:") for n in notes)
    assert any(n.startswith("no_payment_data:") for n in notes)


def test_empty_year_gives_an_empty_scorecard(sales):
    result = evaluate(sales, None, None, 2030, config())
    assert result.empty and list(result.columns) == EVALUATION_COLUMNS


def test_breakdown_adds_up_to_the_score(sales, receivables):
    scorecard = evaluate(sales, receivables, None, 2024, config())
    parts = breakdown(scorecard, config())
    d = parts[parts["partner_id"] == "D"].set_index("criterion")
    assert d["weight"].tolist() == [40, 35, 0]  # no invoices: payment weighs 0
    assert d.loc["revenue", "contribution"] == pytest.approx(20)  # 40 × 37.5 / 75
    assert d.loc["margin", "contribution"] == pytest.approx(35 * 62.5 / 75)
    assert d.loc["margin", "measured_value"] == pytest.approx(0.25)
    assert pd.isna(d.loc["payment", "contribution"])
    sums = parts.groupby("partner_id")["contribution"].sum()
    assert sums.round(2).to_dict() == by_id(scorecard)["score"].to_dict()


def test_prune_simulation_from_hand(sales, receivables):
    scorecard = evaluate(sales, receivables, None, 2024, config(guard_top_n=2))
    freed = prune_simulation(scorecard)
    assert freed["n_partners"] == 1  # C
    assert freed["revenue"] == 200_000
    assert freed["revenue_share"] == pytest.approx(200_000 / 1_900_000)
    assert freed["gross_profit"] == -20_000  # dropping C would raise profit
    assert freed["gross_profit_share"] == pytest.approx(-20_000 / 530_000)


# ------------------------------------------------------ real data: Online Retail

ONLINE_RETAIL = "uci-online-retail/derived/Online Retail.xlsx"


@pytest.fixture(scope="module")
def online_retail(shared_data):
    """(raw rows as Python values, canonical sales lines with a customer), read once.

    Lines without CustomerID are dropped, as the validate stage rejects them.
    """
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(shared_data / ONLINE_RETAIL))
    rows = book.get_sheet_by_name("Online Retail").to_python()
    header, body = rows[0], rows[1:]
    assert len(body) == 541_909
    raw = pd.DataFrame(body, columns=header)
    raw = raw[raw["CustomerID"] != ""]
    code = raw["CustomerID"].astype(float).astype(int).astype(str).astype("string")
    frame = pd.DataFrame(
        {
            "partner_id": code,
            "partner_code": code,
            "doc_no": raw["InvoiceNo"].astype("string"),
            "doc_date": pd.to_datetime(raw["InvoiceDate"]).dt.normalize(),
            "item_code": raw["StockCode"].astype("string"),
            "qty": raw["Quantity"].astype("Float64"),
            "unit_price": raw["UnitPrice"].astype("Float64"),
        }
    ).reset_index(drop=True)
    return body, frame


def revenue_by_loop(body, year, month=None):
    """Σ qty × price per customer, row by row (cancellations carry qty < 0)."""
    out = defaultdict(float)
    for _, _, _, qty, when, price, customer, _ in body:
        if customer == "" or when.year != year or (month and when.month != month):
            continue
        out[str(int(customer))] += qty * price
    return out


@pytest.mark.slow
def test_online_retail_customer_month_with_cancellations(online_retail):
    body, frame = online_retail
    result = profitability(frame, None, None, Period(2011, 11), load_defaults())
    month = by_id(result.month)
    # 17841 had 28 cancellation lines in November 2011: 7,143.58 sold − 105.47.
    assert month.loc["17841", "revenue"] == pytest.approx(7_038.11)
    sold = cancelled = 0.0
    for _, _, _, qty, when, price, customer, _ in body:
        if customer == 17841 and (when.year, when.month) == (2011, 11):
            if qty < 0:
                cancelled += qty * price
            else:
                sold += qty * price
    assert cancelled < 0
    assert month.loc["17841", "revenue"] == pytest.approx(sold + cancelled)
    # Every customer and the total reconcile with the loop.
    loop = revenue_by_loop(body, 2011, 11)
    assert len(month) == len(loop)
    assert result.month_total["revenue"] == pytest.approx(sum(loop.values()))
    in_month = frame["doc_date"].between("2011-11-01", "2011-11-30")
    assert month["revenue"].sum() == pytest.approx(net_revenue(frame[in_month]).sum())
    assert month["cost"].isna().all()


@pytest.mark.slow
def test_online_retail_grades_2011(online_retail):
    body, frame = online_retail
    result = by_id(evaluate(frame, None, None, 2011, load_defaults()))

    # Independently: with no cost and no receivables the score is the revenue
    # percentile, 100 × average rank / n, graded A ≥ 80, B ≥ 60, C ≥ 40, else D.
    revenue = revenue_by_loop(body, 2011)
    ordered = sorted(revenue.values())
    n = len(ordered)
    assert len(result) == n

    def expected(customer):
        value = revenue[customer]
        below = bisect.bisect_left(ordered, value)
        equal = bisect.bisect_right(ordered, value) - below
        score = 100 * (below + (equal + 1) / 2) / n
        grade = next(
            g
            for g, t in (("A", 80), ("B", 60), ("C", 40), ("D", 0))
            if round(score, 2) >= t
        )
        return score, grade

    for customer in ["14646", "17841", "17779", "15781", "17448"]:
        score, grade = expected(customer)
        assert result.loc[customer, "score"] == pytest.approx(score, abs=0.01)
        assert result.loc[customer, "grade"] == grade
    assert result.loc["14646", "grade"] == "A" and result.loc["14646", "rank"] == 1
    assert result.loc["17779", "grade"] == "C"
    # 17448 ended 2011 with net returns (−4,287.63): grade D and a prune candidate.
    assert result.loc["17448", "grade"] == "D"
    assert result.loc["17448", "is_prune_candidate"]
    assert result.loc["17448", "prune_reason"] == "grade_D"
    assert result["is_prune_candidate"].sum() == (result["grade"] == "D").sum()


def test_every_note_code_has_a_label(sales):
    from ledgerflow import labels

    notes = evaluate(sales.drop(columns="cost_amount"), None, None, 2024, config())
    codes = {note.split(":", 1)[0] for note in notes.attrs["notes"]}
    assert codes == {"no_cost_data", "no_margin_data", "no_payment_data"}
    for code in codes:
        assert labels.has("phrases", code), code
    guard = evaluate(sales, None, None, 2024, config())["guard_reason"].dropna()
    assert set(guard) == {"top_10_revenue"}
    assert labels.has("rules", "top_10_revenue")
