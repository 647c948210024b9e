"""The bad inputs: named variants of the demo exports, made in memory.

``bad_inputs(demo)`` returns (case, file name, bytes) for every kind of bad input the
hardening tests feed to the reader; tests/hardening/README.md lists them with what
each gets. ``demo`` maps the demo's file names to their bytes.
"""

from __future__ import annotations

import random

from hardening import mutate as m

PARTNERS = "거래처목록.xlsx"
RECEIVABLES = "미수금현황.csv"


def _sales_name(demo: dict[str, bytes]) -> str:
    return next(n for n in demo if n.startswith("매출내역_"))


def _cell(data: bytes, row: int, value_xml: bytes, ref: str = "A") -> bytes:
    """A row ``row`` with one cell appended to the sheet."""
    cell = f'<row r="{row}"><c r="{ref}{row}"'.encode() + value_xml + b"</row>"
    return m.edit(data, m.SHEET, b"</sheetData>", cell + b"</sheetData>")


def _number_cells(data: bytes, numbers: list[bytes]) -> bytes:
    """Replace the first numeric <v> values of data rows with ``numbers``."""
    parts = m.members(data)
    sheet = parts[m.SHEET]
    start = sheet.index(b'<row r="6"')  # past the demo sales' titles and header
    out, pos = [sheet[:start]], start
    for text in numbers:
        at = sheet.find(b"<v>", pos)
        # skip shared-string cells (t="s"): only plain numbers are replaced
        while sheet.rfind(b't="s"', sheet.rfind(b"<c ", 0, at), at) != -1:
            at = sheet.find(b"<v>", at + 3)
        end = sheet.index(b"</v>", at)
        out += [sheet[pos:at], b"<v>" + text]
        pos = end
    out.append(sheet[pos:])
    parts[m.SHEET] = b"".join(out)
    return m.rezip(parts)


def _ss(rows: bytes) -> bytes:
    """An Excel 2003 XML spreadsheet with one sheet "S" holding ``rows``."""
    return (
        b'<?xml version="1.0"?><Workbook '
        b'xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        b'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
        b'<Worksheet ss:Name="S"><Table>' + rows + b"</Table></Worksheet></Workbook>"
    )


def bad_inputs(demo: dict[str, bytes]) -> list[tuple[str, str, bytes]]:
    """Every bad input: (case, file name, content)."""
    partners = demo[PARTNERS]
    sales_name = _sales_name(demo)
    sales = demo[sales_name]
    csv_text = demo[RECEIVABLES].decode("cp949")
    rng = random.Random(20261130)
    garbage = bytes(rng.getrandbits(8) for _ in range(20_000))
    cases: list[tuple[str, str, bytes]] = []

    def add(case: str, name: str, data: bytes) -> None:
        cases.append((case, name, data))

    # damaged zips
    for share in (0.1, 0.5, 0.9, 0.999):
        add(f"truncated zip {share:.1%}", "cut.xlsx", sales[: int(len(sales) * share)])
    add(
        "zip without central directory",
        "nocd.xlsx",
        sales[: sales.rfind(b"PK\x01\x02")],
    )
    flipped = bytearray(partners)
    for i in range(200, len(flipped) - 200, 97):
        flipped[i] ^= 0x5A
    add("zip with flipped bytes", "flipped.xlsx", bytes(flipped))
    add("zip but not a workbook", "docs.xlsx", m.rezip({"readme.txt": b"hello"}))

    # broken XML in each part
    for part in (m.SHEET, m.STRINGS, "xl/workbook.xml", "xl/styles.xml"):
        content = m.members(partners)[part]
        add(
            f"broken XML in {part}",
            "broken.xlsx",
            m.replace(partners, part, content[: len(content) // 2]),
        )
    add(
        "rels point nowhere",
        "rels.xlsx",
        m.edit(
            partners,
            "xl/_rels/workbook.xml.rels",
            b"worksheets/sheet1.xml",
            b"worksheets/missing.xml",
        ),
    )
    add("no workbook.xml", "nobook.xlsx", m.drop(partners, "xl/workbook.xml"))
    add("no sheet part", "nosheet.xlsx", m.drop(partners, m.SHEET))
    add(
        "shared string index out of range",
        "sst.xlsx",
        m.edit(partners, m.SHEET, b't="s"><v>0</v>', b't="s"><v>999999</v>'),
    )
    add(
        "cell reference nonsense",
        "refs.xlsx",
        m.edit(partners, m.SHEET, b'r="A2"', b'r="A0"'),
    )

    # wrong content types
    add("content types missing", "ct.xlsx", m.drop(partners, "[Content_Types].xml"))
    add(
        "content types garbage",
        "ct2.xlsx",
        m.replace(partners, "[Content_Types].xml", garbage[:500]),
    )
    add(
        "sheet declared as a chart",
        "chart.xlsx",
        m.edit(
            partners,
            "[Content_Types].xml",
            b"spreadsheetml.worksheet+xml",
            b"drawingml.chart+xml",
        ),
    )

    # binary garbage under every name
    for name in ("garbage.xlsx", "garbage.xls", "garbage.csv"):
        add(f"binary garbage as {name.rsplit('.', 1)[1]}", name, garbage)
    add("zip magic then garbage", "pk.xlsx", b"PK\x03\x04" + garbage)
    add(
        "OLE2 magic then garbage",
        "ole.xls",
        bytes.fromhex("d0cf11e0a1b11ae1") + garbage,
    )
    add("empty file", "empty.csv", b"")
    add("only blanks", "blank.csv", b" \r\n\t\r\n")
    add("UTF-8 BOM only", "bom.csv", b"\xef\xbb\xbf")

    # empty and hidden sheets
    add(
        "empty sheet",
        "emptysheet.xlsx",
        m.edit(
            partners,
            m.SHEET,
            m.members(partners)[m.SHEET][
                m.members(partners)[m.SHEET].index(b"<sheetData>") : m.members(
                    partners
                )[m.SHEET].index(b"</sheetData>")
                + 12
            ],
            b"<sheetData/>",
        ),
    )
    add(
        "only sheet hidden",
        "hidden.xlsx",
        m.edit(
            partners, "xl/workbook.xml", b"<sheet name=", b'<sheet state="hidden" name='
        ),
    )

    # far-away cells and huge sizes
    add("value in XFD1048576", "far.xlsx", m.far_cell(partners))
    add(
        "value in column XFD (a million empty columns on 30 rows)",
        "wide.xlsx",
        m.far_cell(partners, "XFD30", 30),
    )
    add(
        "value in row 1,048,576", "long.xlsx", m.far_cell(partners, "A1048576", 1048576)
    )
    add(
        "styled empty cell in XFD1048576",
        "farempty.xlsx",
        m.edit(
            partners,
            m.SHEET,
            b"</sheetData>",
            b'<row r="1048576"><c r="XFD1048576" s="1"/></row></sheetData>',
        ),
    )
    add("dimension claims the whole sheet", "dim.xlsx", m.huge_dimension(partners))
    add(
        "row numbered past Excel's last row",
        "row9.xlsx",
        m.far_cell(partners, "B99999999", 99999999),
    )

    # bombs
    add(
        "zip bomb: 1.1 GB of blanks in the sheet",
        "bomb.xlsx",
        m.bomb_member(partners, 1_100_000_000),
    )
    add("zip with 20,000 parts", "parts.xlsx", m.many_members(partners, 20_000))
    add("billion laughs in the sheet", "laughs.xlsx", m.entity_expansion(partners))
    add(
        "billion laughs in shared strings",
        "laughs2.xlsx",
        m.entity_expansion(partners, m.STRINGS),
    )
    add(
        "billion laughs in workbook.xml",
        "laughs3.xlsx",
        m.entity_expansion(partners, "xl/workbook.xml"),
    )
    add(
        "external entity (XXE) to /etc/passwd",
        "xxe.xlsx",
        m.external_entity(partners, "/etc/passwd"),
    )

    # extreme values
    long_text = "가" * 32_767
    add(
        "32,767-character cell",
        "long32767.xlsx",
        _cell(
            partners,
            60,
            f' t="inlineStr"><is><t>{long_text}</t></is></c>'.encode(),
            "B",
        ),
    )
    add(
        "40,000-character cell",
        "long40000.xlsx",
        _cell(
            partners,
            60,
            f' t="inlineStr"><is><t>{"x" * 40_000}</t></is></c>'.encode(),
            "B",
        ),
    )
    add(
        "NaN, INF and 1e309 as amounts",
        "nan.xlsx",
        _number_cells(sales, [b"NaN", b"INF", b"-inf", b"1e309", b"1E+400", b"nan"]),
    )
    add(
        "dates 1900-01-00, 1900-02-29, 9999-12-31 and past",
        "dates.xlsx",
        _number_cells(sales, [b"0", b"60", b"1", b"2958465", b"2958466", b"-1"]),
    )
    add(
        "error cells (#DIV/0!)",
        "errors.xlsx",
        m.edit(sales, m.SHEET, b"<v>", b'<v>#DIV/0!</v></c><c r="ZZ1" t="e"><v>', 1),
    )

    # text exports
    header, *rest = csv_text.split("\r\n")
    add("csv: 10 MB single line", "line.csv", ("x," * 5_000_000).encode())
    add(
        "csv: 200,000 columns",
        "cols.csv",
        (header + "," * 200_000 + "\r\n" + rest[0]).encode("cp949"),
    )
    add(
        "csv: unclosed quote",
        "quote.csv",
        (header + '\r\n"' + "\r\n".join(rest)).encode("cp949"),
    )
    add(
        "csv: NUL bytes", "nul.csv", csv_text.encode("cp949").replace(b",", b"\x00,", 3)
    )
    add(
        "csv: mixed encodings",
        "mixed.csv",
        csv_text.encode("cp949") + "한글".encode() * 50,
    )
    add("csv: header only", "header.csv", (header + "\r\n").encode("cp949"))
    add(
        "csv: 1,000,000-character field",
        "field.csv",
        (header + "\r\n" + "A" * 1_000_000 + rest[0]).encode("cp949"),
    )
    first = rest[0].split(",")
    for label, values in {
        "NaN and infinity": ["nan", "inf", "-Infinity", "1e309"],
        "dates 1900 and 9999": ["1900-01-01", "9999-12-31", "1899-12-31", "0000-00-00"],
    }.items():
        rows = [",".join([*first[:3], v, *first[4:]]) for v in values]
        rows += [",".join([*first[:2], v, *first[3:]]) for v in values]
        add(
            f"csv: {label}",
            "values.csv",
            ("\r\n".join([header, *rows]) + "\r\n").encode("cp949"),
        )

    # markup saved as .xls
    add(
        "html: colspan of a billion",
        "span.xls",
        b"<html><table><tr><td colspan=1000000000>x</td></tr></table></html>",
    )
    add(
        "html: rowspan of a billion",
        "rspan.xls",
        b"<html><table><tr><td rowspan=1000000000>x</td></tr><tr><td>y</td></tr>"
        b"</table></html>",
    )
    add(
        "html: 10,000 nested tables",
        "nest.xls",
        b"<html>" + b"<table><tr><td>" * 10_000 + b"x" + b"</td></tr></table>" * 10_000,
    )
    add(
        "html: unclosed tags",
        "open.xls",
        b"<html><table><tr><td>" + "거래처코드".encode() + b"<td>" * 1000,
    )
    cell = b'<Data ss:Type="String">x</Data></Cell></Row>'
    for case, name, row in (
        ("row index of a billion", "ssrow.xls", b'<Row ss:Index="1000000000"><Cell>'),
        ("cell index of a billion", "sscell.xls", b'<Row><Cell ss:Index="1000000000">'),
        (
            "MergeAcross of a billion",
            "ssmerge.xls",
            b'<Row><Cell ss:MergeAcross="1000000000">',
        ),
        ("index not a number", "ssnan.xls", b'<Row><Cell ss:Index="abc">'),
    ):
        add(f"xml spreadsheet: {case}", name, _ss(row + cell))
    laughs = m.BILLION_LAUGHS + _ss(b"<Row><Cell><Data>&lol9;</Data></Cell></Row>")[21:]
    add("xml spreadsheet: billion laughs", "sslaughs.xls", laughs)
    return cases
