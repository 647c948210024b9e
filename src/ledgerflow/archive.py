"""Move inputs out of input/ once a run has dealt with them; never delete one.

Rules:

- A file that was used moves to ``input/archive/<YYYY-MM>/`` (the reported month);
  a refused file moves to ``input/rejected/`` with ``<name>.txt`` beside it saying
  why and what to do. list_inputs() never looks into either folder.
- A file is moved only if its bytes are still the ones the run read (same SHA-256):
  a file replaced while the run was busy stays in input/ for the next run.
- A name already taken in the target folder gets a suffix: ``매출 (2).xlsx``,
  ``매출 (3).xlsx``... Nothing is ever overwritten.
- Names are written in NFC, so a file that came from a Mac (NFD) is archived under
  the spelling every other tool shows.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ARCHIVE_FOLDER = "archive"
REJECTED_FOLDER = "rejected"


@dataclass(frozen=True)
class Handled:
    """One input the run dealt with: where it is, what it held, why it was refused."""

    path: Path
    sha256: str
    refused: str | None = None  # the reason, in the user's language


@dataclass(frozen=True)
class Moved:
    source: Path
    target: Path
    note: Path | None = None


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (exports can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/stem (n).suffix`` with the first n >= 2 free."""
    name = unicodedata.normalize("NFC", name)
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    number = 2
    while candidate.exists() or candidate.with_name(candidate.name + ".txt").exists():
        candidate = folder / f"{stem} ({number}){suffix}"
        number += 1
    return candidate


def move_file(source: Path, folder: Path) -> Path:
    """Move ``source`` into ``folder`` under a free name; return the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = free_name(folder, source.name)
    try:
        os.rename(source, target)  # atomic on one file system
    except OSError:
        shutil.move(str(source), str(target))  # across devices (network shares)
    return target


def reject_file(source: Path, input_dir: Path, reason: str) -> Moved:
    """Move ``source`` to input/rejected/ and write the reason beside it."""
    target = move_file(source, Path(input_dir) / REJECTED_FOLDER)
    note = target.with_name(target.name + ".txt")
    note.write_text(
        f"{unicodedata.normalize('NFC', source.name)}\n{reason}\n", encoding="utf-8"
    )
    return Moved(source, target, note)


def archive_inputs(handled: list[Handled], input_dir: Path, period: str) -> list[Moved]:
    """Move every handled input to archive/<period>/ or rejected/ (see module rules)."""
    input_dir = Path(input_dir)
    moved: list[Moved] = []
    for item in handled:
        path = Path(item.path)
        if not path.is_file():
            log.warning("%s: gone before archiving; nothing moved", path)
            continue
        if item.sha256 and file_sha256(path) != item.sha256:
            log.warning(
                "%s: changed since it was read; left in place for the next run", path
            )
            continue
        if item.refused is not None:
            moved.append(reject_file(path, input_dir, item.refused))
        else:
            folder = input_dir / ARCHIVE_FOLDER / period
            moved.append(Moved(path, move_file(path, folder)))
    log.info(
        "input %s: %d archived, %d rejected",
        input_dir,
        sum(m.note is None for m in moved),
        sum(m.note is not None for m in moved),
    )
    return moved
