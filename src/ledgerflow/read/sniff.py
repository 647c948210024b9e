"""What a file really is, decided by its bytes, never by its extension.

Staff rename files freely and systems lie: an encrypted .xlsx is an OLE2 compound file,
many ERPs save an HTML table or tab-separated text as .xls, and a CSV may be called
.txt. ``sniff`` looks at the content and names one of FORMATS.
"""

from __future__ import annotations

import io
import logging
import os
import zipfile

from ledgerflow.errors import FileRefused
from ledgerflow.labels import message

logger = logging.getLogger(__name__)

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_MARKS = (b"<html", b"<!doctype html", b"<table", b"<meta", b"<head", b"<body")
_XML_SPREADSHEET = b"urn:schemas-microsoft-com:office:spreadsheet"

# xlsx: OOXML workbook (also xlsm); xls: BIFF in an OLE2 file; ole_encrypted: an
# encrypted Office file; html: an HTML table saved as .xls; text: csv/tsv/txt.
FORMATS = ("xlsx", "xls", "ole_encrypted", "html", "xml_spreadsheet", "text")


def _looks_like_html(head: bytes) -> bool:
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith(b"<?xml") and _XML_SPREADSHEET in head:
        return False
    return any(mark in lowered[:2048] for mark in _HTML_MARKS)


def _looks_binary(data: bytes) -> bool:
    """NUL bytes outside a UTF-16 text, or many control bytes: not a text export."""
    sample = data[:65536]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    nuls = sample.count(0)
    if nuls:
        # UTF-16 without a BOM has a NUL in every other byte of ASCII text.
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        utf16 = (
            max(even, odd) > len(sample) // 4 > 0 and min(even, odd) < len(sample) // 50
        )
        return not utf16
    controls = sum(
        sample.count(bytes([b])) for b in range(1, 32) if b not in b"\t\n\r\f"
    )
    return controls > max(8, len(sample) // 100)


def sniff(data: bytes) -> str:
    """The format of ``data`` (one of FORMATS); FileRefused when it is none of them."""
    if not data.strip():
        raise FileRefused("file_empty", message("empty_no_bytes"))
    if data.startswith(ZIP_MAGIC):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile as exc:
            raise FileRefused(
                "file_corrupt",
                f"the file starts like a zip/xlsx but is damaged ({exc}); save it "
                "again from Excel or download it again",
            ) from exc
        if "xl/workbook.xml" in names or any(n.startswith("xl/") for n in names):
            return "xlsx"
        raise FileRefused(
            "file_format_unknown",
            "the file is a zip archive but not an Excel workbook (no xl/workbook.xml); "
            "unpack it and drop the export itself",
        )
    if data.startswith(OLE2_MAGIC):
        return "ole_encrypted" if _ole_is_encrypted(data) else "xls"
    if _looks_like_html(data[:4096]):
        return "html"
    stripped = data[:8192].lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<?xml") and _XML_SPREADSHEET in stripped:
        return "xml_spreadsheet"
    if _looks_binary(data):
        raise FileRefused(
            "file_format_unknown",
            "the content is neither an Excel workbook (xlsx, xls) nor text (csv, txt); "
            "export the data again as xlsx or csv",
        )
    return "text"


def _ole_is_encrypted(data: bytes) -> bool:
    import msoffcrypto

    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # an OLE2 file msoffcrypto does not know: let the xls path say
        logger.debug("msoffcrypto could not inspect an OLE2 file", exc_info=True)
        return False


def decrypt(data: bytes, password_env: str) -> bytes:
    """The decrypted bytes of an encrypted workbook, in memory.

    The password comes only from the environment variable ``password_env`` (it is
    never logged, never written). Without one: FileRefused("file_encrypted"); with a
    wrong one: FileRefused("file_wrong_password").
    """
    import msoffcrypto
    from msoffcrypto.exceptions import InvalidKeyError

    password = os.environ.get(password_env, "") if password_env else ""
    if not password:
        raise FileRefused(
            "file_encrypted", message("password_env_hint", variable=password_env)
        )
    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    out = io.BytesIO()
    try:
        office.load_key(password=password)
        office.decrypt(out)
    except InvalidKeyError as exc:
        raise FileRefused(
            "file_wrong_password", message("password_env_wrong", variable=password_env)
        ) from exc
    except Exception as exc:  # msoffcrypto raises plain exceptions for odd files
        if "password" in str(exc).lower() or "key" in str(exc).lower():
            raise FileRefused(
                "file_wrong_password",
                f"the password in {password_env} does not open this workbook ({exc})",
            ) from exc
        raise FileRefused(
            "file_corrupt", f"the encrypted workbook could not be decrypted ({exc})"
        ) from exc
    return out.getvalue()
