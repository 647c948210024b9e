"""The incremental store: each input file's validated rows, kept by its content.

Reading and validating an export is the expensive part of a run (a year of sales lines
is a million rows). The store keeps the outcome of that work for every file, so the
next month's run reads only the files that are new or changed.

Business rules:

- An entry is found by a key made of the file's SHA-256 (its bytes, never its path or
  modification time), its name and the name of its folder (the reader takes a report
  period from the folder name, and names the file in every reject), and a fingerprint
  of everything else that decides the result: ledgerflow's version and the source of
  the read and validate stages, the profiles and table schemas, the versions of the
  parsing libraries, and the settings of ``[read]``, ``[validate]`` and ``[run]
  currency``.
  A file corrected in place has other bytes, so it is read again; a change of the
  parsing rules changes the fingerprint, so every file is read again
  (../shared/cases/19: a cached result is never stale).
- An entry holds everything the rest of the run needs from a file: the used rows of
  each table (Parquet, dtypes kept), the rejects, skips and flags (Parquet), and the
  file's description and row account (``meta.json``).
- Not stored: refused files (the reason may be passing, e.g. the file was open in
  Excel, and a refusal is cheap to find again) and encrypted workbooks (their
  decrypted rows must not sit on disk unprotected).
- An entry is written to a temporary folder and renamed into place, so a run that
  stops half-way leaves no half entry. ``meta.json`` lists the SHA-256 of each data
  file; an entry that is incomplete, unreadable or does not match is ignored with a
  warning, removed and written again by this run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from ledgerflow import __version__, assemble, paths, tables
from ledgerflow.assemble import FileOutcome
from ledgerflow.read import sniff as _sniff

log = logging.getLogger(__name__)

# Bumped whenever the layout of an entry changes.
STORE_FORMAT = 1
META = "meta.json"
RECORDS = "records.parquet"
# Settings that change what the read and validate stages produce: section -> keys
# (None = every key of the section).
CONFIG_KEYS: dict[str, tuple[str, ...] | None] = {
    "read": None,
    "validate": None,
    "run": ("currency",),
}
# Libraries whose version may change how a cell is parsed.
PARSING_LIBRARIES = (
    "pandas",
    "numpy",
    "pandera",
    "python-calamine",
    "openpyxl",
    "xlrd",
    "msoffcrypto-tool",
    "pyarrow",
)
_PACKAGE = Path(__file__).resolve().parent
# Sources of the stages whose output is stored (relative to the package).
_STAGE_SOURCES = (
    "read",
    "validate.py",
    "values.py",
    "brn.py",
    "tables.py",
    "assemble.py",
    "store.py",
)
_RECORD_COLUMNS = ["group", "file", "sheet", "row", "column", "value", "rule", "detail"]


# --------------------------------------------------------------------- the key


def _hash_tree(digest: Any, base: Path, targets: tuple[str, ...], pattern: str) -> None:
    for target in targets:
        path = base / target
        files = sorted(path.rglob(pattern)) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(file.relative_to(base).as_posix().encode())
                digest.update(b"\0")
                digest.update(file.read_bytes())
                digest.update(b"\0")


def fingerprint(config: dict[str, Any]) -> str:
    """The version of the parsing rules: code, schemas, libraries, settings (hex).

    Any change here makes every stored entry unreachable, so every file is read again
    with the new rules.
    """
    digest = hashlib.sha256()
    digest.update(f"store {STORE_FORMAT} ledgerflow {__version__}\0".encode())
    _hash_tree(digest, _PACKAGE, _STAGE_SOURCES, "*.py")
    _hash_tree(digest, paths.schemas_dir(), ("profiles", "tables"), "*.toml")
    for name in PARSING_LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name} {version}\0".encode())
    settings = {}
    for section, keys in CONFIG_KEYS.items():
        values = config.get(section, {})
        settings[section] = {
            k: v for k, v in values.items() if keys is None or k in keys
        }
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def entry_key(sha256: str, path: Path, rules: str) -> str:
    """The key of a file's entry: content, name, folder name and rules (hex)."""
    path = Path(path)
    folder = unicodedata.normalize("NFC", path.parent.name)
    name = unicodedata.normalize("NFC", path.name)
    text = "\0".join((sha256, folder, name, rules))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------- the outcome


def slim(outcome: FileOutcome) -> FileOutcome:
    """``outcome`` without the raw read frames (validation is done with them).

    Nothing after validation looks at ``TableRead.frame``; dropping it halves the
    memory a run holds per file. The frame keeps its columns and dtypes, no rows.
    """
    for table in outcome.read.tables:
        table.frame = table.frame.iloc[:0]
    return outcome


def _records(groups: dict[str, list]) -> pd.DataFrame:
    rows = []
    for group, records in groups.items():
        for r in records:
            column = getattr(r, "column", None)
            value = getattr(r, "value", None)
            rows.append(
                (
                    group,
                    r.file,
                    r.sheet,
                    r.row,
                    column,
                    None if value is None else str(value),
                    r.rule,
                    r.detail,
                )
            )
    frame = pd.DataFrame(rows, columns=_RECORD_COLUMNS)
    for name in _RECORD_COLUMNS:
        frame[name] = frame[name].astype("Int64" if name == "row" else "string")
    return frame


def _from_records(frame: pd.DataFrame) -> dict[str, list]:
    groups: dict[str, list] = {}
    columns = [frame[name].tolist() for name in _RECORD_COLUMNS]
    for group, file, sheet, row, column, value, rule, detail in zip(
        *columns, strict=True
    ):
        row = None if row is pd.NA else int(row)
        column = None if column is pd.NA else column
        value = None if value is pd.NA else value
        if group.endswith(".skipped"):
            record = tables.Skip(file, sheet, row, rule, detail)
        else:
            record = tables.Reject(file, sheet, row, column, value, rule, detail)
        groups.setdefault(group, []).append(record)
    return groups


def _period_text(period) -> list[str] | None:
    if period is None:
        return None
    return [pd.Timestamp(p).isoformat() for p in period]


def _describe(outcome: FileOutcome) -> dict[str, Any]:
    """The JSON part of an entry (everything but frames and records)."""
    f = outcome.read
    return {
        "store_format": STORE_FORMAT,
        "file": {
            "name": f.name,
            "sha256": f.sha256,
            "size_bytes": f.size_bytes,
            "format": f.format,
            "encoding": f.encoding,
            "ignored_sheets": [list(pair) for pair in f.ignored_sheets],
            "notes": list(f.notes),
        },
        "tables": [
            {
                "kind": t.kind,
                "profile": t.profile,
                "sheet": t.sheet,
                "header_row": t.header_row,
                "rows_read": t.rows_read,
                "declared_period": _period_text(t.declared_period),
                "notes": list(t.notes),
                "source_columns": dict(t.source_columns),
            }
            for t in f.tables
        ],
        "outcome": {
            "notes": list(outcome.notes),
            "rows_read": outcome.rows_read,
            "rows_used": outcome.rows_used,
            "rows_rejected": outcome.rows_rejected,
            "used": {kind: len(frames) for kind, frames in outcome.used.items()},
        },
    }


# ------------------------------------------------------------------- the store


@dataclass
class Store:
    """Entries under ``root``, one folder per key; ``rules`` is the fingerprint."""

    root: Path
    rules: str

    def entry_dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def load(self, path: Path, sha256: str) -> FileOutcome | None:
        """The stored outcome of the file at ``path`` with these bytes, or None.

        A damaged entry is reported, removed and treated as absent.
        """
        folder = self.entry_dir(entry_key(sha256, path, self.rules))
        if not folder.is_dir():
            return None
        try:
            outcome = _load_entry(folder, Path(path), sha256)
        except Exception as exc:  # any damage: read the file again instead
            log.warning(
                "store %s: entry for %s is damaged (%s: %s); it is ignored and "
                "written again from the file",
                folder,
                Path(path).name,
                type(exc).__name__,
                exc,
            )
            _remove(folder)
            return None
        os.utime(folder / META)  # last use, for anyone pruning old entries
        return outcome

    def save(self, outcome: FileOutcome) -> Path | None:
        """Keep ``outcome`` (see the module rules for what is not kept).

        Returns the entry's folder, or None when the outcome is not stored. A store
        that cannot be written (disk full, read-only) costs speed, not the run: it is
        logged and the run goes on.
        """
        f = outcome.read
        if f.refused is not None or not f.sha256:
            return None
        folder = self.entry_dir(entry_key(f.sha256, f.path, self.rules))
        try:
            _write_entry(folder, outcome)
        except OSError as exc:
            log.warning(
                "store %s: could not keep the result of %s (%s); the next run reads "
                "it again. Check the folder is writable and has space.",
                self.root,
                f.name,
                exc,
            )
            return None
        return folder


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _write_entry(folder: Path, outcome: FileOutcome) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(
        tempfile.mkdtemp(prefix=f".{folder.name[:12]}.", dir=folder.parent)
    )
    try:
        meta = _describe(outcome)
        files: dict[str, str] = {}
        for kind, frames in outcome.used.items():
            for i, frame in enumerate(frames):
                name = f"used-{kind}-{i}.parquet"
                frame.to_parquet(temporary / name)
                files[name] = _sha256_file(temporary / name)
        groups = {"rejects": outcome.rejects, "flags": outcome.flags}
        for i, table in enumerate(outcome.read.tables):
            groups[f"table.{i}.skipped"] = table.skipped
            groups[f"table.{i}.rejects"] = table.rejects
        _records(groups).to_parquet(temporary / RECORDS)
        files[RECORDS] = _sha256_file(temporary / RECORDS)
        meta["files"] = files
        meta["frames"] = {
            f"table.{i}": {
                "columns": [str(c) for c in t.frame.columns],
                "dtypes": [str(d) for d in t.frame.dtypes],
            }
            for i, t in enumerate(outcome.read.tables)
        }
        # meta.json last: an entry without it is incomplete by construction.
        (temporary / META).write_text(
            json.dumps(meta, ensure_ascii=False, sort_keys=True), encoding="utf-8"
        )
        if folder.exists():  # a damaged entry, or another worker was faster
            _remove(folder)
        try:
            os.rename(temporary, folder)
        except OSError:
            if not (folder / META).is_file():
                raise
            # another worker stored the same file meanwhile: theirs is as good
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)


def _remove(folder: Path) -> None:
    """Take ``folder`` out of the way atomically, then delete it."""
    trash = folder.with_name(f".trash-{folder.name}-{os.getpid()}-{time.time_ns()}")
    with contextlib.suppress(OSError):
        os.rename(folder, trash)
        shutil.rmtree(trash, ignore_errors=True)


def _empty_frame(columns: list[str], dtypes: list[str]) -> pd.DataFrame:
    """A frame with no rows and the columns and dtypes of a read frame."""
    return pd.DataFrame(
        {c: pd.Series(dtype=d) for c, d in zip(columns, dtypes, strict=True)}
    )


def _load_entry(folder: Path, path: Path, sha256: str) -> FileOutcome:
    meta = json.loads((folder / META).read_text("utf-8"))
    if meta.get("store_format") != STORE_FORMAT:
        raise ValueError(f"store format {meta.get('store_format')}")
    described = meta["file"]
    if described["sha256"] != sha256:
        raise ValueError("the entry belongs to other file content")
    for name, expected in meta["files"].items():
        if _sha256_file(folder / name) != expected:
            raise ValueError(f"{name} does not match its checksum")
    groups = _from_records(pd.read_parquet(folder / RECORDS))
    table_reads = []
    for i, spec in enumerate(meta["tables"]):
        period = spec["declared_period"]
        table_reads.append(
            tables.TableRead(
                kind=spec["kind"],
                profile=spec["profile"],
                sheet=spec["sheet"],
                header_row=spec["header_row"],
                frame=_empty_frame(**meta["frames"][f"table.{i}"]),
                rows_read=spec["rows_read"],
                skipped=groups.get(f"table.{i}.skipped", []),
                rejects=groups.get(f"table.{i}.rejects", []),
                declared_period=None
                if period is None
                else (pd.Timestamp(period[0]), pd.Timestamp(period[1])),
                notes=spec["notes"],
                source_columns=spec["source_columns"],
            )
        )
    file_read = tables.FileRead(
        path=path,
        name=described["name"],
        sha256=described["sha256"],
        size_bytes=described["size_bytes"],
        format=described["format"],
        encoding=described["encoding"],
        tables=table_reads,
        ignored_sheets=[tuple(pair) for pair in described["ignored_sheets"]],
        notes=described["notes"],
    )
    told = meta["outcome"]
    used = {
        kind: [
            pd.read_parquet(folder / f"used-{kind}-{i}.parquet") for i in range(count)
        ]
        for kind, count in told["used"].items()
    }
    outcome = FileOutcome(
        read=file_read,
        used=used,
        rejects=groups.get("rejects", []),
        skipped=[s for t in table_reads for s in t.skipped],
        flags=groups.get("flags", []),
        notes=told["notes"],
        rows_read=told["rows_read"],
        rows_used=told["rows_used"],
        rows_rejected=told["rows_rejected"],
    )
    used_rows = sum(len(f) for frames in used.values() for f in frames)
    balance = used_rows + len(outcome.skipped) + outcome.rows_rejected
    if used_rows != outcome.rows_used or balance != outcome.rows_read:
        raise ValueError("the stored row account does not add up")
    return outcome


# ----------------------------------------------------------------- the stage


def read_validated(
    path: Path,
    config: dict[str, Any],
    schemas: dict | None = None,
    store: Store | None = None,
) -> tuple[FileOutcome, bool]:
    """One input file read and validated, from ``store`` when it holds it.

    Returns the outcome (without the raw read frames, see ``slim``) and whether it
    came from the store. With ``store`` None the file is always read.
    """
    from ledgerflow import read, validate

    path = Path(path)
    encrypted = False
    if store is not None:
        try:
            data = path.read_bytes()
        except OSError:
            data = None  # the reader reports the file as unreadable
        if data is not None:
            encrypted = _is_encrypted(data)
            sha256 = hashlib.sha256(data).hexdigest()
            del data
            found = None if encrypted else store.load(path, sha256)
            if found is not None:
                log.info("%s: taken from the store (sha256 %s)", path.name, sha256[:12])
                return found, True
    file_read = read.read_file(path, config)
    results = [validate.validate_table(t, config, schemas) for t in file_read.tables]
    outcome = slim(assemble.account_file(file_read, results))
    if store is not None and not encrypted:
        store.save(outcome)
    return outcome, False


def _is_encrypted(data: bytes) -> bool:
    """Whether ``data`` is an encrypted Office file (never stored)."""
    if not data.startswith(_sniff.OLE2_MAGIC):
        return False
    try:
        return _sniff.sniff(data) == "ole_encrypted"
    except Exception:  # the reader will say what is wrong with it
        return False


def open_store(config: dict[str, Any], output_dir: Path) -> Store | None:
    """The store the settings ask for, or None when ``[store] enabled`` is false.

    ``[store] location`` empty means ``<output_dir>/.state/store``; a relative
    location is taken from the current folder. The path is made absolute so that
    Dask workers find the same folder.
    """
    settings = config.get("store", {})
    if not settings.get("enabled", True):
        return None
    location = settings.get("location") or ""
    root = Path(location) if location else Path(output_dir) / ".state" / "store"
    return Store(root.absolute(), fingerprint(config))
