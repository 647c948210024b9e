"""Text exports (csv, tsv, txt, "xls" that is really text): encoding, separator, rows.

Business rules:

- Encoding, in this order: a BOM (UTF-8, UTF-16 LE/BE); UTF-16 without a BOM (NUL
  in every other byte); strict UTF-8; CP949. CP949 is a superset of EUC-KR: a file with
  샾 or 똠 is CP949 and fails as EUC-KR, so EUC-KR is never tried alone. Decoding is
  always strict: a character that does not decode refuses the file, it is never
  replaced (a replaced character in a partner name is a silent data error).
- Separator: comma, semicolon, tab or pipe, whichever splits the most lines into the
  same number (> 1) of fields; quotes are honoured.
- Every cell is text; a spreadsheet row number is the record number (1-based), blank
  lines included, as Excel would show the file.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter
from dataclasses import dataclass, field

from ledgerflow.errors import FileRefused

logger = logging.getLogger(__name__)

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
SEPARATORS = (",", "\t", ";", "|")
_SNIFF_LINES = 50


@dataclass
class TextTable:
    """A text file split into rows of text cells."""

    rows: list[list[str]]
    encoding: str
    separator: str
    notes: list[str] = field(default_factory=list)


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > len(sample) // 8 and even * 4 < odd:
        return "utf-16-le"
    if even > len(sample) // 8 and odd * 4 < even:
        return "utf-16-be"
    return None


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name) by the rules above; FileRefused when nothing fits."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise FileRefused(
                    "file_encoding_unknown",
                    f"the file starts with a {encoding} byte-order mark but byte "
                    f"{exc.start} does not decode as {encoding}; save it again as "
                    "UTF-8 or CP949 csv",
                ) from exc
    # NULs in every other byte: UTF-16 without a BOM (plain UTF-8 would accept it).
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp949"), "cp949"
    except UnicodeDecodeError as exc:
        raise FileRefused(
            "file_encoding_unknown",
            "the text is neither UTF-8, UTF-16 nor CP949 (byte "
            f"{exc.start}: 0x{data[exc.start]:02x}); save it again as UTF-8 csv",
        ) from exc


def _split(lines: list[str], separator: str) -> list[list[str]]:
    return list(csv.reader(lines, delimiter=separator, quotechar='"'))


def sniff_separator(text: str) -> str:
    """The separator that splits the most of the first lines into equal field counts."""
    lines = [line for line in text.splitlines()[: _SNIFF_LINES * 2] if line.strip()]
    lines = lines[:_SNIFF_LINES]
    best, best_score = ",", (0, 0)
    for separator in SEPARATORS:
        if not any(separator in line for line in lines):
            continue
        try:
            counts = Counter(len(r) for r in _split(lines, separator) if r)
        except csv.Error:
            continue
        counts.pop(1, None)
        if not counts:
            continue
        width, lines_with_width = counts.most_common(1)[0]
        score = (lines_with_width, width)
        if score > best_score:
            best, best_score = separator, score
    return best


def read_text(data: bytes) -> TextTable:
    """Decode and split a text export into rows of text cells."""
    text, encoding = decode(data)
    if "\x00" in text:
        raise FileRefused(
            "file_format_unknown",
            f"the text ({encoding}) holds NUL characters, so it is not a csv/txt "
            "export; export the data again",
        )
    separator = sniff_separator(text)
    try:
        rows = list(
            csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=False)
        )
    except csv.Error as exc:
        raise FileRefused(
            "file_format_unknown", f"the text could not be split into fields ({exc})"
        ) from exc
    logger.debug("text: %s, separator %r, %d records", encoding, separator, len(rows))
    return TextTable(rows=rows, encoding=encoding, separator=separator)
