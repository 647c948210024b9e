"""Scanning what a run wrote: formulas, links and personal data in the sheet XML."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

# ledgerflow's own formulas: a total row's =SUM(A2:A9) and a ratio =E10/D10.
OWN_FORMULA = re.compile(
    r"^(SUM\([A-Z]{1,3}2:[A-Z]{1,3}\d+\)|[A-Z]{1,3}\d+/[A-Z]{1,3}\d+)$"
)
FORMULA = re.compile(rb"<f(?:\s[^>]*)?>(.*?)</f>", re.S)


def sheet_parts(path: Path) -> dict[str, bytes]:
    """The worksheet XML parts of a workbook."""
    with zipfile.ZipFile(path) as archive:
        return {
            n: archive.read(n)
            for n in archive.namelist()
            if n.startswith("xl/worksheets/") and n.endswith(".xml")
        }


def foreign_formulas(path: Path) -> list[str]:
    """Formulas in ``path`` that are not ledgerflow's own totals."""
    found = []
    for part, xml in sheet_parts(path).items():
        for match in FORMULA.finditer(xml):
            text = match.group(1).decode("utf-8")
            if not OWN_FORMULA.match(text):
                found.append(f"{part}: {text}")
    return found


def links(path: Path) -> list[str]:
    """Hyperlink parts and elements in ``path``."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        found = [n for n in names if "hyperlink" in n.lower()]
        for n in names:
            if n.endswith(".xml") and b"<hyperlink" in archive.read(n):
                found.append(n)
            if n.endswith(".rels") and b"/hyperlink" in archive.read(n):
                found.append(n)
    return found


def all_text(path: Path) -> str:
    """Every XML part of a workbook as one text (strings, inline strings, props)."""
    with zipfile.ZipFile(path) as archive:
        return "\n".join(
            archive.read(n).decode("utf-8", "replace")
            for n in archive.namelist()
            if n.endswith((".xml", ".rels"))
        )
