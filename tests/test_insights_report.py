"""Tests of ledgerflow.insights_report: the insights workbook read back cell by cell,
its headers in both languages, formula safety and the A4 proposal pages."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from types import SimpleNamespace

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from ledgerflow.insights import compute_insights
from ledgerflow.insights_report import proposal_blocks, write_insights
from ledgerflow.period import Period

EVIL_NAME = '=HYPERLINK("http://example.invalid","click")'
CREATED = dt.datetime(2024, 12, 31)


def sales_lines(rows, names):
    partner, doc, date, item, amount = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "doc_no": pd.array(doc, dtype="string"),
            "doc_date": pd.to_datetime(list(date)),
            "partner_id": pd.array([f"ID-{p}" for p in partner], dtype="string"),
            "partner_code": pd.array(partner, dtype="string"),
            "partner_name": pd.array([names[p] for p in partner], dtype="string"),
            "item_code": pd.array(item, dtype="string"),
            "item_name": pd.array(
                [EVIL_NAME if i == "L" else f"Item {i}" for i in item], dtype="string"
            ),
            "qty": pd.array([1.0] * len(rows), dtype="Float64"),
            "supply_amount": pd.array(amount, dtype="Float64"),
        }
    )


@pytest.fixture(scope="module")
def insights():
    """Period 2024-12. A bought L every month Jan-Jun (lapsed, 6 × 100 at stake) and
    X in December; B, C, D buy X and Y (so 3 of the 5 buyers of X buy Y); D also
    bought Y in June; E buys X on the last day."""
    rows = [("A", f"A{m}", f"2024-{m:02d}-10", "L", 100) for m in range(1, 7)]
    rows += [("A", "A12", "2024-12-10", "X", 50)]
    for partner in "BCD":
        rows += [(partner, f"{partner}1", "2024-11-20", "X", 10)]
        rows += [(partner, f"{partner}1", "2024-11-20", "Y", 10)]
    rows += [("D", "D0", "2024-06-01", "Y", 5)]
    rows += [("E", "E1", "2024-12-31", "X", 1)]
    names = {"A": "+플러스상사", "B": "Bee", "C": "Cee", "D": "Dee", "E": "Eee"}
    sales = sales_lines(rows, names)
    master = sales[["partner_id", "partner_code", "partner_name"]].drop_duplicates()
    master = master.assign(phone="010-1234-5678", email="a@example.invalid")
    config = {
        "insights": {
            "suggestion_min_partners": 2,
            "rfm_recency_days": [30, 60, 90, 120],
            "rfm_frequency_orders": [2, 3, 4, 5],
        }
    }
    return compute_insights(sales, master, Period(2024, 12), config)


@pytest.fixture(scope="module")
def written(insights, tmp_path_factory):
    folder = tmp_path_factory.mktemp("insights")
    out = {}
    for lang in ("en", "ko"):
        path = folder / f"insights_2024-12_{lang}.xlsx"
        write_insights(
            insights,
            path,
            lang=lang,
            period=Period(2024, 12),
            created=CREATED,
            proposal_partners=2,
        )
        out[lang] = path
    return out


def sheet(path, name):
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def test_sheets_in_order_with_one_proposal_per_top_partner(written):
    names = CalamineWorkbook.from_path(str(written["en"])).sheet_names
    assert names == [
        "Summary 2024-12",
        "Segment moves",
        "Lapsing partners",
        "Top items",
        "Top item groups",
        "Rhythm and RFM",
        "Seasonality",
        "Lapsed items",
        "Suggestions",
        "Tags",
        # revenue in the last 12 months: A 650, then B, C at 20 and D at 25
        "Proposal A",
        "Proposal D",
    ]
    names = CalamineWorkbook.from_path(str(written["ko"])).sheet_names
    assert names[0] == "요약 2024-12"
    assert names[-2:] == ["제안 A", "제안 D"]


def test_top_items_and_lapsed_items_headers_and_values(written):
    top = sheet(written["en"], "Top items")
    assert top[0] == [
        "Partner code",
        "Partner name",
        "Window",
        "Rank",
        "Item code",
        "Item name",
        "Revenue",
        "Revenue share %",
        "Quantity",
        "Quantity rank",
    ]
    a_year = [row for row in top[1:] if row[0] == "A" and row[2] == "Last 12 months"]
    assert [(row[3], row[4], row[6]) for row in a_year] == [
        (1.0, "L", 600.0),
        (2.0, "X", 50.0),
    ]
    assert a_year[0][7] == pytest.approx(600 / 650)
    lapsed = sheet(written["en"], "Lapsed items")
    assert lapsed[0] == [
        "Partner code",
        "Partner name",
        "Item code",
        "Item name",
        "Last bought",
        "Months bought (previous 12)",
        "Revenue at stake",
    ]
    # base Oct 2023 - Sep 2024: L in Jan-Jun, so 6 months and 600 at stake
    assert lapsed[1][:3] == ["A", "+플러스상사", "L"]
    assert lapsed[1][4] == dt.date(2024, 6, 10)
    assert lapsed[1][5:] == [6.0, 600.0]
    assert lapsed[2][0] == "Total"
    ko = sheet(written["ko"], "이탈 품목")
    assert ko[0][:2] == ["거래처코드", "거래처명"]
    assert ko[0][-2:] == ["직전 12개월 구매 개월 수", "이탈 위험 매출액"]


def test_summary_counts_segments_now_and_last_month(written):
    summary = sheet(written["en"], "Summary 2024-12")
    assert summary[0] == ["Segment", "Partners last month", "Partners now", "Change"]
    # Recency limits 30/60/90/120 days, frequency limits 2/3/4/5 orders, monetary
    # quintiles. Now (2024-12-31): A 21 days r5, 7 orders f5, 650 m5 -> champion;
    # B, C 41 days r4, 1 order f1; D r4 f2; E r5 f1 -> promising.
    # End of November: A 173 days r1, 6 orders f5 -> at_risk; B, C, D 10 days r5,
    # f1/f1/f2 -> promising; E not a customer yet.
    assert summary[1:5] == [
        ["Champion", 0.0, 1.0, 1.0],
        ["At risk", 1.0, 0.0, -1.0],
        ["Promising", 3.0, 4.0, 1.0],
        ["Total", 4.0, 5.0, 1.0],
    ]
    notes = [row[0] for row in summary if row and isinstance(row[0], str)]
    assert "Partners whose segment changed since last month: 2" in notes
    assert (
        "Lapsing partners (At risk, Lapsing): 0, revenue in the last 12 months 0"
        in (notes)
    )
    assert "Lapsed items: 1 at 1 partner(s), revenue at stake 600" in notes
    assert "As of 2024-12-31 (recency is counted to this day)" in notes
    moves = sheet(written["en"], "Segment moves")
    assert [row[:4] for row in moves[1:]] == [
        ["A", "+플러스상사", "At risk", "Champion"],
        ["E", "Eee", "(not scored)", "Promising"],
    ]


def test_suggestion_reason_in_each_language(written):
    en = sheet(written["en"], "Suggestions")
    row = next(r for r in en[1:] if r[0] == "A")
    assert row[3] == "Y"
    assert row[5] == "bought by 3 of 5 partners who also buy X (Item X)"
    ko = sheet(written["ko"], "추천 품목")
    row = next(r for r in ko[1:] if r[0] == "A")
    assert row[5] == "X (Item X) 구매 거래처 5곳 중 3곳이 구매"


def test_text_from_inputs_is_never_a_formula(written):
    for path in written.values():
        with zipfile.ZipFile(path) as archive:
            strings = archive.read("xl/sharedStrings.xml").decode("utf-8")
            formulas = [
                formula
                for name in archive.namelist()
                if name.startswith("xl/worksheets/sheet")
                for formula in re.findall(
                    r"<f>(.*?)</f>", archive.read(name).decode("utf-8")
                )
            ]
        # the item name and the partner name are stored as text, as found
        assert f"<t>{EVIL_NAME}</t>" in strings
        assert "+플러스상사" in strings
        # the only formulas are the writer's totals
        assert formulas
        assert all(re.fullmatch(r"SUM\([A-Z]+2:[A-Z]+\d+\)", f) for f in formulas)


def test_no_contact_data_in_the_workbook(written):
    for path in written.values():
        with zipfile.ZipFile(path) as archive:
            text = "".join(
                archive.read(name).decode("utf-8")
                for name in archive.namelist()
                if name.endswith(".xml")
            )
        assert "010-1234-5678" not in text
        assert "a@example.invalid" not in text


def test_proposal_sheet_prints_on_one_a4_page(written):
    with zipfile.ZipFile(written["en"]) as archive:
        workbook = archive.read("xl/workbook.xml").decode("utf-8")
        position = re.findall(r'<sheet name="([^"]*)"', workbook).index("Proposal A")
        xml = archive.read(f"xl/worksheets/sheet{position + 1}.xml").decode("utf-8")
    assert '<pageSetUpPr fitToPage="1"/>' in xml
    assert '<pageSetup paperSize="9" orientation="portrait"/>' in xml
    assert '<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.6"' in xml


def test_proposal_sheet_content(written):
    page = [[c for c in row if c != ""] for row in sheet(written["en"], "Proposal A")]
    assert page[0] == ["Proposal for A +플러스상사"]
    assert page[1] == ["Period 2024-12, as of 2024-12-31"]
    facts = {row[0]: row[1] for row in page if len(row) == 2}
    assert facts["Revenue (12 months)"] == 650.0
    assert facts["Orders (12 months)"] == 7.0
    assert facts["Days since last order"] == 21.0
    assert facts["Last order"] == dt.date(2024, 12, 10)
    start = page.index(["Top items, last 12 months"])
    assert page[start + 1] == [
        "Rank",
        "Item code",
        "Item name",
        "Revenue",
        "Revenue share %",
    ]
    assert page[start + 2][:4] == [1.0, "L", EVIL_NAME, 600.0]
    start = page.index(["Lapsed items"])
    assert page[start + 2][:4] == [dt.date(2024, 6, 10), "L", EVIL_NAME, 600.0]
    start = page.index(["Suggestions"])
    assert page[start + 2] == [
        1.0,
        "Y",
        "Item Y",
        "bought by 3 of 5 partners who also buy X (Item X)",
    ]


def test_proposal_partners_default_from_the_settings(insights, tmp_path):
    path = write_insights(
        insights, tmp_path / "i.xlsx", lang="en", period=Period(2024, 12),
        created=CREATED,
    )  # fmt: skip
    names = CalamineWorkbook.from_path(str(path)).sheet_names
    # default 10, but only 5 partners have revenue
    assert [n for n in names if n.startswith("Proposal")] == [
        "Proposal A",
        "Proposal D",
        "Proposal B",
        "Proposal C",
        "Proposal E",
    ]


def test_same_insights_give_the_same_bytes(insights, tmp_path):
    paths = [tmp_path / "one" / "insights.xlsx", tmp_path / "two" / "insights.xlsx"]
    for path in paths:
        path.parent.mkdir()
        write_insights(
            insights, path, lang="ko", period=Period(2024, 12), created=CREATED
        )
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_a_period_without_orders_still_gives_a_workbook(tmp_path):
    rows = [("A", "C1", "2024-12-05", "X", -10)]
    sales = sales_lines(rows, {"A": "Aaa"})
    result = compute_insights(sales, sales, Period(2024, 12), {})
    path = write_insights(
        result, tmp_path / "i.xlsx", lang="en", period=Period(2024, 12),
        created=CREATED,
    )  # fmt: skip
    names = CalamineWorkbook.from_path(str(path)).sheet_names
    assert names[0] == "Summary 2024-12"
    assert not [n for n in names if n.startswith("Proposal")]
    notes = [row[0] for row in sheet(path, "Summary 2024-12")]
    assert (
        "No document with a positive amount (an order) up to the period end: nothing "
        "to analyse." in notes
    )
    assert ["No rows."] in [row[:1] for row in sheet(path, "Top items")]


def test_proposal_blocks_hold_only_the_chosen_partners_rows_in_table_order():
    """Tables of three partners, proposals for P3 and P1: each block keeps those two
    partners' rows in the table's order (top items of the last 12 months only,
    usual months only where is_usual_month is true); P2 and empty blocks are absent."""
    ids = ["P1", "P2", "P3", "P1", "P3", "P1"]
    top = pd.DataFrame(
        {
            "partner_id": pd.array(ids, dtype="string"),
            "item_code": pd.array(["a", "b", "c", "d", "e", "f"], dtype="string"),
            "window": ["last_12m"] * 2 + ["period"] * 2 + ["last_12m"] * 2,
        }
    )
    lapsed = pd.DataFrame(
        {
            "partner_id": pd.array(["P2", "P3", "P2"], dtype="string"),
            "item_code": pd.array(["x", "y", "z"], dtype="string"),
        }
    )
    tags = pd.DataFrame(
        {
            "partner_id": pd.array(["P1", None, "P1"], dtype="string"),
            "tag": pd.array(["t1", "t2", "t3"], dtype="string"),
        }
    )
    seasonality = pd.DataFrame(
        {
            "partner_id": pd.array(["P3", "P3", "P1", "P2", "P3"], dtype="string"),
            "calendar_month": pd.array([1, 2, 3, 4, 5], dtype="Int64"),
            "is_usual_month": pd.array([True, None, False, True, True], "boolean"),
        }
    )
    suggestions = pd.DataFrame({"partner_id": pd.array([], dtype="string")})
    insights = SimpleNamespace(
        top_items=top,
        lapsed_items=lapsed,
        suggestions=suggestions,
        tags=tags,
        seasonality=seasonality,
    )

    blocks = proposal_blocks(insights, ["P3", "P1"])

    def codes(block, column):
        return {key: list(frame[column]) for key, frame in blocks[block].items()}

    assert codes("top", "item_code") == {"P1": ["a", "f"], "P3": ["e"]}
    assert codes("lapsed", "item_code") == {"P3": ["y"]}
    assert codes("suggestions", "partner_id") == {}
    assert codes("tags", "tag") == {"P1": ["t1", "t3"]}
    assert codes("usual", "calendar_month") == {"P3": [1, 5]}
