"""The partner master and rejects workbooks, and helpers the other reports share.

Column keys, in the order shown, are listed here as data; a key the frame lacks is
left out and a frame column not listed is not written. Rules shared by all reports:

- Headers, sheet titles, reasons and notes come from the label catalogue in ``lang``.
- Workbooks meant for sharing (profitability, evaluation, rejects) never carry
  contact data: their column lists exclude CONTACT_KEYS and the contact log's
  notes, CONTACT_NOTE_KEYS (checked when they are written), and a rejected phone
  or e-mail value is masked in the rejects workbook.
  The partner master is internal and shows contacts.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd

from ledgerflow import labels
from ledgerflow.contacts import CONTACT_NOTE_KEYS, SUMMARY_KEYS
from ledgerflow.errors import LedgerflowError
from ledgerflow.master import columns as master_columns
from ledgerflow.report.workbook import SheetSpec, write_workbook
from ledgerflow.tables import Reject, Skip

log = logging.getLogger(__name__)

# The master's own columns (master.columns owns them), with the rule tags of the
# insights stage after its tags and the contact figures after its last transaction.
_SHOWN_AFTER = {"tags": ["rule_tags"], "last_txn_date": SUMMARY_KEYS}
MASTER_COLUMNS = [
    shown
    for key in master_columns.MASTER_COLUMNS
    for shown in (key, *_SHOWN_AFTER.get(key, ()))
]
REJECT_COLUMNS = ["file", "sheet", "row", "column", "value", "rule", "reason"]
SKIP_COLUMNS = ["file", "sheet", "row", "reason"]
REFUSED_COLUMNS = ["file", "reason"]

# Columns holding codes, shown through the catalogue entry [rules.<prefix><code>]
# ("; "-joined codes each); a code without an entry is shown as it is.
CODED_COLUMNS = {
    "brn_status": "brn_status_",
    "business_kind": "brn_kind_",
    "status": "partner_status_",
    "match_rule": "match_rule_",
    "quality_issues": "quality_",
    "risk": "change_",
    "source_kind": "source_kind_",
    "rule_tags": "tag_",
}
# Personal contact data: kept in the internal master, never in a shared workbook.
CONTACT_KEYS = frozenset({"phone", "email", "mobile", "fax"})
# Figures that are ratios of two others (no_data_notes: undefined, not missing).
TOTAL_RATIOS = {"gross_margin": ("gross_profit", "revenue")}


def check_shareable(columns: Sequence[str], workbook: str) -> None:
    """Raise if ``columns`` of a workbook meant for sharing include contact data."""
    leaked = sorted((CONTACT_KEYS | CONTACT_NOTE_KEYS).intersection(columns))
    if leaked:
        raise LedgerflowError(
            f"{workbook}: columns {', '.join(leaked)} hold personal contact data and "
            "may only appear in the internal partner master; remove them"
        )


# Partner master (internal)


def _brn_as_written(master: pd.DataFrame) -> pd.DataFrame:
    """Full 10-digit business numbers shown as people write them (123-45-67890)."""
    if "brn" not in master:
        return master
    digits = master["brn"].astype("string")
    full = digits.str.fullmatch(r"\d{10}", na=False)
    if not full.any():
        return master
    shown = master.copy()
    shown["brn"] = digits.where(
        ~full, digits.str[:3] + "-" + digits.str[3:5] + "-" + digits.str[5:]
    )
    return shown


def write_partner_master(
    master: pd.DataFrame,
    path: Path,
    *,
    lang: str,
    created: dt.datetime | dt.date,
    conflicts: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
    changes: pd.DataFrame | None = None,
    contacts: pd.DataFrame | None = None,
) -> Path:
    """One row per canonical partner, with the codes and files it came from.

    Internal workbook: contacts are shown. ``conflicts`` (values that disagreed
    between sources), ``links`` (which source row went to which partner) and
    ``changes`` (what changed since the previous master) and ``contacts`` (the
    contact log's history, contacts.contact_history) get sheets of their own
    with all their columns, when given. Codes (BRN status, match rule, quality
    issues, activity status) are shown as words (CODED_COLUMNS).
    """
    sheets = [
        SheetSpec(
            "partner_master",
            translate_coded(_brn_as_written(master), lang),
            MASTER_COLUMNS,
        )
    ]
    for key, frame in (
        ("conflicts", conflicts),
        ("links", links),
        ("changes", changes),
        ("contacts", contacts),
    ):
        if frame is not None:
            sheets.append(
                SheetSpec(key, translate_coded(frame, lang), list(frame.columns))
            )
    return write_workbook(path, sheets, lang=lang, created=created)


def words_of(values: Iterable, word: Callable, *, keep_missing: bool = False) -> list:
    """``[word(value) for value in values]``, with ``word`` worked out once per
    distinct value: a report column repeats a handful of codes (segments, grades,
    rules) over every partner. Values of different types never share a result (1,
    1.0 and True stay apart). ``keep_missing`` leaves a missing value (None, NA,
    NaN) as it is, as Series.map(..., na_action="ignore") does.
    """
    done: dict = {}
    out = []
    for value in values:
        if keep_missing and _missing(value):
            out.append(value)
            continue
        key = (type(value), value)
        try:
            hash(key)
        except TypeError:  # unhashable (a list): worked out every time
            out.append(word(value))
            continue
        if key not in done:
            done[key] = word(value)
        out.append(done[key])
    return out


def words_column(
    series: pd.Series, word: Callable, *, keep_missing: bool = False
) -> pd.Series:
    """words_of ``series`` as a "string" column with the index of ``series``."""
    words = words_of(series.tolist(), word, keep_missing=keep_missing)
    return pd.Series(pd.array(words, dtype="string"), index=series.index)


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array is a value, not missing
        return False


def translate_coded(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` with the codes of CODED_COLUMNS shown as words in ``lang``."""
    present = [key for key in CODED_COLUMNS if key in frame.columns]
    if not present:
        return frame
    shown = frame.copy()
    for key in present:
        prefix = CODED_COLUMNS[key]
        shown[key] = words_column(
            shown[key],
            lambda codes, p=prefix: _coded_text(codes, p, lang),
            keep_missing=True,
        )
    return shown


def _coded_text(codes, prefix: str, lang: str) -> str:
    parts = [part.strip() for part in str(codes).split(";") if part.strip()]
    return "; ".join(_code_word(prefix + part, lang) or part for part in parts)


def _code_word(code: str, lang: str) -> str | None:
    if labels.has("rules", code):
        return labels.reason(code, lang)
    if labels.has("phrases", code):  # e.g. insights' tag names
        return labels.phrase(code, lang)
    return None


_NOTE = re.compile(r"^([a-z][a-z0-9_]*): (.*)$", re.DOTALL)
_ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def translate_note(note: str, lang: str) -> str:
    """A stage's note as a sentence in ``lang``.

    A coded message (labels.message) is rendered from its template. An older note
    "<code>: <detail>" shows the code's phrase, with the detail in brackets when it
    carries figures and no word of the other language (never mixed).
    The code's [phrases.<code>] text is shown; the detail is appended in brackets
    when it carries figures (it has a digit), since the phrase has none. A note
    without a known code is shown as written.
    """
    if labels.decode(note) is not None:
        return labels.render(note, lang)
    match = _NOTE.match(str(note))
    if not match or not labels.has("phrases", match.group(1)):
        return str(note)
    code, detail = match.groups()
    text = labels.phrase(code, lang)
    # the detail is shown when it carries figures and no words of the other
    # language (an English detail is left out of a Korean report: a stage that
    # wants its figures there too writes a coded message)
    foreign = _ENGLISH_WORD if lang == "ko" else _HANGUL
    if not any(ch.isdigit() for ch in detail) or foreign.search(detail):
        return text
    return f"{text} ({detail})"


def no_data_notes(
    frame: pd.DataFrame,
    columns: Sequence[str],
    lang: str,
    explained: set[str] | frozenset[str] = frozenset(),
) -> list[str]:
    """Why figures are empty: a note per numeric column with missing values.

    Columns in ``explained`` are empty for a reason a stage's note already gives
    (e.g. no cost data at all), so they get no second note.
    """
    notes = []
    if frame.empty:
        return notes
    for key in columns:
        if key not in frame.columns or labels.kind(key) == "text" or key in explained:
            continue
        missing = int(frame[key].isna().sum())
        header = labels.label(key, lang)
        if key in TOTAL_RATIOS and TOTAL_RATIOS[key][1] in frame.columns:
            # a margin has no meaning without positive revenue: not missing data
            base = TOTAL_RATIOS[key][1]
            undefined = int((frame[key].isna() & (frame[base] <= 0)).sum())
            if undefined:
                notes.append(
                    labels.phrase(
                        "ratio_undefined",
                        lang,
                        column=header,
                        base=labels.label(base, lang),
                        count=undefined,
                    )
                )
                missing -= undefined
        if missing == len(frame):
            notes.append(labels.phrase("no_data_column", lang, column=header))
        elif missing:
            notes.append(
                labels.phrase("some_no_data", lang, column=header, count=missing)
            )
    return notes


def translate_codes(codes: str, lang: str) -> str:
    """ "grade_D; negative_gross_profit" -> "등급 D; 매출총이익 적자" (ko)."""
    texts = []
    for code in (part.strip() for part in str(codes).split(";")):
        if not code:
            continue
        if labels.has("rules", code) or not code.startswith("grade_"):
            texts.append(labels.reason(code, lang))
        else:
            texts.append(labels.phrase("prune_grade", lang, grade=code[6:]))
    return "; ".join(texts)


# Rejects (shared)


def write_rejects(
    rejects: Sequence[Reject],
    skipped: Sequence[Skip],
    refused: Sequence[Reject],
    path: Path,
    *,
    lang: str,
    created: dt.datetime | dt.date,
) -> Path:
    """Every row not used, every control row skipped, every file refused.

    Rules:
    - values are written as text exactly as found (a phone number or e-mail address
      is masked: this workbook is shared);
    - the reason is the rule's sentence in ``lang`` with the detail in brackets;
    - a column given as a canonical key is shown with its header in ``lang``.
    """
    check_shareable(REJECT_COLUMNS + SKIP_COLUMNS + REFUSED_COLUMNS, "rejects workbook")
    sheets = [
        SheetSpec("rejects", _reject_frame(rejects, lang), REJECT_COLUMNS),
        SheetSpec("skipped", _skip_frame(skipped, lang), SKIP_COLUMNS),
        SheetSpec("refused", _refused_frame(refused, lang), REFUSED_COLUMNS),
    ]
    return write_workbook(path, sheets, lang=lang, created=created)


def _reject_frame(rejects: Sequence[Reject], lang: str) -> pd.DataFrame:
    return _frame(
        {
            "file": [r.file for r in rejects],
            "sheet": [r.sheet for r in rejects],
            "row": [r.row for r in rejects],
            "column": words_of(
                (r.column for r in rejects), lambda c: _column_header(c, lang)
            ),
            "value": [_shareable_value(r.column, r.value) for r in rejects],
            "rule": [r.rule for r in rejects],
            "reason": _reasons(rejects, lang),
        },
        REJECT_COLUMNS,
    )


def _skip_frame(skipped: Sequence[Skip], lang: str) -> pd.DataFrame:
    return _frame(
        {
            "file": [s.file for s in skipped],
            "sheet": [s.sheet for s in skipped],
            "row": [s.row for s in skipped],
            "reason": _reasons(skipped, lang),
        },
        SKIP_COLUMNS,
    )


def _refused_frame(refused: Sequence[Reject], lang: str) -> pd.DataFrame:
    return _frame(
        {"file": [r.file for r in refused], "reason": _reasons(refused, lang)},
        REFUSED_COLUMNS,
    )


def _reasons(records: Sequence[Reject] | Sequence[Skip], lang: str) -> list[str]:
    """The reason sentence of each record, once per distinct rule and detail."""
    return words_of(
        ((r.rule, r.detail) for r in records),
        lambda rule_detail: labels.reason(rule_detail[0], lang, rule_detail[1]),
    )


def _frame(data: dict[str, list], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(data, columns=columns)
    for key in columns:
        dtype = "Int64" if key == "row" else "string"
        frame[key] = frame[key].astype(dtype)
    return frame


def _column_header(column: str | None, lang: str) -> str | None:
    if column and labels.has("columns", column):
        return labels.label(column, lang)
    return column


_CONTACT_CHARS = re.compile(r"[0-9A-Za-z]")


def _shareable_value(column: str | None, value) -> str | None:
    """The rejected value as text; contact data masked past its first characters."""
    if value is None:
        return None
    text = str(value)
    if column not in CONTACT_KEYS:
        return text
    return text[:3] + _CONTACT_CHARS.sub("*", text[3:])
