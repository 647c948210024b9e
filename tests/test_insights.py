"""Tests of ledgerflow.insights: every rule on tiny frames with figures worked out by
hand, and a customer of Online Retail checked by a second, plain-Python method."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd
import pytest

from ledgerflow import insights as insights_module
from ledgerflow import labels
from ledgerflow.errors import ConfigError
from ledgerflow.insights import compute_insights, settings
from ledgerflow.period import Period


def sales_lines(rows):
    """Sales lines from (partner, doc_no, date, item, qty, amount) tuples."""
    partner, doc, date, item, qty, amount = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "doc_no": pd.array(doc, dtype="string"),
            "doc_date": pd.to_datetime(list(date)),
            "partner_id": pd.array([f"ID-{p}" for p in partner], dtype="string"),
            "partner_code": pd.array(partner, dtype="string"),
            "partner_name": pd.array([f"Name {p}" for p in partner], dtype="string"),
            "item_code": pd.array(item, dtype="string"),
            "item_name": pd.array([f"Item {i}" for i in item], dtype="string"),
            "qty": pd.array(qty, dtype="Float64"),
            "unit_price": pd.array([None] * len(rows), dtype="Float64"),
            "supply_amount": pd.array(amount, dtype="Float64"),
        }
    )


def master_of(sales):
    return (
        sales[["partner_id", "partner_code", "partner_name"]]
        .drop_duplicates("partner_id")
        .reset_index(drop=True)
    )


def run(rows, period, receivables=None, **insights_config):
    sales = sales_lines(rows)
    config = {"insights": insights_config}
    return compute_insights(sales, master_of(sales), period, config, receivables)


def _en(rule):
    """A tag's coded rule as the English sentence a reader sees."""
    return labels.render(rule, "en")


def by_partner(frame, code):
    return frame[frame["partner_code"] == code].reset_index(drop=True)


# ------------------------------------------------------------ top items / groups

# Partner A, period 2024-03: D1 sells X 100 (10 pcs) and Y 50 (20 pcs), D2 returns
# 3 X for -30, D3 in January sells Z 200. Partner B's line on 03-31 makes the data
# run to the period end.
TOP_ROWS = [
    ("A", "D1", "2024-03-05", "X1", 10, 100),
    ("A", "D1", "2024-03-05", "Y1", 20, 50),
    ("A", "D2", "2024-03-10", "X1", -3, -30),
    ("A", "D3", "2024-01-15", "Z2", 1, 200),
    ("B", "D9", "2024-03-31", "X1", 1, 10),
]


def test_top_items_net_of_returns_with_shares_and_both_windows():
    result = run(TOP_ROWS, Period(2024, 3))
    top = by_partner(result.top_items, "A")
    period = top[top["window"] == "period"]
    assert period["item_code"].tolist() == ["X1", "Y1"]
    assert period["rank"].tolist() == [1, 2]
    assert period["revenue"].tolist() == [70.0, 50.0]  # 100 - 30 returned
    assert period["qty"].tolist() == [7.0, 20.0]
    assert period["qty_rank"].tolist() == [2, 1]
    assert period["revenue_share"].tolist() == pytest.approx([70 / 120, 50 / 120])
    year = top[top["window"] == "last_12m"]
    assert year["item_code"].tolist() == ["Z2", "X1", "Y1"]
    assert year["revenue"].tolist() == [200.0, 70.0, 50.0]
    assert year["revenue_share"].tolist() == pytest.approx([0.625, 0.21875, 0.15625])


def test_top_n_keeps_the_top_by_revenue_and_the_top_by_quantity():
    result = run(TOP_ROWS, Period(2024, 3), top_n=1)
    top = by_partner(result.top_items, "A")
    period = top[top["window"] == "period"]
    # X1 is first by revenue, Y1 first by quantity
    assert period["item_code"].tolist() == ["X1", "Y1"]
    year = top[top["window"] == "last_12m"]
    # Z2 first by revenue (200), Y1 first by quantity (20)
    assert year["item_code"].tolist() == ["Z2", "Y1"]


def test_top_groups_by_code_prefix_and_by_first_word():
    result = run(TOP_ROWS, Period(2024, 3), item_group_prefix_length=1)
    groups = by_partner(result.top_groups, "A")
    year = groups[groups["window"] == "last_12m"]
    assert year["item_group"].tolist() == ["Z", "X", "Y"]
    assert year["revenue"].tolist() == [200.0, 70.0, 50.0]
    result = run(TOP_ROWS, Period(2024, 3), item_group="name_first_word")
    groups = by_partner(result.top_groups, "A")
    # every name starts with "Item": one group, the partner's whole revenue
    year = groups[groups["window"] == "last_12m"]
    assert year["item_group"].tolist() == ["Item"]
    assert year["revenue"].tolist() == [320.0]
    assert year["revenue_share"].tolist() == [1.0]


# ------------------------------------------------------------------ rhythm, RFM


def test_orders_are_documents_with_positive_net_revenue():
    rows = [
        *TOP_ROWS,
        # a document that nets to zero and a cancellation: neither is an order
        ("A", "D4", "2024-03-20", "X1", 1, 10),
        ("A", "D4", "2024-03-20", "X1", -1, -10),
        ("A", "C5", "2024-03-25", "Y1", -2, -5),
    ]
    rhythm = by_partner(run(rows, Period(2024, 3)).rhythm, "A").iloc[0]
    # orders: D3 (01-15) and D1 (03-05); D2 is a return only
    assert rhythm["orders_12m"] == 2
    assert rhythm["last_order_date"] == pd.Timestamp("2024-03-05")
    assert rhythm["first_order_date"] == pd.Timestamp("2024-01-15")
    assert rhythm["revenue_12m"] == 315.0  # 200 + 100 + 50 - 30 + 10 - 10 - 5


def test_rhythm_frequency_recency_and_concentration():
    rhythm = by_partner(run(TOP_ROWS, Period(2024, 3)).rhythm, "A").iloc[0]
    # first order in January: 3 months observed (Jan, Feb, Mar), 2 orders
    assert rhythm["orders_per_month"] == pytest.approx(2 / 3)
    # 2024-01-15 to 2024-03-05: 16 + 29 + 5 days (2024 is a leap year)
    assert rhythm["mean_days_between_orders"] == 50.0
    # data runs to the period end (B on 03-31): 26 days after 03-05
    assert rhythm["days_since_last_order"] == 26
    # item shares 200/320, 70/320, 50/320
    assert rhythm["buying_concentration"] == pytest.approx(
        0.625**2 + 0.21875**2 + 0.15625**2
    )
    assert rhythm["n_items_12m"] == 3


def test_recency_stops_at_the_last_sales_date_of_a_partial_month():
    rows = [row for row in TOP_ROWS if row[0] == "A"]
    result = run(rows, Period(2024, 3))
    assert result.as_of == pd.Timestamp("2024-03-10")
    assert by_partner(result.rhythm, "A")["days_since_last_order"].tolist() == [5]
    assert any(note.startswith("partial_month:") for note in result.notes)


# Five partners, one order each in March 2024, on days 31, 30, 25, 10 and 1, with
# 2..6 orders in the last 12 months and revenues 55, 46, 37, 28, 19.
def rfm_rows():
    rows = []
    days = {"P1": 31, "P2": 30, "P3": 25, "P4": 10, "P5": 1}
    for n, (partner, day) in enumerate(days.items()):
        rows.append((partner, f"{partner}-now", f"2024-03-{day:02d}", "X", 1, 10))
        for k in range(n):  # extra orders in 2023-07..
            rows.append((partner, f"{partner}-{k}", f"2023-{7 + k:02d}-01", "X", 1, 1))
        rows.append((partner, f"{partner}-big", "2023-06-01", "Y", 1, 45 - 10 * n))
    return rows


def test_rfm_quintiles_and_segments():
    result = run(rfm_rows(), Period(2024, 3))
    rhythm = result.rhythm.set_index("partner_code")
    # recency: P1 most recent -> 5 ... P5 oldest -> 1
    assert rhythm.loc[["P1", "P2", "P3", "P4", "P5"], "rfm_r"].tolist() == [
        5,
        4,
        3,
        2,
        1,
    ]
    # frequency: P1 2 orders (now + big) ... P5 6 orders
    assert rhythm.loc[["P1", "P5"], "orders_12m"].tolist() == [2, 6]
    assert rhythm.loc[["P1", "P2", "P3", "P4", "P5"], "rfm_f"].tolist() == [
        1,
        2,
        3,
        4,
        5,
    ]
    # monetary: P1 10 + 45 = 55, P5 10 + 4 × 1 + 5 = 19 -> P1 best
    assert rhythm.loc["P1", "revenue_12m"] == 55.0
    assert rhythm.loc["P5", "revenue_12m"] == 19.0
    assert rhythm.loc["P1", "rfm_m"] == 5
    assert rhythm.loc["P5", "rfm_m"] == 1
    # default rules: P1 r5 f1 -> promising; P3 r3 f3 -> loyal; P5 r1 f5 -> at_risk;
    # P4 r2 f4 -> at_risk; P2 r4 f2 -> promising
    assert rhythm.loc[["P1", "P2", "P3", "P4", "P5"], "rfm_segment"].tolist() == [
        "promising",
        "promising",
        "loyal",
        "at_risk",
        "at_risk",
    ]


def test_rfm_fixed_limits_and_custom_segments():
    result = run(
        rfm_rows(),
        Period(2024, 3),
        rfm_recency_days=[0, 5, 20, 29],
        rfm_frequency_orders=[3, 4, 5, 6],
        rfm_segments=[{"name": "fresh", "r": [5, 5]}, {"name": "busy", "f": [4, 5]}],
        rfm_default_segment="other",
    )
    rhythm = result.rhythm.set_index("partner_code")
    # days since last order: P1 0, P2 1, P3 6, P4 21, P5 30
    assert rhythm.loc[
        ["P1", "P2", "P3", "P4", "P5"], "days_since_last_order"
    ].tolist() == [
        0,
        1,
        6,
        21,
        30,
    ]
    assert rhythm.loc[["P1", "P2", "P3", "P4", "P5"], "rfm_r"].tolist() == [
        5,
        4,
        3,
        2,
        1,
    ]
    # orders 2, 3, 4, 5, 6 against limits 3, 4, 5, 6
    assert rhythm.loc[["P1", "P2", "P3", "P4", "P5"], "rfm_f"].tolist() == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert rhythm.loc[["P1", "P2", "P3", "P4", "P5"], "rfm_segment"].tolist() == [
        "fresh",
        "other",
        "other",
        "busy",
        "busy",
    ]


def test_segment_moves_compare_with_the_previous_month_end():
    # P1 orders often until January then stops; P2 only orders in March
    rows = [("P1", f"D{m}", f"2023-{m:02d}-10", "X", 1, 10) for m in range(4, 13)]
    rows += [("P1", "D13", "2024-01-10", "X", 1, 10)]
    rows += [("P2", "E1", "2024-03-31", "X", 1, 10)]
    result = run(
        rows,
        Period(2024, 3),
        rfm_recency_days=[30, 31, 32, 33],
        rfm_frequency_orders=[2, 3, 4, 5],
        rfm_segments=[
            {"name": "steady", "r": [5, 5], "f": [5, 5]},
            {"name": "gone_quiet", "r": [1, 4], "f": [5, 5]},
            {"name": "new_one", "r": [5, 5], "f": [1, 1]},
        ],
    )
    moves = result.segment_moves.set_index("partner_code")
    # at 2024-02-29: P1 last ordered 01-10 (50 days, r1), 10 orders: gone_quiet;
    # P2 not yet a customer
    assert moves.loc["P1", "segment_previous_month"] == "gone_quiet"
    assert moves.loc["P1", "segment_now"] == "gone_quiet"
    assert pd.isna(moves.loc["P2", "segment_previous_month"])
    assert moves.loc["P2", "segment_now"] == "new_one"


def test_segment_moves_see_a_partner_fall_behind():
    # ordered every month up to February: at the end of Feb recent, in March not
    rows = [("P1", f"D{m}", f"2023-{m:02d}-27", "X", 1, 10) for m in range(4, 13)]
    rows += [("P1", "D13", "2024-01-27", "X", 1, 10)]
    rows += [("P1", "D14", "2024-02-27", "X", 1, 10)]
    rows += [("P2", "E1", "2024-03-31", "X", 1, 10)]
    result = run(
        rows,
        Period(2024, 3),
        rfm_recency_days=[7, 14, 21, 28],
        rfm_frequency_orders=[2, 4, 6, 8],
        rfm_segments=[
            {"name": "steady", "r": [4, 5], "f": [5, 5]},
            {"name": "slipping", "r": [1, 3], "f": [5, 5]},
        ],
    )
    moves = result.segment_moves.set_index("partner_code")
    # 2024-02-29: 2 days since 02-27 (r5), 11 orders -> steady; 2024-03-31: 33 days
    # (r1), 11 orders -> slipping
    assert moves.loc["P1", "segment_previous_month"] == "steady"
    assert moves.loc["P1", "segment_now"] == "slipping"


# ---------------------------------------------------------------- seasonality


def test_seasonality_revenue_and_usual_months():
    rows = [
        ("S", "D1", "2022-11-10", "X", 1, 100),
        ("S", "D2", "2023-11-03", "X", 1, 50),
        ("S", "D3", "2023-12-01", "X", 1, 30),
        ("S", "D4", "2024-03-15", "X", 1, 20),
        ("S", "C4", "2024-03-16", "X", -1, -5),
    ]
    season = by_partner(run(rows, Period(2024, 3)).seasonality, "S")
    season = season.set_index("calendar_month")
    assert season.loc[11, "revenue"] == 150.0
    assert season.loc[3, "revenue"] == 15.0
    assert season.loc[1, "revenue"] == 0.0
    # first order 2022-11; months up to 2024-03: Nov twice, Dec twice, Jan-Mar twice,
    # Apr-Oct once
    assert season.loc[11, "n_years_observed"] == 2
    assert season.loc[12, "n_years_observed"] == 2
    assert season.loc[3, "n_years_observed"] == 2
    assert season.loc[4, "n_years_observed"] == 1
    assert season.loc[10, "n_years_observed"] == 1
    assert season.loc[[11, 12, 3, 1], "n_years_ordered"].tolist() == [2, 1, 1, 0]
    usual = season.index[season["is_usual_month"]].tolist()
    assert usual == [3, 11, 12]  # 1/2, 2/2 and 1/2 of the years, share 0.5
    season = by_partner(
        run(rows, Period(2024, 3), usual_month_share=0.6).seasonality, "S"
    )
    assert season.loc[season["is_usual_month"], "calendar_month"].tolist() == [11]


# -------------------------------------------------------------- lapsed items


def test_lapsed_items_rule():
    # period 2024-12, lapse window Oct-Dec 2024, base Oct 2023 - Sep 2024
    rows = [
        # L: 3 base months, nothing since -> lapsed, at stake 30 + 20 + 25 = 75
        ("B", "D1", "2024-01-05", "L", 1, 30),
        ("B", "D2", "2024-03-07", "L", 1, 20),
        ("B", "D3", "2024-05-09", "L", 1, 25),
        # K: 3 base months and bought again in November -> not lapsed
        ("B", "D1", "2024-01-05", "K", 1, 10),
        ("B", "D2", "2024-03-07", "K", 1, 10),
        ("B", "D3", "2024-05-09", "K", 1, 10),
        ("B", "D4", "2024-11-11", "K", 1, 10),
        # J: 2 base months only -> not lapsed
        ("B", "D1", "2024-01-05", "J", 1, 10),
        ("B", "D2", "2024-03-07", "J", 1, 10),
        # R: 3 base months, a return in the lapse window is no purchase -> lapsed,
        # at stake 10 + 10 + 10 - 4 (a return in the base) = 26
        ("B", "D1", "2024-01-05", "R", 1, 10),
        ("B", "D2", "2024-03-07", "R", 1, 10),
        ("B", "D3", "2024-09-30", "R", 1, 10),
        ("B", "C3", "2024-09-30", "R", -1, -4),
        ("B", "C4", "2024-11-12", "R", -1, -10),
        # S: one of its 3 months (Sep 2023) is before the base -> not lapsed
        ("B", "D0", "2023-09-05", "S", 1, 10),
        ("B", "D1", "2024-01-05", "S", 1, 10),
        ("B", "D2", "2024-03-07", "S", 1, 10),
        ("Z", "D9", "2024-12-31", "K", 1, 10),
    ]
    result = run(rows, Period(2024, 12))
    lapsed = by_partner(result.lapsed_items, "B")
    assert lapsed["item_code"].tolist() == ["L", "R"]  # by revenue at stake
    assert lapsed["revenue_at_stake"].tolist() == [75.0, 26.0]
    assert lapsed["months_bought_prev_12m"].tolist() == [3, 3]
    assert lapsed["last_bought"].tolist() == [
        pd.Timestamp("2024-05-09"),
        pd.Timestamp("2024-09-30"),
    ]
    # with N = 2 months, J joins (Jan, Mar); with M = 1 month, K (Nov) lapses too
    two = by_partner(run(rows, Period(2024, 12), lapse_min_months=2).lapsed_items, "B")
    # ... and S (Jan, Mar): both at stake 20, ties by item code
    assert two["item_code"].tolist() == ["L", "R", "J", "S"]
    short = run(rows, Period(2024, 12), lapse_months=1).lapsed_items
    # base is now Dec 2023 - Nov 2024: K has Jan, Mar, May, Nov
    k = by_partner(short, "B").set_index("item_code").loc["K"]
    assert k["months_bought_prev_12m"] == 4
    assert k["revenue_at_stake"] == 40.0


# --------------------------------------------------------------- suggestions

# Baskets in the last 12 months: P1 A B C, P2 A B, P3 A B D, P4 A C, P5 A.
# Buyers: A 5, B 3, C 2, D 1. Together with A: B 3, C 2, D 1; B with C: 1.
BASKETS = {"P1": "ABC", "P2": "AB", "P3": "ABD", "P4": "AC", "P5": "A"}


def basket_rows():
    rows = []
    for partner, items in BASKETS.items():
        for n, item in enumerate(items):
            # A is every partner's largest item, then in basket order
            rows.append((partner, f"{partner}-1", "2024-02-01", item, 1, 100 - n))
    return rows


def test_suggestions_from_co_occurrence_with_exact_reasons():
    result = run(basket_rows(), Period(2024, 3), suggestion_min_partners=2)
    p5 = by_partner(result.suggestions, "P5")
    assert p5["item_code"].tolist() == ["B", "C"]
    assert p5["rank"].tolist() == [1, 2]
    assert p5["score"].tolist() == pytest.approx([3 / 5, 2 / 5])
    assert p5["n_both"].tolist() == [3, 2]
    assert p5["n_anchor"].tolist() == [5, 5]
    assert p5["reason"].tolist() == [
        "bought by 3 of 5 partners who also buy A (Item A)",
        "bought by 2 of 5 partners who also buy A (Item A)",
    ]
    # P4 (A C): B via A, 3 of 5 (via C only 1 of 2, below the minimum)
    p4 = by_partner(result.suggestions, "P4")
    assert p4["item_code"].tolist() == ["B"]
    assert p4["anchor_item_code"].tolist() == ["A"]
    # P2 (A B): C via A, 2 of 5; D via B is 1 of 3 (below the minimum)
    assert by_partner(result.suggestions, "P2")["item_code"].tolist() == ["C"]
    # P1 (A B C): D has a single buyer
    assert by_partner(result.suggestions, "P1").empty


def test_suggestions_skip_items_bought_before_and_respect_the_limits():
    rows = [*basket_rows(), ("P5", "old", "2021-06-01", "C", 1, 5)]
    result = run(rows, Period(2024, 3), suggestion_min_partners=2)
    assert by_partner(result.suggestions, "P5")["item_code"].tolist() == ["B"]
    result = run(
        basket_rows(),
        Period(2024, 3),
        suggestion_min_partners=1,
        suggestions_per_partner=1,
    )
    p2 = by_partner(result.suggestions, "P2")
    # C via A 2/5 = 0.4 beats D via B 1/3
    assert p2["item_code"].tolist() == ["C"]
    result = run(basket_rows(), Period(2024, 3), suggestion_min_partners=1)
    p2 = by_partner(result.suggestions, "P2")
    assert p2["item_code"].tolist() == ["C", "D"]
    assert (
        p2["reason"].tolist()[1] == "bought by 1 of 3 partners who also buy B (Item B)"
    )


def test_suggestion_counts_without_the_bit_matrix(monkeypatch):
    expected = run(basket_rows(), Period(2024, 3), suggestion_min_partners=1)
    monkeypatch.setattr(insights_module, "BITSET_MAX_BYTES", 0)
    monkeypatch.setattr(insights_module, "BITMAP_MAX_CELLS", 0)
    walked = run(basket_rows(), Period(2024, 3), suggestion_min_partners=1)
    pd.testing.assert_frame_equal(walked.suggestions, expected.suggestions)


# ----------------------------------------------------------------------- tags


def tag_rows():
    rows = [
        # V: big, steady buyer of two items, orders in Feb and Mar 2024
        ("V", "V1", "2023-12-05", "X", 1, 1000),
        ("V", "V2", "2024-02-05", "X", 1, 500),
        ("V", "V3", "2024-03-05", "Y", 1, 900),
        # G: grows (Feb 100 -> Mar 150), single item
        ("G", "G1", "2024-02-10", "X", 1, 100),
        ("G", "G2", "2024-03-10", "X", 1, 150),
        # S: shrinks (Feb 200 -> Mar 100)
        ("S", "S1", "2024-02-10", "X", 1, 200),
        ("S", "S2", "2024-03-10", "Y", 1, 100),
        # D: last order 2023-10-01, dormant
        ("D", "D1", "2023-10-01", "X", 1, 50),
        ("D", "D2", "2023-09-01", "Y", 1, 50),
        # N: first order in March
        ("N", "N1", "2024-03-31", "X", 1, 20),
        ("N", "N2", "2024-03-31", "Y", 1, 20),
    ]
    return rows


def test_rule_tags_with_their_rules():
    result = run(
        tag_rows(),
        Period(2024, 3),
        tag_vip_top_n=1,
        tag_trend_months=1,
        tag_dormant_days=90,
        tag_new_months=1,
    )
    tags = result.tags
    found = sorted(zip(tags["partner_code"], tags["tag"], strict=True))
    assert found == [
        ("D", "dormant"),
        ("G", "growing"),
        ("G", "single_item_buyer"),
        ("N", "new"),
        ("S", "declining"),
        ("V", "growing"),
        ("V", "vip"),
    ]
    keys = zip(tags["partner_code"], tags["tag"], strict=True)
    rules = dict(zip(keys, map(_en, tags["rule"]), strict=True))
    # D: 2023-10-01 to 2024-03-31 is 182 days
    assert rules[("D", "dormant")] == "days_since_last_order 182 > 90"
    assert rules[("V", "vip")] == "revenue_12m rank 1 <= 1"
    assert rules[("G", "growing")] == (
        "revenue last 1 months 150 vs previous 1 months 100: +50%"
    )
    assert rules[("S", "declining")] == (
        "revenue last 1 months 100 vs previous 1 months 200: -50%"
    )
    assert rules[("N", "new")] == "first order 2024-03-31 on or after 2024-03-01"
    # G's first order is in February: new when "new" covers 2 months
    two = run(tag_rows(), Period(2024, 3), tag_new_months=2).tags
    assert sorted(two.loc[two["tag"] == "new", "partner_code"]) == ["G", "N", "S"]


def test_late_payer_needs_receivables():
    receivables = pd.DataFrame(
        {
            "partner_id": pd.array(["ID-V", "ID-V", "ID-S", "ID-G"], dtype="string"),
            "partner_code": pd.array(["V", "V", "S", "G"], dtype="string"),
            "invoice_no": pd.array(["I1", "I2", "I3", "I4"], dtype="string"),
            "invoice_date": pd.to_datetime(
                ["2024-01-01", "2024-01-01", "2024-01-01", "2023-01-01"]
            ),
            "due_date": pd.to_datetime(
                ["2024-01-31", "2024-01-31", "2024-01-31", "2023-01-31"]
            ),
            "amount": pd.array([100, 300, 100, 100], dtype="Float64"),
            # V: 100 paid 40 days late, 300 on time -> 25 %; S: open, 60 days late;
            # G: late but due before the 12 months
            "settled_date": pd.to_datetime(["2024-03-11", "2024-01-31", None, None]),
            "settled_amount": pd.array([100, 300, None, None], dtype="Float64"),
        }
    )
    result = run(tag_rows(), Period(2024, 3), receivables, tag_late_payer_share=0.25)
    late = result.tags[result.tags["tag"] == "late_payer"]
    assert sorted(late["partner_code"]) == ["S", "V"]
    rule = _en(late.set_index("partner_code").loc["V", "rule"])
    assert rule == (
        "25% of invoice amount due in the last 12 months paid or open > 30 days "
        "after due"
    )
    result = run(tag_rows(), Period(2024, 3), receivables, tag_late_payer_share=0.3)
    late = result.tags[result.tags["tag"] == "late_payer"]
    assert late["partner_code"].tolist() == ["S"]
    assert "late_payer" not in set(run(tag_rows(), Period(2024, 3)).tags["tag"])


# ------------------------------------------------------------------- settings


def test_settings_defaults_and_errors():
    assert settings({}).lapse_min_months == 3
    assert settings({"insights": {"top_n": 5}}).top_n == 5
    with pytest.raises(ConfigError, match=r"\[insights\] top_n: expected a whole"):
        settings({"insights": {"top_n": 0}})
    with pytest.raises(ConfigError, match="4 ascending limits"):
        settings({"insights": {"rfm_recency_days": [30, 10, 60, 90]}})
    with pytest.raises(ConfigError, match="rule 1 should look like"):
        settings({"insights": {"rfm_segments": [{"name": "x", "r": [0, 9]}]}})
    with pytest.raises(ConfigError, match="'code_prefix' or 'name_first_word'"):
        settings({"insights": {"item_group": "brand"}})
    with pytest.raises(ConfigError, match="fraction"):
        settings({"insights": {"usual_month_share": 2}})


def test_lines_without_partner_or_date_are_noted_and_left_out():
    sales = sales_lines(TOP_ROWS)
    sales.loc[1, "partner_id"] = pd.NA
    sales.loc[2, "doc_date"] = pd.NaT
    result = compute_insights(sales, master_of(sales), Period(2024, 3), {})
    assert "lines_not_used: 2 lines" in result.notes[0]
    top = by_partner(result.top_items, "A")
    assert top[top["window"] == "period"]["item_code"].tolist() == ["X1"]


def test_missing_partner_id_is_a_clear_error():
    sales = sales_lines(TOP_ROWS).drop(columns="partner_id")
    with pytest.raises(ValueError, match="attach the master's IDs first"):
        compute_insights(sales, sales, Period(2024, 3), {})


# ---------------------------------------------------------- real data (slow)


@pytest.fixture(scope="module")
def online_retail(online_retail_rows):
    """Online Retail's rows with a customer, and canonical sales lines."""
    header, rows = online_retail_rows
    body = [row for row in rows if row[6] not in ("", None)]
    frame = pd.DataFrame(body, columns=header)
    code = frame["CustomerID"].map(lambda v: str(int(v)))
    sales = pd.DataFrame(
        {
            "doc_no": frame["InvoiceNo"].astype("string"),
            "doc_date": pd.to_datetime(frame["InvoiceDate"]).dt.normalize(),
            "partner_code": code.astype("string"),
            "partner_name": pd.array([None] * len(frame), dtype="string"),
            "item_code": frame["StockCode"].astype("string"),
            "item_name": frame["Description"].astype("string"),
            "qty": frame["Quantity"].astype("Float64"),
            "unit_price": frame["UnitPrice"].astype("Float64"),
            "supply_amount": (frame["Quantity"] * frame["UnitPrice"]).astype("Float64"),
            "partner_id": ("C" + code).astype("string"),
        }
    )
    return {"rows": body, "header": header, "sales": sales}


@pytest.fixture(scope="module")
def retail_insights(online_retail):
    sales = online_retail["sales"]
    return compute_insights(sales, master_of(sales), Period(2011, 12), {})


CUSTOMER = "12347"


def customer_lines(online_retail, customer=CUSTOMER):
    """(invoice, date, stock code, amount) of one customer, in plain Python."""
    index = {name: n for n, name in enumerate(online_retail["header"])}
    out = []
    for row in online_retail["rows"]:
        if str(int(row[index["CustomerID"]])) != customer:
            continue
        when = row[index["InvoiceDate"]]
        day = dt.date(when.year, when.month, when.day)
        amount = row[index["Quantity"]] * row[index["UnitPrice"]]
        out.append((row[index["InvoiceNo"]], day, row[index["StockCode"]], amount))
    return out


@pytest.mark.slow
def test_online_retail_top_items_of_a_customer(online_retail, retail_insights):
    revenue = defaultdict(float)
    for _invoice, day, item, amount in customer_lines(online_retail):
        if dt.date(2011, 1, 1) <= day <= dt.date(2011, 12, 31):
            revenue[item] += amount
    expected = sorted(revenue.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    top = by_partner(retail_insights.top_items, CUSTOMER)
    top = top[(top["window"] == "last_12m") & (top["rank"] <= 5)]
    assert top["item_code"].tolist() == [item for item, _ in expected]
    assert top["revenue"].tolist() == pytest.approx([value for _, value in expected])
    total = sum(revenue.values())
    assert top["revenue_share"].tolist() == pytest.approx(
        [value / total for _, value in expected]
    )


@pytest.mark.slow
def test_online_retail_days_since_last_order(online_retail, retail_insights):
    documents = defaultdict(float)
    dates = {}
    for invoice, day, _item, amount in customer_lines(online_retail):
        documents[invoice] += amount
        dates[invoice] = day
    last = max(dates[doc] for doc, total in documents.items() if total > 0)
    rhythm = by_partner(retail_insights.rhythm, CUSTOMER).iloc[0]
    assert retail_insights.as_of == pd.Timestamp("2011-12-09")
    assert rhythm["days_since_last_order"] == (dt.date(2011, 12, 9) - last).days
    assert rhythm["last_order_date"] == pd.Timestamp(last)


@pytest.mark.slow
def test_online_retail_lapsed_items(online_retail, retail_insights):
    # base Oct 2010 - Sep 2011, lapse window Oct - Dec 2011
    monthly = defaultdict(float)
    base_revenue = defaultdict(float)
    for _invoice, day, item, amount in customer_lines(online_retail):
        monthly[item, day.year, day.month] += amount
        if dt.date(2010, 10, 1) <= day <= dt.date(2011, 9, 30):
            base_revenue[item] += amount
    base_months, recent = defaultdict(int), set()
    for (item, year, month), amount in monthly.items():
        if amount <= 0:
            continue
        if (year, month) >= (2011, 10):
            recent.add(item)
        elif (year, month) >= (2010, 10):
            base_months[item] += 1
    expected = {
        item: base_revenue[item]
        for item, months in base_months.items()
        if months >= 3 and item not in recent
    }
    lapsed = by_partner(retail_insights.lapsed_items, CUSTOMER)
    assert expected  # the customer has lapsed items to compare
    assert dict(
        zip(lapsed["item_code"], lapsed["revenue_at_stake"], strict=True)
    ) == pytest.approx(expected)
    assert "22376" in expected  # AIRLINE BAG VINTAGE JET SET WHITE
    row = lapsed.set_index("item_code").loc["22376"]
    assert row["last_bought"] == pd.Timestamp("2011-08-02")


@pytest.mark.slow
def test_online_retail_insights_for_every_ordering_customer(
    online_retail, retail_insights
):
    # Speed (computing faster than reading) is measured by bench/, never asserted.
    result = retail_insights
    # scored: customers with an invoice of positive net amount (34 only cancel)
    documents = defaultdict(float)
    for row in online_retail["rows"]:
        documents[row[6], row[0]] += row[3] * row[5]
    customers = {customer for (customer, _), total in documents.items() if total > 0}
    assert len(result.rhythm) == len(customers) == 4338
    assert len(result.suggestions) > 0


def test_no_orders_gives_empty_tables_with_their_columns():
    rows = [("A", "C1", "2024-03-05", "X", -1, -10)]
    result = run(rows, Period(2024, 3))
    assert result.rhythm.empty and result.top_items.empty and result.tags.empty
    assert list(result.lapsed_items.columns) == [
        "partner_id",
        "partner_code",
        "partner_name",
        "item_code",
        "item_name",
        "last_bought",
        "months_bought_prev_12m",
        "revenue_at_stake",
    ]
    assert result.notes[-1].startswith("no_orders: no document with a positive")


def test_recency_counts_to_the_period_end_when_the_data_stopped_long_before():
    rows = [("A", "D1", "2024-01-05", "X", 1, 10)]
    result = run(rows, Period(2024, 3))
    assert result.as_of == pd.Timestamp("2024-03-31")
    # 2024-01-05 to 2024-03-31: 26 + 29 + 31 days
    assert result.rhythm["days_since_last_order"].tolist() == [86]
    # ordered once in January, nothing in February and March: January is usual
    season = result.seasonality
    assert season.loc[season["is_usual_month"], "calendar_month"].tolist() == [1]


def test_late_payer_without_sales_is_named_from_the_master():
    sales = sales_lines(tag_rows())
    master = pd.concat(
        [
            master_of(sales),
            pd.DataFrame(
                {
                    "partner_id": pd.array(["ID-Q"], dtype="string"),
                    "partner_code": pd.array(["Q"], dtype="string"),
                    "partner_name": pd.array(["Quiet"], dtype="string"),
                }
            ),
        ],
        ignore_index=True,
    )
    receivables = pd.DataFrame(
        {
            "partner_id": pd.array(["ID-Q"], dtype="string"),
            "due_date": pd.to_datetime(["2024-02-01"]),
            "amount": pd.array([100], dtype="Float64"),
            "settled_date": pd.to_datetime([None]),
            "settled_amount": pd.array([None], dtype="Float64"),
        }
    )
    result = compute_insights(sales, master, Period(2024, 3), {}, receivables)
    late = result.tags[result.tags["tag"] == "late_payer"]
    assert late[["partner_code", "partner_name"]].values.tolist() == [["Q", "Quiet"]]


def test_shipped_defaults_agree_with_the_settings():
    """defaults.toml's [insights] (once added) holds only known keys, with the same
    values as Settings, so the documented defaults are the ones used."""
    from dataclasses import fields

    from ledgerflow.config import load_defaults
    from ledgerflow.insights import Settings

    shipped = load_defaults().get("insights", {})
    assert set(shipped) <= {spec.name for spec in fields(Settings)}
    assert settings({"insights": shipped}) == Settings()


def test_sales_without_item_codes_give_empty_item_tables_not_a_crash():
    """Summary exports (case 20: partner totals, no items) still get rhythm and
    seasonality; the item tables are empty."""
    rows = [
        (p, f"D{i}", "2024-03-31", None, None, amount)
        for i, (p, amount) in enumerate([("A", 12_500_000), ("B", 3_480_000)])
    ]
    result = run(rows, Period(2024, 3))
    assert result.top_items.empty and result.top_groups.empty
    assert result.lapsed_items.empty and result.suggestions.empty
    assert sorted(result.rhythm["partner_code"]) == ["A", "B"]


def test_rule_tags_join_the_master_apart_from_user_tags():
    master = pd.DataFrame(
        {
            "partner_id": ["P1", "P2", "P3"],
            "tags": pd.array(["장기계약", pd.NA, pd.NA], dtype="string"),
        }
    )
    tags = pd.DataFrame(
        {
            "partner_id": ["P1", "P1", "P2"],
            "tag": ["vip", "growing", "dormant"],
            "rule": ["r1", "r2", "r3"],
        }
    )
    out = insights_module.master_with_tags(master, tags)
    assert out["rule_tags"].tolist() == ["vip; growing", "dormant", pd.NA]
    assert out["tags"].tolist() == ["장기계약", pd.NA, pd.NA]
    assert "rule_tags" not in master
