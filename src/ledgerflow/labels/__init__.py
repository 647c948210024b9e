"""The label catalogue: column headers, rule reasons and phrases, in Korean and English.

Each stage owns one TOML file in this folder (values.toml, read.toml, validate.toml,
master.toml, metrics.toml, columns.toml, report.toml); this module merges them all.
A file may hold these sections, each entry with a ``ko`` and an ``en`` text:

- ``[rules.<code>]``: why a row or file was not used; ``reason()`` appends the detail.
- ``[columns.<key>]``: a column header, with an optional ``kind`` (see KINDS) that
  tells the workbook writer how to format the values.
- ``[sheets.<key>]``: a sheet title; may hold ``{name}`` placeholders.
- ``[phrases.<key>]``: a sentence for notes; may hold ``{name}`` placeholders.

Stages never write a sentence themselves: a reject's or skip's ``detail`` and a
stage's note are either language-neutral (numbers, dates, values as written) or a
*coded message* made by ``message(code, name=value, ...)``, stored as the text
``"code|name=value|name=value"`` (run.json and logs keep it as is) and turned into a
sentence in the reader's language by ``render()`` from ``[phrases.<code>]``. A value
made by ``term(key)`` is itself shown in the language (a phrase or column label).

Rules of the merge:

- Files are read in name order. The same entry in two files must say the same thing;
  when it does not, the first file wins and a warning names both files.
- A key missing from the catalogue never stops a run: the key itself is shown and a
  warning is logged once per key, so the gap is visible but the report still comes out.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

LANGS = ("ko", "en")
SECTIONS = ("rules", "columns", "sheets", "phrases")
# How the workbook writer formats a column: money (#,##0), int, number (one
# decimal), percent (a fraction shown as 0.0%), date, text, bool.
KINDS = ("money", "int", "number", "percent", "date", "text", "bool")

FOLDER = Path(__file__).resolve().parent


@dataclass
class Catalogue:
    """The merged entries of every catalogue file, plus what looked wrong in them."""

    entries: dict[str, dict[str, dict]] = field(
        default_factory=lambda: {section: {} for section in SECTIONS}
    )
    origin: dict[tuple[str, str], str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def load_catalogue(folder: Path | None = None) -> Catalogue:
    """Merge every ``*.toml`` in ``folder`` (default: this package's folder).

    Problems (a missing language, an unknown kind, two files disagreeing) are
    recorded in ``problems`` rather than raised: a report must still come out.
    """
    catalogue = Catalogue()
    for path in sorted((folder or FOLDER).glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            catalogue.problems.append(f"{path.name}: not valid TOML ({exc})")
            continue
        for section, items in data.items():
            if section not in SECTIONS or not isinstance(items, dict):
                catalogue.problems.append(
                    f"{path.name}: unknown section [{section}]; expected one of "
                    f"{', '.join(SECTIONS)}"
                )
                continue
            for key, entry in items.items():
                _add(catalogue, path.name, section, key, entry)
    return catalogue


def _add(catalogue: Catalogue, file: str, section: str, key: str, entry) -> None:
    where = f"{file}: [{section}.{key}]"
    if not isinstance(entry, dict):
        catalogue.problems.append(f"{where}: expected a table with ko and en")
        return
    missing = [lang for lang in LANGS if not str(entry.get(lang, "")).strip()]
    if missing:
        catalogue.problems.append(f"{where}: no text for {', '.join(missing)}")
    if section == "columns" and entry.get("kind", "text") not in KINDS:
        catalogue.problems.append(
            f"{where}: kind {entry['kind']!r} is not one of {', '.join(KINDS)}"
        )
    known = catalogue.entries[section].get(key)
    if known is None:
        catalogue.entries[section][key] = entry
        catalogue.origin[(section, key)] = file
    elif known != entry:
        first = catalogue.origin[(section, key)]
        catalogue.problems.append(f"{where}: differs from {first}; {first} wins")


@cache
def _catalogue() -> Catalogue:
    catalogue = load_catalogue()
    for problem in catalogue.problems:
        log.warning("label catalogue %s", problem)
    return catalogue


@cache
def _warn_missing(section: str, key: str) -> None:
    # cached: one warning per missing key per process, not one per cell
    log.warning(
        "label catalogue: no [%s.%s] entry; showing the key itself (add it to the "
        "stage's TOML file in src/ledgerflow/labels/)",
        section,
        key,
    )


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGS)}")


def _text(section: str, key: str, lang: str) -> str | None:
    _check_lang(lang)
    entry = _catalogue().entries[section].get(key)
    if entry is None or not entry.get(lang):
        _warn_missing(section, key)
        return None
    return str(entry[lang])


def has(section: str, key: str) -> bool:
    """Whether the catalogue has an entry ``[section.key]``."""
    return key in _catalogue().entries[section]


def label(key: str, lang: str) -> str:
    """The header of column ``key`` in ``lang`` ("ko" or "en"); the key if unknown."""
    return _text("columns", key, lang) or key


def kind(key: str) -> str:
    """How column ``key`` is formatted (one of KINDS); "text" when not declared."""
    entry = _catalogue().entries["columns"].get(key) or {}
    return str(entry.get("kind", "text"))


def reason(rule: str, lang: str, detail: str = "") -> str:
    """The sentence for rule code ``rule``, with ``detail`` in brackets when given.

    The detail is rendered first (a coded message becomes a sentence in ``lang``):
    reason("vat_mismatch", "ko", message("got_expected", got="89,000",
    expected="98,000")) -> "부가세 불일치 (89,000, 기대 98,000)". An unknown rule
    shows its code, so nothing is silently dropped.
    """
    text = _text("rules", rule, lang) or rule
    shown = render(detail, lang) if detail else ""
    return f"{text} ({shown})" if shown else text


_SEP, _TERM = "|", "@"
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_ESCAPES = (("%", "%25"), ("|", "%7C"), ("@", "%40"), (";", "%3B"))
_JOIN = "; "


class Term(str):
    """A value of ``message()`` shown in the reader's language: the phrase ``key``
    (else the column label ``key``), e.g. Term("source_kind_sales") -> 매출 / sales.
    """


def term(key: str) -> Term:
    """``Term(key)``: a catalogue key as a message value."""
    return Term(key)


def message(code: str, **values) -> str:
    """A language-neutral message: ``"code|name=value|..."`` for ``render()``.

    ``code`` names a ``[phrases.<code>]`` template whose ``{name}`` placeholders are
    filled from ``values``. Values are written with ``str()``: format numbers and
    dates before (1,250 and 2024-03-31 read the same in both languages).
    """
    if not _CODE.match(code):
        raise ValueError(f"message code {code!r}: expected snake_case")
    parts = [code]
    for name, value in values.items():
        if isinstance(value, Term):
            text = _TERM + str(value)
        else:
            text = _escape("" if value is None else str(value))
        parts.append(f"{name}={text}")
    return _SEP.join(parts)


def _escape(text: str) -> str:
    for char, code in _ESCAPES:
        text = text.replace(char, code)
    return text


def _unescape(text: str) -> str:
    for char, code in reversed(_ESCAPES):
        text = text.replace(code, char)
    return text


def decode(text: str) -> tuple[str, dict[str, str]] | None:
    """``(code, values)`` of a message made by ``message()``; None for plain text.

    Values made by ``term()`` come back as ``Term``; plain values are unescaped.
    """
    parts = str(text).split(_SEP)
    code = parts[0]
    if not _CODE.match(code) or not has("phrases", code):
        return None
    values = {}
    for part in parts[1:]:
        name, eq, value = part.partition("=")
        if not eq or not name.isidentifier():
            return None
        values[name] = Term(value[1:]) if value[:1] == _TERM else _unescape(value)
    return code, values


def render(text: str, lang: str) -> str:
    """``text`` for a person reading ``lang``: a coded message as its sentence,
    anything else (numbers, dates, values as written) unchanged. Several messages
    joined by "; " are rendered one by one.
    """
    if not text:
        return ""
    parts = str(text).split(_JOIN)
    if len(parts) > 1 and all(decode(part) for part in parts):
        return _JOIN.join(render(part, lang) for part in parts)
    decoded = decode(text)
    if decoded is None:
        return str(text)
    code, values = decoded
    shown = {name: _term_text(value, lang) for name, value in values.items()}
    return phrase(code, lang, **shown)


def _term_text(value: str, lang: str) -> str:
    if not isinstance(value, Term):
        return value
    key = str(value)
    if has("phrases", key):
        return phrase(key, lang)
    return label(key, lang)


def sheet_title(key: str, lang: str, **values) -> str:
    """The title of sheet ``key`` with ``{placeholders}`` filled from ``values``."""
    return _fill(_text("sheets", key, lang) or key, values)


def phrase(key: str, lang: str, **values) -> str:
    """The sentence ``key`` with ``{placeholders}`` filled from ``values``."""
    return _fill(_text("phrases", key, lang) or key, values)


def _fill(text: str, values: dict) -> str:
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        log.warning("label catalogue: %r needs values other than %s", text, values)
        return text


def reload() -> None:
    """Forget the merged catalogue (tests that add a file call this)."""
    _catalogue.cache_clear()
    _warn_missing.cache_clear()
