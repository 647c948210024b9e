"""Tests of ledgerflow.evaluation, decisions and the evaluation workbook, with scores
worked out by hand, plus the real-data tests (Online Retail 2011, Calderdale supplier
payments 2021). The Online Retail tests of metrics live here too because they share
one read of the 24 MB workbook."""

from __future__ import annotations

import bisect
import copy
import csv
import datetime as dt
from collections import defaultdict
from types import SimpleNamespace

import pandas as pd
import pytest
from openpyxl import load_workbook

from ledgerflow import decisions
from ledgerflow.config import load_config, load_defaults
from ledgerflow.errors import ConfigError
from ledgerflow.evaluation import (
    EVALUATION_COLUMNS,
    criterion_points,
    evaluate,
    size_class,
    supplier_ids,
    year_rules,
)
from ledgerflow.labels import message
from ledgerflow.metrics import net_revenue, profitability
from ledgerflow.period import Period
from ledgerflow.report.evaluation import (
    shown_scorecard,
    write_evaluation,
    write_scorecards,
)


def text(values):
    return pd.array(values, dtype="string")


def money(values):
    return pd.array(values, dtype="Float64")


LIGHT_RED = "FFFFC7CE"


def config(criteria=None, **evaluation):
    """Defaults; ``criteria`` replaces the whole criteria table when given."""
    merged = copy.deepcopy(load_defaults())
    merged["evaluation"].update(evaluation)
    if criteria is not None:
        merged["evaluation"]["criteria"] = criteria
    return merged


SALES_ONLY = {
    "sales": {
        "weight": 60,
        "scale": "bands",
        "bands": [[0, 0], [0.1, 50], [0.5, 100]],
        "percentile": False,
    },
    "profitability": {"weight": 40, "scale": "linear", "low": 0.0, "high": 0.4},
}


@pytest.fixture
def sales():
    """2024 lines: A margin 40 %, B 20 %, C −10 % (a loss, and a loss in 2023 too),
    D 25 %. Items: x bought by A and B, y only by C, z only by D."""
    return pd.DataFrame(
        {
            "partner_id": text(["A", "B", "C", "D", "C"]),
            "partner_code": text(["01", "02", "03", "04", "03"]),
            "partner_name": text(["에이", "비", "씨", "디", "씨"]),
            "doc_no": text(["1", "2", "3", "4", "0"]),
            "doc_date": pd.to_datetime(
                ["2024-01-05", "2024-06-05", "2024-12-31", "2024-01-01", "2023-12-31"]
            ),
            "item_code": text(["x", "x", "y", "z", "y"]),
            "supply_amount": money([1_000_000, 500_000, 200_000, 200_000, 100_000]),
            "cost_amount": money([600_000, 400_000, 220_000, 150_000, 130_000]),
        }
    )


def by_id(frame):
    return frame.set_index("partner_id")


# --------------------------------------------------------------------------- rules


def test_points_bands_linear_activity_and_shrink():
    value = pd.Series([0.05, 0.1, 0.7, None, 0.3])
    events = pd.Series([1, 1, 1, 1, 0])
    bands = {"scale": "bands", "bands": [[0, 0], [0.1, 50], [0.5, 100]]}
    points, _ = criterion_points(value, events, bands, 30)
    # 0.05 -> 0; 0.1 reaches 0.1 -> 50; 0.7 -> 100; no value / no events -> NA.
    assert points.tolist()[:3] == [0, 50, 100]
    assert points.isna().tolist() == [False, False, False, True, True]
    lower = {**bands, "better": "lower", "bands": [[0, 100], [0.1, 50], [1, 0]]}
    points, _ = criterion_points(value, events, lower, 30)
    assert points.tolist()[:3] == [50, 50, 0]  # 0.05 <= 0.1; 0.7 <= 1
    # Shrink k = 3 towards the mean of the scored: one late payment of two invoices
    # (0.5) with the others at 1.0: mean 0.75 -> (2 × 0.5 + 3 × 0.75) / 5 = 0.65.
    shares = pd.Series([0.5, 1.0])
    linear = {"scale": "linear", "low": 0.5, "high": 1.0, "shrink": 3}
    points, used = criterion_points(shares, pd.Series([2, 8]), linear, 30)
    assert used.tolist() == pytest.approx([0.65, (8 * 1.0 + 3 * 0.75) / 11])
    assert points[0] == pytest.approx(30.0)  # (0.65 − 0.5) / 0.5 × 100
    # Percentile once enough partners are scored: 100 × average rank / n.
    pct = {**bands, "percentile": True}
    points, _ = criterion_points(
        pd.Series([1.0, 2.0, 2.0, 4.0]), pd.Series([1] * 4), pct, 4
    )
    assert points.tolist() == [25, 62.5, 62.5, 100]


def test_year_rules_override_one_weight_and_check_the_sum():
    settings = config()
    settings["evaluation"]["years"] = {
        "2026": {
            "criteria": {"growth": {"weight": 5}, "sales": {"weight": 30}},
            "grades": [["A", 90], ["B", 0]],
        }
    }
    rules = year_rules(settings, 2026)
    assert rules["criteria"]["growth"]["weight"] == 5
    assert rules["criteria"]["growth"]["scale"] == "bands"  # merged per key
    assert rules["grades"] == [("A", 90.0), ("B", 0.0)]
    assert year_rules(settings, 2025)["criteria"]["growth"]["weight"] == 10
    settings["evaluation"]["years"]["2027"] = {"criteria": {"growth": {"weight": 50}}}
    with pytest.raises(
        ConfigError,
        match=r'years."2027"\] criteria: the weights '
        r"sum to 140",
    ):
        year_rules(settings, 2027)


def test_year_table_in_a_user_config_file(tmp_path):
    path = tmp_path / "ledgerflow.toml"
    path.write_text(
        '[evaluation.years."2026".criteria.sales]\nweight = 35\n'
        '[evaluation.years."2026".criteria.growth]\nweight = 0\n',
        encoding="utf-8",
    )
    rules = year_rules(load_config(path), 2026)
    assert rules["criteria"]["sales"]["weight"] == 35


def test_size_classes():
    sizes = pd.Series(["1,200", "51", "3", "중소기업", "대기업", None, "abc"])
    got = size_class(sizes, [[300, "large"], [50, "medium"], [0, "small"]])
    assert got.tolist()[:5] == ["large", "medium", "small", "small", "large"]
    assert got.isna().tolist()[5:] == [True, True]


# ------------------------------------------------------------------ the scorecard


@pytest.fixture
def master():
    return pd.DataFrame(
        {
            "partner_id": text(["A", "B", "C", "D"]),
            "partner_code": text(["01", "02", "03", "04"]),
            "partner_name": text(["에이", "비", "씨", "디"]),
            "founded_date": pd.to_datetime(
                ["1990-01-15", "2020-02-29", "2023-01-10", None]
            ),
            "tags": text([None, None, None, "VIP; 장기계약"]),
            "size": text(["500", "10", None, "중견기업"]),
        }
    )


NARROW = {
    "prune_rules": [
        {"code": "grade_D", "column": "grade", "op": "==", "value": "D"},
        {
            "code": "negative_contribution_2y",
            "column": "negative_contribution_years",
            "op": ">=",
            "value": 2,
        },
    ],
    "guard_rules": [
        {
            "code": "sole_partner_of_item",
            "column": "is_sole_partner_of_item",
            "op": "==",
            "value": True,
        },
        {
            "code": "long_term_contract",
            "column": "has_long_term_contract",
            "op": "==",
            "value": True,
        },
    ],
    "strategy_rules": [
        {
            "code": "low_margin",
            "strategy": "renegotiate_terms",
            "when": [{"column": "gross_margin", "op": "<", "value": 0.21}],
        },
        {
            "code": "large",
            "strategy": "long_term_contract_benefits",
            "when": [{"column": "size_class", "op": "==", "value": "large"}],
        },
    ],
}


def test_scores_grades_ranks_and_last_year_from_hand(sales, master):
    result = evaluate(sales, None, master, 2024, config(SALES_ONLY, **NARROW))
    card = by_id(result.scorecard)
    assert list(result.scorecard.columns) == EVALUATION_COLUMNS
    # Shares of 1.9 M: A 52.6 % -> 100; B 26.3 %, C and D 10.5 % -> 50.
    assert card["points_sales"].to_dict() == {"A": 100, "D": 50, "B": 50, "C": 50}
    # Margins 0.4 / 0.2 / −0.1 / 0.25 on 0..0.4: 100, 50, 0 (clamped), 62.5.
    assert card.loc["C", "points_profitability"] == 0
    # Scores (60 × sales + 40 × profitability) / 100.
    assert card["score"].to_dict() == {"A": 100, "D": 55, "B": 50, "C": 30}
    assert card["grade"].to_dict() == {"A": "A", "D": "C", "B": "C", "C": "D"}
    assert result.scorecard["partner_id"].tolist() == ["A", "D", "B", "C"]
    # 2023 computed from the same data: C alone, share 100 % and margin −30 %:
    # score 60, grade B, rank 1; it drops to rank 4.
    assert card.loc["C", "grade_previous"] == "B"
    assert card.loc["C", "rank_change"] == -3
    assert pd.isna(card.loc["A", "grade_previous"])
    # Why: the best and weakest criteria.
    assert card.loc["D", "best_criterion"] == "profitability"
    assert card.loc["D", "worst_criterion"] == "sales"


def test_prune_rules_guards_override_and_decisions(sales, master):
    result = by_id(
        evaluate(sales, None, master, 2024, config(SALES_ONLY, **NARROW)).scorecard
    )
    # C: grade D and a loss in 2023 (−30,000) and 2024 (−20,000); guarded as the
    # only buyer of item y.
    assert result.loc["C", "negative_contribution_years"] == 2
    assert result.loc["C", "prune_reason"] == "grade_D; negative_contribution_2y"
    assert result.loc["C", "guard_reason"] == "sole_partner_of_item"
    assert not result["is_prune_candidate"].any()
    assert result.loc["D", "has_long_term_contract"]  # tag 장기계약

    overridden = config(SALES_ONLY, prune_overrides=["03"], **NARROW)
    card = by_id(evaluate(sales, None, master, 2024, overridden).scorecard)
    assert card.index[card["is_prune_candidate"]].tolist() == ["C"]

    log = pd.DataFrame(
        {"partner_id": ["C"], "year": [2024], "decision": ["keep"], "comment": ["x"]}
    )
    kept = by_id(
        evaluate(sales, None, master, 2024, overridden, decisions=log).scorecard
    )
    assert not kept.loc["C", "is_prune_candidate"]
    assert kept.loc["C", "guard_reason"] == "sole_partner_of_item; decision_keep"
    assert kept.loc["C", "decision"] == "keep"
    # A decision of another year changes nothing.
    other = evaluate(
        sales, None, master, 2024, overridden, decisions=log.assign(year=[2023])
    )
    assert by_id(other.scorecard).loc["C", "is_prune_candidate"]


def test_strategy_rule_that_fired(sales, master):
    card = by_id(
        evaluate(sales, None, master, 2024, config(SALES_ONLY, **NARROW)).scorecard
    )
    assert card["strategy"].to_dict() == {
        "A": "long_term_contract_benefits",  # size 500: large
        "D": "maintain",
        "B": "renegotiate_terms",
        "C": "renegotiate_terms",
    }
    assert card.loc["A", "strategy_rule"] == "large"
    assert pd.isna(card.loc["D", "strategy_rule"])


def test_breakdown_simulation_gained_and_anniversaries(sales, master):
    settings = config(SALES_ONLY, prune_overrides=["03"], **NARROW)
    result = evaluate(sales, None, master, 2024, settings)
    parts = result.breakdown[result.breakdown["partner_id"] == "D"]
    parts = parts.set_index("criterion")
    assert parts["weight"].tolist() == [60, 40]
    assert parts.loc["sales", "contribution"] == pytest.approx(30)
    assert parts.loc["profitability", "contribution"] == pytest.approx(25)
    assert parts.loc["profitability", "measured_value"] == pytest.approx(0.25)
    sim = result.simulation.set_index("measure")
    assert sim.loc["revenue", "candidates"] == 200_000
    assert sim.loc["revenue", "share"] == pytest.approx(200_000 / 1_900_000)
    assert sim.loc["contribution", "candidates"] == -20_000
    assert sim.loc["losses_avoided", "candidates"] == 20_000
    assert sim.loc["contribution_lost", "candidates"] == 0
    assert result.gained["partner_id"].tolist() == ["D", "A", "B"]
    # asof = year end: January 2025 anniversaries, A 35 years, C 2 years.
    got = result.anniversaries.set_index("partner_id")
    assert got["years_founded"].to_dict() == {"C": 2, "A": 35}
    assert got.loc["A", "anniversary_date"] == pd.Timestamp("2025-01-15")
    february = evaluate(
        sales, None, master, 2024, settings, asof=pd.Timestamp("2025-01-31")
    ).anniversaries
    assert february["anniversary_date"].tolist() == [pd.Timestamp("2025-02-28")]


def test_reliability_counts_invoices_and_deliveries():
    lines = pd.DataFrame(
        {
            "partner_id": text(["A", "A", "B"]),
            "doc_no": text(["1", "2", "3"]),
            "doc_date": pd.to_datetime(["2024-03-01"] * 3),
            "supply_amount": money([100, 100, 100]),
            "promised_date": pd.to_datetime(["2024-03-05", "2024-03-05", None]),
            "delivered_date": pd.to_datetime(["2024-03-05", "2024-03-06", None]),
        }
    )
    receivables = pd.DataFrame(
        {
            "partner_id": text(["A", "B", "B"]),
            "invoice_date": pd.to_datetime(["2024-03-01"] * 3),
            "due_date": pd.to_datetime(["2024-03-31"] * 3),
            "amount": money([100, 100, 100]),
            "settled_date": pd.to_datetime(["2024-03-31", "2024-04-02", "2024-03-30"]),
        }
    )
    criteria = {"reliability": {"weight": 100, "scale": "linear", "low": 0, "high": 1}}
    card = by_id(evaluate(lines, receivables, None, 2024, config(criteria)).scorecard)
    # A: 1 invoice on time + 1 of 2 deliveries on time = 2 of 3; B: 1 of 2 invoices.
    assert card.loc["A", "on_time_share"] == pytest.approx(2 / 3)
    assert card.loc["B", "on_time_share"] == pytest.approx(0.5)
    assert card.loc["B", "score"] == 50.0


def test_too_little_activity_gives_no_grade(sales):
    criteria = {
        "sales": {"weight": 30, "scale": "linear", "low": 0, "high": 1},
        "profitability": {
            "weight": 70,
            "scale": "linear",
            "low": 0,
            "high": 0.4,
            "min_activity": 2,
        },
    }
    result = evaluate(sales, None, None, 2024, config(criteria))
    # Nobody has 2 lines in 2024, so no profitability points: a note, and the
    # sales weight alone (30 of 30 scored) is enough for a grade.
    assert result.scorecard["grade"].notna().all()
    assert any(n.startswith("no_criterion_data|") for n in result.notes)
    lines = pd.concat([sales, sales.iloc[[0]]], ignore_index=True)
    result = evaluate(lines, None, None, 2024, config(criteria))
    card = by_id(result.scorecard)
    # Now A has 2 lines: profitability scored; B, C, D have 30 of 100 < 50 %.
    assert card["grade"].notna().to_dict() == {
        "A": True,
        "B": False,
        "C": False,
        "D": False,
    }
    assert message("too_little_activity", count=3, share="50%") in result.notes


def test_assessments_feed_the_non_financial_criteria(sales):
    criteria = {
        "market_influence": {"weight": 50, "scale": "linear", "low": 1, "high": 5},
        "feedback": {"weight": 50, "scale": "linear", "low": 1, "high": 5},
    }
    scores = pd.DataFrame(
        {
            "partner_id": text(["A", "A", "B", "A"]),
            "year": money([2024, 2024, 2024, 2023]),
            "criterion": text(["market_influence", "feedback", "feedback", "feedback"]),
            "score": money([5, 2, 3, 1]),
        }
    )
    card = by_id(
        evaluate(
            sales, None, None, 2024, config(criteria), assessments=scores
        ).scorecard
    )
    assert card.loc["A", "score"] == pytest.approx(62.5)  # (100 + 25) / 2
    assert card.loc["B", "score"] == 50.0
    assert pd.isna(card.loc["C", "score"])


# ------------------------------------------------------------- workbook and log


def test_decisions_round_trip_through_the_workbook(sales, master, tmp_path):
    settings = config(SALES_ONLY, prune_overrides=["03"], **NARROW)
    result = evaluate(sales, None, master, 2024, settings)
    path = write_evaluation(
        result,
        tmp_path / "evaluation_2024.xlsx",
        lang="ko",
        created=dt.date(2024, 12, 31),
    )
    book = load_workbook(path)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    column = header.index("결정") + 1
    rules = sheet.data_validations.dataValidation
    assert rules and rules[0].formula1 == '"유지,관찰,재협상,정리"'
    rows = {sheet.cell(r, 1).value: r for r in range(2, 6)}
    sheet.cell(rows["C"], column, "유지")
    sheet.cell(rows["C"], column + 1, "only supplier of y")
    sheet.cell(rows["B"], column, "renegotiate")
    sheet.cell(rows["A"], column, "maybe")  # not a decision: left out
    filled = tmp_path / "input" / "evaluation_2024_filled.xlsx"
    filled.parent.mkdir()
    book.save(filled)

    assert decisions.is_decision_workbook(filled)
    assert not decisions.is_decision_workbook(tmp_path / "nothing.xlsx")
    read = decisions.read_all([filled])
    assert read[["partner_id", "decision"]].values.tolist() == [
        ["B", "renegotiate"],
        ["C", "keep"],
    ]
    assert read["comment"].fillna("").tolist() == ["", "only supplier of y"]
    state = tmp_path / "output" / ".state" / "decisions.csv"
    log = decisions.update_log(state, read)
    assert decisions.load_log(state)["decision"].tolist() == ["renegotiate", "keep"]
    again = evaluate(sales, None, master, 2024, settings, decisions=log)
    card = by_id(again.scorecard)
    assert not card.loc["C", "is_prune_candidate"]
    assert card.loc["C", "decision_comment"] == "only supplier of y"
    # A later decision on the same partner and year replaces the earlier one.
    later = read.iloc[[1]].assign(decision="prune")
    assert decisions.update_log(state, later)["decision"].tolist() == [
        "renegotiate",
        "prune",
    ]


def test_scorecards_hold_only_the_partners_own_figures(sales, master, tmp_path):
    result = evaluate(sales, None, master, 2024, config(SALES_ONLY, **NARROW))
    paths = write_scorecards(
        result, tmp_path, lang="en", created=dt.date(2024, 12, 31), limit=4
    )
    assert [p.name for p in paths] == [
        "scorecard_2024_01.xlsx",
        "scorecard_2024_04.xlsx",
        "scorecard_2024_02.xlsx",
        "scorecard_2024_03.xlsx",
    ]
    names = {"01": "에이", "02": "비", "03": "씨", "04": "디"}
    for path in paths:
        own = path.stem.rsplit("_", 1)[1]
        cells = {
            c.value
            for row in load_workbook(path).worksheets[0].iter_rows()
            for c in row
            if c.value is not None
        }
        text_cells = " ".join(str(c) for c in cells)
        for code, name in names.items():
            if code != own:
                assert name not in text_cells, (path.name, name)
        assert "Rank" not in cells and 1_900_000 not in cells
    first = load_workbook(paths[0]).worksheets[0]
    assert first.cell(2, 2).value == 1_000_000  # its own revenue, not a share


def test_codes_that_make_the_same_file_name_get_two_scorecards(sales, master, tmp_path):
    """ "X/1" and "x:1" both make "X_1" (Windows does not tell case apart): the
    second scorecard adds the master's ID instead of overwriting the first."""
    result = evaluate(sales, None, master, 2024, config(SALES_ONLY, **NARROW))
    card = result.scorecard
    top = card.index[card["grade"].notna()][:2]
    card.loc[top, "partner_code"] = ["X/1", "x:1"]
    second_id = card.loc[top[1], "partner_id"]
    paths = write_scorecards(
        result, tmp_path, lang="en", created=dt.date(2024, 12, 31), limit=2
    )
    assert [p.name for p in paths] == [
        "scorecard_2024_X_1.xlsx",
        f"scorecard_2024_x_1_{second_id}.xlsx",
    ]
    assert all(p.exists() for p in paths)


def test_prune_reasons_translated_and_candidates_highlighted(sales, master, tmp_path):
    # C (rank 4, sheet row 5) is the only candidate once its guard is overridden.
    settings = config(SALES_ONLY, prune_overrides=["03"], **NARROW)
    result = evaluate(sales, None, master, 2024, settings)
    for lang, reasons, guard in (
        (
            "en",
            "Grade D; Negative contribution two years running",
            "Only partner of an item (guarded)",
        ),
        ("ko", "등급 D; 2년 연속 공헌이익 적자", "단독 거래 품목이 있는 거래처 (보호)"),
    ):
        path = write_evaluation(
            result, tmp_path / f"{lang}.xlsx", lang=lang, created=dt.date(2024, 12, 31)
        )
        sheet = load_workbook(path).worksheets[0]
        header = [c.value for c in sheet[1]]
        body = {sheet.cell(r, 1).value: r for r in range(2, 6)}
        column = {key: header.index(key) + 1 for key in header}
        prune = "Prune reason" if lang == "en" else "정리 사유"
        guarded = "Guard reason" if lang == "en" else "보호 사유"
        assert sheet.cell(body["C"], column[prune]).value == reasons
        assert sheet.cell(body["C"], column[guarded]).value == guard
        assert sheet.cell(body["A"], column[prune]).value is None
        red = [r for r in range(2, 6) if sheet.cell(r, 1).fill.fgColor.rgb == LIGHT_RED]
        assert red == [body["C"]] == [5]
    assert sheet.title == "평가 2024"


def expected_grades(revenue, previous, weights=(25, 10)):
    """Score and grade per partner with only the sales (percentile) and growth
    (bands) criteria scored, computed without pandas."""
    shares = {p: max(v, 0.0) for p, v in revenue.items()}
    ordered = sorted(shares.values())
    n = len(ordered)
    growth_bands = [(-float("inf"), 0), (-0.2, 25), (-0.05, 50), (0.05, 75), (0.2, 100)]
    out = {}
    for partner, value in shares.items():
        below = bisect.bisect_left(ordered, value)
        equal = bisect.bisect_right(ordered, value) - below
        sales = 100 * (below + (equal + 1) / 2) / n
        total, weight = weights[0] * sales, weights[0]
        if previous.get(partner, 0) > 0:
            change = revenue[partner] / previous[partner] - 1
            growth = [p for t, p in growth_bands if change >= t][-1]
            total, weight = total + weights[1] * growth, weight + weights[1]
        score = round(total / weight, 2)
        grade = next(
            g for g, t in (("A", 80), ("B", 60), ("C", 40), ("D", 0)) if score >= t
        )
        out[partner] = (score, grade)
    return out


def expected_candidates(grades, revenue, last_month, items, top_n=10):
    """Grade D or dormant (last line in June or before), unless a top-10 partner
    or the only partner of an item."""
    ranked = sorted(revenue.values(), reverse=True)
    top = {p for p, v in revenue.items() if ranked.index(v) + 1 <= top_n}
    sole = {next(iter(ps)) for ps in items.values() if len(ps) == 1}
    hit = {p for p in revenue if grades[p][1] == "D" or last_month[p] <= 6}
    return hit - top - sole


# ------------------------------------------------------ real data: Calderdale 2021

CALDERDALE = "uk-calderdale-spend"


@pytest.fixture(scope="module")
def calderdale(shared_data):
    """(purchase lines read by ledgerflow, the CSV rows read by the csv module)."""
    from ledgerflow.read import read_file
    from ledgerflow.validate import load_table_schemas, validate_table

    settings = load_defaults()
    schemas = load_table_schemas()
    frames, rows = [], []
    for month in range(1, 13):
        path = shared_data / CALDERDALE / f"2021-{month:02d}.csv"
        read = read_file(path, settings)
        assert [t.kind for t in read.tables] == ["purchases"]
        validated = validate_table(read.tables[0], settings, schemas)
        assert validated.rejected_rows == 0
        frames.append(validated.used)
        with open(path, encoding="utf-8", newline="") as handle:
            rows.extend(csv.DictReader(handle))
    lines = pd.concat(frames, ignore_index=True)
    empty_map = pd.DataFrame({"partner_code": [], "partner_id": []})
    return supplier_ids(lines, empty_map), rows


def test_calderdale_suppliers_2021(calderdale):
    lines, rows = calderdale
    assert len(lines) == len(rows) == 23_762
    result = evaluate(lines, None, None, 2021, load_defaults(), side="supplier")
    card = result.scorecard.set_index("partner_code")

    # Independently: spend, last payment month and categories per Supplier ID.
    spend, last_month, items = defaultdict(float), defaultdict(int), defaultdict(set)
    for row in rows:
        supplier = row["Supplier ID"]
        spend[supplier] += float(row["Net Amount"])
        last_month[supplier] = max(last_month[supplier], int(row["Date"][5:7]))
        category = row[
            "Procurement Classification: Council's Procurement Category Name"
        ]
        if category:
            items[category].add(supplier)
    spend = {k: round(v, 2) for k, v in spend.items()}
    assert len(card) == len(spend) == 1_436
    # Supplier side: only spend is scored (no dates promised, no 2020, no master).
    grades = expected_grades(spend, {})
    for supplier in ("S159221", "S1609", "S930", "Personal Budgets"):
        score, grade = grades[supplier]
        assert card.loc[supplier, "score"] == pytest.approx(score, abs=0.01)
        assert card.loc[supplier, "grade"] == grade
    assert (
        card["grade"]
        == pd.Series({k: g for k, (_, g) in grades.items()}).reindex(card.index)
    ).all()
    flagged = set(card.index[card["is_prune_candidate"].astype(bool)])
    assert flagged == expected_candidates(grades, spend, last_month, items)
    assert card.loc["Personal Budgets", "revenue"] == pytest.approx(
        spend["Personal Budgets"]
    )
    assert any("supplier" in key for key in [result.side])


# ------------------------------------------------------ real data: Online Retail


@pytest.fixture(scope="module")
def online_retail(online_retail_rows):
    """(raw rows as Python values, canonical sales lines with a customer).

    Lines without CustomerID are dropped, as the validate stage rejects them.
    """
    header, body = online_retail_rows
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
def test_online_retail_grades_and_flags_2011(online_retail):
    body, frame = online_retail
    result = evaluate(frame, None, None, 2011, load_defaults())
    card = by_id(result.scorecard)
    revenue = {k: round(v, 2) for k, v in revenue_by_loop(body, 2011).items()}
    previous = {k: round(v, 2) for k, v in revenue_by_loop(body, 2010).items()}
    assert len(card) == len(revenue)
    # No cost and no receivables: sales (25) and growth (10) are scored.
    grades = expected_grades(revenue, previous)
    for customer in ["14646", "17841", "17779", "15781", "17448", "12347"]:
        score, grade = grades[customer]
        assert card.loc[customer, "score"] == pytest.approx(score, abs=0.01)
        assert card.loc[customer, "grade"] == grade
    mismatched = sum(card.loc[c, "grade"] != g for c, (_, g) in grades.items())
    assert mismatched == 0
    last_month, items = defaultdict(int), defaultdict(set)
    for _, stock, _, _, when, _, customer, _ in body:
        if customer != "" and when.year == 2011:
            key = str(int(customer))
            last_month[key] = max(last_month[key], when.month)
            items[str(stock)].add(key)
    flagged = set(card.index[card["is_prune_candidate"].astype(bool)])
    assert flagged == expected_candidates(grades, revenue, last_month, items)
    assert card.loc["14646", "rank"] == 1 and card.loc["14646", "grade"] == "A"


def test_shown_scorecard_takes_each_rows_own_points_and_explains_its_grade():
    """Row 10: graded A, strongest on sales (90.4 points), weakest on growth (12.6).
    Row 11: no grade, no best criterion, a worst criterion without a points column:
    both points empty. Row 12: graded C, best growth (70), worst sales (5). The
    reasons are codes shown as words; an empty reason stays empty."""
    scorecard = pd.DataFrame(
        {
            "partner_id": text(["P1", "P2", "P3"]),
            "grade": text(["A", None, "C"]),
            "score": money([81.26, None, 40.0]),
            "best_criterion": text(["sales", None, "growth"]),
            "worst_criterion": text(["growth", "feedback", "sales"]),
            "points_sales": money([90.4, 1.0, 5.0]),
            "points_growth": money([12.6, 2.0, 70.0]),
            "prune_reason": text([None, None, "grade_C"]),
            "guard_reason": text([None, None, None]),
        },
        index=[10, 11, 12],
    )
    result = SimpleNamespace(year=2024, scorecard=scorecard)

    shown = shown_scorecard(result, "en")

    assert shown.index.tolist() == [10, 11, 12]
    assert shown["evaluation_year"].tolist() == [2024, 2024, 2024]
    assert shown["_best_points"].tolist() == [90.4, pd.NA, 70.0]
    assert shown["_worst_points"].tolist() == [12.6, pd.NA, 5.0]
    assert shown["why"].tolist() == [
        "Grade A (score 81.3): strongest on sales contribution (90 points), "
        "weakest on growth (13 points).",
        "Too little activity to score enough criteria, so no grade was given.",
        "Grade C (score 40.0): strongest on growth (70 points), "
        "weakest on sales contribution (5 points).",
    ]
    assert shown["prune_reason"].tolist() == [pd.NA, pd.NA, "Grade C"]


def test_category_text_is_astype_string():
    from ledgerflow.evaluation import category_text

    values = pd.Series(["P2", "P1", None, "P2"], index=[3, 1, 2, 0]).astype("category")
    text = category_text(values)
    pd.testing.assert_series_equal(text, values.astype("string"))
    assert text.tolist() == ["P2", "P1", pd.NA, "P2"]
