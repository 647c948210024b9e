"""The report stage: formatted, safe, deterministic workbooks (see workbook.py)."""

from ledgerflow.report.outputs import write_partner_master, write_rejects
from ledgerflow.report.workbook import ColumnSum, Ratio, SheetSpec, write_workbook

__all__ = [
    "ColumnSum",
    "Ratio",
    "SheetSpec",
    "write_partner_master",
    "write_rejects",
    "write_workbook",
]
