"""Match keys: partner names, regions, phone numbers."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerflow.names import (
    normalise_name,
    normalise_names,
    phone_key,
    region_of,
    regions_of,
)

# Hangul syllables, ASCII letters and digits, spaces and the punctuation exports use.
_NAME_CHARS = st.one_of(
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
    st.sampled_from(list("abcXYZ019 .,-&()㈜（）ＡＢ")),
)
_CORE = st.text(_NAME_CHARS, min_size=1, max_size=12)
# A core that carries something identifying (the forms themselves are stripped).
_CORE_WITH_HANGUL = st.builds(
    lambda head, tail: head + tail,
    st.text(st.characters(min_codepoint=0xB098, max_codepoint=0xB0FF), min_size=1),
    _CORE,
)


@given(st.text(max_size=30))
def test_normalise_name_is_idempotent_on_any_text(text):
    """Applying the key twice changes nothing, whatever the input."""
    once = normalise_name(text)
    assert normalise_name(once) == once


@given(_CORE)
def test_normalise_name_is_idempotent_on_name_like_text(core):
    for text in (f"(주){core}", f"{core} Co., Ltd.", f"주식회사 {core}", core):
        once = normalise_name(text)
        assert normalise_name(once) == once


@given(_CORE_WITH_HANGUL)
def test_korean_legal_forms_give_the_same_key(core):
    """(주)X == 주식회사 X == ㈜X == X 주식회사 == X(주) == X."""
    plain = normalise_name(core)
    forms = [f"(주){core}", f"주식회사 {core}", f"㈜{core}", f"{core} 주식회사"]
    forms += [f"{core}(주)", f"（주）{core}", f"(주) {core}"]
    assert [normalise_name(f) for f in forms] == [plain] * len(forms)


@given(st.text(st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), min_size=1))
def test_nfd_hangul_gives_the_nfc_key(text):
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert normalise_name(nfd) == normalise_name(text) == text


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("(주)한빛상사", "한빛상사"),
        ("한빛상사(주)", "한빛상사"),
        ("주)한빛상사", "한빛상사"),
        ("(유)세진건설", "세진건설"),
        ("(유한)성원건설", "성원건설"),
        ("유한회사 세진건설", "세진건설"),
        ("(재)천주교서울대교구유지재단", "천주교서울대교구유지재단"),
        ("재단법인 천주교서울대교구유지재단", "천주교서울대교구유지재단"),
        ("(사)한국무역협회", "한국무역협회"),
        ("사단법인 한국무역협회", "한국무역협회"),
        ("ＡＢＣ　상사", "abc상사"),
        ("Samsung Co., Ltd.", "samsung"),
        ("ACME INC.", "acme"),
        ("Acme Corp", "acme"),
        ("Widgets LLC", "widgets"),
        ("British Telecommunications Plc", "britishtelecommunications"),
        ("Four Seasons Healthcare Limited", "fourseasonshealthcare"),
        ("Marks & Spencer", "marksspencer"),
        ("Co", "co"),
        ("(주)", None),
        ("  ", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_name_examples(name, key):
    assert normalise_name(name) == key


def test_suffix_only_removed_at_the_end():
    assert normalise_name("Ltd Holdings") == "ltdholdings"
    assert normalise_name("Co-op Funeralcare") == "coopfuneralcare"


def test_normalise_names_keeps_index_and_missing_values():
    values = pd.Series(["㈜한빛", pd.NA, "한빛 주식회사", "(주)"], index=[5, 6, 7, 8])
    out = normalise_names(values.astype("string"))
    assert out.dtype == "string"
    assert out.index.tolist() == [5, 6, 7, 8]
    assert out.tolist() == ["한빛", pd.NA, "한빛", pd.NA]
    assert normalise_names(pd.Series([], dtype="string")).tolist() == []


@pytest.mark.parametrize(
    ("address", "region"),
    [
        ("서울특별시 중구 명동길", "서울"),
        ("서울 중구 가상로 12", "서울"),
        ("경기도 광주시 도척면", "경기"),
        ("광주광역시 북구", "광주"),
        ("충청남도 공주시", "충남"),
        ("전북특별자치도 전주시", "전북"),
        ("강원특별자치도 춘천시", "강원"),
        ("제주특별자치도 제주시", "제주"),
        ("세종특별자치시 전동면", "세종"),
        ("성남시 분당구", None),
        ("London SW1A 1AA", None),
        ("", None),
        (None, None),
    ],
)
def test_region_of(address, region):
    assert region_of(address) == region


def test_regions_of_series():
    out = regions_of(pd.Series(["부산 중구", None, "경상북도 경주시"], dtype="string"))
    assert out.tolist() == ["부산", pd.NA, "경북"]


@pytest.mark.parametrize(
    ("phone", "key"),
    [
        ("010-1234-5678", "01012345678"),
        ("+82 10 1234 5678", "01012345678"),
        ("(02) 123-4567", "021234567"),
        ("０２－１２３－４５６７", "021234567"),
        ("123-45", None),
        (None, None),
    ],
)
def test_phone_key(phone, key):
    assert phone_key(phone) == key
