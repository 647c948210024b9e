"""The partner master's output tables: their columns, codes and the result record.

Glossary: 거래처 partner, 사업자등록번호 (BRN) business registration number,
주민등록번호 (RRN) resident registration number, 업태 business type, 종목 item.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ledgerflow.errors import LedgerflowError
from ledgerflow.tables import PARTNERS

MASTER_COLUMNS = [
    "partner_id",
    "group_id",
    "partner_code",
    "partner_codes",
    "partner_name",
    "brn",
    "branch_no",
    "brn_status",
    "business_kind",
    "company_no",
    "representative",
    "business_type",
    "business_item",
    "industry",
    "region",
    "address",
    "postcode",
    "size",
    "phone",
    "email",
    "bank_account",
    "tags",
    "payment_terms",
    "credit_limit",
    "founded_date",
    "list_status",
    "status",
    "first_txn_date",
    "last_txn_date",
    "n_sales_lines",
    "source_files",
    "match_rule",
    "n_source_rows",
    "quality_score",
    "quality_issues",
]
CODE_MAP_COLUMNS = ["partner_code", "partner_id"]
LINK_COLUMNS = [
    "partner_id",
    "source_kind",
    "source_file",
    "source_sheet",
    "source_row",
    "n_rows",
    "partner_code",
    "partner_name",
    "brn",
    "match_rule",
    "match_score",
]
CONFLICT_COLUMNS = ["partner_id", "field", "values", "n_values", "sources"]
CHANGE_COLUMNS = ["partner_id", "field", "previous", "current", "matched_by", "risk"]
REGISTRY_COLUMNS = [
    "partner_id",
    "key_type",
    "key",
    "partner_name",
    "representative",
    "address",
    "brn",
    "bank_account",
    "bank_account_hash",
]
# Registry columns a registry written before they existed may lack (read as blank).
REGISTRY_OPTIONAL = ["bank_account", "bank_account_hash"]

# How a partner record was formed, strongest first; "single": one source record.
MATCH_RULES = (
    "brn",
    "company_no",
    "code",
    "name_region",
    "name_phone",
    "name",
    "fuzzy_name",
    "single",
)
# Quality issue codes with the points each one costs (out of 100).
QUALITY_WEIGHTS = {
    "brn_missing": 30,
    "brn_invalid": 30,
    "brn_partial": 15,
    "rrn_in_record": 10,
    "contact_missing": 15,
    "address_missing": 10,
    "representative_missing": 5,
    "not_in_partner_list": 20,
    "conflicting_values": 10,
    "stale": 10,
}
# Fields compared across a partner's source rows; disagreements become conflicts.
CONFLICT_FIELDS = [
    "partner_name",
    "brn",
    "representative",
    "address",
    "phone",
    "email",
    "bank_account",
    "company_no",
    "business_type",
    "business_item",
    "region",
]
# Fields of the registry compared with the current master (risk signals).
WATCHED_FIELDS = ["partner_name", "representative", "address", "brn", "bank_account"]
# Risk codes of the change watch: <field>_changed, and a BRN that reappears under
# another name (CHANGE_COLUMNS.risk).
CHANGE_RISKS = (
    "partner_name_changed",
    "representative_changed",
    "address_changed",
    "brn_changed",
    "bank_account_changed",
    "brn_other_name",
)


class RegistryError(LedgerflowError, ValueError):
    """The partner-ID registry of the previous run cannot be used as it is."""


@dataclass
class MasterResult:
    """The partner master and everything needed to trust it.

    - master: one row per partner (MASTER_COLUMNS; without phone and email when
      config ``master.contacts`` is false).
    - code_map: each partner_code seen in any source -> the partner_id it belongs to
      (one row per code; raw codes, for joining sales and receivables).
    - links: provenance, one row per source record merged (LINK_COLUMNS). Sales and
      receivable lines are one record per file, sheet and (code, name, BRN), with
      the first Excel row in source_row and the number of lines in n_rows.
    - conflicts: values that disagree within a partner (CONFLICT_COLUMNS).
    - registry: the keys -> ID table to save for the next run (REGISTRY_COLUMNS).
    - changes: watched fields that differ from the previous run (CHANGE_COLUMNS).
    """

    master: pd.DataFrame
    code_map: pd.DataFrame
    links: pd.DataFrame
    conflicts: pd.DataFrame
    registry: pd.DataFrame = field(
        default_factory=lambda: empty_frame(REGISTRY_COLUMNS)
    )
    changes: pd.DataFrame = field(default_factory=lambda: empty_frame(CHANGE_COLUMNS))


def empty_frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})


# Partner fields kept as text (every field but the amount and the date).
TEXT_FIELDS = [f for f in PARTNERS if f not in ("credit_limit", "founded_date")]
