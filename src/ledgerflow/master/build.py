"""build_master: the stage that puts the partner master together."""

from __future__ import annotations

import logging

import pandas as pd

from ledgerflow.master.changes import change_watch
from ledgerflow.master.columns import (
    CODE_MAP_COLUMNS,
    CONFLICT_COLUMNS,
    CONFLICT_FIELDS,
    LINK_COLUMNS,
    MASTER_COLUMNS,
    MATCH_RULES,
    REGISTRY_COLUMNS,
    TEXT_FIELDS,
    WATCHED_FIELDS,
    MasterResult,
    empty_frame,
)
from ledgerflow.master.ids import (
    assign_ids,
    group_ids,
    identity_keys,
    registry_frame,
)
from ledgerflow.master.linking import link_records
from ledgerflow.master.privacy import bank_fingerprint, mask_bank_account, mask_frame
from ledgerflow.master.provenance import (
    code_map_frame,
    finish_conflicts,
    join_unique,
    link_frame,
    shared_codes,
    value_conflicts,
)
from ledgerflow.master.quality import activity_status, quality_frame
from ledgerflow.master.records import match_keys, source_records
from ledgerflow.tables import PARTNERS

log = logging.getLogger(__name__)


def build_master(
    partners: pd.DataFrame,
    sales: pd.DataFrame,
    receivables: pd.DataFrame,
    previous_ids: pd.DataFrame | None,
    config: dict,
) -> MasterResult:
    """Resolve every source's partners into one record per partner.

    Rules:
    - Sources: each partner-list row is a record; sales and receivable lines give one
      record per file, sheet and distinct (code, name, BRN). A partner seen only on
      lines is still a partner (source_kind sales/receivables).
    - Linking, strongest first: the same valid BRN and place of business ("brn";
      a BRN without a branch number joins its head office); the same company
      number, UK numbers padded to 8 digits ("company_no"); the same partner code
      across sources ("code"); the same normalised name (names.normalise_name) and
      region ("name_region") or phone ("name_phone"); a record with nothing but a
      name joins the one partner of that name ("name"); last, a similar name
      (fuzzy.link_fuzzy, config ``master.fuzzy_threshold``, "fuzzy_name" with the
      score in links.match_score). A partial or masked BRN never links by itself,
      and no link ever joins two different valid BRNs, two places of business
      (종사업장번호) of one BRN, or partial BRNs that disagree (MATCH_RULES;
      links.match_rule says which rule attached each record).
    - Places of business: separate partners sharing group_id, the head office's
      partner_id (ids.group_ids).
    - Values: per field, the first non-blank value of the newest record wins
      (partner lists before lines, see source_records); a valid BRN wins over any
      other. Disagreements are listed in ``conflicts``, never silently dropped.
    - IDs: carried from ``previous_ids`` (load_id_registry) by BRN, company number,
      code or name; new partners get the next number (assign_ids).
    - Change watch: name, representative, address, BRN and bank account against
      the previous registry, with a risk code (changes.change_watch).
    - Privacy: 주민등록번호 found in any text field is masked (900101-1******) in
      master, links, conflicts and registry; bank accounts show their last 4 digits
      everywhere and the registry keeps a fingerprint only; a National Insurance
      number in the company-number field is dropped; config ``master.contacts =
      false`` drops phone and email entirely (no columns, no phone matching).
      code_map keeps raw codes, for joining only.
    - Quality: quality_issues codes and a 0-100 score (QUALITY_WEIGHTS, config
      ``master.quality_weights``); status new/active/dormant/inactive (activity_status).
    """
    settings = config.get("master", {})
    contacts = bool(settings.get("contacts", True))
    records = source_records(partners, sales, receivables, config)
    if records.empty:
        log.info("master: no partners in any source")
        return MasterResult(
            master=empty_frame(MASTER_COLUMNS),
            code_map=empty_frame(CODE_MAP_COLUMNS),
            links=empty_frame(LINK_COLUMNS),
            conflicts=empty_frame(CONFLICT_COLUMNS),
            registry=previous_ids
            if previous_ids is not None
            else empty_frame(REGISTRY_COLUMNS),
        )
    if not contacts:
        records["phone"] = pd.Series(pd.NA, index=records.index, dtype="string")
        records["email"] = pd.Series(pd.NA, index=records.index, dtype="string")
    keys = match_keys(records)
    # Numbers as matched: company numbers padded (a National Insurance number
    # dropped), bank accounts shown by their last 4 digits from here on.
    records["company_no"] = keys["company"]
    records["bank_account"] = mask_bank_account(keys["bank"])

    # Link records into components, then name each component by a partner ID.
    components = link_records(keys, settings)
    roots = [components.find(i) for i in range(len(records))]
    rec = records.assign(comp=roots)
    order = rec.groupby("comp")["input_order"].min()
    identity = identity_keys(rec, keys)
    ids, matched_by, merged_ids = assign_ids(identity, order, previous_ids)

    # Field values: the first non-blank value of the newest record.
    by_comp = rec.groupby("comp", sort=False)
    winners = rec[["comp", *PARTNERS]].groupby("comp", sort=False).first()
    winners["region"] = keys["region"].groupby(rec["comp"], sort=False).first()
    brn_rows = pd.DataFrame(
        {
            "comp": rec["comp"],
            "rank": keys["brn_full"].isna().astype(int),
            "brn": keys["brn_full"].fillna(rec["brn"]),
            "brn_status": keys["brn_status"],
            "business_kind": keys["brn_kind"],
        }
    ).dropna(subset=["brn"])
    brn_rows = brn_rows.sort_values("rank", kind="stable").drop_duplicates("comp")
    brn_rows = brn_rows.set_index("comp")

    master = pd.DataFrame(index=order.index)
    master["partner_id"] = ids.reindex(master.index).astype("string")
    master["branch_no"] = keys["branch"].groupby(rec["comp"], sort=False).first()
    master["partner_code"] = winners["partner_code"]
    master["partner_codes"] = join_unique(rec["partner_code"], rec["comp"])
    master["partner_name"] = winners["partner_name"]
    master["brn"] = brn_rows["brn"]
    master["brn_status"] = brn_rows["brn_status"]
    master["brn_status"] = master["brn_status"].fillna("missing")
    master["business_kind"] = brn_rows["business_kind"]
    for column in PARTNERS:
        if column not in master and column != "status":
            master[column] = winners[column]
    master["credit_limit"] = pd.to_numeric(
        master["credit_limit"], errors="coerce"
    ).astype("Float64")
    founded = pd.to_datetime(master["founded_date"], errors="coerce")
    master["founded_date"] = founded.astype("datetime64[ns]")
    master["list_status"] = winners["status"]
    master["first_txn_date"] = by_comp["first_txn_date"].min()
    master["last_txn_date"] = by_comp["last_txn_date"].max()
    master["n_sales_lines"] = by_comp["n_sales_lines"].sum().astype("Int64")
    master["status"] = activity_status(master, config)
    master["source_files"] = join_unique(rec["source_file"], rec["comp"])
    master["match_rule"] = [
        next(
            (r for r in MATCH_RULES if r in components.rules.get(c, ())),
            "single",
        )
        for c in master.index
    ]
    master["match_rule"] = master["match_rule"].astype("string")
    master["n_source_rows"] = by_comp["n_rows"].sum().astype("Int64")

    # Conflicts: disagreeing values, codes shared by partners, merged previous IDs.
    fields = [f for f in CONFLICT_FIELDS if contacts or f not in ("phone", "email")]
    conflicts = value_conflicts(rec, keys, fields)
    shared = shared_codes(rec, ids)
    if len(merged_ids):
        merged_ids["n_values"] = merged_ids["values"].str.count(";") + 1
        merged_ids["sources"] = "registry"
    conflicts = pd.concat(
        [c for c in (conflicts, shared, merged_ids) if len(c)] or [conflicts],
        ignore_index=True,
    )

    # Quality flags need facts the master columns do not show.
    flags = pd.DataFrame(index=master.index)
    flags["has_rrn"] = keys["has_rrn"].groupby(rec["comp"]).any()
    in_list = (rec["source_kind"] == "partners").groupby(rec["comp"]).any()
    flags["in_list"] = in_list
    flags["any_list"] = bool(in_list.any())
    flags["has_conflict"] = master.index.isin(conflicts["comp"])
    master = master.join(quality_frame(master, flags, config))

    master = mask_frame(master, [*TEXT_FIELDS, "partner_codes", "list_status"])
    master["group_id"] = group_ids(master)
    banks = keys["bank"].groupby(rec["comp"], sort=False).first()
    snapshot = master.assign(bank_account_hash=banks.map(bank_fingerprint))
    snapshot = snapshot.set_index("partner_id")[[*WATCHED_FIELDS, "bank_account_hash"]]
    shown = MASTER_COLUMNS
    if not contacts:
        shown = [c for c in MASTER_COLUMNS if c not in ("phone", "email")]
    master = master.reset_index(drop=True)[shown]
    master = master.sort_values("partner_id", kind="stable").reset_index(drop=True)

    result = MasterResult(
        master=master,
        code_map=code_map_frame(rec, ids),
        links=link_frame(rec, ids, components),
        conflicts=finish_conflicts(conflicts, ids),
        registry=registry_frame(identity, ids, snapshot, previous_ids),
        changes=change_watch(snapshot, ids, matched_by, previous_ids),
    )
    counts = result.master["match_rule"].value_counts().to_dict()
    log.info(
        "master: %d source records -> %d partners (%s), %d conflicts, %d new IDs",
        len(rec),
        len(result.master),
        ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
        len(result.conflicts),
        len(ids) - len(matched_by),
    )
    return result
