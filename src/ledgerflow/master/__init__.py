"""Partner master: every source's partners resolved into one record per real partner.

A partner turns up in partner lists (ERP, hand-kept masters, public lists), and by
code and name on sales lines and invoices. This stage links those source rows into
partners, keeps each partner's ID from one monthly run to the next, says how every
record was formed and which values disagreed, watches what changed since the last
run, and scores the quality of its data.

Modules: records (source records, match keys), linking (union-find by BRN, code,
name), fuzzy (the last, fuzzy name step), ids (IDs across runs, the registry),
provenance (links, code map, conflicts), quality (status, score), changes (the
change watch), privacy (masking), build (build_master).
"""

from ledgerflow.master.build import build_master
from ledgerflow.master.columns import (
    CHANGE_COLUMNS,
    CHANGE_RISKS,
    CODE_MAP_COLUMNS,
    CONFLICT_COLUMNS,
    CONFLICT_FIELDS,
    LINK_COLUMNS,
    MASTER_COLUMNS,
    MATCH_RULES,
    QUALITY_WEIGHTS,
    REGISTRY_COLUMNS,
    WATCHED_FIELDS,
    MasterResult,
    RegistryError,
)
from ledgerflow.master.ids import load_id_registry, save_id_registry
from ledgerflow.master.privacy import (
    has_rrn,
    mask_bank_account,
    mask_email,
    mask_phone,
    mask_rrn,
)

__all__ = [
    "CHANGE_COLUMNS",
    "CHANGE_RISKS",
    "CODE_MAP_COLUMNS",
    "CONFLICT_COLUMNS",
    "CONFLICT_FIELDS",
    "LINK_COLUMNS",
    "MASTER_COLUMNS",
    "MATCH_RULES",
    "QUALITY_WEIGHTS",
    "REGISTRY_COLUMNS",
    "WATCHED_FIELDS",
    "MasterResult",
    "RegistryError",
    "build_master",
    "has_rrn",
    "load_id_registry",
    "mask_bank_account",
    "mask_email",
    "mask_phone",
    "mask_rrn",
    "save_id_registry",
]
