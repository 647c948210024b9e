"""Write an output file under a temporary name and rename it when complete.

A half-written workbook never replaces a good one: if anything fails before the
rename, the temporary file is removed and the previous output stays as it was.
"""

from __future__ import annotations

import errno
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledgerflow.errors import OutputError

log = logging.getLogger(__name__)


def output_error(path: Path, exc: OSError, doing: str) -> OutputError:
    """An OutputError naming ``path``, what failed and what the user can do."""
    cause = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        fix = "free some disk space and run again"
    elif doing == "replace":
        fix = "close it in Excel (or any program that has it open) and run again"
    else:
        fix = f"check the folder {path.parent} exists and is writable"
    return OutputError(exc.errno, f"{path}: cannot write the file ({cause}); {fix}")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; move it onto ``path`` on success.

    Rules:
    - the temporary file sits in the same folder, so the final rename is atomic;
    - on any exception the temporary file is removed and ``path`` is left untouched;
    - an OSError (read-only folder, disk full, file open in Excel) becomes an
      OutputError that names the file and what to do.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(
            prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent
        )
        os.close(handle)
        # mkstemp makes the file private (0600); an output is a normal document
        os.chmod(name, path.stat().st_mode & 0o777 if path.exists() else 0o644)
    except OSError as exc:
        raise output_error(path, exc, "create") from exc
    temporary = Path(name)
    try:
        try:
            yield temporary
        except OutputError:
            raise
        except OSError as exc:
            raise output_error(path, exc, "write") from exc
        try:
            os.replace(temporary, path)
        except OSError as exc:
            raise output_error(path, exc, "replace") from exc
    except BaseException:
        _remove_quietly(temporary)
        raise
    log.debug("%s: written", path)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("%s: temporary file left behind (%s); delete it", path, exc)


def sweep_leftovers(folder: Path) -> int:
    """Remove the temporary files a killed run left in ``folder``; return how many.

    Only names of our own pattern (``.<stem>.<random>.tmp``) go. Call it only while
    holding the run lock (runlock.py), when no other run can be writing there.
    """
    removed = 0
    if not folder.is_dir():
        return 0
    for leftover in folder.glob(".*.tmp"):
        if leftover.is_file():
            _remove_quietly(leftover)
            removed += 1
    return removed
