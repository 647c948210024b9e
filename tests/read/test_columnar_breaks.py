"""Sheets that once read differently column-wise than row-wise (issue 8 breaks).

Each workbook is read with ``[read] columnar_min_rows`` huge (python-calamine, row
by row: the reference) and 0 (column-wise, or falling back). Everything the reader
returns must be the same; the expected figures are worked out from the cells.
Workbooks whose XML Excel never writes itself (but XML allows) are built part by
part here, so the test says exactly which spelling is meant.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import pytest
import xlsxwriter
from columnar_pair import COLUMN_WISE, ROW_WISE, both

HEADER = ["일자", "전표번호", "거래처코드", "거래처명", "품목명", "수량", "공급가액"]


# ------------------------------------------------------- workbooks part by part


def _column(c: int) -> str:
    return "ABCDEFGHIJ"[c]


def _cell(r: int, c: int, value) -> str:
    ref = f"{_column(c)}{r + 1}"
    if value is None:
        return ""
    if isinstance(value, tuple):  # (t attribute as written, inner XML)
        spelled, inner = value
        return f'<c r="{ref}" {spelled}>{inner}</c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def _sheet(rows: list[list], before: str = "", after: str = "") -> str:
    xml = "".join(
        f'<row r="{r + 1}">{"".join(_cell(r, c, v) for c, v in enumerate(row))}</row>'
        for r, row in enumerate(rows)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
        '"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{before}<sheetData>{xml}</sheetData>{after}</worksheet>"
    )


_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _xlsx(path: Path, sheet_xml: str) -> Path:
    """A one-sheet workbook ("매출") whose sheet part is ``sheet_xml`` as given."""
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml"'
            ' ContentType="application/xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_DOC}/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC}"><sheets><sheet name="매출" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_DOC}/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


# Row 4 has no date: a vertical merge A3:A4 gives it row 3's 2025-12-02.
_MERGED_ROWS = [
    HEADER,
    ["2025-12-01", "D1", "C1", "상사", "x", 1, 100],
    ["2025-12-02", "D2", "C2", "물산", "x", 1, 200],
    [None, "D3", "C2", "물산", "x", 1, 300],
]
_MERGE = '<mergeCells count="1">{}</mergeCells>'


@pytest.mark.parametrize(
    ("case", "before", "after"),
    [
        ("merges before the cells", _MERGE.format('<mergeCell ref="A3:A4"/>'), ""),
        ("lower-case ref", "", _MERGE.format('<mergeCell ref="a3:a4"/>')),
        (
            "another attribute",
            "",
            _MERGE.format('<mergeCell xr:uid="{1}" ref="A3:A4"/>'),
        ),
        ("single quotes", "", _MERGE.format("<mergeCell ref='A3:A4'/>")),
        ("spaces around =", "", _MERGE.format('<mergeCell ref = "A3:A4"/>')),
    ],
)
def test_a_body_merge_the_pre_scan_must_not_miss(tmp_path, caplog, case, before, after):
    """The pre-scan once looked only after </sheetData>, for ref="A3:A4" spelled
    exactly so: the merge went unseen and column-wise row 4 lost its date."""
    path = _xlsx(tmp_path / "merged.xlsx", _sheet(_MERGED_ROWS, before, after))
    result, used = both(path, caplog)
    assert used == ROW_WISE, case
    dates = list(result.tables[0].frame["doc_date"])
    assert dates == [pd.Timestamp(f"2025-12-0{d}") for d in (1, 2, 2)]


@pytest.mark.parametrize("spelled", ["t='b'", 't = "b"', "t=\n'b'"])
def test_a_boolean_cell_spelled_otherwise(tmp_path, caplog, spelled):
    """TRUE as an amount is rejected; fastexcel made it 1.0 in a number column
    when the pre-scan missed t='b' (XML allows either quote and spaces)."""
    rows = [
        HEADER,
        ["2025-12-01", "D1", "C1", "상사", "x", 1, 100],
        ["2025-12-02", "D2", "C2", "물산", "x", 1, (spelled, "<v>1</v>")],
        ["2025-12-03", "D3", "C2", "물산", "x", 1, 7],
    ]
    result, used = both(_xlsx(tmp_path / "bool.xlsx", _sheet(rows)), caplog)
    assert used == ROW_WISE
    table = result.tables[0]
    assert list(table.frame["supply_amount"]) == [100.0, pd.NA, 7.0]
    assert [(r.row, r.column, r.value, r.rule) for r in table.rejects] == [
        (3, "공급가액", "True", "amount_format")
    ]


def test_rejected_number_cells_read_column_wise_show_as_written(tmp_path, caplog):
    """A column-wise number is numpy's float64, whose repr is "np.float64(457.5)";
    a reject must show 457.5 and inf as the row-wise read does."""

    def build(book, sheet):
        sheet.write_row(0, 0, HEADER)
        rows = [  # code column of numbers only: typed float64 column-wise
            ["2025-12-01", "D1", 457, "상사", "x", 1, 100],
            ["2025-12-01", "D2", 457.5, "상사", "x", 1, 200],
            # written "1.797693134862316E+308": past the largest float, read inf
            ["2025-12-01", "D3", 458, "상사", "x", 1, 1.7976931348623157e308],
        ]
        for r, row in enumerate(rows, start=1):
            sheet.write_row(r, 0, row[:6])
            sheet.write_number(r, 6, row[6])

    path = tmp_path / "numbers.xlsx"
    book = xlsxwriter.Workbook(path)
    build(book, book.add_worksheet("매출"))
    book.close()
    result, used = both(path, caplog)
    assert used == COLUMN_WISE
    found = [(r.row, r.column, r.value, r.rule) for r in result.tables[0].rejects]
    assert found == [
        (3, "거래처코드", "457.5", "code_not_integer"),
        (4, "공급가액", "inf", "amount_not_finite"),
    ]


def test_a_date_serial_past_the_year_9999(tmp_path, caplog):
    """3,000,000 shown as a date is the year 10113: python-calamine gives the
    number (a date_format reject showing 3000000); fastexcel gave a date that
    the reject could not show, and the whole file was refused "unreadable"."""
    path = tmp_path / "far.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("매출")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADER)
    for r, serial in enumerate([45992, 3_000_000], start=1):  # 45992 = 2025-12-01
        sheet.write_number(r, 0, serial, day)
        sheet.write_row(r, 1, [f"D{r}", "C1", "상사", "x", 1, 100])
    book.close()
    result, used = both(path, caplog)
    assert used == ROW_WISE
    table = result.tables[0]
    assert list(table.frame["doc_date"]) == [pd.Timestamp("2025-12-01"), pd.NaT]
    assert [(r.row, r.column, r.value, r.rule) for r in table.rejects] == [
        (3, "일자", "3000000", "date_format")
    ]
