"""The field cases of ../shared/cases read through read_file, with their figures."""

from __future__ import annotations

import shutil
import unicodedata

import pandas as pd
import pytest

from ledgerflow import labels
from ledgerflow.config import load_config
from ledgerflow.read import list_inputs, read_file

CONFIG = load_config()
PASSWORD_ENV = CONFIG["read"]["password_env"]


def only_table(file_read):
    assert file_read.refused is None, file_read.refused
    assert len(file_read.tables) == 1
    return file_read.tables[0]


def total(table, column):
    return float(table.frame[column].sum())


def test_01_title_rows_total_row_and_footer(cases_dir):
    """Header under title rows; the 합  계 row and the footer are skips, not rows."""
    path = cases_dir / "01-title-rows-total-row" / "sales_by_partner_2024-03.xlsx"
    table = only_table(read_file(path, CONFIG))
    assert (table.kind, table.profile, table.sheet) == (
        "sales_lines",
        "generic_ko_sales",
        "매출처별",
    )
    assert table.header_row == 5
    assert table.frame["source_row"].tolist() == [6, 7, 8, 9, 10, 11, 12]
    assert table.frame["partner_code"].tolist() == [
        "00123",
        "00457",
        "01208",
        "10234",
        "00088",
        "02311",
        "00950",
    ]
    assert table.frame["partner_name"].tolist()[2] == "새솔유통(주)"
    assert not any(str(c).startswith("Unnamed") for c in table.frame.columns)
    assert total(table, "supply_amount") == 47_350_000
    assert total(table, "vat_amount") == 4_735_000
    assert total(table, "total_amount") == 52_085_000
    assert [(s.row, s.rule) for s in table.skipped] == [
        (13, "control_total"),
        (15, "footer"),
    ]
    assert table.skipped[1].detail.startswith("※ 본 자료는")
    assert table.rows_read == 9 == len(table.frame) + len(table.skipped)
    assert table.rejects == []
    assert table.declared_period == (
        pd.Timestamp(2024, 3, 1),
        pd.Timestamp(2024, 3, 31),
    )


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_02_codes_and_zips_keep_their_zeros(cases_dir, engine):
    """Number cells with a 00000 format come back padded, whichever engine reads."""
    config = load_config()
    config["read"]["engine"] = engine
    path = cases_dir / "02-leading-zero-codes" / "partners_master.xlsx"
    table = only_table(read_file(path, config))
    assert table.kind == "partners"
    frame = table.frame
    assert frame["partner_code"].tolist()[:5] == [
        "00123",
        "00457",
        "01208",
        "10234",
        "00088",
    ]
    assert frame["partner_code"].isna().tolist() == [False] * 5 + [True]
    assert frame["postcode"].tolist() == [
        "04524",
        "06236",
        "13529",
        "16488",
        "03000",
        "48058",
    ]
    assert frame["brn"].tolist()[1] == "5860196690"  # number with 000-00-00000
    assert frame["source_row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert str(frame["partner_code"].dtype) == "string"
    assert any("postcode_padded" in n and "rows 6" in n for n in table.notes)
    assert table.rejects == []


def test_02_erp_csv_codes_stay_text(cases_dir):
    path = cases_dir / "02-leading-zero-codes" / "partners_erp.csv"
    file_read = read_file(path, CONFIG)
    assert file_read.encoding == "utf-8-sig"
    frame = only_table(file_read).frame
    assert frame["partner_code"].tolist() == [
        "00123",
        "00457",
        "01208",
        "10234",
        "00088",
    ]
    assert frame["postcode"].tolist() == ["04524", "06236", "13529", "16488", "03000"]
    assert frame["brn"].tolist()[0] == "5642384027"


def test_04_mixed_date_formats(cases_dir):
    path = cases_dir / "04-mixed-date-formats" / "sales_vouchers_2024-03.xlsx"
    table = only_table(read_file(path, CONFIG))
    frame = table.frame.set_index("source_row")
    expected = [
        "2024-03-04", "2024-03-06", "2024-03-07", "2024-03-08", "2024-03-11",
        "2024-03-12", "2024-03-13", "2024-03-14", "2024-03-15", "2024-03-18",
        "2024-03-19",
    ]  # fmt: skip
    assert frame.loc[4:14, "doc_date"].tolist() == [pd.Timestamp(d) for d in expected]
    assert pd.isna(frame.loc[15, "doc_date"])
    assert frame.loc[16, "doc_date"] == pd.Timestamp(2024, 4, 2)  # validate: period
    assert [(r.row, r.column, r.value, r.rule) for r in table.rejects] == [
        (15, "일자", "2024.02.30", "date_invalid")
    ]
    # 03/13 took its year from the title "(2024년 3월)".
    assert table.declared_period == (
        pd.Timestamp(2024, 3, 1),
        pd.Timestamp(2024, 3, 31),
    )
    accepted = frame.drop(index=[15, 16])
    assert accepted["doc_no"].tolist()[-1] == "2403-0011"
    assert float(accepted["supply_amount"].sum()) == 10_285_000
    assert float(accepted["vat_amount"].sum()) == 1_028_500
    assert float(frame["supply_amount"].sum()) == 10_675_000


def test_06_cp949_with_hangul_outside_euc_kr(cases_dir):
    path = cases_dir / "06-cp949-csv-extended-hangul" / "sales_partner_202403_cp949.csv"
    file_read = read_file(path, CONFIG)
    assert file_read.encoding == "cp949"
    table = only_table(file_read)
    names = table.frame["partner_name"].tolist()
    assert names[4] == "\ubdf0\ud2f0\uc0fe \uac15\ub0a8\uc810"  # 뷰티샾 강남점
    assert names[6] == "\ub620\uc58c\ud0a4\uce5c"  # 똠얌키친
    assert table.frame["partner_code"].tolist() == [
        "00123", "00457", "01208", "10234", "20415", "00088", "20522", "02311",
    ]  # fmt: skip
    assert total(table, "supply_amount") == 45_420_000
    assert total(table, "vat_amount") == 4_542_000
    assert total(table, "total_amount") == 49_962_000
    assert table.rejects == [] and table.skipped == []


def test_08_amounts_as_text(cases_dir):
    path = cases_dir / "08-amount-text-formats" / "receivables_amount_text.csv"
    table = only_table(read_file(path, CONFIG))
    assert table.kind == "receivables"
    amounts = table.frame["amount"]
    assert amounts.iloc[:11].tolist() == [
        1_234_000, 980_000, 1_250_000, 2_900_000, 123_000, -55_000, -55_000,
        -12_000, 1_200, 0, 3_400_000,
    ]  # fmt: skip
    assert float(amounts.sum()) == 9_766_200
    assert amounts.iloc[11:].isna().all()
    assert [(r.row, r.column, r.value, r.rule) for r in table.rejects] == [
        (13, "미수금액", "N/A", "amount_format"),
        (14, "미수금액", "1.234.000", "amount_ambiguous_separator"),
    ]  # the empty line 15 is missing, which the validate stage rejects
    assert table.frame["source_row"].tolist() == list(range(2, 16))


def test_11_formula_cells_without_results_are_refused(cases_dir):
    folder = cases_dir / "11-formula-cached-values"
    table = only_table(read_file(folder / "sales_summary_cached_ok.xlsx", CONFIG))
    assert len(table.frame) == 5 and table.rejects == []
    assert table.frame["vat_amount"].tolist()[2] == 721_500
    assert total(table, "supply_amount") == 39_205_005
    assert total(table, "vat_amount") == 3_920_500
    assert total(table, "total_amount") == 43_125_505
    assert [(s.row, s.rule) for s in table.skipped] == [(7, "control_total")]
    assert "doc_date" not in table.frame  # no period anywhere: nothing invented

    for name in (
        "sales_summary_openpyxl.xlsx",
        "sales_summary_xlsxwriter_default.xlsx",
    ):
        file_read = read_file(folder / name, CONFIG)
        assert file_read.tables == []
        assert file_read.refused.rule == "formula_not_calculated"
        assert file_read.refused.file == name and file_read.refused.row is None
        refused = file_read.refused
        assert refused.detail.startswith("formula_results_") and "sheet=요약" in (
            refused.detail
        )
        ko = labels.reason(refused.rule, "ko", refused.detail)
        assert ko.startswith(
            "수식 계산 결과 없음 — Excel에서 열어 저장 후 다시 올려 주세요"
        )
        assert "시트 '요약': 수식 13개" in ko


def test_13_only_the_visible_sheet_is_read(cases_dir):
    path = cases_dir / "13-hidden-sheets" / "sales_2024-03_with_hidden_sheets.xlsx"
    file_read = read_file(path, CONFIG)
    table = only_table(file_read)
    assert file_read.ignored_sheets == [
        ("코드표", "hidden"),
        ("매출_2024_02(구)", "hidden"),
        ("_계산", "veryHidden"),
    ]
    assert table.sheet == "매출_2024_03"
    assert table.frame["partner_code"].tolist() == ["00123", "00457", "01208", "00088"]
    assert total(table, "supply_amount") == 38_225_000
    assert total(table, "vat_amount") == 3_822_500


def test_14_encrypted_without_password_is_refused(cases_dir, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    path = cases_dir / "14-password-protected" / "receivables_locked.xlsx"
    file_read = read_file(path, CONFIG)
    assert file_read.tables == []
    assert file_read.refused.rule == "file_encrypted"
    assert PASSWORD_ENV in file_read.refused.detail
    assert file_read.format == "ole_encrypted"


def test_14_encrypted_with_password_opens_in_memory(cases_dir, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "ledgerflow-test")
    path = cases_dir / "14-password-protected" / "receivables_locked.xlsx"
    table = only_table(read_file(path, CONFIG))
    assert table.frame["partner_code"].tolist() == ["00123", "00457", "01208"]
    assert table.frame["amount"].tolist() == [13_750_000, 3_828_000, 7_936_500]
    assert total(table, "amount") == 25_514_500


def test_14_wrong_password(cases_dir, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    path = cases_dir / "14-password-protected" / "receivables_locked.xlsx"
    file_read = read_file(path, CONFIG)
    assert file_read.refused.rule == "file_wrong_password"
    assert "not-the-password" not in file_read.refused.detail


def test_14_sheet_protection_is_no_obstacle(cases_dir):
    path = cases_dir / "14-password-protected" / "receivables_sheet_protected.xlsx"
    table = only_table(read_file(path, CONFIG))
    assert total(table, "amount") == 25_514_500 and table.rejects == []


def test_20_nfd_file_name(cases_dir, tmp_path):
    """A Hangul path stored decomposed (from a Mac) is listed, read and named NFC."""
    folder_name = unicodedata.normalize("NFD", "2024년 03월")
    file_name = unicodedata.normalize("NFD", "매출 현황 (최종).csv")
    source = next((cases_dir / "20-prefect-serve-schedule-paths" / "inbox").iterdir())
    original = next(source.iterdir())
    inbox = tmp_path / "inbox"
    (inbox / folder_name).mkdir(parents=True)
    shutil.copyfile(original, inbox / folder_name / file_name)
    assert len(folder_name) == 13  # really decomposed on disk

    found = list_inputs(inbox)
    assert len(found) == 1 and found[0].name == file_name
    file_read = read_file(found[0], CONFIG)
    assert file_read.name == "매출 현황 (최종).csv"
    assert file_read.name == unicodedata.normalize("NFC", file_read.name)
    table = only_table(file_read)
    assert table.frame["source_file"].unique().tolist() == ["매출 현황 (최종).csv"]
    assert table.frame["supply_amount"].tolist() == [12_500_000, 3_480_000, 7_215_000]
    assert total(table, "supply_amount") == 23_195_000
    # The period comes from the folder name "2024년 03월" (stored NFD).
    assert table.declared_period == (
        pd.Timestamp(2024, 3, 1),
        pd.Timestamp(2024, 3, 31),
    )
    assert table.frame["doc_date"].unique().tolist() == [pd.Timestamp(2024, 3, 31)]


def _workbooks(cases_dir):
    return sorted(cases_dir.glob("*/*.xlsx"))


def test_both_engines_give_one_result(cases_dir):
    """calamine (fast path) and openpyxl read every case workbook identically."""
    slow = load_config()
    slow["read"]["engine"] = "openpyxl"
    paths = _workbooks(cases_dir)
    assert len(paths) >= 9
    for path in paths:
        fast_read, slow_read = read_file(path, CONFIG), read_file(path, slow)
        assert fast_read.refused == slow_read.refused, path.name
        assert len(fast_read.tables) == len(slow_read.tables), path.name
        for fast, other in zip(fast_read.tables, slow_read.tables, strict=True):
            pd.testing.assert_frame_equal(fast.frame, other.frame)
            assert (fast.skipped, fast.rejects, fast.notes) == (
                other.skipped,
                other.rejects,
                other.notes,
            ), path.name
