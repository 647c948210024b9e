"""`ledgerflow watch`: start a run when exports land in input/, by polling.

Polling (a directory listing and a stat per file every few seconds) works on SMB
and NFS shares, where change notifications never arrive.

Business rules:

- Lock and temporary files (``~$x.xlsx``, ``.~lock.x#``, ``*.tmp``, dotfiles) are
  never looked at: the listing is read.list_inputs(), the same one the run uses.
- A file is complete when its size and modification time have not changed for
  ``settle_seconds``; a copy still growing over the network is waited for.
- Files landing together make one run: the batch starts once nothing in input/
  changed for ``debounce_seconds`` and every file in it is complete.
- The same content never runs twice. The idempotency key of a run is the SHA-256
  over the sorted SHA-256s of every file the run reads; keys of finished runs are
  kept in ``output/.state/watch.json``. When inputs are archived, a file whose
  SHA-256 was already processed is moved to input/rejected/ (with the reason)
  instead of being read again.
- Names are compared in NFC, so a folder a Mac wrote in NFD is the same folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ledgerflow import archive
from ledgerflow.labels import reason
from ledgerflow.read import list_inputs
from ledgerflow.report.atomic import atomic_path

log = logging.getLogger(__name__)

STATE_NAME = "watch.json"

Snapshot = dict[Path, tuple[int, int]]  # path -> (size in bytes, mtime in ns)


def snapshot(folder: Path) -> Snapshot:
    """Size and modification time of every input in ``folder`` right now."""
    found: Snapshot = {}
    for path in list_inputs(Path(folder)):
        try:
            stat = path.stat()
        except OSError:
            continue  # removed or renamed between the listing and the stat
        found[path] = (stat.st_size, stat.st_mtime_ns)
    return found


def run_key(digests: list[str]) -> str:
    """The idempotency key of a run reading files with these SHA-256s."""
    return hashlib.sha256("\n".join(sorted(digests)).encode("ascii")).hexdigest()


@dataclass
class Batcher:
    """Decides, from successive snapshots and clock readings, when a batch is ready.

    Pure: it never touches the disk, so tests drive it with made-up snapshots and
    times. ``observe`` returns the paths of a ready batch, else None; ``done``
    records that a batch was dealt with (so unchanged files do not trigger again).
    """

    settle_seconds: float
    debounce_seconds: float
    _seen: dict[Path, tuple[tuple[int, int], float]] = field(default_factory=dict)
    _last_change: float | None = None
    _done: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def observe(self, now: float, current: Snapshot) -> list[Path] | None:
        for path, signature in current.items():
            known = self._seen.get(path)
            if known is None or known[0] != signature:
                self._seen[path] = (signature, now)
                self._last_change = now
        for path in set(self._seen) - set(current):
            del self._seen[path]
            self._done.pop(path, None)
        pending = [p for p, s in current.items() if self._done.get(p) != s]
        if not pending or self._last_change is None:
            return None
        if now - self._last_change < self.debounce_seconds:
            return None
        if any(now - self._seen[p][1] < self.settle_seconds for p in pending):
            return None
        return sorted(pending, key=lambda p: unicodedata.normalize("NFC", str(p)))

    def done(self, current: Snapshot) -> None:
        self._done.update(current)


def load_state(state_dir: Path) -> dict:
    """The watcher's memory: {"runs": {key: info}, "files": {sha256: info}}."""
    path = Path(state_dir) / STATE_NAME
    try:
        state = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {"runs": {}, "files": {}}
    except ValueError as exc:
        raise ValueError(
            f"{path}: not valid JSON ({exc}); move it away to start afresh (every "
            "file in input/ will then be run once more)"
        ) from exc
    state.setdefault("runs", {})
    state.setdefault("files", {})
    return state


def save_state(state_dir: Path, state: dict) -> None:
    path = Path(state_dir) / STATE_NAME
    with atomic_path(path) as temporary:
        text = json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True)
        temporary.write_text(text, encoding="utf-8")


def _nfc(path: Path) -> str:
    return unicodedata.normalize("NFC", path.name)


@dataclass
class Watcher:
    """The polling loop around a Batcher; ``runner`` starts one run of the flow."""

    input_dir: Path
    state_dir: Path
    runner: Callable[[], dict]
    batcher: Batcher
    archive: bool
    lang: str = "ko"
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    runs: int = 0

    def step(self) -> str | None:
        """Look once; run when a batch is ready. Returns the run key, or None."""
        current = snapshot(self.input_dir)
        batch = self.batcher.observe(self.clock(), current)
        if batch is None:
            return None
        state = load_state(self.state_dir)
        digests: dict[Path, str] = {}
        for path in current:
            try:
                digests[path] = archive.file_sha256(path)
            except OSError as exc:
                log.warning("%s: cannot be read yet (%s); next look", path, exc)
                return None
        if self.archive:
            digests = self._set_aside_duplicates(digests, state)
        self.batcher.done(current)
        if not digests:
            return None
        key = run_key(list(digests.values()))
        if key in state["runs"]:
            log.info(
                "input %s: content already run (key %s); no run",
                self.input_dir,
                key[:12],
            )
            return None
        log.info(
            "input %s: %d files, run key %s", self.input_dir, len(digests), key[:12]
        )
        self.runs += 1
        try:
            summary = self.runner()
        except Exception as exc:  # a failed run must not stop the watcher
            log.error(
                "input %s: run failed (%s); it runs again when a file changes",
                self.input_dir,
                exc,
            )
            return None
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        state["runs"][key] = {"period": summary.get("period"), "at": stamp}
        for path, digest in digests.items():
            state["files"].setdefault(digest, {"name": _nfc(path), "at": stamp})
        save_state(self.state_dir, state)
        return key

    def _set_aside_duplicates(self, digests: dict[Path, str], state: dict) -> dict:
        kept = {}
        for path, digest in digests.items():
            first = state["files"].get(digest)
            if first is None:
                kept[path] = digest
                continue
            why = reason(
                "duplicate_content",
                self.lang,
                f"{first['name']} ({first['at']}), SHA-256 {digest[:12]}",
            )
            archive.reject_file(path, self.input_dir, why)
            log.warning(
                "%s: same content as %s; moved to rejected/", path, first["name"]
            )
        return kept

    def loop(self, poll_seconds: float, max_runs: int | None = None) -> None:
        """Poll until interrupted (or until ``max_runs`` runs have happened)."""
        while max_runs is None or self.runs < max_runs:
            self.step()
            if max_runs is not None and self.runs >= max_runs:
                break
            self.sleep(poll_seconds)
