"""사업자등록번호 (brn.py): normalise, check digit, status, kind."""

from __future__ import annotations

import csv

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerflow.brn import (
    BRN_KINDS,
    BRN_STATUSES,
    brn_check_digit,
    brn_kind,
    brn_status,
    check_brns,
    format_brn,
    normalise_brn,
)

# The BRNs of cases 01, 02, 06 and 18; all but 586-01-96691 and 12345 are genuine.
CASE_BRNS_VALID = [
    "564-23-84027",
    "586-01-96690",
    "366-01-40423",
    "210-88-54417",
    "314-81-95410",
    "471-23-88721",
    "635-12-59713",
    "169-05-78869",
    "883-12-86838",
    "286-86-83536",
    "287-12-56410",
]


def sheet_column(path, header_row: int, name: str) -> list:
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(min_row=header_row, values_only=True))
    col = rows[0].index(name)
    return [r[col] for r in rows[1:] if any(v is not None for v in r)]


# ------------------------------------------------------------------- check digit


def test_check_digit_worked_example():
    """287-12-5641?: 2·1+8·3+7·7+1·1+2·3+5·7+6·1+4·3+1·5 = 140, + (1·5)//10 = 0
    -> 140 % 10 = 0 -> check digit (10 - 0) % 10 = 0, not 10 (case 18's trap)."""
    assert brn_check_digit("287125641") == 0
    # 586-01-9669?: 5+24+42+0+3+63+6+18+45 = 206, + (9·5)//10 = 4 -> 210 -> 0.
    assert brn_check_digit("586019669") == 0


@pytest.mark.parametrize("text", CASE_BRNS_VALID)
def test_case_brns_are_valid(text):
    digits = normalise_brn(text)
    assert digits == text.replace("-", "")
    assert brn_status(digits) == "valid"
    assert format_brn(digits) == text


def test_check_digit_refuses_bad_input():
    for bad in ("12345678", "1234567890", "12345678a", "１２３４５６７８９"):
        with pytest.raises(ValueError, match="expected 9 digits"):
            brn_check_digit(bad)


# ------------------------------------------------------------------------ status


@pytest.mark.parametrize(
    ("value", "digits", "status"),
    [
        ("586-01-96691", "5860196691", "invalid_checksum"),
        ("12345", "12345", "wrong_length"),
        ("123-45-678901", "12345678901", "wrong_length"),
        ("N/A", "N/A", "wrong_length"),
        ("-", "-", "wrong_length"),
        (" 없음 ", "없음", "wrong_length"),
        ("126811", "126811", "partial"),
        ("123-45-*****", "12345*****", "partial"),
        ("123-45-xxxxx", "12345*****", "partial"),
        ("123-**-*****", "123*******", "partial"),
        ("12*45", "12*45", "wrong_length"),
        ("123-45-******", "12345******", "wrong_length"),
        (None, None, "missing"),
        ("", None, "missing"),
        ("  ", None, "missing"),
        (np.nan, None, "missing"),
        (pd.NA, None, "missing"),
        (5860196690, "5860196690", "valid"),
        (5860196690.0, "5860196690", "valid"),
        (np.int64(2871256410), "2871256410", "valid"),
        ("５８６－０１－９６６９０", "5860196690", "valid"),
        (" 586 01 96690 ", "5860196690", "valid"),
        ("586.01.96690", "5860196690", "valid"),
    ],
)
def test_normalise_and_status(value, digits, status):
    assert normalise_brn(value) == digits
    assert brn_status(normalise_brn(value)) == status


def test_status_normalises_raw_text():
    assert brn_status("287-12-56410") == "valid"
    assert brn_status("") == "missing"


def test_case18_brns(cases_dir):
    """Case 18: two rows with 586-01-96691 (both bad), 12345 too short, 287-… valid."""
    path = cases_dir / "18-validation-rejects-report" / "sales_lines_2024-03.xlsx"
    checked = check_brns(pd.Series(sheet_column(path, 1, "사업자등록번호")))
    assert len(checked) == 15
    excel_rows = checked.index + 2
    bad = checked[checked["brn_status"] != "valid"]
    assert dict(zip(bad.index + 2, bad["brn_status"], strict=True)) == {
        3: "invalid_checksum",
        4: "invalid_checksum",
        15: "wrong_length",
    }
    assert checked.loc[excel_rows == 14, "brn"].tolist() == ["2871256410"]
    assert checked.loc[excel_rows == 14, "brn_status"].tolist() == ["valid"]


def test_case01_and_case06_brns(cases_dir):
    xlsx = cases_dir / "01-title-rows-total-row" / "sales_by_partner_2024-03.xlsx"
    case01 = [v for v in sheet_column(xlsx, 5, "사업자등록번호") if v][:7]
    path = cases_dir / "06-cp949-csv-extended-hangul" / "sales_partner_202403_cp949.csv"
    with path.open(encoding="cp949", newline="") as handle:
        case06 = [row["사업자등록번호"] for row in csv.DictReader(handle)]
    checked = check_brns(pd.Series(case01 + case06))
    assert len(checked) == 15
    assert (checked["brn_status"] == "valid").all()
    assert checked["brn"].tolist()[-3:] == ["3148195410", "8831286838", "4712388721"]


def test_case02_brn_cells_of_every_shape(cases_dir):
    """Text with hyphens, text without, number cells: one canonical form."""
    path = cases_dir / "02-leading-zero-codes" / "partners_master.xlsx"
    checked = check_brns(pd.Series(sheet_column(path, 1, "사업자등록번호")))
    assert checked["brn"].tolist() == [
        "5642384027",
        "5860196690",
        "3660140423",
        "2108854417",
        "3148195410",
        "4712388721",
    ]
    assert (checked["brn_status"] == "valid").all()


# -------------------------------------------------------------------------- kind


@pytest.mark.parametrize(
    ("digits", "kind"),
    [
        ("1230112345", "sole_proprietor_taxable"),
        ("1237912345", "sole_proprietor_taxable"),
        ("1238012345", "other_non_corporate"),
        ("1238112345", "corporation_head_office"),
        ("1238612345", "corporation_head_office"),
        ("1238712345", "corporation_head_office"),
        ("1238812345", "corporation_head_office"),
        ("1238212345", "non_profit"),
        ("1238312345", "public_body"),
        ("1238412345", "foreign_corporation"),
        ("1238512345", "corporation_branch"),
        ("1238912345", "religious_body"),
        ("1239012345", "sole_proprietor_tax_exempt"),
        ("1239912345", "sole_proprietor_tax_exempt"),
        ("1230012345", None),
        ("126811", "corporation_head_office"),
        ("123-85-*****", "corporation_branch"),
        ("123**", None),
        ("1234", None),
        ("", None),
        (None, None),
    ],
)
def test_kind(digits, kind):
    assert brn_kind(digits) == kind


def test_kinds_are_listed():
    assert set(BRN_KINDS) == {
        "sole_proprietor_taxable",
        "sole_proprietor_tax_exempt",
        "other_non_corporate",
        "corporation_head_office",
        "corporation_branch",
        "non_profit",
        "public_body",
        "foreign_corporation",
        "religious_body",
    }


def test_check_brns_frame():
    values = pd.Series(
        ["564-23-84027", 5860196690, None, "12345", "126811", "586-01-96691", "x"],
        index=list("abcdefg"),
        dtype=object,
    )
    checked = check_brns(values)
    assert checked.index.tolist() == list("abcdefg")
    assert checked.columns.tolist() == ["brn", "brn_status", "brn_kind"]
    assert all(str(t) == "string" for t in checked.dtypes)
    assert checked["brn_status"].tolist() == [
        "valid",
        "valid",
        "missing",
        "wrong_length",
        "partial",
        "invalid_checksum",
        "partial",
    ]
    assert checked["brn_kind"].tolist() == [
        "sole_proprietor_taxable",
        "sole_proprietor_taxable",
        pd.NA,
        pd.NA,  # wrong length: digits 4-5 mean nothing
        "corporation_head_office",
        "sole_proprietor_taxable",
        pd.NA,
    ]
    assert set(checked["brn_status"]) <= set(BRN_STATUSES)
    assert len(check_brns(pd.Series([], dtype=object))) == 0


def test_format_brn_refuses_partial():
    with pytest.raises(ValueError, match="expected 10 digits"):
        format_brn("126811")


# ---------------------------------------------------------------- property tests

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(nine_digits)
def test_any_nine_digits_with_their_check_digit_are_valid(first9):
    digits = first9 + str(brn_check_digit(first9))
    assert brn_status(digits) == "valid"
    assert brn_status(format_brn(digits)) == "valid"


@given(nine_digits, st.integers(min_value=1, max_value=9))
def test_changing_the_check_digit_makes_it_invalid(first9, shift):
    wrong = (brn_check_digit(first9) + shift) % 10
    assert brn_status(first9 + str(wrong)) == "invalid_checksum"


@given(
    st.one_of(
        st.text(max_size=20),
        st.text(alphabet="0123456789-*xX ０１２３", max_size=14),
        st.integers(min_value=0, max_value=10**12),
        st.none(),
    )
)
def test_normalise_is_idempotent(value):
    once = normalise_brn(value)
    assert normalise_brn(once) == once
    assert brn_status(once) == brn_status(value if once is not None else None)


# ------------------------------------------------------------------- real data


def test_national_pension_brns_are_partial(shared_data):
    """NPS workplaces publish the first 6 digits only: every one is "partial".

    The count is checked a second way, with plain string lengths.
    """
    path = shared_data / "kr-datatoys" / "derived" / "nationalPension_cp949.csv"
    frame = pd.read_csv(path, encoding="cp949", dtype=str)
    raw = frame["사업자등록번호"]

    checked = check_brns(raw)

    non_blank = raw.notna() & (raw.str.strip() != "")
    six_digits = raw.str.len().eq(6) & raw.str.isdigit()
    assert len(raw) == 29_975
    assert int(non_blank.sum()) == int(six_digits.sum()) == 29_974
    assert (checked.loc[non_blank, "brn_status"] == "partial").all()
    assert int((checked["brn_status"] == "partial").sum()) == 29_974
    assert int((checked["brn_status"] == "missing").sum()) == 1
    # The kind comes from digits 4-5 of the prefix ("81" in 126811 is a company).
    corporations = raw.str.slice(3, 5).isin(["81", "86", "87", "88"])
    is_head_office = checked["brn_kind"] == "corporation_head_office"
    assert int(is_head_office.sum()) == int(corporations.sum())


def test_brn_codes_are_labelled():
    import tomllib
    from pathlib import Path

    import ledgerflow.brn as module

    labels_path = Path(module.__file__).parent / "labels" / "values.toml"
    rules = tomllib.loads(labels_path.read_text("utf-8"))["rules"]
    codes = [f"brn_status_{s}" for s in BRN_STATUSES]
    codes += [f"brn_kind_{k}" for k in BRN_KINDS]
    for code in codes:
        assert rules[code]["ko"] and rules[code]["en"], code
