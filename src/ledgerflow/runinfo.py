"""What a run records about itself in run.json: inputs, row accounts, versions.

Rules:
- every input is identified by its SHA-256, so a figure can be traced to the exact
  bytes it came from;
- per input, rows read = used + skipped + rejected; if not, that is a bug in
  ledgerflow (never a data problem) and the run stops rather than publish figures
  that do not add up;
- run.json is UTF-8 with Hangul as is, keys sorted, dates in ISO 8601, and written
  atomically, so the same run gives the same file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ledgerflow import labels
from ledgerflow.errors import LedgerflowError
from ledgerflow.period import Period
from ledgerflow.report.atomic import atomic_path
from ledgerflow.tables import FileRead

log = logging.getLogger(__name__)

LIBRARIES = (
    "ledgerflow",
    "pandas",
    "numpy",
    "openpyxl",
    "python-calamine",
    "pandera",
    "prefect",
    "xlsxwriter",
)
CHUNK_BYTES = 1 << 20


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path`` as hex, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def library_versions() -> dict[str, str | None]:
    """Installed versions of ledgerflow and its main libraries (None if absent)."""
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def input_entry(
    file_read: FileRead,
    used: int,
    skipped: int,
    rejected: int,
    skip_reasons: Mapping[str, int],
    reject_rules: Mapping[str, int],
    *,
    lang: str = "en",
) -> dict[str, Any]:
    """The run.json entry of one input file, with its row account checked.

    ``skip_reasons`` counts skipped rows by rule (they must add up to ``skipped``);
    ``reject_rules`` counts reject records by rule (a row may have several).
    Raises LedgerflowError naming the file when read != used + skipped + rejected.
    """
    read = sum(table.rows_read for table in file_read.tables)
    if read != used + skipped + rejected:
        raise LedgerflowError(
            f"{file_read.name}: row account does not add up: read {read} != used "
            f"{used} + skipped {skipped} + rejected {rejected}; this is a bug in "
            "ledgerflow, not a problem of the file; please report it with run.json"
        )
    if sum(skip_reasons.values()) != skipped:
        raise LedgerflowError(
            f"{file_read.name}: skip reasons count {sum(skip_reasons.values())} rows "
            f"but {skipped} were skipped; this is a bug in ledgerflow, please report it"
        )
    refused = None
    if file_read.refused is not None:
        rule, detail = file_read.refused.rule, file_read.refused.detail
        refused = {
            "rule": rule,
            "detail": detail,
            "reason": labels.reason(rule, lang, detail),
        }
    return {
        "name": file_read.name,
        "sha256": file_read.sha256,
        "size_bytes": file_read.size_bytes,
        "format": file_read.format,
        "encoding": file_read.encoding,
        "profiles": _unique(table.profile for table in file_read.tables),
        "kinds": _unique(table.kind for table in file_read.tables),
        "sheets": [
            {
                "sheet": table.sheet,
                "kind": table.kind,
                "profile": table.profile,
                "header_row": table.header_row,
                "rows_read": table.rows_read,
            }
            for table in file_read.tables
        ],
        "ignored_sheets": [
            {"sheet": name, "state": state} for name, state in file_read.ignored_sheets
        ],
        "rows": {"read": read, "used": used, "skipped": skipped, "rejected": rejected},
        "skip_reasons": dict(skip_reasons),
        "reject_rules": dict(reject_rules),
        "refused": refused,
        "notes": list(file_read.notes),
    }


def _unique(values) -> list:
    return list(dict.fromkeys(values))


def write_run_json(path: Path, info: Mapping[str, Any]) -> Path:
    """Write ``info`` to ``path`` as UTF-8 JSON (sorted keys, ISO dates), atomically.

    Values JSON does not know are made plain: dates and datetimes to ISO 8601, paths
    and periods to text, numpy numbers to numbers, NaN/NA/NaT to null, sets to sorted
    lists, dataclasses to objects.
    """
    text = json.dumps(
        _plain(info), ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False
    )
    path = Path(path)
    with atomic_path(path) as temporary:
        temporary.write_text(text + "\n", encoding="utf-8")
    log.info("%s: run summary written", path)
    return path


def _plain(value: Any) -> Any:
    """``value`` as plain JSON types (see write_run_json)."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(item) for item in value), key=str)
    if isinstance(value, Period):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime(warn=False)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return str(value)
