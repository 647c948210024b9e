"""Linking source records into partners: union-find that respects BRNs."""

from __future__ import annotations

import pandas as pd

from ledgerflow.master.fuzzy import link_fuzzy


class Components:
    """Union-find over records that refuses to join incompatible BRNs.

    Each component knows the longest BRN digits seen in it; two components join only
    if one's digits are a prefix of the other's. So two different valid numbers never
    merge, and neither do partial numbers that disagree in a known digit.
    """

    def __init__(self, known: list[str | None]):
        n = len(known)
        self.parent = list(range(n))
        self.size = [1] * n
        self.known = [k or "" for k in known]
        self.rule: list[str | None] = [None] * n
        self.rules: dict[int, set[str]] = {}
        # Record -> score of the fuzzy name match that attached it (0-100).
        self.scores: dict[int, float] = {}

    def find(self, item: int) -> int:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def compatible(self, a: int, b: int) -> bool:
        first, second = self.known[self.find(a)], self.known[self.find(b)]
        if len(first) > len(second):
            first, second = second, first
        return second.startswith(first)

    def union(self, a: int, b: int, rule: str) -> bool:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        if not self.compatible(root_a, root_b):
            return False
        if self.size[root_a] < self.size[root_b]:
            root_a, root_b = root_b, root_a
        self.parent[root_b] = root_a
        self.size[root_a] += self.size[root_b]
        if len(self.known[root_b]) > len(self.known[root_a]):
            self.known[root_a] = self.known[root_b]
        rules = self.rules.setdefault(root_a, set())
        rules |= self.rules.pop(root_b, set())
        rules.add(rule)
        for item in (a, b):
            if self.rule[item] is None:
                self.rule[item] = rule
        return True

    def link_groups(self, key: pd.Series, rule: str) -> None:
        """Join the records sharing a key; newest first, each to the first it fits."""
        present = key.dropna()
        positions = present.index.to_numpy()
        for members in present.groupby(present, sort=False).indices.values():
            if len(members) > 1:
                self._first_fit(sorted(positions[members]), rule)

    def _first_fit(self, members: list[int], rule: str) -> None:
        """Join each member to the first earlier component of the group it fits.

        Components left apart in a group have pairwise incompatible BRN digits, so
        none is a prefix of another: a member's digits fit at most one component
        whose digits are a prefix of them, plus those extending them. Both are
        looked up by prefix, so a group costs O(members x 10), not O(members^2).
        """
        anchors: list[int] = []
        exact: dict[str, int] = {}  # known digits -> anchor number
        extending: dict[str, list[int]] = {}  # proper prefix -> anchor numbers

        def register(number: int, old: str, new: str) -> None:
            if exact.get(old) == number:
                del exact[old]
            exact[new] = number
            for length in range(max(len(old), 1), len(new)):
                extending.setdefault(new[:length], []).append(number)

        for member in members:
            known = self.known[self.find(member)]
            if not known:
                candidates = [0] if anchors else []
            else:
                candidates = [
                    exact[known[:i]]
                    for i in range(len(known) + 1)
                    if known[:i] in exact
                ]
                candidates += extending.get(known, [])
            for number in sorted(set(candidates)):
                anchor = anchors[number]
                before = self.known[self.find(anchor)]
                if self.union(anchor, member, rule):
                    after = self.known[self.find(anchor)]
                    if after != before:
                        register(number, before, after)
                    break
            else:
                anchors.append(member)
                register(len(anchors) - 1, "", known)

    def link_bare_names(self, keys: pd.DataFrame) -> None:
        """A record with only a name joins the one partner of that name, if unique.

        "Only a name": no code, no valid BRN, no region and no phone. It joins when
        exactly one other partner with the same name key is compatible with it (its
        BRN digits, if any, agree); when the name has no other partner, such records
        join each other (first fit, as link_groups).
        """
        bare = (
            keys["code"].isna()
            & keys["brn_full"].isna()
            & keys["region"].isna()
            & keys["phone"].isna()
            & keys["name"].notna()
        )
        names = keys["name"].where(keys["name"].isin(keys.loc[bare, "name"]))
        present = names.dropna()
        positions = present.index.to_numpy()
        is_bare = bare.to_numpy()
        for members in present.groupby(present, sort=False).indices.values():
            if len(members) < 2:
                continue
            members = sorted(positions[members])
            lonely = [m for m in members if is_bare[m]]
            others = list(
                dict.fromkeys(self.find(m) for m in members if not is_bare[m])
            )
            if not others:
                self._first_fit(lonely, "name")
                continue
            # Index the other partners by their digits (a snapshot before joining).
            unknown, exact, extending = [], {}, {}
            for root in others:
                known = self.known[root]
                if not known:
                    unknown.append(root)
                    continue
                exact.setdefault(known, []).append(root)
                for length in range(1, len(known)):
                    extending.setdefault(known[:length], []).append(root)
            for member in lonely:
                known = self.known[self.find(member)]
                if not known:
                    fits = others
                else:
                    fits = unknown + extending.get(known, [])
                    for i in range(1, len(known) + 1):
                        fits = fits + exact.get(known[:i], [])
                if len(fits) == 1:
                    self.union(fits[0], member, "name")


def link_branches(components: Components, keys: pd.DataFrame) -> None:
    """A BRN without a branch number joins that BRN's head office, if listed.

    Without a head office ("0000") it joins the number's only place of business;
    with several places and no head office it stays apart (the code or name steps
    may still place it).
    """
    full, branch = keys["brn_full"], keys["branch"]
    unknown = full.notna() & branch.isna()
    known = full.notna() & branch.notna()
    if not (unknown.any() and known.any()):
        return
    places = pd.DataFrame({"brn": full[known], "branch": branch[known]})
    places = places.rename_axis("position").reset_index()
    places = places.drop_duplicates(["brn", "branch"])
    n_places = places.groupby("brn")["branch"].transform("size")
    head = places[places["branch"] == "0000"].set_index("brn")["position"]
    only = places[n_places == 1].set_index("brn")["position"]
    target = head.combine_first(only)
    for position, number in full[unknown].items():
        if number in target.index:
            components.union(int(target[number]), int(position), "brn")


def link_records(keys: pd.DataFrame, fuzzy: dict | None = None) -> Components:
    """Link records in the order of issue 4, strongest first.

    BRN and place of business, company number, code, name + region, name + phone,
    a bare name, then (``fuzzy`` settings, see fuzzy.link_fuzzy) similar names.
    """
    components = Components(
        keys["brn_known"].astype(object).where(keys["brn_known"].notna(), None).tolist()
    )
    components.link_groups(keys["brn_branch"], "brn")
    link_branches(components, keys)
    components.link_groups(keys["company"], "company_no")
    components.link_groups(keys["code"], "code")
    components.link_groups(keys["name"] + "\x1f" + keys["region"], "name_region")
    components.link_groups(keys["name"] + "\x1f" + keys["phone"], "name_phone")
    components.link_bare_names(keys)
    if fuzzy is not None:
        link_fuzzy(components, keys, fuzzy)
    return components
