"""Management's decisions read back from a filled-in evaluation workbook, the decision
log that remembers them, and last year's scorecard kept for the next evaluation.

The round trip: the evaluation workbook has a decision column (keep, watch,
renegotiate, prune) with a drop-down and a comment column. Dropped into input/, the
workbook is recognised by ``is_decision_workbook`` (its own headers, never by a
profile, so it is not read as a partner list), its decisions go into the log
output/.state/decisions.csv, and the evaluation of that year respects them.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import zipfile
from pathlib import Path

import pandas as pd

from ledgerflow import labels
from ledgerflow.evaluation import DECISIONS
from ledgerflow.report.atomic import atomic_path

log = logging.getLogger(__name__)

LOG_COLUMNS = [
    "partner_id",
    "partner_code",
    "year",
    "decision",
    "comment",
    "decided_on",
    "source_file",
]
STATE_COLUMNS = ["partner_id", "partner_code", "year", "score", "grade", "rank"]
# Header keys of the evaluation sheet that the read-back needs.
READ_KEYS = ("partner_id", "partner_code", "evaluation_year", "decision")


def _headers(key: str) -> set[str]:
    return {labels.label(key, lang).strip().casefold() for lang in labels.LANGS}


def decision_words() -> dict[str, str]:
    """Every way a decision may be written (code, Korean, English) -> its code."""
    words = {}
    for code in DECISIONS:
        words[code] = code
        for lang in labels.LANGS:
            words[labels.phrase(f"decision_{code}", lang).strip().casefold()] = code
    return words


def _decision_sheet(path: Path):
    """(rows of the sheet holding the decision column, header positions) or None."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a workbook openpyxl can open: not ours
        log.debug("%s: not checked for decisions (%s)", path.name, exc)
        return None
    try:
        wanted = {key: _headers(key) for key in (*READ_KEYS, "decision_comment")}
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None) or ()
            texts = [str(h).strip().casefold() if h is not None else "" for h in header]
            found = {
                key: texts.index(next(t for t in texts if t in names))
                for key, names in wanted.items()
                if any(t in names for t in texts)
            }
            if all(key in found for key in READ_KEYS):
                return list(rows), found
        return None
    finally:
        book.close()


def is_decision_workbook(path: Path) -> bool:
    """True for an evaluation workbook of ledgerflow: an .xlsx written by ledgerflow
    (document author) whose sheet has the partner ID, partner code, evaluation year
    and decision headers."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx" or not _written_by_ledgerflow(path):
        return False
    return _decision_sheet(path) is not None


def _written_by_ledgerflow(path: Path) -> bool:
    """The document's creator is ledgerflow (cheap: one small zip member)."""
    try:
        with zipfile.ZipFile(path) as archive:
            core = archive.read("docProps/core.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return "<dc:creator>ledgerflow</dc:creator>" in core


def read_all(paths: list[Path]) -> pd.DataFrame:
    """The decisions of every workbook in ``paths``, in order (later files win)."""
    frames = [read_decisions(p) for p in paths]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=LOG_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def read_decisions(path: Path) -> pd.DataFrame:
    """The decisions filled in ``path``, one row per partner with a decision.

    Rules: rows with a blank decision are no decision; a decision written as its
    code or its Korean or English word counts; anything else is skipped with a
    warning naming the row; decided_on is the file's modification date.
    """
    path = Path(path)
    found = _decision_sheet(path)
    if found is None:
        return pd.DataFrame(columns=LOG_COLUMNS)
    rows, at = found
    words = decision_words()
    decided_on = dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
    records = []
    for number, row in enumerate(rows, start=2):
        cell = row[at["decision"]] if at["decision"] < len(row) else None
        if cell is None or not str(cell).strip():
            continue
        code = words.get(str(cell).strip().casefold())
        partner = row[at["partner_id"]]
        if code is None or partner is None:
            log.warning(
                "%s row %d: decision %r not one of %s; left out",
                path.name,
                number,
                cell,
                ", ".join(DECISIONS),
            )
            continue
        comment = row[at["decision_comment"]] if "decision_comment" in at else None
        records.append(
            {
                "partner_id": str(partner),
                "partner_code": _text(row[at["partner_code"]]),
                "year": int(float(row[at["evaluation_year"]])),
                "decision": code,
                "comment": _text(comment),
                "decided_on": decided_on,
                "source_file": path.name,
            }
        )
    log.info("%s: %d decisions read", path.name, len(records))
    return pd.DataFrame.from_records(records, columns=LOG_COLUMNS)


def _text(value) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


def load_log(path: Path) -> pd.DataFrame:
    """The decision log at ``path`` (empty when there is none yet)."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=LOG_COLUMNS).astype({"year": "Int64"})
    frame = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
    frame["year"] = pd.to_numeric(frame["year"]).astype("Int64")
    return frame[LOG_COLUMNS]


def update_log(path: Path, new: pd.DataFrame) -> pd.DataFrame:
    """The log with ``new`` decisions added, written atomically; returns it.

    Rules: one decision per partner and year, the latest read wins; the log keeps
    every year. Written only when something changed.
    """
    old = load_log(path)
    if new is None or not len(new):
        return old
    new = new.astype({"year": "Int64"})
    merged = pd.concat([old, new[LOG_COLUMNS]], ignore_index=True)
    merged = merged.drop_duplicates(["partner_id", "year"], keep="last")
    merged = merged.sort_values(["year", "partner_id"], kind="mergesort")
    merged = merged.reset_index(drop=True)
    if merged.astype("string").equals(old.astype("string")):
        return old
    _write_csv(path, merged, LOG_COLUMNS)
    log.info("decision log %s: %d decisions", path, len(merged))
    return merged


def _write_csv(path: Path, frame: pd.DataFrame, columns: list[str]) -> None:
    with (
        atomic_path(Path(path)) as temporary,
        open(temporary, "w", encoding="utf-8", newline="") as handle,
    ):
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in frame[columns].itertuples(index=False):
            writer.writerow(["" if pd.isna(v) else v for v in row])


def save_scorecard(path: Path, scorecard: pd.DataFrame, year: int) -> None:
    """Keep the year's score, grade and rank per partner for next year's change."""
    frame = scorecard.assign(year=year)
    _write_csv(path, frame, STATE_COLUMNS)


def load_scorecard(path: Path) -> pd.DataFrame | None:
    """A scorecard kept by save_scorecard, or None when there is none."""
    path = Path(path)
    if not path.exists():
        return None
    frame = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
    frame["rank"] = pd.to_numeric(frame["rank"]).astype("Int64")
    return frame
