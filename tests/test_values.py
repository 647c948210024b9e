"""Cell parsers (values.py): field cases 02, 04, 08 and the rules between them."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerflow import tables
from ledgerflow.values import (
    Parsed,
    clean_text,
    parse_amounts,
    parse_codes,
    parse_dates,
    parse_field,
    parse_flags,
    parse_numbers,
)

D = pd.Timestamp


def cells(*values) -> pd.Series:
    """Raw cells as a reader gives them: an object Series."""
    return pd.Series(list(values), dtype=object)


def sheet_columns(path, header_row: int) -> dict[str, list]:
    """Raw cell values (and number formats) of a small sheet, by header name."""
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(min_row=header_row))
    names = [c.value for c in rows[0]]
    data = [r for r in rows[1:] if any(c.value is not None for c in r)]
    out = {}
    for i, name in enumerate(names):
        out[name] = [r[i].value for r in data]
        out[f"{name}:format"] = [r[i].number_format for r in data]
    return out


# ---------------------------------------------------------------------- clean_text


def test_clean_text_rules():
    """NFC, odd spaces, full-width ASCII, strip, blank -> NA; the rest kept exactly."""
    nfd_hangul = "\u1112\u1161\u11ab\u1107\u1175\u11be"  # 한빛 decomposed (macOS)
    result = clean_text(
        cells(
            nfd_hangul,
            " （주）ＡＢＣ\u00a0상사\u3000",
            "a\u202fb\u2009c",
            "zero\u200bwidth",
            "  ",
            "\u00a0\u3000",
            None,
            np.nan,
            "㈜ 다온  물산",
            "line1\nline2",
            "Ａ\u0301",  # full-width A + combining acute: composes once half-width
            123.0,
            12.5,
            dt.datetime(2024, 3, 4),
        )
    )
    assert str(result.dtype) == "string"
    assert result.tolist() == [
        "한빛",
        "(주)ABC 상사",
        "a b c",
        "zerowidth",
        pd.NA,
        pd.NA,
        pd.NA,
        pd.NA,
        "㈜ 다온  물산",
        "line1\nline2",
        "Á",
        "123",
        "12.5",
        "2024-03-04",
    ]


@given(st.lists(st.one_of(st.text(), st.none()), max_size=8))
def test_clean_text_is_idempotent(texts):
    """Property: cleaning cleaned text changes nothing; the result is never blank."""
    once = clean_text(pd.Series(texts, dtype=object))
    twice = clean_text(once.astype(object))
    assert once.equals(twice)
    assert not (once.dropna().str.strip() != once.dropna()).any()
    assert not (once.dropna() == "").any()


def test_clean_text_keeps_index():
    values = pd.Series([" a ", None], index=[10, 20], dtype=object)
    assert clean_text(values).index.tolist() == [10, 20]


# ------------------------------------------------------------------------ amounts


def read_case08(cases_dir) -> list[dict]:
    path = cases_dir / "08-amount-text-formats" / "receivables_amount_text.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_case08_amount_text_formats(cases_dir):
    """Case 08: 14 lines -> 11 exact values, N/A and 1.234.000 errors, one blank."""
    rows = read_case08(cases_dir)
    assert len(rows) == 14
    parsed = parse_amounts(pd.Series([r["미수금액"] for r in rows], dtype=object))

    assert str(parsed.values.dtype) == "Float64"
    assert parsed.values.iloc[:11].tolist() == [
        1_234_000,
        980_000,
        1_250_000,
        2_900_000,
        123_000,
        -55_000,
        -55_000,
        -12_000,
        1_200,
        0,
        3_400_000,
    ]
    assert parsed.values.iloc[11:].isna().all()
    assert parsed.errors.tolist() == [None] * 11 + [
        "amount_format",
        "amount_ambiguous_separator",
        None,  # blank: missing, and required-ness is validate's job
    ]
    assert parsed.warnings.isna().all()
    assert parsed.values.sum() == 9_766_200

    # Per partner, as the case lists them.
    frame = pd.DataFrame({"code": [r["거래처코드"] for r in rows], "v": parsed.values})
    per_partner = frame.dropna().groupby("code")["v"].sum().to_dict()
    assert per_partner == {
        "00123": 4_634_000,
        "00457": 980_000,
        "01208": 1_250_000,
        "10234": 2_900_000,
        "00088": 123_000,
        "02311": -55_000,
        "00950": -55_000,
        "03007": -12_000,
        "20415": 1_200,
        "20522": 0,
    }


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1,234,000", 1_234_000),
        ("1234000", 1_234_000),
        ("55.94", 55.94),
        ("1,234.50", 1234.5),
        ("1.234", 1.234),  # XXX: may be 1,234 with dot grouping in a KRW file
        ("△1,000", -1000),
        ("▲ 2,500", -2500),
        ("(₩1,000)", -1000),
        ("₩-1,000", -1000),
        ("1,000-", -1000),
        ("+700", 700),
        ("－３００", -300),
        ("\\12,000", 12000),
        ("1,200 원", 1200),
        ("- 원", 0),
        ("(0)", 0),
        ("0", 0),
        (1234, 1234),
        (-55000.0, -55000),
        (12.5, 12.5),
        (np.int64(7), 7),
    ],
)
def test_amount_accepted(raw, value):
    parsed = parse_amounts(cells(raw))
    assert parsed.errors.tolist() == [None]
    assert parsed.values.tolist() == [value]


def test_amount_zero_has_no_sign():
    assert str(parse_amounts(cells("(0)", "-0")).values.tolist()) == "[0.0, 0.0]"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("N/A", "amount_format"),
        ("abc", "amount_format"),
        ("원", "amount_format"),
        ("(-5)", "amount_format"),
        ("--5", "amount_format"),
        ("1.2E+07", "amount_format"),
        ("12 EA", "amount_format"),
        ("1,23,4", "amount_format"),
        ("#VALUE!", "amount_format"),
        ("1.234.000", "amount_ambiguous_separator"),
        ("1.234,50", "amount_ambiguous_separator"),
        ("55,94", "amount_ambiguous_separator"),
        (float("inf"), "amount_not_finite"),
        (float("-inf"), "amount_not_finite"),
        (True, "amount_format"),
        (dt.datetime(2024, 3, 4), "amount_format"),
    ],
)
def test_amount_rejected(raw, error):
    parsed = parse_amounts(cells(raw))
    assert parsed.errors.tolist() == [error]
    assert parsed.values.isna().all()


def test_amount_blank_is_missing_without_error():
    parsed = parse_amounts(cells(None, np.nan, "", "  ", "\u00a0", pd.NA))
    assert parsed.values.isna().all()
    assert parsed.errors.isna().all()


def test_amount_numeric_column_fast_path():
    values = pd.Series([1.0, np.nan, np.inf, -3.5], index=[5, 6, 7, 8])
    parsed = parse_amounts(values)
    assert parsed.values.index.tolist() == [5, 6, 7, 8]
    assert parsed.values.tolist() == [1.0, pd.NA, pd.NA, -3.5]
    assert parsed.errors.tolist() == [None, None, "amount_not_finite", None]
    assert parse_amounts(pd.Series([3, 4])).values.tolist() == [3.0, 4.0]
    nullable = parse_amounts(pd.Series([3, None], dtype="Int64"))
    assert nullable.values.tolist() == [3.0, pd.NA]


def test_amount_never_changes_sign_on_mixed_column():
    values = cells("(55,000)", "−12,000", 55000, "55,000", "△5")
    assert parse_amounts(values).values.tolist() == [-55000, -12000, 55000, 55000, -5]


@given(
    st.integers(min_value=0, max_value=10**12),
    st.sampled_from(["-{}", "({})", "−{}", "△{}", "{}-", "₩-{}", "-{}원"]),
)
def test_amount_negative_forms_keep_value_and_sign(amount, form):
    """Property: every negative form of a grouped amount parses to -amount."""
    parsed = parse_amounts(cells(form.format(f"{amount:,}")))
    assert parsed.errors.tolist() == [None]
    assert parsed.values.tolist() == [-amount if amount else 0]


@given(st.integers(min_value=0, max_value=10**12))
def test_amount_grouped_equals_plain(amount):
    parsed = parse_amounts(cells(f"{amount:,}", str(amount), f"₩{amount:,}"))
    assert parsed.values.tolist() == [amount] * 3


# ------------------------------------------------------------------------ numbers


def test_numbers_use_their_own_codes():
    """Case 18: 수량 'abc' is a number error; blanks stay missing, not 0."""
    parsed = parse_numbers(cells(100, None, "abc", "-5", "2.5", "1.234.567", "1,500"))
    assert parsed.values.tolist() == [100, pd.NA, pd.NA, -5, 2.5, pd.NA, 1500]
    assert parsed.errors.tolist() == [
        None,
        None,
        "number_format",
        None,
        None,
        "number_ambiguous_separator",
        None,
    ]
    assert parse_numbers(cells(float("inf"))).errors.tolist() == ["number_not_finite"]


# -------------------------------------------------------------------------- dates


def test_case04_mixed_date_formats(cases_dir):
    """Case 04: 11 dates accepted, 2024.02.30 invalid; totals of the March rows."""
    path = cases_dir / "04-mixed-date-formats" / "sales_vouchers_2024-03.xlsx"
    columns = sheet_columns(path, header_row=3)
    parsed = parse_dates(pd.Series(columns["일자"], dtype=object), default_year=2024)

    assert parsed.values.dtype == "datetime64[ns]"
    march = [4, 6, 7, 8, 11, 12, 13, 14, 15, 18, 19]
    assert parsed.values.tolist() == (
        [D(2024, 3, d) for d in march] + [pd.NaT, D(2024, 4, 2)]
    )
    assert parsed.errors.tolist() == [None] * 11 + ["date_invalid", None]

    # The validate stage drops the April date as out of period; the figures follow.
    supply = parse_amounts(pd.Series(columns["공급가액"], dtype=object)).values
    vat = parse_amounts(pd.Series(columns["부가세"], dtype=object)).values
    in_march = (parsed.values.dt.month == 3).to_numpy(dtype=bool)
    assert supply[in_march].sum() == 10_285_000
    assert vat[in_march].sum() == 1_028_500
    assert (supply.sum(), vat.sum()) == (10_675_000, 1_067_500)


def test_case04_month_day_without_year(cases_dir):
    """03/13 needs the report's year; never today's."""
    assert parse_dates(cells("03/13")).errors.tolist() == ["date_no_year"]
    parsed = parse_dates(cells("03/13", "3월 13일", "02/29"), default_year=2024)
    assert parsed.values.tolist() == [D(2024, 3, 13), D(2024, 3, 13), D(2024, 2, 29)]
    leap = parse_dates(cells("02/29"), default_year=2023)
    assert leap.errors.tolist() == ["date_invalid"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024.03.07", D(2024, 3, 7)),
        ("2024-03-08", D(2024, 3, 8)),
        ("2024/3/11", D(2024, 3, 11)),
        ("2024. 3. 14.", D(2024, 3, 14)),
        ("2024년 3월 19일", D(2024, 3, 19)),
        ("2024년 3월 19일 (화)", D(2024, 3, 19)),
        ("2024-03-18 14:30", D(2024, 3, 18)),
        ("2024-03-18 14:30:00", D(2024, 3, 18)),
        ("2024-03-18T14:30:00Z", D(2024, 3, 18)),
        ("2024-03-18 오후 2:30:00", D(2024, 3, 18)),
        ("1996-07-04 00:00:00.000", D(1996, 7, 4)),
        ("2024/03/15 -4", D(2024, 3, 15)),
        ("2024/03/15 - 12", D(2024, 3, 15)),
        ("20240312", D(2024, 3, 12)),
        ("２０２４－０３－０８", D(2024, 3, 8)),
        ("24-03-15", D(2024, 3, 15)),
        ("99.12.31", D(1999, 12, 31)),
        ("18-Mar-2024", D(2024, 3, 18)),
        ("Mar 18, 2024", D(2024, 3, 18)),
        (45357, D(2024, 3, 6)),
        (45357.75, D(2024, 3, 6)),
        (20240312, D(2024, 3, 12)),
        (20240312.0, D(2024, 3, 12)),
        (dt.date(2024, 3, 4), D(2024, 3, 4)),
        (dt.datetime(2024, 3, 18, 14, 30), D(2024, 3, 18)),
        (pd.Timestamp("2024-03-18 23:59:59"), D(2024, 3, 18)),
        (np.datetime64("2024-03-18T10:00"), D(2024, 3, 18)),
    ],
)
def test_date_accepted(raw, expected):
    parsed = parse_dates(cells(raw))
    assert parsed.errors.tolist() == [None]
    assert parsed.values.tolist() == [expected]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("2024.02.30", "date_invalid"),
        ("2024-13-01", "date_invalid"),
        ("20240230", "date_invalid"),
        (20240230, "date_invalid"),
        ("2024-03-18 25:00", "date_invalid"),
        ("9999-12-31", "date_out_of_range"),
        (dt.datetime(9999, 12, 31), "date_out_of_range"),
        ("03/15/2024", "date_ambiguous_order"),
        ("2024.03", "date_format"),
        ("내일", "date_format"),
        ("2024-03/07", "date_format"),
        ("32-Foo-2024", "date_format"),
        (2024, "date_format"),
        (19999, "date_format"),
        (80001, "date_format"),
        (2022.10, "date_format"),
        ("45357", "date_format"),
        (True, "date_format"),
        (dt.time(14, 30), "date_format"),
    ],
)
def test_date_rejected(raw, error):
    parsed = parse_dates(cells(raw))
    assert parsed.errors.tolist() == [error]
    assert parsed.values.isna().all()


def test_date_orders_for_us_and_day_first_exports():
    """IBM AR exports write 1/2/2013 month first; order decides, YYYY-first stays."""
    values = cells("1/2/2013", "12/31/2013", "2013-01-02", "1/2/13")
    us = parse_dates(values, order="MDY")
    jan2 = D(2013, 1, 2)
    assert us.values.tolist() == [jan2, D(2013, 12, 31), jan2, jan2]
    day_first = parse_dates(values, order="DMY")
    assert day_first.values.tolist()[:1] == [D(2013, 2, 1)]
    assert day_first.errors.tolist() == [None, "date_invalid", None, None]
    # Month/day without a year follows the order too.
    assert parse_dates(
        cells("13/03"), order="DMY", default_year=2024
    ).values.tolist() == [D(2024, 3, 13)]
    with pytest.raises(ValueError, match="order must be one of"):
        parse_dates(cells("1/2/2013"), order="XYZ")


def test_date_1904_system():
    """A 1904-system workbook counts days from 1904-01-01 (1462 days later)."""
    assert parse_dates(cells(43895), date1904=True).values.tolist() == [D(2024, 3, 6)]
    assert parse_dates(cells(43895)).values.tolist() == [D(2020, 3, 5)]


def test_date_blank_is_missing_without_error():
    parsed = parse_dates(cells(None, np.nan, pd.NaT, "", "  "))
    assert parsed.values.isna().all()
    assert parsed.errors.isna().all()


def test_date_typed_columns():
    stamps = pd.Series(pd.to_datetime(["2024-03-18 14:30", None]), index=[3, 4])
    parsed = parse_dates(stamps)
    assert parsed.values.index.tolist() == [3, 4]
    assert parsed.values.tolist() == [D(2024, 3, 18), pd.NaT]
    aware = pd.Series(pd.to_datetime(["2024-03-18 23:30"]).tz_localize("Asia/Seoul"))
    assert parse_dates(aware).values.tolist() == [D(2024, 3, 18)]
    numbers = parse_dates(pd.Series([45357.0, np.nan, 20240312.0, 5.0]))
    assert numbers.values.tolist() == [D(2024, 3, 6), pd.NaT, D(2024, 3, 12), pd.NaT]
    assert numbers.errors.tolist() == [None, None, None, "date_format"]


def test_date_typed_column_out_of_range():
    """A datetime64[us] column may hold 9999-12-31 ("no end date"): an error, never
    a date that wrapped around into 1816."""
    values = pd.Series([dt.datetime(9999, 12, 31), dt.datetime(2024, 3, 4, 5, 6)])
    parsed = parse_dates(values)
    assert parsed.values.tolist() == [pd.NaT, D(2024, 3, 4)]
    assert parsed.errors.tolist() == ["date_out_of_range", None]


def test_date_all_datetime_column_is_vectorised():
    """541,909 datetime cells (Online Retail's size) take the vectorised path."""
    start = dt.datetime(2010, 12, 1, 8, 26)
    raw = [start + dt.timedelta(minutes=i) for i in range(541_909)]
    values = pd.Series(raw, dtype=object)
    parsed = parse_dates(values)
    assert parsed.errors.isna().all()
    assert parsed.values.iloc[0] == D(2010, 12, 1)
    assert parsed.values.iloc[-1] == D(2011, 12, 12)  # + 376 d 7 h 48 min


@given(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2199, 12, 31)))
def test_date_text_forms_round_trip(day):
    """Property: each written form of a date parses back to that date."""
    forms = [
        day.strftime("%Y-%m-%d"),
        day.strftime("%Y.%m.%d"),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}. {day.month}. {day.day}.",
        f"{day.year}년 {day.month}월 {day.day}일",
        day.strftime("%Y%m%d"),
        day.strftime("%Y-%m-%d 13:45:00"),
    ]
    parsed = parse_dates(cells(*forms))
    assert parsed.errors.isna().all()
    assert set(parsed.values) == {pd.Timestamp(day)}


# -------------------------------------------------------------------------- codes


def test_case02_codes_keep_leading_zeros(cases_dir):
    """Case 02: number cells shown through a format get their zeros back."""
    path = cases_dir / "02-leading-zero-codes" / "partners_master.xlsx"
    columns = sheet_columns(path, header_row=1)

    def parse(name, **options):
        values = pd.Series(columns[name], dtype=object)
        formats = pd.Series(columns[f"{name}:format"], dtype=object)
        return parse_codes(values, formats, **options)

    codes = parse("거래처코드")
    assert codes.values.tolist() == ["00123", "00457", "01208", "10234", "00088", pd.NA]
    assert codes.errors.isna().all()

    postcodes = parse("우편번호", width=5)
    assert postcodes.values.tolist() == [
        "04524",
        "06236",
        "13529",
        "16488",
        "03000",
        "48058",
    ]
    assert postcodes.warnings.tolist() == [None] * 4 + ["postcode_padded", None]

    brns = parse("사업자등록번호")
    assert brns.values.tolist()[:2] == ["564-23-84027", "5860196690"]
    assert brns.values.tolist()[3] == "2108854417"


def test_case02_erp_csv_codes(cases_dir):
    """The same partners from the ERP CSV (read as text) give the same codes."""
    path = cases_dir / "02-leading-zero-codes" / "partners_erp.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    codes = parse_codes(pd.Series([r["거래처코드"] for r in rows], dtype=object))
    assert codes.values.tolist() == ["00123", "00457", "01208", "10234", "00088"]
    zips = parse_field("postcode", pd.Series([r["우편번호"] for r in rows]))
    assert zips.values.tolist() == ["04524", "06236", "13529", "16488", "03000"]
    assert zips.warnings.isna().all()


@pytest.mark.parametrize(
    ("raw", "number_format", "expected"),
    [
        (17850.0, None, "17850"),
        (17850, "General", "17850"),
        (457, "00000", "00457"),
        (457.0, "00000", "00457"),
        (5860196690, "000-00-00000", "5860196690"),
        (123, "0000000", "0000123"),
        (88, "@", "88"),
        (12, '"A"000', "012"),
        (12, "[Red]000;[Blue]0", "012"),
        (1234, "#,##0", "1234"),
        (" ＡＢ-01 ", None, "AB-01"),
        ("00123", "00000", "00123"),
    ],
)
def test_code_accepted(raw, number_format, expected):
    parsed = parse_codes(cells(raw), cells(number_format))
    assert parsed.errors.tolist() == [None]
    assert parsed.values.tolist() == [expected]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (17850.5, "code_not_integer"),
        (float("inf"), "code_not_integer"),
        (1e17, "code_precision_lost"),
        ("5.86E+09", "code_scientific_notation"),
        (dt.datetime(2024, 3, 15), "code_format"),
        (True, "code_format"),
    ],
)
def test_code_rejected(raw, error):
    parsed = parse_codes(cells(raw))
    assert parsed.errors.tolist() == [error]
    assert parsed.values.isna().all()


def test_code_width_pads_digits_only():
    values = cells("6236", 3000, "AB1", "123456", None, "135-080")
    parsed = parse_codes(values, width=5)
    expected = ["06236", "03000", "AB1", "123456", pd.NA, "135-080"]
    assert parsed.values.tolist() == expected
    assert parsed.warnings.tolist() == ["postcode_padded"] * 2 + [None] * 4


@given(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=8))
def test_code_numbers_round_trip(numbers):
    """Property: int and int-valued float cells give the same digits, and a code
    parsed again (now text) stays the same."""
    as_int = parse_codes(cells(*numbers)).values
    as_float = parse_codes(cells(*map(float, numbers))).values
    assert as_int.tolist() == as_float.tolist() == [str(n) for n in numbers]
    assert parse_codes(as_int.astype(object)).values.equals(as_int)


def test_code_nan_text_is_missing_with_warning():
    parsed = parse_codes(cells("nan", "NaN"))
    assert parsed.values.isna().all()
    assert parsed.errors.isna().all()
    assert parsed.warnings.tolist() == ["code_nan_text"] * 2


def test_code_number_formats_follow_the_index():
    values = pd.Series([457, 88], index=["b", "a"], dtype=object)
    formats = pd.Series(["General", "00000"], index=["a", "b"])
    assert parse_codes(values, formats).values.tolist() == ["00457", "88"]


# -------------------------------------------------------------------------- flags


def test_flags():
    values = cells(
        "Yes", "no", "Y", "n", "TRUE", "false", "1", "0", "예", "아니오",
        "O", "x", "여", "부", True, False, 1, 0.0, None, " ", "maybe", 2, "ＹＥＳ",
    )  # fmt: skip
    parsed = parse_flags(values)
    assert str(parsed.values.dtype) == "boolean"
    assert parsed.values.tolist() == [True, False] * 8 + [True, False] + [pd.NA] * 4 + [
        True
    ]
    assert parsed.errors.tolist() == [None] * 20 + ["flag_format"] * 2 + [None]


def test_flags_real_blank_third_state(shared_data):
    """necessariesPrice 세일여부: Y / N / blank -> True / False / NA, no error."""
    parsed = parse_flags(cells("Y", "N", None, np.nan, "Y"))
    assert parsed.values.tolist() == [True, False, pd.NA, pd.NA, True]
    assert parsed.errors.isna().all()


# ----------------------------------------------------------------------- dispatch


def test_parse_field_dispatches_on_field_types():
    assert tables.FIELD_TYPES["supply_amount"] == "amount"
    assert parse_field("supply_amount", cells("1,000")).values.tolist() == [1000]
    assert parse_field("qty", cells("abc")).errors.tolist() == ["number_format"]
    assert parse_field("is_disputed", cells("Yes")).values.tolist() == [True]
    assert parse_field("partner_code", cells(123.0)).values.tolist() == ["123"]
    assert parse_field("partner_name", cells(" 다온 ")).values.tolist() == ["다온"]
    dated = parse_field("doc_date", cells("03/13"), default_year=2024)
    assert dated.values.tolist() == [D(2024, 3, 13)]


def test_parse_field_passes_each_parser_only_its_options():
    options = {"order": "MDY", "default_year": 2013, "number_formats": None}
    assert parse_field("invoice_date", cells("1/2"), **options).values.tolist() == [
        D(2013, 1, 2)
    ]
    assert parse_field("amount", cells("5"), **options).values.tolist() == [5]
    assert parse_field("postcode", cells(3000), **options).values.tolist() == ["03000"]
    assert parse_field("postcode", cells(3000), width=None).values.tolist() == ["3000"]


def test_every_field_type_has_a_parser():
    for field, kind in tables.FIELD_TYPES.items():
        parsed = parse_field(field, cells(None))
        assert isinstance(parsed, Parsed), (field, kind)
        assert parsed.errors.tolist() == [None]


def test_empty_series():
    empty = pd.Series([], dtype=object)
    for parse in (parse_amounts, parse_numbers, parse_dates, parse_codes, parse_flags):
        parsed = parse(empty)
        assert len(parsed.values) == len(parsed.errors) == len(parsed.warnings) == 0
    assert len(clean_text(empty)) == 0


# ------------------------------------------------------------- real data (slow)


@pytest.fixture(scope="module")
def online_retail(online_retail_rows) -> dict[str, pd.Series]:
    """The 541,909 rows of Online Retail as calamine gives raw cells ("" = blank)."""
    header, data = online_retail_rows
    return {
        name: pd.Series([row[i] for row in data], dtype=object)
        for i, name in enumerate(header)
    }


@pytest.mark.slow
def test_online_retail_parses_fast_and_exactly(online_retail):
    """README figures: 135,080 rows without CustomerID, 4,372 customers, dates
    2010-12-01 08:26 -> 2011-12-09 12:50, 10,624 negative quantities, 2,515 zero and
    the 3 "Adjust bad debt" lines (StockCode B) at ±11,062.06 (2 of them negative);
    every cell parses without error, in seconds."""
    dates = parse_dates(online_retail["InvoiceDate"])
    customers = parse_codes(online_retail["CustomerID"])
    qty = parse_numbers(online_retail["Quantity"])
    price = parse_numbers(online_retail["UnitPrice"])
    invoices = parse_codes(online_retail["InvoiceNo"])

    for parsed in (dates, customers, qty, price, invoices):
        assert len(parsed.values) == 541_909
        assert parsed.errors.isna().all()
    assert dates.values.min() == D(2010, 12, 1)
    assert dates.values.max() == D(2011, 12, 9)
    assert int(customers.values.isna().sum()) == 135_080
    assert customers.values.nunique() == 4_372
    assert customers.values.dropna().str.fullmatch(r"\d{5}").all()  # no "17850.0"
    assert int((qty.values < 0).sum()) == 10_624
    assert int((price.values == 0).sum()) == 2_515
    assert price.values[price.values < 0].tolist() == [-11062.06] * 2
    bad_debt = (online_retail["StockCode"] == "B").to_numpy()
    assert price.values[bad_debt].tolist() == [11062.06, -11062.06, -11062.06]
    assert invoices.values.nunique() == 25_900


# ------------------------------------------------------------------------ labels


def test_every_rule_code_is_emitted_and_labelled():
    """A battery of bad cells emits exactly RULE_CODES / WARNING_CODES, and each
    code has Korean and English text in labels/values.toml."""
    from ledgerflow.values import RULE_CODES, WARNING_CODES

    bad = cells("N/A", "1.234.000", float("inf"), True)
    emitted = [parse_amounts(bad), parse_numbers(bad)]
    emitted.append(
        parse_dates(cells("x", "2024.02.30", "03/13", "03/15/2024", "9999-12-31", True))
    )
    emitted.append(
        parse_codes(
            cells(1.5, 1e17, "5.86E+09", dt.date(2024, 3, 15), "nan", 3000), width=5
        )
    )
    emitted.append(parse_flags(cells("maybe")))
    errors = {c for p in emitted for c in p.errors if c is not None}
    warnings = {c for p in emitted for c in p.warnings if c is not None}
    assert errors == set(RULE_CODES)
    assert warnings == set(WARNING_CODES)

    import tomllib
    from pathlib import Path

    import ledgerflow.values as module

    labels_path = Path(module.__file__).parent / "labels" / "values.toml"
    rules = tomllib.loads(labels_path.read_text("utf-8"))["rules"]
    for code in (*RULE_CODES, *WARNING_CODES):
        assert rules[code]["ko"] and rules[code]["en"], code


def test_pandas_text_dtypes_as_input():
    """Series of pandas' own text dtypes (str with NaN, "string" with NA) work too."""
    assert parse_amounts(pd.Series(["1,000", None])).values.tolist() == [1000, pd.NA]
    typed = pd.Series(["00123", None, " 7 "], dtype="string")
    assert parse_codes(typed).values.tolist() == ["00123", pd.NA, "7"]
    dates = parse_dates(pd.Series(["2024-03-04", None], dtype="string"))
    assert dates.values.tolist() == [D(2024, 3, 4), pd.NaT]
    assert dates.errors.isna().all()
    assert parse_flags(pd.Series([True, False])).values.tolist() == [True, False]
    assert parse_amounts(pd.Series([True])).errors.tolist() == ["amount_format"]


def test_flags_status_words_of_a_contact_log():
    parsed = parse_flags(
        cells("완료", "미완료", "Done", "open", "처리", "진행중", "보류")
    )
    assert parsed.values.tolist() == [True, False, True, False, True, False, pd.NA]
    assert parsed.errors.tolist() == [None] * 6 + ["flag_format"]
