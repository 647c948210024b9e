"""The last linking step: partners whose names are nearly the same.

Runs after every exact rule (linking.link_records), on the partners those rules
left apart. Names are compared by their match keys (names.normalise_name) with
rapidfuzz's normalised Indel similarity (fuzz.ratio, 0-100), syllable by syllable:
one syllable wrong in a name of n scores 100 x (1 - 1/n), so "대한정밀기계공업"
against "대한정밀기게공업" scores 87.5 and "삼성전자" against "삼성전기" 75.
Comparing letters (jamo) instead was tried and rejected: on the national pension
list it joined 서울청구초등학교 with 서울충무초등학교 and 대명도장 with 대명포장.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

if TYPE_CHECKING:
    from ledgerflow.master.linking import Components

log = logging.getLogger(__name__)

RULE = "fuzzy_name"
_NOT_DIGIT = re.compile(r"\D")
# Cells of one similarity matrix at most (float32): bounds memory per block.
_MATRIX_CELLS = 2_000_000


def blocks(names: list[str], size: int, start: int = 2) -> list[list[int]]:
    """Positions of ``names`` grouped by a common prefix, each group <= ``size``.

    The prefix starts at ``start`` characters and grows for a group still larger
    than ``size`` (names no longer than the prefix stay together), so a common
    first word does not make one huge block: the comparisons per group are bounded
    and the whole step is not quadratic in the number of partners. The price:
    names differing within their first ``start`` characters are never compared.
    """
    out: list[list[int]] = []
    pending = [(start, list(range(len(names))))]
    while pending:
        length, members = pending.pop()
        groups: dict[str, list[int]] = defaultdict(list)
        for member in members:
            groups[names[member][:length]].append(member)
        for group in groups.values():
            longer = any(len(names[m]) > length for m in group)
            if len(group) > size and longer:
                pending.append((length + 1, group))
            else:
                out.append(group)
    return out


class _Facts:
    """Per component: its regions, its phones, whether it has a partner code."""

    def __init__(self, keys: pd.DataFrame, roots: pd.Series):
        self.region = keys["region"].dropna().groupby(roots).agg(frozenset).to_dict()
        self.phone = keys["phone"].dropna().groupby(roots).agg(frozenset).to_dict()
        self.coded = keys["code"].notna().groupby(roots).any().to_dict()

    def compatible(self, a: int, b: int) -> bool:
        """Regions and phones do not disagree; two coded partners need one to agree."""
        agree = False
        for known in (self.region, self.phone):
            first, second = known.get(a), known.get(b)
            if first is not None and second is not None:
                if first.isdisjoint(second):
                    return False
                agree = True
        return agree or not (self.coded[a] and self.coded[b])


def _pairs(names: list[str], query: np.ndarray, threshold: float, size: int):
    """(score, i, j) for pairs of ``names`` scoring >= ``threshold``, best first.

    Only names with the same digits are compared (the rule of link_fuzzy, applied
    before scoring), within prefix blocks (``blocks``); only pairs with a ``query``
    name are scored.
    """
    by_digits: dict[str, list[int]] = defaultdict(list)
    for position, name in enumerate(names):
        by_digits[_NOT_DIGIT.sub("", name)].append(position)
    found = set()
    for same_digits in by_digits.values():
        same_digits = np.array(same_digits)
        if len(same_digits) < 2 or not query[same_digits].any():
            continue
        for group in blocks([names[m] for m in same_digits], size):
            members = same_digits[group]
            asking = members[query[members]]
            if len(members) < 2 or not len(asking):
                continue
            choices = [names[m] for m in members]
            step = max(1, _MATRIX_CELLS // len(members))
            for start in range(0, len(asking), step):
                chunk = asking[start : start + step]
                scores = process.cdist(
                    [names[m] for m in chunk],
                    choices,
                    scorer=fuzz.ratio,
                    score_cutoff=threshold,
                    dtype=np.float32,
                )
                rows, cols = np.nonzero(scores >= threshold)
                for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
                    i, j = int(chunk[row]), int(members[col])
                    if i != j:
                        found.add((float(scores[row, col]), min(i, j), max(i, j)))
    return sorted(found, key=lambda p: (-p[0], p[1], p[2]))


def link_fuzzy(components: Components, keys: pd.DataFrame, settings: dict) -> int:
    """Join partners with nearly the same name; returns the number of joins.

    Rules (settings from config ``master``):
    - Off when ``fuzzy_threshold`` is 0; else two partners join when the
      similarity of their name keys is at least the threshold (0-100).
    - At least one of the two carries no BRN digits at all: a number, even a
      partial one, is an identity claim the exact steps have already weighed
      (so two valid numbers never join, nor two places of business of one number;
      on the national pension list, schools sharing a masked number and a similar
      name stay apart).
    - The digits in the two names are the same ("제1공장" is not "제2공장").
    - Their regions, and their phones, do not disagree where both are known; two
      partners that both have a partner code also need a region or a phone in
      common (a code is a deliberate identity, and "Redacted Personal Data" under
      ninety codes is ninety people).
    - A partner without BRN digits joins only its single best candidate: two
      candidates with the same best score are ambiguous and neither is joined.
    - Names are compared within blocks of a common prefix (``blocks``, at most
      ``fuzzy_block_size`` names), best scores first.
    Each record attached this way has match_rule "fuzzy_name" and its score in
    ``components.scores``.
    """
    threshold = float(settings.get("fuzzy_threshold", 90) or 0)
    if threshold <= 0:
        return 0
    size = int(settings.get("fuzzy_block_size", 2000))
    roots = pd.Series([components.find(i) for i in range(len(keys))], index=keys.index)
    named = keys["name"].dropna()
    entries = pd.DataFrame({"name": named, "root": roots[named.index]})
    entries = entries.drop_duplicates(["root", "name"])
    numbered = {r for r in entries["root"].unique() if components.known[r]}
    query = ~entries["root"].isin(numbered).to_numpy()
    if not query.any():
        return 0
    names = entries["name"].tolist()
    positions = entries.index.to_numpy()
    pairs = _pairs(names, query, threshold, size)
    if not pairs:
        return 0
    # Facts only of the partners in a pair: the step costs little without pairs.
    entry_root = entries["root"].to_numpy()
    involved = {int(entry_root[k]) for _, i, j in pairs for k in (i, j)}
    inside = roots.isin(involved)
    facts = _Facts(keys[inside], roots[inside])
    kept = []
    for score, i, j in pairs:
        a, b = int(positions[i]), int(positions[j])
        root_a, root_b = components.find(a), components.find(b)
        if root_a == root_b or not components.compatible(a, b):
            continue
        if facts.compatible(root_a, root_b):
            kept.append((score, a, b, root_a, root_b))
    # Each partner's best candidates: a partner without BRN digits joins only a
    # single best candidate; a tie between partners is ambiguous and joins nothing.
    best: dict[int, tuple[float, set[int]]] = {}
    for score, _, _, root_a, root_b in kept:
        for one, other in ((root_a, root_b), (root_b, root_a)):
            top = best.get(one)
            if top is None or score > top[0]:
                best[one] = (score, {other})
            elif score == top[0]:
                top[1].add(other)
    joined = 0
    for score, a, b, root_a, root_b in kept:
        sides = [r for r in (root_a, root_b) if r not in numbered]
        if any(best[r][0] != score or len(best[r][1]) > 1 for r in sides):
            continue
        if components.find(a) != components.find(b) and components.union(a, b, RULE):
            joined += 1
            for item in (a, b):
                if components.rule[item] == RULE:
                    components.scores.setdefault(item, round(score, 1))
    log.info("master: %d partners joined by similar names (>= %g)", joined, threshold)
    return joined
