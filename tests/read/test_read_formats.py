"""Formats decided by content, encodings, layouts, and bad input refused."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from ledgerflow import labels
from ledgerflow.config import load_config
from ledgerflow.read import list_inputs, read_file

CONFIG = load_config()
SALES_CSV = (
    "거래처코드,거래처명,공급가액\r\n"
    '00123,(주)한빛상사,"12,500,000"\r\n'
    "00457,다온물산,3480000\r\n"
)


def read_bytes(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return read_file(path, CONFIG)


def only_table(file_read):
    assert file_read.refused is None, file_read.refused
    assert len(file_read.tables) == 1
    return file_read.tables[0]


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("name", "data", "rule"),
    [
        ("empty.csv", b"", "file_empty"),
        ("blank.xlsx", b"   \r\n\r\n", "file_empty"),
        ("garbage.bin", bytes(range(256)) * 40, "file_format_unknown"),
        (
            "not_a_zip.xlsx",
            b"\x00\x01\x02garbage\xff\xfe\x00" * 50,
            "file_format_unknown",
        ),
        ("damaged.xlsx", b"PK\x03\x04" + b"\x00" * 200, "file_corrupt"),
        ("commas.csv", b",,,\r\n,,\r\n", "file_empty"),
    ],
)
def test_bad_input_is_refused_with_the_file_named(tmp_path, name, data, rule):
    file_read = read_bytes(tmp_path, name, data)
    assert file_read.tables == []
    assert file_read.refused.rule == rule
    assert file_read.refused.file == name
    assert file_read.refused.row is None and file_read.refused.detail


def test_zip_that_is_not_a_workbook(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    file_read = read_bytes(tmp_path, "bundle.xlsx", buffer.getvalue())
    assert file_read.refused.rule == "file_format_unknown"
    assert "xl/workbook.xml" in file_read.refused.detail


def test_csv_without_a_known_header_names_the_closest_profile(tmp_path):
    data = "일자,공급가액,비고\r\n2024-03-04,100,메모\r\n".encode()
    file_read = read_bytes(tmp_path, "memo.csv", data)
    assert file_read.refused.rule == "no_profile"
    detail = labels.render(file_read.refused.detail, "en")
    assert detail.startswith("the closest is generic_ko_sales")
    assert "has doc_date, supply_amount but lacks partner_code (거래처코드/" in detail
    assert "schemas/profiles/" in detail


def test_text_with_no_header_at_all(tmp_path):
    file_read = read_bytes(tmp_path, "notes.txt", b"a,b\r\n1,2\r\n")
    assert file_read.refused.rule == "no_profile"
    detail = labels.render(file_read.refused.detail, "en")
    assert "no header row with known column names" in detail
    # the rule says "no profile matches"; the detail does not say it again
    text = labels.reason("no_profile", "en", file_read.refused.detail)
    assert text.count("no profile matches") == 1


def test_undecodable_text_is_refused_not_replaced(tmp_path):
    data = SALES_CSV.encode("utf-8") + b"\x80\xff\x80,x\r\n"
    file_read = read_bytes(tmp_path, "broken.csv", data)
    assert file_read.refused.rule == "file_encoding_unknown"


# ------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),  # Excel's "유니코드 텍스트" has a BOM
        ("utf-16-le", "utf-16-le"),
        ("cp949", "cp949"),
    ],
)
def test_encodings(tmp_path, encoding, expected):
    text = SALES_CSV.replace(",", "\t").replace('"12\t500\t000"', "12500000")
    text = text.replace("다온물산", "똠얌키친")
    file_read = read_bytes(tmp_path, "sales.txt", text.encode(encoding))
    assert file_read.encoding == expected
    table = only_table(file_read)
    assert table.frame["partner_name"].tolist() == ["(주)한빛상사", "똠얌키친"]
    assert table.frame["supply_amount"].tolist() == [12_500_000, 3_480_000]


@pytest.mark.parametrize("separator", [",", ";", "\t", "|"])
def test_separators(tmp_path, separator):
    header = separator.join(["거래처코드", "거래처명", "공급가액"])
    text = header + "\n" + separator.join(["00123", "가", "100"]) + "\n"
    table = only_table(read_bytes(tmp_path, "s.csv", text.encode()))
    assert table.frame["partner_code"].tolist() == ["00123"]
    assert table.frame["supply_amount"].tolist() == [100]


def test_tab_text_saved_as_xls(tmp_path):
    data = "거래처코드\t거래처명\t공급가액\r\n00123\t가\t100\r\n".encode("utf-16")
    file_read = read_bytes(tmp_path, "export.xls", data)
    assert (file_read.format, file_read.encoding) == ("text", "utf-16")
    assert only_table(file_read).frame["partner_code"].tolist() == ["00123"]


def test_html_table_saved_as_xls(tmp_path):
    html = """<html><head><meta charset="euc-kr"></head><body>
    <table><tr><td colspan="3">매출 현황</td></tr>
    <tr><th>거래처코드</th><th>거래처명</th><th>공급가액</th></tr>
    <tr><td>00123</td><td>뷰티샾</td><td>1,000</td></tr>
    <tr><td>00457</td><td>다온</td><td>2,000</td></tr>
    <tr><td colspan="2">합계</td><td>3,000</td></tr></table></body></html>"""
    file_read = read_bytes(tmp_path, "list.xls", html.encode("cp949"))
    assert file_read.format == "html"
    table = only_table(file_read)
    assert table.header_row == 2
    assert table.frame["partner_name"].tolist() == ["뷰티샾", "다온"]
    assert table.frame["supply_amount"].tolist() == [1_000, 2_000]
    assert [(s.row, s.rule) for s in table.skipped] == [(5, "control_total")]


def test_ragged_rows_are_noted(tmp_path):
    text = (
        "거래처코드,거래처명,공급가액\n00123,가,100\n00457,나,200,extra,more\n00950\n"
    )
    table = only_table(read_bytes(tmp_path, "r.csv", text.encode()))
    assert table.frame["partner_code"].tolist() == ["00123", "00457", "00950"]
    assert table.frame["supply_amount"].isna().tolist() == [False, False, True]
    assert any("1 rows have more fields" in n for n in table.notes)


# ------------------------------------------------------------------- workbooks


def test_two_row_header_with_merged_cells(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["거래 내역"])
    sheet.append(["일자", "거래처", None, "금액", None])
    sheet.append([None, "코드", "명", "공급가액", "부가세"])
    sheet.append(["2024-03-04", "00123", "가", 1000, 100])
    sheet.append(["2024-03-05", "00457", "나", 2000, 200])
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:C2")
    sheet.merge_cells("D2:E2")
    book.save(tmp_path / "two.xlsx")
    table = only_table(read_file(tmp_path / "two.xlsx", CONFIG))
    assert table.header_row == 2
    assert table.frame["partner_code"].tolist() == ["00123", "00457"]
    assert table.frame["partner_name"].tolist() == ["가", "나"]
    assert table.frame["doc_date"].tolist() == [
        pd.Timestamp(2024, 3, 4),
        pd.Timestamp(2024, 3, 5),
    ]
    assert table.frame["vat_amount"].tolist() == [100, 200]
    assert table.frame["source_row"].tolist() == [4, 5]
    assert any("two-row header on rows 2-3" in n for n in table.notes)


def test_vertically_merged_cells_are_filled_blanks_stay_blank(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["전표번호", "거래처코드", "품목명", "공급가액", "비고"])
    sheet.append(["V-1", "00123", "볼펜", 100, None])
    sheet.append([None, None, "공책", 200, None])
    sheet.append(["V-2", "00457", "연필", 300, None])
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:B3")
    book.save(tmp_path / "merged.xlsx")
    frame = only_table(read_file(tmp_path / "merged.xlsx", CONFIG)).frame
    assert frame["doc_no"].tolist() == ["V-1", "V-1", "V-2"]
    assert frame["partner_code"].tolist() == ["00123", "00123", "00457"]


def test_1904_date_system(tmp_path):
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    sheet.append(["일자", "거래처코드", "공급가액"])
    sheet.append([dt.date(2024, 3, 4), "00123", 100])
    sheet["A2"].number_format = "yyyy-mm-dd"
    sheet.append([45357 - 1462, "00457", 200])  # a serial stored as a plain number
    book.save(tmp_path / "mac.xlsx")
    file_read = read_file(tmp_path / "mac.xlsx", CONFIG)
    assert "1904" in " ".join(file_read.notes)
    dates = only_table(file_read).frame["doc_date"].tolist()
    assert dates == [pd.Timestamp(2024, 3, 4), pd.Timestamp(2024, 3, 6)]


def _web_export(path):
    """An xlsx as some web systems write it: inline strings, dimension "A1"."""
    cells = [
        ["거래처코드", "거래처명", "공급가액"],
        ["00123", "가", 100],
        ["00457", "나", 200],
    ]
    rows = []
    for r, values in enumerate(cells, start=1):
        parts = []
        for c, value in enumerate(values):
            ref = f"{'ABC'[c]}{r}"
            if isinstance(value, str):
                parts.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
            else:
                parts.append(f'<c r="{ref}"><v>{value}</v></c>')
        rows.append(f'<row r="{r}">{"".join(parts)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-'
            'package.relationships+xml"/><Default Extension="xml" ContentType="'
            'application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
            '"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="'
            "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
            '"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="data" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{main}"><dimension ref="A1"/><sheetData>'
            f"{''.join(rows)}</sheetData></worksheet>",
        )


def test_web_export_with_inline_strings_and_wrong_dimension(tmp_path):
    _web_export(tmp_path / "web.xlsx")
    table = only_table(read_file(tmp_path / "web.xlsx", CONFIG))
    assert table.frame["partner_code"].tolist() == ["00123", "00457"]
    assert table.frame["supply_amount"].tolist() == [100, 200]


def test_subtotals_and_a_control_total_that_does_not_match(tmp_path):
    path = tmp_path / "monthly.xlsx"
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet("매출")
        rows = [
            ["조회기간 : 2026/03/01 ~ 2026/03/31"],
            [],
            ["일자", "거래처코드", "거래처명", "공급가액"],
            ["2026-03-02", "00123", "가", 1000],
            ["2026-03-03", "00457", "나", 2000],
            ["2026/03 계", None, None, 3000],
            ["2026-03-04", "00123", "가", 500],
            ["소 계", None, None, 500],
            ["Grand Total", None, None, 9999],
            ["* 부가세 별도"],
        ]
        for r, row in enumerate(rows):
            sheet.write_row(r, 0, row)
    table = only_table(read_file(path, CONFIG))
    assert table.frame["supply_amount"].tolist() == [1000, 2000, 500]
    assert [(s.row, s.rule) for s in table.skipped] == [
        (6, "subtotal"),
        (8, "subtotal"),
        (9, "control_total_mismatch"),
        (10, "footer"),
    ]
    mismatch = table.skipped[2].detail
    assert "9,999" in mismatch and "3,500" in mismatch and "공급가액" in mismatch
    assert any("control total does not match" in n for n in table.notes)
    assert table.rows_read == 7 == len(table.frame) + len(table.skipped)
    assert table.declared_period == (
        pd.Timestamp(2026, 3, 1),
        pd.Timestamp(2026, 3, 31),
    )


def test_unmatched_visible_sheet_is_listed_and_a_matching_one_read(tmp_path):
    path = tmp_path / "two_sheets.xlsx"
    with xlsxwriter.Workbook(path) as book:
        book.add_worksheet("메모").write_row(0, 0, ["아무", "내용"])
        sales = book.add_worksheet("매출")
        sales.write_row(0, 0, ["거래처코드", "공급가액"])
        sales.write_row(1, 0, ["00123", 100])
        book.add_worksheet("빈 시트")
    file_read = read_file(path, CONFIG)
    assert only_table(file_read).sheet == "매출"
    assert file_read.ignored_sheets == [
        ("메모", "no matching header"),
        ("빈 시트", "empty"),
    ]


def test_hometax_second_company_name_is_the_buyer(tmp_path):
    header = [
        "작성일자", "승인번호", "공급자사업자등록번호", "상호", "대표자명",
        "공급받는자사업자등록번호", "상호", "대표자명", "합계금액", "공급가액", "세액",
    ]  # fmt: skip
    row = [
        "2024-03-15", "20240315-41000012-00000001", "1234567890", "우리회사",
        "김대표", "5642384027", "(주)한빛상사", "박대표", "110,000", "100,000",
        "10,000",
    ]  # fmt: skip
    text = "\n".join(",".join(f'"{v}"' for v in r) for r in ([header, row]))
    table = only_table(read_bytes(tmp_path, "hometax.csv", text.encode("cp949")))
    assert table.profile == "hometax_tax_invoices"
    assert table.frame["partner_name"].tolist() == ["(주)한빛상사"]
    assert table.frame["brn"].tolist() == ["5642384027"]
    assert table.frame["total_amount"].tolist() == [110_000]


def test_ecount_date_and_voucher_column(tmp_path):
    text = (
        "회사명 : 테스트 / 2024/03/01 ~ 2024/03/31\n"
        "일자-No.,거래처코드,거래처명,품목명,수량,단가,공급가액,부가세,합계\n"
        "2024/03/15 -4,00123,가,볼펜,2,500,1000,100,1100\n"
    )
    table = only_table(read_bytes(tmp_path, "판매현황.csv", text.encode()))
    assert table.profile == "ecount_sales"
    assert table.frame["doc_date"].tolist() == [pd.Timestamp(2024, 3, 15)]
    assert table.frame["doc_no"].tolist() == ["2024/03/15 -4"]
    assert table.header_row == 2


# --------------------------------------------------------------------- listing


def test_list_inputs_skips_lock_temp_hidden_and_archive(tmp_path):
    names = [
        "b.xlsx", "a.csv", "~$b.xlsx", "~WRL0001.tmp", ".~lock.a.csv#", ".DS_Store",
        "Thumbs.db", "archive/old.xlsx", "rejected/bad.csv", "sub/c.txt", ".git/x",
    ]  # fmt: skip
    for name in names:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in list_inputs(tmp_path)]
    assert found == ["a.csv", "b.xlsx", "sub/c.txt"]


def test_legacy_xls(tmp_path):
    """A BIFF8 .xls (tests/read/data, written once with xlwt 1.3.0: title row, a
    hidden sheet, a code 457 stored as a number with format 00000, a 합계 row)."""
    path = Path(__file__).parent / "data" / "legacy_sales_2024-03.xls"
    file_read = read_file(path, CONFIG)
    assert file_read.format == "xls"
    assert file_read.ignored_sheets == [("숨김", "hidden")]
    table = only_table(file_read)
    assert table.header_row == 3
    assert table.frame["partner_code"].tolist() == ["00123", "00457"]
    assert table.frame["doc_date"].tolist() == [
        pd.Timestamp(2024, 3, 4),
        pd.Timestamp(2024, 3, 6),
    ]
    assert table.frame["supply_amount"].tolist() == [1_200_000, 450_000]
    assert [(s.row, s.rule) for s in table.skipped] == [(6, "control_total")]


def test_archived_exports_are_history_read_before_new_drops(tmp_path):
    """list_inputs skips archive/ and rejected/; list_archived gives archive/ alone,
    so a run keeps the months earlier runs moved away."""
    from ledgerflow.read import list_archived, list_inputs

    (tmp_path / "archive" / "2026-10").mkdir(parents=True)
    (tmp_path / "archive" / "2026-09").mkdir(parents=True)
    (tmp_path / "rejected").mkdir()
    (tmp_path / "archive" / "2026-10" / "매출_10월.xlsx").write_bytes(b"x")
    (tmp_path / "archive" / "2026-09" / "매출_9월.xlsx").write_bytes(b"x")
    (tmp_path / "archive" / "2026-10" / "~$매출_10월.xlsx").write_bytes(b"lock")
    (tmp_path / "rejected" / "bad.csv").write_bytes(b"x")
    (tmp_path / "매출_11월.xlsx").write_bytes(b"x")
    assert [p.name for p in list_inputs(tmp_path)] == ["매출_11월.xlsx"]
    assert [p.relative_to(tmp_path).as_posix() for p in list_archived(tmp_path)] == [
        "archive/2026-09/매출_9월.xlsx",
        "archive/2026-10/매출_10월.xlsx",
    ]
    assert list_archived(tmp_path / "nowhere") == []


def test_an_empty_file_is_explained_once_in_the_readers_language(tmp_path):
    """The reason of an empty file is a sentence in Korean (or English) that says
    what to do, not the rule's English text repeated in brackets."""
    from ledgerflow import labels
    from ledgerflow.config import load_config
    from ledgerflow.read import read_file

    (tmp_path / "빈파일.csv").write_bytes(b"  \r\n")
    refused = read_file(tmp_path / "빈파일.csv", load_config(None)).refused
    assert refused.rule == "file_empty"
    assert labels.reason(refused.rule, "ko", refused.detail) == (
        "빈 파일 (0바이트이거나 공백뿐입니다. 원래 프로그램에서 다시 내보내 주세요)"
    )
    assert labels.reason(refused.rule, "en", refused.detail) == (
        "The file is empty (0 bytes or only blank space; export the data again "
        "from its program)"
    )
