"""Finding the header row under title rows, and mapping its columns to a profile.

Business rules:

- The header is the row (within the first ``scan_rows``) whose cells match the most
  aliases of one profile, among the profiles whose required fields and fingerprint
  are all found there. Ties go to the profile's priority, then the earlier row.
- A two-row header (a merged group name above, the parts below: "거래처" over "코드"
  and "명") is tried too: each column is then named by the joined text, else the
  lower, else the upper cell. It is kept only when it matches more than either row
  alone.
- A column serves one field, except when two fields list the very same alias (ECOUNT's
  "일자-No." is both the date and the document key).
- When no profile applies, the closest one is named with what it lacked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ledgerflow.read.profiles import Profile, normalise_header


@dataclass
class Header:
    """Where the header is and what each column means under one profile."""

    profile: Profile
    first_row: int  # 0-based index of the (first) header row in the grid
    last_row: int  # 0-based index of the last header row (== first_row unless two)
    labels: list[str]  # display text of each column (joined for two-row headers)
    mapping: dict[str, int]  # canonical field -> column index
    score: int
    unmapped: list[str] = field(default_factory=list)


@dataclass
class NearMiss:
    """The closest profile when none applies, and what it lacked."""

    profile: Profile
    row: int
    found: list[str]
    lacking: list[str]


def cell_label(value: object) -> str:
    """A header cell as display text ("" for blank)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


def _is_text_row(row: list) -> bool:
    """True when every non-blank cell is text (a header row has no numbers or dates)."""
    values = [v for v in row if v not in ("", None)]
    return bool(values) and all(isinstance(v, str) for v in values)


def _fill_header_merges(
    row: list[str], row_index: int, merges: list[tuple[int, int, int, int]]
) -> list[str]:
    """Spread a horizontally merged group name ("금액" over C:D) over its columns."""
    out = list(row)
    for r0, c0, _r1, c1 in merges:
        if r0 == row_index and c1 > c0 and c0 < len(out):
            for c in range(c0 + 1, min(c1 + 1, len(out))):
                if not out[c]:
                    out[c] = out[c0]
    return out


def _vertical_merge_rows(
    row_index: int, merges: list[tuple[int, int, int, int]]
) -> set[int]:
    """Columns whose upper header cell is merged down into the next row."""
    return {
        c
        for r0, c0, r1, c1 in merges
        if r0 == row_index and r1 > r0
        for c in range(c0, c1 + 1)
    }


@dataclass
class _Candidate:
    names: list[list[str]]  # per column: normalised names to try, best first
    labels: list[str]  # per column: display text
    first_row: int
    last_row: int


def _single(grid: list[list], r: int, merges) -> _Candidate:
    labels = _fill_header_merges([cell_label(v) for v in grid[r]], r, merges)
    return _Candidate([[normalise_header(t)] for t in labels], labels, r, r)


def _double(grid: list[list], r: int, merges) -> _Candidate | None:
    if r + 1 >= len(grid) or not _is_text_row(grid[r + 1]):
        return None
    upper = _fill_header_merges([cell_label(v) for v in grid[r]], r, merges)
    lower = [cell_label(v) for v in grid[r + 1]]
    down = _vertical_merge_rows(r, merges)
    width = max(len(upper), len(lower))
    upper += [""] * (width - len(upper))
    lower += [""] * (width - len(lower))
    names, labels = [], []
    for c in range(width):
        top, bottom = upper[c], "" if c in down else lower[c]
        joined = f"{top} {bottom}".strip()
        tries = [normalise_header(joined), normalise_header(bottom)]
        tries.append(normalise_header(top))
        names.append([t for t in tries if t])
        labels.append(joined)
    return _Candidate(names, labels, r, r + 1)


def map_columns(
    profile: Profile, names: list[list[str]], index: _NameIndex | None = None
) -> dict[str, int]:
    """Canonical field -> column for one profile over one candidate header.

    ``index`` (of ``names``) may be passed when several profiles try one header.
    """
    index = index or _NameIndex(names)
    taken: dict[int, str] = {}  # column -> the alias key that claimed it
    mapping: dict[str, int] = {}
    for field_name, aliases in profile.fields.items():
        for alias in aliases:
            column = index.find(alias.key, alias.occurrence)
            if column is None:
                continue
            if column in taken and taken[column] != alias.key:
                continue
            taken.setdefault(column, alias.key)
            mapping[field_name] = column
            break
    return mapping


class _NameIndex:
    """Where each normalised name first stands, so a wide row is searched once.

    A name is looked for among every column's first try, then second, then third
    (first column wins within a depth); ``occurrence`` counts first tries only.
    """

    def __init__(self, names: list[list[str]]):
        self.first: list[dict[str, int]] = [{}, {}, {}]
        self.primary: dict[str, list[int]] = {}
        for c, tries in enumerate(names):
            for depth, name in enumerate(tries[:3]):
                self.first[depth].setdefault(name, c)
            self.primary.setdefault(tries[0] if tries else "", []).append(c)

    def find(self, key: str, occurrence: int | None) -> int | None:
        if occurrence is not None:
            columns = self.primary.get(key, [])
            return columns[occurrence - 1] if 0 < occurrence <= len(columns) else None
        for depth in self.first:
            if key in depth:
                return depth[key]
        return None


def _lacking(profile: Profile, mapping: dict[str, int], present: set[str]) -> list[str]:
    lacking = []
    for group in profile.required:
        if not any(f in mapping for f in group):
            lacking.append(" or ".join(f"{f} ({profile.aliases_of(f)})" for f in group))
    lacking += [
        f"the header {text!r}"
        for key, text in zip(profile.fingerprint, profile.fingerprint_text, strict=True)
        if key not in present
    ]
    return lacking


def find_header(
    grid: list[list],
    profiles: list[Profile],
    scan_rows: int,
    merges: list[tuple[int, int, int, int]] | None = None,
) -> tuple[Header | None, NearMiss | None]:
    """The best header under ``profiles`` in the first ``scan_rows`` rows.

    Returns (header, None) when a profile applies, else (None, closest near miss).
    """
    merges = merges or []
    best: tuple | None = None
    near: tuple | None = None
    for r in range(min(scan_rows, len(grid))):
        row = grid[r]
        if sum(1 for v in row if isinstance(v, str) and v.strip()) < 1:
            continue
        single = _single(grid, r, merges)
        candidates = [single]
        double = _double(grid, r, merges)
        if double is not None:
            candidates.append(double)
        for candidate in candidates:
            present = {n for tries in candidate.names for n in tries}
            index = _NameIndex(candidate.names)
            for profile in profiles:
                mapping = map_columns(profile, candidate.names, index)
                if not mapping:
                    continue
                lacking = _lacking(profile, mapping, present)
                fingerprint = 2 * len(profile.fingerprint)
                two_rows = candidate.last_row > candidate.first_row
                if lacking:
                    rank = (-len(lacking), len(mapping), profile.priority)
                    if near is None or rank > near[0]:
                        near = (rank, profile, r, mapping, lacking)
                    continue
                score = len(mapping) + fingerprint
                rank = (score, profile.priority, not two_rows, -r)
                if best is None or rank > best[0]:
                    best = (rank, profile, candidate, mapping, score)
    if best is not None:
        _, profile, candidate, mapping, score = best
        used = set(mapping.values())
        unmapped = [
            label for c, label in enumerate(candidate.labels) if label and c not in used
        ]
        header = Header(
            profile=profile,
            first_row=candidate.first_row,
            last_row=candidate.last_row,
            labels=candidate.labels,
            mapping=mapping,
            score=score,
            unmapped=unmapped,
        )
        return header, None
    if near is None:
        return None, None
    _, profile, r, mapping, lacking = near
    return None, NearMiss(profile, r, sorted(mapping, key=mapping.get), lacking)
