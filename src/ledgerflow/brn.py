"""사업자등록번호 (business registration number, BRN): shape, check digit, kind.

A BRN has 10 digits, written 123-45-67890:

- digits 1-3: the serial code of the tax office that issued it (101-999);
- digits 4-5: the kind of business (개인/법인 구분코드, see ``_KINDS``);
- digits 6-9: a serial number;
- digit 10: a check digit over the first nine (``brn_check_digit``).

Public data often masks a BRN: the NPS workplace list keeps only the first 6 digits
(126811), other lists star out the tail (123-45-*****). Such values are "partial":
they still say which tax office and which kind of business, but cannot be checked.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = [
    "BRN_KINDS",
    "BRN_STATUSES",
    "brn_check_digit",
    "brn_kind",
    "brn_status",
    "check_brns",
    "format_brn",
    "normalise_brn",
]

BRN_STATUSES = ("valid", "invalid_checksum", "wrong_length", "partial", "missing")

# Digits 4-5 (개인/법인 구분코드) as the National Tax Service assigns them.
_KINDS: dict[str, str] = {
    **{f"{n:02d}": "sole_proprietor_taxable" for n in range(1, 80)},  # 개인 과세
    "80": "other_non_corporate",  # 아파트관리사무소 등, 다단계판매원
    "81": "corporation_head_office",  # 영리법인 본점
    "82": "non_profit",  # 비영리법인 본점·지점, 법인으로 보는 단체
    "83": "public_body",  # 국가, 지방자치단체, 지방자치단체조합
    "84": "foreign_corporation",  # 외국법인 본점·지점·연락사무소
    "85": "corporation_branch",  # 영리법인 지점
    "86": "corporation_head_office",
    "87": "corporation_head_office",
    "88": "corporation_head_office",
    "89": "religious_body",  # 법인이 아닌 종교단체
    **{f"{n}": "sole_proprietor_tax_exempt" for n in range(90, 100)},  # 개인 면세
}
BRN_KINDS = tuple(dict.fromkeys(_KINDS.values()))

_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
_PARTIAL_DIGITS = 6  # the NPS list publishes the first 6 digits only
# Characters that stand for a hidden digit in a masked BRN.
_MASK = str.maketrans(dict.fromkeys("*xX●•", "*"))
_KEEP = re.compile(r"[^0-9*]")
_MASKED = re.compile(r"\d*\*+")
_EXACT_FLOAT_LIMIT = 2**53
# Statuses whose digits 4-5 can be trusted to tell the kind of business.
_KIND_KNOWN = ("valid", "invalid_checksum", "partial")


def normalise_brn(value: object) -> str | None:
    """The digits of a BRN cell: "123-45-67890", "１２３ ４５ ６７８９０" and the number
    1234567890 all give "1234567890". None for a blank cell.

    - Full-width digits become ASCII (NFKC); hyphens, spaces and other separators go.
    - A masked digit (*, x, X, ●) is kept as "*": "123-45-*****" -> "12345*****".
    - Number cells give their integer digits (1234567890.0 -> "1234567890").
    - Text without any digit ("N/A", "-") is returned as it is (not None: the
      cell was not blank); its status is "wrong_length".
    - Idempotent: normalising a normalised value changes nothing.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if math.isfinite(value) and value.is_integer() and value < _EXACT_FLOAT_LIMIT:
            return str(int(value))
    if isinstance(value, bool | np.bool_):
        return ""
    if isinstance(value, int | np.integer):
        return str(int(value))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    digits = _KEEP.sub("", text.translate(_MASK))
    # Text without a single digit ("N/A", "-", "없음") is kept as it is: the cell was
    # not blank, and what it said stays visible (its status is "wrong_length").
    return digits or text


def brn_check_digit(first9: str) -> int:
    """The check digit of a BRN from its first nine digits.

    Weights 1,3,7,1,3,7,1,3,5 over the nine digits, plus the tens digit of
    5 × the ninth digit; the check digit is (10 - sum % 10) % 10. The final "% 10"
    matters: without it every number whose check digit is 0 is refused.
    """
    if len(first9) != 9 or not first9.isascii() or not first9.isdigit():
        raise ValueError(f"brn_check_digit: expected 9 digits (got {first9!r})")
    digits = [int(c) for c in first9]
    total = sum(d * w for d, w in zip(digits, _WEIGHTS, strict=True))
    total += digits[8] * 5 // 10
    return (10 - total % 10) % 10


def brn_status(digits: str | None) -> str:
    """What a (normalised) BRN is worth: one of ``BRN_STATUSES``.

    - "missing": None (a blank cell).
    - "valid" / "invalid_checksum": 10 digits, check digit right / wrong.
    - "partial": only leading digits are known: exactly 6 digits (the NPS public
      list) or digits followed by masked ones ("12345*****"), at most 10 in all.
    - "wrong_length": anything else (5 digits, 11 digits, "N/A", "-").
    A raw value ("123-45-67890") is normalised first.
    """
    if digits is None:
        return "missing"
    digits = normalise_brn(digits)
    if digits is None:
        return "missing"
    if digits.isdigit() and len(digits) == 10:
        valid = brn_check_digit(digits[:9]) == int(digits[9])
        return "valid" if valid else "invalid_checksum"
    if digits.isdigit() and len(digits) == _PARTIAL_DIGITS:
        return "partial"
    if len(digits) <= 10 and _MASKED.fullmatch(digits):
        return "partial"
    return "wrong_length"


def brn_kind(digits: str) -> str | None:
    """The kind of business from digits 4-5, or None when unknown.

    Codes: sole_proprietor_taxable (01-79), other_non_corporate (80: apartment
    management offices, multi-level sales agents), corporation_head_office
    (81, 86, 87, 88), non_profit (82), public_body (83), foreign_corporation (84),
    corporation_branch (85), religious_body (89), sole_proprietor_tax_exempt
    (90-99). Works on partial numbers that keep those digits (126811 -> 81).
    """
    digits = normalise_brn(digits)
    if not digits or len(digits) < 5 or not digits[3:5].isdigit():
        return None
    return _KINDS.get(digits[3:5])


def format_brn(digits: str) -> str:
    """A 10-digit BRN as people write it: "1234567890" -> "123-45-67890"."""
    normal = normalise_brn(digits)
    if normal is None or len(normal) != 10:
        raise ValueError(f"format_brn: expected 10 digits (got {digits!r})")
    return f"{normal[:3]}-{normal[3:5]}-{normal[5:]}"


def check_brns(values: pd.Series) -> pd.DataFrame:
    """Normalise and check a column of BRN cells.

    Returns a frame with the index of ``values`` and the columns ``brn``
    (normalised digits), ``brn_status`` and ``brn_kind``, all "string" dtype (NA
    where blank / unknown). The kind is left out for "wrong_length" numbers, whose
    digits 4-5 may be anything. Each distinct value is worked out once.
    """
    raw = values.to_numpy(dtype=object)
    seen: dict[tuple[type, object], tuple] = {}
    rows = []
    for value in raw:
        key = (type(value), value)
        try:
            row = seen.get(key)
        except TypeError:  # an unhashable cell
            key, row = None, None
        if row is None:
            digits = normalise_brn(None if _is_na(value) else value)
            status = brn_status(digits)
            row = (
                digits,
                status,
                brn_kind(digits) if status in _KIND_KNOWN else None,
            )
            if key is not None:
                seen[key] = row
        rows.append(row)
    frame = pd.DataFrame(
        rows, columns=["brn", "brn_status", "brn_kind"], index=values.index
    )
    frame = frame.astype("string")
    logger.debug("brn: %d values, %d distinct", len(raw), len(seen))
    return frame


def _is_na(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
