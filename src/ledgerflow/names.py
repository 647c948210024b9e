"""Match keys for partner names, regions and phone numbers.

The same partner is spelt ``(주)한빛상사``, ``㈜한빛상사``, ``주식회사 한빛상사`` and
``한빛상사(주)`` in different exports, sometimes in NFD Hangul (macOS file names and
some web downloads) or with full-width letters. A match key throws away everything
that does not tell two partners apart, so that equal keys mean "same written name".
Keys are for matching only; the master always shows a name as a source wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pandas as pd

# Legal-form markers in parentheses: (주) 주식회사, (유) 유한회사, (재) 재단법인,
# (사) 사단법인, (합) 합자/합명회사. NFKC turns ㈜ into (주) and （주） into (주) first.
_PAREN_FORM = re.compile(r"\(\s*(?:주|유한|유|재단|재|사단|사|합자|합명|합)\s*\)")
# A parenthesis lost at the start or the end: "주)한빛", "한빛(주".
_BROKEN_FORM = re.compile(r"^\s*(?:주|유)\s*\)|\(\s*(?:주|유)\s*$")
# Legal forms written out; removed from the letters-only key, so spacing is irrelevant.
_WORD_FORM = re.compile(
    "주식회사|유한책임회사|유한회사|합자회사|합명회사|재단법인|사단법인"
)
# English company suffixes, removed from the end only ("Co., Ltd.", "Inc", "PLC").
_ENGLISH_SUFFIXES = frozenset(
    {
        "co",
        "company",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "llc",
        "llp",
        "plc",
    }
)
_TOKEN = re.compile(r"[^\W_]+")
_SETTLED = re.compile("[0-9a-z가-힣]*")

# Korean provinces and metropolitan cities (시/도) in their full, old and short forms,
# keyed by the first word of an address.
_REGIONS = {
    "서울": ("서울특별시", "서울시", "서울"),
    "부산": ("부산광역시", "부산시", "부산"),
    "대구": ("대구광역시", "대구시", "대구"),
    "인천": ("인천광역시", "인천시", "인천"),
    "광주": ("광주광역시", "광주"),
    "대전": ("대전광역시", "대전시", "대전"),
    "울산": ("울산광역시", "울산시", "울산"),
    "세종": ("세종특별자치시", "세종시", "세종"),
    "경기": ("경기도", "경기"),
    "강원": ("강원도", "강원특별자치도", "강원"),
    "충북": ("충청북도", "충북"),
    "충남": ("충청남도", "충남"),
    "전북": ("전라북도", "전북특별자치도", "전북"),
    "전남": ("전라남도", "전남"),
    "경북": ("경상북도", "경북"),
    "경남": ("경상남도", "경남"),
    "제주": ("제주특별자치도", "제주도", "제주"),
}
_REGION_OF_WORD = {form: short for short, forms in _REGIONS.items() for form in forms}


def _blank(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and value != value


def _one_pass(text: str) -> str:
    """One round of folding and stripping; normalise_name repeats it to a fixpoint."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKC", text)
    text = _PAREN_FORM.sub(" ", text)
    text = _BROKEN_FORM.sub(" ", text)
    words = _TOKEN.findall(text)
    while len(words) > 1 and words[-1] in _ENGLISH_SUFFIXES:
        words.pop()
    text = "".join(words)
    previous = None
    while previous != text:
        previous, text = text, _WORD_FORM.sub("", text)
    return text


@lru_cache(maxsize=262_144)
def _normalise_text(text: str) -> str | None:
    # Folding can expose a new form (NFKC recomposing jamo split by a marker, or
    # "주식-회사" joined into 주식회사), so repeat until nothing changes.
    folded = _one_pass(text)
    if _SETTLED.fullmatch(folded):
        # ASCII letters, digits and composed syllables only: another pass would
        # change nothing (the forms are gone, there is one token, NFKC is a no-op).
        return folded or None
    text = folded
    for _ in range(8):
        folded = _one_pass(text)
        if folded == text:
            break
        text = folded
    return text or None


def distinct(values: pd.Series) -> list:
    """The distinct non-missing values of a Series, as a plain list (fast to loop)."""
    return pd.unique(values.dropna().to_numpy(dtype=object)).tolist()


def normalise_name(name: str | None) -> str | None:
    """The match key of a partner name, or None when nothing identifying is left.

    Rules:
    - Unicode NFKC: full-width forms fold to ASCII, NFD Hangul composes, ㈜ -> (주).
    - Case folded; spaces, punctuation and symbols removed (letters and digits stay).
    - Korean legal forms removed anywhere: (주) 주식회사 (유) 유한회사 (유한) (재)
      재단법인 (사) 사단법인 (합) 합자회사 합명회사 유한책임회사, and a (주) whose
      parenthesis was lost at the start or end ("주)한빛").
    - English suffixes removed from the end: Co., Ltd., Limited, Inc., Corp., LLC,
      LLP, PLC (a name that is only a suffix keeps it).
    - Idempotent: normalise_name(normalise_name(x)) == normalise_name(x).
    """
    if _blank(name):
        return None
    return _normalise_text(str(name))


def normalise_names(values: pd.Series) -> pd.Series:
    """normalise_name over a Series (each distinct value computed once), as "string"."""
    if values.empty:
        return pd.Series([], index=values.index, dtype="string")
    uniques = distinct(values)
    keys = {value: normalise_name(value) for value in uniques}
    return values.map(keys).astype("string")


def region_of(text: str | None) -> str | None:
    """The short 시/도 name (서울, 경기, 충남 ...) an address or region starts with.

    None when the first word is not a Korean province or metropolitan city (a foreign
    address, a blank cell, a district without its province).
    """
    if _blank(text):
        return None
    words = unicodedata.normalize("NFKC", str(text)).split()
    if not words:
        return None
    return _REGION_OF_WORD.get(words[0].strip(",()"))


def regions_of(values: pd.Series) -> pd.Series:
    """region_of over a Series, as "string"."""
    if values.empty:
        return pd.Series([], index=values.index, dtype="string")
    uniques = distinct(values)
    return values.map({value: region_of(value) for value in uniques}).astype("string")


def phone_key(phone: str | None) -> str | None:
    """Digits of a phone number, +82 folded to 0; None when under 9 digits."""
    if _blank(phone):
        return None
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", str(phone)))
    if digits.startswith("82") and len(digits) >= 10:
        digits = "0" + digits[2:]
    return digits if len(digits) >= 9 else None


def phone_keys(values: pd.Series) -> pd.Series:
    """phone_key over a Series, as "string"."""
    if values.empty:
        return pd.Series([], index=values.index, dtype="string")
    uniques = distinct(values)
    return values.map({value: phone_key(value) for value in uniques}).astype("string")
