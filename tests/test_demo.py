"""The demo exports: deterministic, well-formed, and bad exactly where meant to be."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest

from ledgerflow.demo import brn_check_digit, generate_demo
from ledgerflow.errors import OutputError, UsageError

SALES_YEARS = (2024, 2025, 2026)  # 24 months ending 2026-11 start in 2024-12
SALES_HEADER = [
    "일자",
    "전표번호",
    "거래처코드",
    "거래처명",
    "품목코드",
    "품목명",
    "수량",
    "단가",
    "공급가액",
    "부가세",
    "합계",
    "원가",
]
COL = {name: i for i, name in enumerate(SALES_HEADER)}


def check_digit_by_hand(first_nine: str) -> int:
    """The BRN check digit, written out independently of ledgerflow.demo."""
    d = [int(c) for c in first_nine]
    total = d[0] + 3 * d[1] + 7 * d[2] + d[3] + 3 * d[4] + 7 * d[5] + d[6] + 3 * d[7]
    total += 5 * d[8] + (5 * d[8]) // 10
    return (10 - total % 10) % 10


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    generate_demo(folder)
    return folder


@pytest.fixture(scope="module")
def sales_rows(demo) -> dict[int, list[tuple]]:
    """Every row of each sales workbook, values only, keyed by year."""
    rows = {}
    for year in SALES_YEARS:
        book = openpyxl.load_workbook(demo / f"매출내역_{year}.xlsx", read_only=True)
        rows[year] = list(book["매출내역"].iter_rows(values_only=True))
        book.close()
    return rows


@pytest.fixture(scope="module")
def partner_sheet(demo):
    book = openpyxl.load_workbook(demo / "거래처목록.xlsx")
    return book["거래처"]


def lines_of(rows: list[tuple]) -> list[tuple]:
    """The sales lines: under the three title rows and the header, above 합계."""
    return rows[4:-1]


def test_generating_twice_gives_the_same_bytes(demo, tmp_path):
    """Same arguments, same bytes: fixed workbook dates, one seeded generator."""
    again = generate_demo(tmp_path / "again")
    assert sorted(p.name for p in again) == sorted(p.name for p in demo.iterdir())
    for path in again:
        assert path.read_bytes() == (demo / path.name).read_bytes(), path.name


def test_writes_partner_list_one_sales_workbook_per_year_and_receivables(demo):
    assert sorted(p.name for p in demo.iterdir()) == sorted(
        ["거래처목록.xlsx", "미수금현황.csv"]
        + [f"매출내역_{y}.xlsx" for y in SALES_YEARS]
    )


def test_sales_workbooks_carry_title_rows_and_the_header(sales_rows):
    rows = sales_rows[2025]
    assert rows[0][0] == "매출 내역"
    assert rows[1][0] == "조회기간 : 2025-01-01 ~ 2025-12-31"
    assert rows[2][0] == "(단위 : 원)"
    assert list(rows[3]) == SALES_HEADER
    assert sales_rows[2024][1][0] == "조회기간 : 2024-12-01 ~ 2024-12-31"
    assert sales_rows[2026][1][0] == "조회기간 : 2026-01-01 ~ 2026-11-30"
    for year, year_rows in sales_rows.items():
        days = [row[0] for row in lines_of(year_rows)]
        assert all(isinstance(d, dt.datetime) and d.year == year for d in days)
        assert days == sorted(days)


def test_total_row_equals_the_column_sums(sales_rows):
    """The 합계 row is what the reader checks the lines against."""
    for year_rows in sales_rows.values():
        total = year_rows[-1]
        assert total[0] == "합  계"
        assert total[COL["단가"]] is None
        for name in ["수량", "공급가액", "부가세", "합계", "원가"]:
            # As Excel's SUM would: text cells (the 'abc' quantity) are ignored.
            cells = [row[COL[name]] for row in lines_of(year_rows)]
            assert total[COL[name]] == sum(c for c in cells if isinstance(c, int))


def test_line_count_is_in_the_promised_range(sales_rows):
    count = sum(len(lines_of(rows)) for rows in sales_rows.values())
    assert 20_000 <= count <= 40_000


def test_amounts_follow_the_vat_rules_except_the_spoilt_rows(sales_rows):
    """Every line adds up, but for the five rows spoilt on purpose."""
    lines = [row for rows in sales_rows.values() for row in lines_of(rows)]
    missing_code = [r for r in lines if r[COL["거래처코드"]] is None]
    text_qty = [r for r in lines if isinstance(r[COL["수량"]], str)]
    assert len(missing_code) == 2
    assert [r[COL["수량"]] for r in text_qty] == ["abc"]

    vat_off = []
    for r in lines:
        supply, vat, total = r[COL["공급가액"]], r[COL["부가세"]], r[COL["합계"]]
        assert total == supply + vat
        if not isinstance(r[COL["수량"]], str):
            assert supply == r[COL["수량"]] * r[COL["단가"]]
        # floor(공급가액 × 0.1), on the absolute amount for returns.
        expected = abs(supply) // 10 * (1 if supply >= 0 else -1)
        if vat != expected:
            vat_off.append(vat - expected)
    assert vat_off == [1000, 1000]
    returns = [r for r in lines if not isinstance(r[COL["수량"]], str) and r[6] < 0]
    assert len(returns) > 300
    assert all(r[COL["공급가액"]] < 0 and r[COL["원가"]] < 0 for r in returns)


def test_partner_codes_and_postcodes_are_text_with_leading_zeros(
    partner_sheet, sales_rows
):
    header = [c.value for c in partner_sheet[1]]
    assert header == [
        "거래처코드",
        "거래처명",
        "사업자등록번호",
        "대표자",
        "업태",
        "종목",
        "주소",
        "우편번호",
        "전화",
        "이메일",
        "종업원수",
    ]
    codes = [row[0] for row in partner_sheet.iter_rows(min_row=2)]
    assert len(codes) == 301  # 300 partners and one registered twice
    assert all(c.data_type == "s" and re.fullmatch(r"\d{5}", c.value) for c in codes)
    assert codes[0].value.startswith("000")
    postcodes = [row[7].value for row in partner_sheet.iter_rows(min_row=2)]
    assert all(re.fullmatch(r"\d{5}", p) for p in postcodes)
    assert any(p.startswith("0") for p in postcodes)  # Seoul: 01000-08999

    known = {c.value for c in codes}
    sold_to = {
        row[COL["거래처코드"]]
        for rows in sales_rows.values()
        for row in lines_of(rows)
        if row[COL["거래처코드"]] is not None
    }
    assert sold_to <= known
    assert all(re.fullmatch(r"0\d{4}", code) for code in sold_to)


def test_brn_check_digit_worked_by_hand():
    # 1+6+21+4+15+42+7+24+45 = 165, + tens digit of 5×9 = 4 -> 169 -> check 1
    assert brn_check_digit("123456789") == 1
    assert check_digit_by_hand("123456789") == 1
    assert brn_check_digit("220816251") == check_digit_by_hand("220816251")


def test_brns_are_valid_except_two_typos_and_one_company_listed_twice(partner_sheet):
    """Check digits computed here, not by ledgerflow.demo."""
    rows = list(partner_sheet.iter_rows(min_row=2, values_only=True))
    invalid_rows = []
    for excel_row, row in enumerate(rows, start=2):
        digits = row[2].replace("-", "")
        assert re.fullmatch(r"\d{10}", digits), row[2]
        if int(digits[9]) != check_digit_by_hand(digits[:9]):
            invalid_rows.append(excel_row)
    # Broken on purpose: the 6th partner (row 7) and the 151st (row 152).
    assert invalid_rows == [7, 152]

    by_brn: dict[str, list[tuple]] = {}
    for row in rows:
        by_brn.setdefault(row[2], []).append(row)
    twins = [group for group in by_brn.values() if len(group) > 1]
    assert len(twins) == 1
    first, second = twins[0]
    assert second == rows[-1] and first[0] < second[0]
    assert first[1] != second[1]
    squeeze = re.compile(r"\(주\)|㈜|주식회사|\s")
    assert squeeze.sub("", first[1]) == squeeze.sub("", second[1])


def test_contacts_are_fake(partner_sheet):
    """Phones in unused ranges, e-mail on reserved example domains only."""
    for row in partner_sheet.iter_rows(min_row=2, values_only=True):
        phone, email = row[8], row[9]
        assert re.fullmatch(r"010-0000-\d{4}|02-000-\d{4}", phone), phone
        assert email is None or re.fullmatch(
            r"[a-z]+\d{5}@example\.(com|co\.kr)", email
        ), email


def test_receivables_csv_is_cp949_with_crlf_and_quoted_amounts(demo):
    raw = (demo / "미수금현황.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp949")
    assert text.count("\r\n") == text.count("\n")
    assert text.startswith(
        "거래처코드,거래처명,계산서번호,발행일,만기일,금액,입금일,입금액\r\n"
    )

    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert re.search(r',"\d{1,3}(,\d{3})+",', text)
    as_of = "2026-11-30"
    unpaid = [r for r in rows if r["입금일"] == ""]
    assert all(r["입금액"] == "" for r in unpaid)
    assert any(r["만기일"] < as_of for r in unpaid)  # some overdue at the end
    paid = [r for r in rows if r["입금일"]]
    assert all(r["입금일"] <= as_of for r in paid)
    assert any(r["입금일"] > r["만기일"] for r in paid)  # late payers
    for r in rows:
        assert re.fullmatch(r"0\d{4}", r["거래처코드"])
        assert r["발행일"] <= r["만기일"]
        assert re.fullmatch(r"-?\d{1,3}(,\d{3})*", r["금액"])


def test_receivables_bill_each_partner_month_of_sales(demo, sales_rows):
    """Invoices carry the month's 합계 per partner, before the export was spoilt."""
    sales: dict[tuple[str, str], int] = {}
    missing_code_totals = []
    for rows in sales_rows.values():
        for row in lines_of(rows):
            code = row[COL["거래처코드"]]
            if code is None:
                missing_code_totals.append(row[COL["합계"]])
                continue
            key = (code, row[0].strftime("%Y-%m"))
            sales[key] = sales.get(key, 0) + row[COL["합계"]]
    text = (demo / "미수금현황.csv").read_bytes().decode("cp949")
    billed = {
        (r["거래처코드"], r["발행일"][:7]): int(r["금액"].replace(",", ""))
        for r in csv.DictReader(io.StringIO(text, newline=""))
    }
    # Months with a net return are not billed; every other month is, to the won,
    # except where a spoilt row sits: its VAT is 1,000 too high in the export, or
    # its code is missing there (the line was billed, so the invoice is higher).
    differences = sorted(
        billed.get(key, 0) - max(sales.get(key, 0), 0)
        for key in set(sales) | set(billed)
        if billed.get(key, 0) != max(sales.get(key, 0), 0)
    )
    assert differences == sorted([-1000, -1000, *missing_code_totals])


def test_refuses_to_replace_a_different_file(tmp_path):
    """A file of the user's is never replaced unasked, and nothing half-written."""
    mine = tmp_path / "거래처목록.xlsx"
    mine.write_bytes(b"my own partner list")
    with pytest.raises(OutputError, match=r"거래처목록\.xlsx already exist"):
        generate_demo(tmp_path, partners=20, months=2)
    assert mine.read_bytes() == b"my own partner list"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["거래처목록.xlsx"]

    written = generate_demo(tmp_path, partners=20, months=2, overwrite=True)
    assert mine.read_bytes() != b"my own partner list"
    # The same demo again is no clash: the files are already what they should be.
    assert generate_demo(tmp_path, partners=20, months=2) == written
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"partners": 5}, "partners=5: need at least 20 partners"),
        ({"months": 0}, "months=0: expected 1 to 120 months"),
        ({"end": "2026-13"}, "month 13 does not exist"),
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        generate_demo(tmp_path, **kwargs)


def test_usage_errors_are_ledgerflow_errors(tmp_path):
    with pytest.raises(UsageError):
        generate_demo(tmp_path, partners=1)
