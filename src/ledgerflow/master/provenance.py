"""How each partner was formed: links, code map, merged values and conflicts."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from ledgerflow.master.columns import (
    CODE_MAP_COLUMNS,
    CONFLICT_COLUMNS,
    LINK_COLUMNS,
    empty_frame,
)
from ledgerflow.master.linking import Components
from ledgerflow.master.privacy import mask_frame
from ledgerflow.names import distinct

_SPACES = re.compile(r"\s+")
_CONFLICT_WORK = ["comp", "field", "values", "n_values", "sources"]


def join_unique(values: pd.Series, by: pd.Series) -> pd.Series:
    """Distinct values per group, sorted and joined with "; "."""
    frame = pd.DataFrame({"by": by, "value": values}).dropna().drop_duplicates()
    frame = frame.sort_values(["by", "value"])
    several = frame["by"].duplicated(keep=False)
    # Most partners have one value: join in Python only where there are several.
    single = frame.loc[~several].set_index("by")["value"]
    joined = frame.loc[several].groupby("by")["value"].agg("; ".join)
    return pd.concat([single, joined]) if len(joined) else single


def compare_key(values: pd.Series) -> pd.Series:
    """Text folded for comparison: NFKC, case folded, runs of spaces as one."""
    uniques = distinct(values)
    folded = {
        v: _SPACES.sub(" ", unicodedata.normalize("NFKC", v)).strip().casefold()
        for v in uniques
    }
    return values.map(folded).astype("string")


def value_conflicts(rec: pd.DataFrame, keys: pd.DataFrame, fields: list[str]):
    """Fields whose values disagree within a component, newest value first."""
    compare = {
        "partner_name": keys["name"],
        "brn": keys["brn_full"].fillna(keys["brn_digits"]),
        "phone": keys["phone"],
        "region": keys["region"],
        "bank_account": keys["bank"],
    }
    rows = []
    for name in fields:
        value = keys["region"] if name == "region" else rec[name]
        cmp = compare.get(name)
        if cmp is None:
            cmp = compare_key(rec[name])
        sub = pd.DataFrame(
            {
                "comp": rec["comp"],
                "value": value,
                "cmp": cmp,
                "file": rec["source_file"],
            }
        ).dropna(subset=["value", "cmp"])
        counts = sub.groupby("comp")["cmp"].nunique()
        several = counts[counts > 1]
        if several.empty:
            continue
        sub = sub[sub["comp"].isin(several.index)]
        values = sub.drop_duplicates(["comp", "cmp"]).groupby("comp")["value"]
        files = sub.drop_duplicates(["comp", "file"]).dropna(subset=["file"])
        found = pd.DataFrame(
            {
                "field": name,
                "values": values.agg("; ".join),
                "n_values": several,
                "sources": files.groupby("comp")["file"].agg("; ".join),
            }
        )
        rows.append(found.rename_axis("comp").reset_index())
    if not rows:
        return pd.DataFrame(columns=_CONFLICT_WORK)
    return pd.concat(rows, ignore_index=True)


def shared_codes(rec: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """A code found on several partners (kept apart by their BRNs)."""
    pairs = rec[["partner_code", "comp", "source_file"]].dropna(subset=["partner_code"])
    pairs = pairs.drop_duplicates(["partner_code", "comp"])
    counts = pairs.groupby("partner_code")["comp"].transform("nunique")
    pairs = pairs[counts > 1]
    if pairs.empty:
        return pd.DataFrame(columns=_CONFLICT_WORK)
    pairs = pairs.assign(pid=pairs["comp"].map(ids))
    rows = []
    for code, group in pairs.groupby("partner_code"):
        for comp, pid in group[["comp", "pid"]].itertuples(index=False):
            others = sorted(set(group["pid"]) - {pid})
            rows.append(
                (
                    comp,
                    "partner_code",
                    f"{code} (also {'; '.join(others)})",
                    len(others) + 1,
                    "; ".join(sorted(set(group["source_file"].dropna()))),
                )
            )
    return pd.DataFrame(
        rows, columns=["comp", "field", "values", "n_values", "sources"]
    )


def finish_conflicts(conflicts: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    if conflicts.empty:
        return empty_frame(CONFLICT_COLUMNS).astype({"n_values": "Int64"})
    out = conflicts.assign(partner_id=conflicts["comp"].map(ids))
    out = mask_frame(out, ["values"])
    out = out.sort_values(["partner_id", "field"], kind="stable")
    out = out[CONFLICT_COLUMNS].reset_index(drop=True)
    for column in ("partner_id", "field", "values", "sources"):
        out[column] = out[column].astype("string")
    out["n_values"] = out["n_values"].astype("Int64")
    return out


def code_map_frame(rec: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """One partner per code: the one holding the code's lines, else the most rows."""
    coded = rec.dropna(subset=["partner_code"])
    if coded.empty:
        return empty_frame(CODE_MAP_COLUMNS)
    coded = coded.assign(
        on_lines=coded["source_kind"] != "partners", newest=coded.index
    )
    stats = coded.groupby(["partner_code", "comp"], as_index=False).agg(
        on_lines=("on_lines", "any"),
        n_rows=("n_rows", "sum"),
        newest=("newest", "min"),
    )
    stats = stats.sort_values(
        ["partner_code", "on_lines", "n_rows", "newest"],
        ascending=[True, False, False, True],
    ).drop_duplicates("partner_code")
    out = pd.DataFrame(
        {"partner_code": stats["partner_code"], "partner_id": stats["comp"].map(ids)}
    )
    return out.astype("string").reset_index(drop=True)


def link_frame(rec: pd.DataFrame, ids: pd.Series, components: Components):
    rules = [r or "single" for r in components.rule]
    out = pd.DataFrame(
        {
            "partner_id": rec["comp"].map(ids).astype("string"),
            "source_kind": rec["source_kind"].astype("string"),
            "source_file": rec["source_file"],
            "source_sheet": rec["source_sheet"],
            "source_row": rec["source_row"],
            "n_rows": rec["n_rows"].astype("Int64"),
            "partner_code": rec["partner_code"],
            "partner_name": rec["partner_name"],
            "brn": rec["brn"],
            "match_rule": pd.Series(rules, index=rec.index, dtype="string"),
            "match_score": pd.Series(components.scores, dtype="Float64").reindex(
                rec.index
            ),
            "input_order": rec["input_order"],
        }
    )
    out = out.sort_values(["partner_id", "input_order"], kind="stable")
    out = mask_frame(out, ["partner_code", "partner_name", "brn"])
    return out[LINK_COLUMNS].reset_index(drop=True)
