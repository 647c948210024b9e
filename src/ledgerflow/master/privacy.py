"""Personal data in the master: resident numbers, phones and emails, masked.

주민등록번호 (RRN) sometimes sits in a sole proprietor's code or number field; it
is masked wherever the master shows it. Phones and emails are kept in the internal
master only; shared workbooks use the mask_* helpers or leave them out.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pandas as pd

from ledgerflow.names import distinct, phone_key

# 주민등록번호: YYMMDD, then 1-8 (century and sex), then six digits; hyphen optional.
_RRN = re.compile(
    r"(?<!\d)(\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
    r"[ \t]*-?[ \t]*([1-8])\d{6}(?!\d)"
)
_WIDE = re.compile("[０-９]")  # full-width digits: check the NFKC form too


def mask_rrn_text(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    if not _RRN.search(folded):
        return text
    return _RRN.sub(lambda m: f"{m.group(1)}-{m.group(2)}******", folded)


def has_rrn(text: str | None) -> bool:
    """True when ``text`` holds something shaped like a 주민등록번호."""
    if text is None or text is pd.NA:
        return False
    return bool(_RRN.search(unicodedata.normalize("NFKC", str(text))))


def has_rrn_values(values: pd.Series) -> pd.Series:
    hits = [v for v in distinct(values) if has_rrn(v)]
    return values.isin(hits).fillna(False).astype(bool)


def mask_rrn(values):
    """Resident registration numbers masked: 900101-1234567 -> 900101-1******.

    Takes a str (or None) or a Series; any other text in the value is kept.
    """
    return _map_text(values, mask_rrn_text)


def _mask_phone_text(text: str) -> str:
    digits = phone_key(text) or re.sub(r"\D", "", unicodedata.normalize("NFKC", text))
    if len(digits) < 7:
        return "*" * len(digits) if digits else text
    head = 2 if digits.startswith("02") else 3
    return f"{digits[:head]}-{'*' * (len(digits) - head - 4)}-{digits[-4:]}"


def mask_phone(values):
    """Phone numbers with the middle digits hidden: 010-1234-5678 -> 010-****-5678.

    Seoul numbers keep the 02 area code (02-123-4567 -> 02-***-4567); +82 becomes 0.
    Takes a str (or None) or a Series, for workbooks that are shared outside.
    """
    return _map_text(values, _mask_phone_text)


def _mask_email_text(text: str) -> str:
    local, at, domain = text.strip().rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_email(values):
    """Email addresses with the local part hidden: hong@example.com -> h***@example.com.

    Takes a str (or None) or a Series.
    """
    return _map_text(values, _mask_email_text)


def _mask_bank_text(text: str) -> str:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text))
    return "****" + digits[-4:] if len(digits) > 4 else "****"


def mask_bank_account(values):
    """A bank account shown by its last 4 digits only: 123-456-789012 -> ****9012.

    Every workbook shows accounts this way, the internal master too: enough to
    recognise an account on the phone, not enough to pay into it. Takes a str (or
    None) or a Series.
    """
    return _map_text(values, _mask_bank_text)


def bank_fingerprint(digits: str | None) -> str | None:
    """What the registry keeps of an account: a SHA-256 of its digits, not them.

    Enough to tell next month whether the account changed. The registry is
    internal state; a fingerprint of a short number can be guessed by trying every
    number, so keep the .state folder as private as the inputs.
    """
    if digits is None or digits is pd.NA:
        return None
    return "sha256:" + hashlib.sha256(str(digits).encode("ascii")).hexdigest()[:32]


def _map_text(values, function):
    if isinstance(values, pd.Series):
        if values.empty:
            return values.astype("string")
        uniques = distinct(values)
        return values.map({v: function(str(v)) for v in uniques}).astype("string")
    if values is None or values is pd.NA:
        return None
    return function(str(values))


def mask_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A copy with 주민등록번호 masked in ``columns``."""
    out = frame.copy()
    for column in columns:
        if column not in out or not len(out):
            continue
        text = out[column].astype("string")
        # Look at each distinct value once; most hold no 13-digit run at all.
        hits = [v for v in distinct(text) if _RRN.search(v) or _WIDE.search(v)]
        if hits:
            masked = {v: mask_rrn_text(v) for v in hits}
            text = text.mask(text.isin(hits), text.map(masked, na_action="ignore"))
        out[column] = text
    return out
