"""values.py's Arrow path for text-only columns gives what the per-value path gives.

Text and code columns of text only are parsed in Arrow, and distinct values that
are already clean are kept without a Python call (issue 8). Each test here compares
that path with the per-value one, which a column holding one non-text cell (an
``object`` column of mixed kinds) still takes, cell for cell: values, dtypes,
errors and warnings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerflow import values as V
from ledgerflow.values import (
    clean_text,
    parse_amounts,
    parse_codes,
    parse_dates,
    parse_field,
    parse_numbers,
)

# Characters a copy-paste or an ERP export leaves in cells.
TRICKY = (
    "0123456789AZaeEnN.-_/+=@ ,()"
    "\u00a0\u202f\u3000\u2009\t\r\n\x0b\x0c\x1c\x85"  # odd spaces, controls
    "\u200b\u2060\ufeff"  # zero-width, BOM
    "０９ＡＥｅＮｎ（）－"  # full-width ASCII
    "가힣각ㄱㅏ\u1100\u1161\u11a8㈜"  # Hangul syllables, jamo, ㈜
    "e\u0301Å\u212b\u0041\u030a"  # combining marks, NFC changes
    "\x7f~!"
)
WORDS = ["nan", "NaN", "NAN", "NULL", "-", "5.86E+09", "1e5", "1E-3", "00457", " "]


def text_cell() -> st.SearchStrategy:
    return st.one_of(
        st.text(alphabet=TRICKY, max_size=12),
        st.sampled_from(WORDS),
        st.text(alphabet="0123456789-", min_size=1, max_size=20),
        st.text(alphabet="0123456789가나다 ", min_size=200, max_size=400),
    )


def per_value(column: list) -> pd.Series:
    """The same cells in a column that takes the per-value path: a trailing
    non-text cell makes it mixed, and is cut off the results afterwards."""
    return pd.Series([*column, 1.5], dtype=object)


def same(fast: V.Parsed, slow: V.Parsed, n: int) -> None:
    left, right = fast.values, slow.values.iloc[:n]
    assert left.dtype == right.dtype
    assert left.index.equals(right.index)
    assert left.isna().tolist() == right.isna().tolist()
    assert left.dropna().tolist() == right.dropna().tolist()
    assert fast.errors.tolist() == slow.errors.iloc[:n].tolist()
    assert fast.warnings.tolist() == slow.warnings.iloc[:n].tolist()


def parsed_text(series: pd.Series) -> V.Parsed:
    return parse_field("partner_name", series)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(text_cell(), st.none()), min_size=1, max_size=30))
def test_text_and_codes_same_as_per_value(column):
    n = len(column)
    for dtype in (object, "str", "string"):
        series = pd.Series(column, dtype=dtype)
        for parse in (parsed_text, parse_codes, lambda s: parse_codes(s, width=5)):
            same(parse(series), parse(per_value(column)), n)


NUMERIC = "0123456789,.-+()△▲₩원 \u00a0\u2212０１，－Ee"
DATELIKE = "0123456789-./ :년월일오전후AMPTZ\u00a0０"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=NUMERIC, max_size=10),
            st.text(alphabet=DATELIKE, max_size=16),
            st.sampled_from(["2024.03.07", "24-03-15", "03/13", "20240230", "-"]),
            st.none(),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_amounts_and_dates_same_as_per_value(column):
    n = len(column)
    parsers = [
        parse_amounts,
        parse_numbers,
        parse_dates,
        lambda s: parse_dates(s, order="DMY", default_year=2024),
    ]
    for dtype in (object, "str", "string"):
        series = pd.Series(column, dtype=dtype)
        for parse in parsers:
            same(parse(series), parse(per_value(column)), n)


def test_date_and_amount_columns_exact_values():
    dates = pd.Series(
        ["2024.03.07", None, "2024.02.30", "2024.03.07", " "], dtype="str"
    )
    parsed = parse_dates(dates)
    assert parsed.values.tolist() == [
        pd.Timestamp("2024-03-07"),
        pd.NaT,
        pd.NaT,
        pd.Timestamp("2024-03-07"),
        pd.NaT,
    ]
    assert parsed.values.dtype == np.dtype("datetime64[ns]")
    assert parsed.errors.tolist() == [None, None, "date_invalid", None, None]
    amounts = pd.Series(["1,234", "(500)", None, "1.234,5", "-"], dtype="string")
    parsed = parse_amounts(amounts)
    assert parsed.values.tolist() == [1234.0, -500.0, pd.NA, pd.NA, 0.0]
    assert parsed.values.dtype == pd.Float64Dtype()
    assert parsed.errors.tolist() == [
        None,
        None,
        None,
        "amount_ambiguous_separator",
        None,
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=8), min_size=1, max_size=20))
def test_any_unicode_same_as_per_value(column):
    """Any character at all (surrogates included, which Arrow cannot hold)."""
    n = len(column)
    for parse in (parsed_text, parse_codes):
        same(parse(pd.Series(column, dtype=object)), parse(per_value(column)), n)


def test_kept_as_is_exact_examples():
    """Only ASCII and Hangul syllables with no outer space are kept unparsed."""
    uniques = pd.Series(
        [
            "20251201-00002",
            "(주)가나",
            "a b",
            " a",
            "a ",
            "ａ",
            "a\u00a0b",
            "",
            "e\u0301",
        ]
    )
    import pyarrow as pa

    kept = V._clean_as_is(pa.array(uniques, type=pa.large_string()))
    assert kept.tolist() == [True, True, True, False, False, False, False, False, False]
    codes = pa.array(["1E5", "A1e-3", "SE-01", "nan", "NaNa", "x1.5E+07"])
    assert V._code_as_is(codes).tolist() == [False, False, True, False, True, False]


def test_text_column_exact_values():
    series = pd.Series(
        ["  ㈜가나\u00a0상사 ", "ＡＢＣ", "\u200b", None, "가나", "가나", "a\tb"],
        dtype="str",
    )
    assert clean_text(series).tolist() == [
        "㈜가나 상사",
        "ABC",
        pd.NA,
        pd.NA,
        "가나",
        "가나",
        "a\tb",
    ]
    assert clean_text(series).dtype == pd.StringDtype(na_value=pd.NA)


def test_code_column_exact_values():
    series = pd.Series(
        ["20251201-00002", " 5.86E+09", "nan", "０１２３", "3000", None, "C-01"],
        dtype="str",
    )
    parsed = parse_codes(series, width=5)
    assert parsed.values.tolist() == [
        "20251201-00002",
        pd.NA,
        pd.NA,
        "00123",
        "03000",
        pd.NA,
        "C-01",
    ]
    assert parsed.errors.tolist() == [
        None,
        "code_scientific_notation",
        None,
        None,
        None,
        None,
        None,
    ]
    assert parsed.warnings.tolist() == [
        None,
        None,
        "code_nan_text",
        "postcode_padded",
        "postcode_padded",
        None,
        None,
    ]


def test_many_distinct_codes_keep_index():
    """A column of distinct document numbers keeps its values and its index."""
    numbers = [f"20251201-{i:05d}" for i in range(20_000)]
    series = pd.Series(numbers, index=np.arange(20_000) * 2, dtype="str")
    parsed = parse_codes(series)
    assert parsed.values.index.equals(series.index)
    assert parsed.values.tolist() == numbers
    assert parsed.errors.isna().all()
    assert parsed.warnings.isna().all()


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ([], []),
        ([None, None], [pd.NA, pd.NA]),
        ([1.0, " a "], ["1", "a"]),
        ([17850.0, None], ["17850", pd.NA]),
    ],
)
def test_columns_not_all_text(column, expected):
    """Empty, all-missing and mixed columns: the per-value path as before."""
    series = pd.Series(column, dtype=object)
    assert V._arrow_text(series) is None
    parsed = parse_codes(series)
    assert parsed.values.tolist() == expected
    assert parsed.values.dtype == pd.StringDtype(na_value=pd.NA)
