"""Partner master: linking, values, IDs across runs, privacy, quality, real data."""

from __future__ import annotations

import glob
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ledgerflow.brn import brn_check_digit
from ledgerflow.master import (
    LINK_COLUMNS,
    MASTER_COLUMNS,
    RegistryError,
    build_master,
    load_id_registry,
    mask_email,
    mask_phone,
    mask_rrn,
    save_id_registry,
)
from ledgerflow.tables import PARTNERS, SALES_LINES

NONE = pd.DataFrame()


def valid_brn(first9: str) -> str:
    """A valid 10-digit BRN from nine digits (check digit from the brn module)."""
    return first9 + str(brn_check_digit(first9))


def partners(rows: list[dict], file: str, sheet: str = "거래처") -> pd.DataFrame:
    """A validated partners frame: canonical columns as "string", Excel rows from 2."""
    frame = pd.DataFrame(rows).reindex(columns=PARTNERS).astype("string")
    frame["credit_limit"] = frame["credit_limit"].astype("Float64")
    frame["founded_date"] = pd.to_datetime(frame["founded_date"])
    frame["source_file"] = file
    frame["source_sheet"] = sheet
    frame["source_row"] = range(2, len(rows) + 2)
    return frame


def sales(rows: list[dict], file: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows).reindex(columns=SALES_LINES)
    for column in ("partner_code", "partner_name", "brn", "doc_no"):
        frame[column] = frame[column].astype("string")
    frame["doc_date"] = pd.to_datetime(frame["doc_date"])
    frame["supply_amount"] = frame["supply_amount"].astype("Float64")
    frame["source_file"] = file
    frame["source_sheet"] = "매출"
    frame["source_row"] = range(2, len(rows) + 2)
    return frame


def one(result, partner_id: str) -> pd.Series:
    rows = result.master[result.master["partner_id"] == partner_id]
    assert len(rows) == 1
    return rows.iloc[0]


# ------------------------------------------------------------------------ linking

BRN_A = valid_brn("123810000")
BRN_B = valid_brn("220810000")


def test_brn_links_two_files_with_different_codes():
    old = partners(
        [
            {
                "partner_code": "A01",
                "partner_name": "(주)한빛상사",
                "brn": BRN_A[:3] + "-" + BRN_A[3:5] + "-" + BRN_A[5:],
            }
        ],
        "erp_2024.xlsx",
    )
    new = partners(
        [{"partner_code": "77", "partner_name": "한빛상사", "brn": BRN_A}],
        "master_2025.xlsx",
    )
    result = build_master(pd.concat([old, new]), NONE, NONE, None, {})

    assert result.master["partner_id"].tolist() == ["P000001"]
    row = one(result, "P000001")
    assert row["partner_code"] == "77"
    assert row["partner_codes"] == "77; A01"
    assert row["brn"] == BRN_A
    assert row["brn_status"] == "valid"
    assert row["business_kind"] == "corporation_head_office"
    assert row["match_rule"] == "brn"
    assert row["n_source_rows"] == 2
    assert row["source_files"] == "erp_2024.xlsx; master_2025.xlsx"
    assert result.links["match_rule"].tolist() == ["brn", "brn"]
    assert result.links["source_file"].tolist() == ["erp_2024.xlsx", "master_2025.xlsx"]
    assert result.code_map.to_dict("records") == [
        {"partner_code": "77", "partner_id": "P000001"},
        {"partner_code": "A01", "partner_id": "P000001"},
    ]
    # The names differ only by the legal form: not a conflict.
    assert result.conflicts.empty


def test_code_links_partner_list_sales_and_receivables():
    listed = partners([{"partner_code": "00123", "partner_name": "다온물산"}], "p.xlsx")
    lines = sales(
        [
            {"partner_code": "00123", "doc_date": "2025-01-03", "supply_amount": 10},
            {"partner_code": "00123", "doc_date": "2025-02-07", "supply_amount": 20},
            {"partner_code": "00999", "partner_name": "새솔", "doc_date": "2025-02-01"},
        ],
        "sales.csv",
    )
    invoices = pd.DataFrame(
        {
            "partner_code": pd.array(["00123", "00555"], dtype="string"),
            "partner_name": pd.array([pd.NA, "미래테크"], dtype="string"),
            "source_file": "ar.xlsx",
            "source_sheet": "미수",
            "source_row": [5, 6],
        }
    )
    result = build_master(listed, lines, invoices, None, {})

    master = result.master.set_index("partner_code")
    assert master.index.tolist() == ["00123", "00999", "00555"]
    assert master.loc["00123", "match_rule"] == "code"
    assert master.loc["00123", "n_sales_lines"] == 2
    assert master.loc["00123", "n_source_rows"] == 4
    assert master.loc["00123", "first_txn_date"] == pd.Timestamp("2025-01-03")
    assert master.loc["00123", "last_txn_date"] == pd.Timestamp("2025-02-07")
    assert master.loc["00123", "source_files"] == "ar.xlsx; p.xlsx; sales.csv"
    # Partners seen only on lines are partners too.
    assert master.loc["00999", "partner_name"] == "새솔"
    assert master.loc["00999", "match_rule"] == "single"
    assert master.loc["00555", "source_files"] == "ar.xlsx"
    links = result.links[result.links["partner_id"] == "P000001"]
    assert links["source_kind"].tolist() == ["partners", "sales", "receivables"]
    assert links["n_rows"].tolist() == [1, 2, 1]
    assert links["source_row"].tolist() == [2, 2, 5]
    assert links["match_rule"].tolist() == ["code", "code", "code"]
    assert dict(
        zip(result.code_map["partner_code"], result.code_map["partner_id"], strict=True)
    ) == {"00123": "P000001", "00555": "P000003", "00999": "P000002"}


def test_name_and_region_link_records_without_number_or_common_code():
    a = partners(
        [
            {
                "partner_code": "A1",
                "partner_name": "주식회사 새솔유통",
                "address": "경기도 성남시 분당구 샘플로 7",
            }
        ],
        "a.xlsx",
    )
    b = partners(
        [
            {"partner_code": "B1", "partner_name": "새솔유통(주)", "region": "경기"},
            {"partner_code": "B2", "partner_name": "새솔유통", "address": "부산 중구"},
        ],
        "b.xlsx",
    )
    result = build_master(pd.concat([a, b]), NONE, NONE, None, {})

    assert len(result.master) == 2
    first = one(result, "P000001")
    assert first["partner_codes"] == "A1; B1"
    assert first["match_rule"] == "name_region"
    assert first["region"] == "경기"
    assert one(result, "P000002")["region"] == "부산"
    assert one(result, "P000002")["match_rule"] == "single"


def test_name_and_phone_link_records():
    a = partners(
        [
            {
                "partner_code": "A1",
                "partner_name": "ACME Co., Ltd.",
                "phone": "+82 2-123-4567",
            }
        ],
        "a.xlsx",
    )
    b = partners(
        [{"partner_code": "B1", "partner_name": "Acme Inc", "phone": "02) 123 4567"}],
        "b.xlsx",
    )
    result = build_master(pd.concat([a, b]), NONE, NONE, None, {})
    assert len(result.master) == 1
    assert result.master["match_rule"].tolist() == ["name_phone"]


def test_two_valid_numbers_with_the_same_name_and_code_stay_apart():
    a = partners(
        [
            {
                "partner_code": "C1",
                "partner_name": "(주)금성",
                "brn": BRN_A,
                "address": "서울 도봉구",
            }
        ],
        "a.xlsx",
    )
    b = partners(
        [
            {
                "partner_code": "C1",
                "partner_name": "금성 주식회사",
                "brn": BRN_B,
                "address": "서울특별시 도봉구",
            }
        ],
        "b.xlsx",
    )
    lines = sales([{"partner_code": "C1", "doc_date": "2025-03-01"}], "s.csv")
    result = build_master(pd.concat([a, b]), lines, NONE, None, {})

    assert result.master["brn"].tolist() == [BRN_A, BRN_B]
    # The sales line has no number: it goes with the newest list's partner.
    assert result.code_map.to_dict("records") == [
        {"partner_code": "C1", "partner_id": "P000002"}
    ]
    assert one(result, "P000002")["n_sales_lines"] == 1
    shared = result.conflicts[result.conflicts["field"] == "partner_code"]
    assert shared["partner_id"].tolist() == ["P000001", "P000002"]
    assert shared["values"].tolist() == ["C1 (also P000002)", "C1 (also P000001)"]


def test_partial_numbers_never_link_by_themselves_and_block_disagreeing_ones():
    rows = [
        {"partner_name": "(재)천주교유지재단", "brn": "201820", "address": "서울 중구"},
        {"partner_name": "천주교유지재단", "brn": "202820", "address": "서울 중구"},
        {"partner_name": "다른이름", "brn": "201820", "address": "서울 중구"},
        {"partner_name": "천주교유지재단", "brn": "201-82-*****"},  # no address
    ]
    result = build_master(partners(rows, "nps.csv"), NONE, NONE, None, {})

    # 1+4 share a name and agree on the known digits; 2 disagrees; 3 is another name.
    assert len(result.master) == 3
    links = result.links.sort_values("source_row")
    assert links["partner_id"].tolist() == ["P000001", "P000002", "P000003", "P000001"]
    assert links["match_rule"].tolist() == ["name", "single", "single", "name"]
    assert result.master["brn_status"].tolist() == ["partial"] * 3
    assert result.master["business_kind"].tolist() == ["non_profit"] * 3


def test_a_bare_name_does_not_join_an_ambiguous_name():
    rows = [
        {"partner_name": "(주)대원", "brn": "403811", "address": "전라북도 익산시"},
        {"partner_name": "(주)대원", "brn": "404811", "address": "전라북도 정읍시"},
        {"partner_name": "(주)대원"},
        {"partner_name": "(주)한길"},
        {"partner_name": "한길 주식회사"},
    ]
    result = build_master(partners(rows, "list.csv"), NONE, NONE, None, {})
    assert result.links.sort_values("source_row")["partner_id"].tolist() == [
        "P000001",
        "P000002",
        "P000003",
        "P000004",
        "P000004",
    ]


def test_newest_export_wins_and_disagreements_are_listed():
    old = partners(
        [
            {
                "partner_code": "K1",
                "partner_name": "한빛상사",
                "representative": "김철수",
                "address": "서울 중구 가상로 12",
                "phone": "02-111-2222",
            }
        ],
        "2024-12.xlsx",
    )
    new = partners(
        [
            {
                "partner_code": "K1",
                "partner_name": "한빛유통",
                "representative": "김 철수",
                "address": "서울 중구  가상로 12",
            }
        ],
        "2025-01.xlsx",
    )
    result = build_master(pd.concat([old, new]), NONE, NONE, None, {})
    row = one(result, "P000001")
    assert row["partner_name"] == "한빛유통"
    assert row["representative"] == "김 철수"
    assert row["phone"] == "02-111-2222"  # the newest has none: the older fills in
    conflicts = result.conflicts.set_index("field")
    assert conflicts.index.tolist() == ["partner_name", "representative"]
    assert conflicts.loc["partner_name", "values"] == "한빛유통; 한빛상사"
    assert conflicts.loc["partner_name", "sources"] == "2025-01.xlsx; 2024-12.xlsx"
    assert conflicts.loc["representative", "n_values"] == 2

    oldest_first = build_master(
        pd.concat([old, new]), NONE, NONE, None, {"master": {"prefer": "oldest"}}
    )
    assert oldest_first.master["partner_name"].tolist() == ["한빛상사"]


def test_source_date_orders_exports_over_frame_order():
    old = partners([{"partner_code": "K1", "partner_name": "옛이름"}], "b.xlsx")
    new = partners([{"partner_code": "K1", "partner_name": "새이름"}], "a.xlsx")
    frame = pd.concat(
        [new.assign(source_date="2025-02-01"), old.assign(source_date="2024-01-01")]
    )
    result = build_master(frame, NONE, NONE, None, {})
    assert result.master["partner_name"].tolist() == ["새이름"]


# --------------------------------------------------------------------------- IDs


def test_ids_are_stable_across_runs_and_new_partners_get_the_next(tmp_path: Path):
    registry = tmp_path / ".state" / "partner_ids.csv"
    assert load_id_registry(registry) is None
    first = partners(
        [
            {"partner_code": "A", "partner_name": "가나상사", "brn": BRN_A},
            {"partner_code": "B", "partner_name": "다라상사"},
            {"partner_code": "C", "partner_name": "마바상사"},
        ],
        "m1.xlsx",
    )
    run1 = build_master(first, NONE, NONE, load_id_registry(registry), {})
    save_id_registry(run1, registry)
    assert dict(
        zip(run1.master["partner_code"], run1.master["partner_id"], strict=True)
    ) == {"A": "P000001", "B": "P000002", "C": "P000003"}

    # Next month: rows reordered, A renumbered (same BRN), C absent, D new.
    second = partners(
        [
            {"partner_code": "D", "partner_name": "사아상사"},
            {"partner_code": "B", "partner_name": "다라상사"},
            {"partner_code": "A9", "partner_name": "가나상사", "brn": BRN_A},
        ],
        "m2.xlsx",
    )
    run2 = build_master(second, NONE, NONE, load_id_registry(registry), {})
    save_id_registry(run2, registry)
    assert dict(
        zip(run2.master["partner_code"], run2.master["partner_id"], strict=True)
    ) == {"A9": "P000001", "B": "P000002", "D": "P000004"}

    # C comes back in the third month under its old ID; no temporary file is left.
    third = partners([{"partner_code": "C", "partner_name": "마바상사"}], "m3.xlsx")
    run3 = build_master(third, NONE, NONE, load_id_registry(registry), {})
    assert run3.master["partner_id"].tolist() == ["P000003"]
    assert sorted(p.name for p in registry.parent.iterdir()) == ["partner_ids.csv"]


def test_changes_against_the_previous_run_are_listed(tmp_path: Path):
    registry = tmp_path / "ids.csv"
    before = partners(
        [
            {
                "partner_code": "A",
                "partner_name": "가나상사",
                "brn": BRN_A,
                "representative": "홍길동",
                "address": "서울 중구",
            }
        ],
        "1.xlsx",
    )
    save_id_registry(build_master(before, NONE, NONE, None, {}), registry)
    after = partners(
        [
            {
                "partner_code": "Z",
                "partner_name": "(주)전혀다른",
                "brn": BRN_A,
                "representative": "홍길동",
                "address": "서울 중구",
            }
        ],
        "2.xlsx",
    )
    result = build_master(after, NONE, NONE, load_id_registry(registry), {})
    assert result.changes.to_dict("records") == [
        {
            "partner_id": "P000001",
            "field": "partner_name",
            "previous": "가나상사",
            "current": "(주)전혀다른",
            "matched_by": "brn",
            "risk": "brn_other_name",
        }
    ]


def test_a_registry_that_is_not_one_is_refused(tmp_path: Path):
    path = tmp_path / "ids.csv"
    path.write_text("id,code\n1,A\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"ids.csv: columns partner_id, key_type"):
        load_id_registry(path)
    path.write_text(
        "partner_id,key_type,key,partner_name,representative,address,brn\n"
        "X7,code,A,,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match=r"ids.csv row 2: partner_id 'X7'"):
        load_id_registry(path)


# ----------------------------------------------------------------------- privacy


def test_resident_numbers_are_masked_everywhere(tmp_path: Path):
    rows = [
        {
            "partner_code": "900101-1234567",
            "partner_name": "홍길동상회",
            "brn": "9001011234567",
            "representative": "홍길동 900101-1234567",
        }
    ]
    result = build_master(partners(rows, "p.xlsx"), NONE, NONE, None, {})
    row = result.master.iloc[0]
    assert row["partner_code"] == "900101-1******"
    assert row["brn"] == "900101-1******"
    assert row["brn_status"] == "wrong_length"
    assert row["representative"] == "홍길동 900101-1******"
    assert "rrn_in_record" in row["quality_issues"]
    assert result.links.iloc[0]["partner_code"] == "900101-1******"
    save_id_registry(result, tmp_path / "ids.csv")
    assert "1234567" not in (tmp_path / "ids.csv").read_text("utf-8")
    # code_map keeps the raw code: it joins the sales lines and is never written.
    assert result.code_map["partner_code"].tolist() == ["900101-1234567"]


def test_mask_helpers():
    assert mask_phone("010-1234-5678") == "010-****-5678"
    assert mask_phone("+82 10 1234 5678") == "010-****-5678"
    assert mask_phone("02-123-4567") == "02-***-4567"
    assert mask_phone(None) is None
    assert mask_email("hong.gildong@example.co.kr") == "h***@example.co.kr"
    assert mask_email("not an address") == "***"
    assert mask_rrn("주민번호 850315-2345678 기재") == "주민번호 850315-2****** 기재"
    assert mask_rrn("1234567890") == "1234567890"
    series = mask_phone(pd.Series(["01098765432", pd.NA], dtype="string"))
    assert series.tolist() == ["010-****-5432", pd.NA]


def test_contacts_can_be_switched_off():
    rows = [
        {
            "partner_code": "A",
            "partner_name": "가",
            "phone": "010-1111-2222",
            "email": "a@b.kr",
        }
    ]
    result = build_master(
        partners(rows, "p.xlsx"), NONE, NONE, None, {"master": {"contacts": False}}
    )
    assert "phone" not in result.master and "email" not in result.master
    assert "contact_missing" not in result.master.iloc[0]["quality_issues"]


# ----------------------------------------------------------------------- quality


def test_quality_issues_and_score():
    listed = partners(
        [
            {
                "partner_code": "A",
                "partner_name": "가",
                "brn": BRN_A,
                "representative": "김",
                "address": "서울 중구",
                "phone": "02-123-4567",
            },
            {"partner_code": "B", "partner_name": "나", "brn": BRN_A[:9] + "0"},
            {"partner_code": "C", "partner_name": "다", "brn": "12345"},
        ],
        "p.xlsx",
    )
    if BRN_A[9] == "0":  # keep the second number invalid
        listed.loc[1, "brn"] = BRN_A[:9] + "1"
    lines = sales(
        [
            {"partner_code": "A", "doc_date": "2025-03-01"},
            {"partner_code": "Z", "doc_date": "2025-03-02"},
        ],
        "s.csv",
    )
    result = build_master(listed, lines, NONE, None, {})
    got = result.master.set_index("partner_code")[
        ["quality_issues", "quality_score", "status"]
    ].fillna({"quality_issues": ""})
    assert got.to_dict("index") == {
        "A": {"quality_issues": "", "quality_score": 100.0, "status": "new"},
        "B": {
            "quality_issues": "brn_invalid; contact_missing; address_missing; "
            "representative_missing; stale",
            "quality_score": 30.0,
            "status": "inactive",
        },
        "C": {
            "quality_issues": "brn_invalid; contact_missing; address_missing; "
            "representative_missing; stale",
            "quality_score": 30.0,
            "status": "inactive",
        },
        "Z": {
            "quality_issues": "brn_missing; contact_missing; address_missing; "
            "not_in_partner_list",
            "quality_score": 25.0,
            "status": "new",
        },
    }


def test_status_thresholds_come_from_the_config():
    lines = sales(
        [
            {"partner_code": "OLD", "doc_date": "2023-01-10"},
            {"partner_code": "MID", "doc_date": "2024-01-10"},
            {"partner_code": "MID", "doc_date": "2024-09-01"},
            {"partner_code": "NOW", "doc_date": "2024-01-10"},
            {"partner_code": "NOW", "doc_date": "2024-12-20"},
            {"partner_code": "NEW", "doc_date": "2024-12-01"},
        ],
        "s.csv",
    )
    config = {
        "master": {
            "as_of": "2024-12-31",
            "new_days": 60,
            "active_days": 90,
            "dormant_days": 365,
        }
    }
    result = build_master(NONE, lines, NONE, None, config)
    assert dict(
        zip(result.master["partner_code"], result.master["status"], strict=True)
    ) == {"OLD": "inactive", "MID": "dormant", "NOW": "active", "NEW": "new"}


def test_empty_inputs_give_an_empty_master():
    result = build_master(pd.DataFrame(columns=["partner_code"]), NONE, NONE, None, {})
    assert result.master.columns.tolist() == MASTER_COLUMNS
    assert result.links.columns.tolist() == LINK_COLUMNS
    assert len(result.master) == len(result.code_map) == len(result.conflicts) == 0


# ------------------------------------------------------------------------- cases


def _displayed(cell) -> str | None:
    """The text a person sees in a case-02 cell (numbers through their format)."""
    value = cell.value
    if value is None:
        return None
    if isinstance(value, str):
        return value
    digits = str(int(value))
    if cell.number_format == "00000":
        return digits.zfill(5)
    if cell.number_format == "000-00-00000":
        return digits.zfill(10)
    return digits


def test_case_02_five_codes_match_one_to_one(cases_dir: Path):
    folder = cases_dir / "02-leading-zero-codes"
    sheet = openpyxl.load_workbook(folder / "partners_master.xlsx")["거래처"]
    rows = [[_displayed(c) for c in row] for row in sheet.iter_rows(min_row=2)]
    workbook = pd.DataFrame(
        rows, columns=["partner_code", "partner_name", "brn", "postcode", "address"]
    )
    workbook["postcode"] = workbook["postcode"].str.zfill(5)  # Korean zip: 5 digits
    workbook = workbook.astype("string").assign(
        source_file="partners_master.xlsx",
        source_sheet="거래처",
        source_row=range(2, len(rows) + 2),
    )
    # Row 7 has no 거래처코드: the validate stage rejects it before the master.
    assert workbook["partner_code"].isna().tolist() == [False] * 5 + [True]
    workbook = workbook.dropna(subset=["partner_code"])
    erp = pd.read_csv(folder / "partners_erp.csv", dtype=str, encoding="utf-8-sig")
    erp.columns = ["partner_code", "partner_name", "brn", "postcode"]
    erp = erp.astype("string").assign(
        source_file="partners_erp.csv",
        source_sheet=pd.NA,
        source_row=range(2, len(erp) + 2),
    )

    result = build_master(
        pd.concat([workbook, erp], ignore_index=True), NONE, NONE, None, {}
    )
    master = result.master.set_index("partner_code")
    assert master.index.tolist() == ["00123", "00457", "01208", "10234", "00088"]
    assert master["partner_codes"].tolist() == master.index.tolist()
    assert master["brn"].tolist() == [
        "5642384027",
        "5860196690",
        "3660140423",
        "2108854417",
        "3148195410",
    ]
    assert master["brn_status"].tolist() == ["valid"] * 5
    assert master["postcode"].tolist() == ["04524", "06236", "13529", "16488", "03000"]
    assert master["region"].tolist() == ["서울", "서울", "경기", "경기", "부산"]
    # One row from each file per partner: 5 matched, none unmatched on either side.
    per_file = result.links.groupby("partner_id")["source_file"].agg(sorted)
    assert per_file.tolist() == [["partners_erp.csv", "partners_master.xlsx"]] * 5
    assert master["match_rule"].tolist() == ["brn"] * 5
    assert result.conflicts.empty


# ---------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def nps(shared_data: Path) -> pd.DataFrame:
    path = shared_data / "kr-datatoys" / "derived" / "nationalPension_cp949.csv"
    return pd.read_csv(path, encoding="cp949", dtype=str)


def test_national_pension_partners_counted_two_ways(nps: pd.DataFrame):
    frame = (
        pd.DataFrame(
            {
                "partner_name": nps["사업장명"],
                "brn": nps["사업자등록번호"],
                "address": nps["사업장도로명상세주소"],
            }
        )
        .astype("string")
        .assign(
            source_file="nationalPension_cp949.csv",
            source_sheet=pd.NA,
            source_row=range(2, len(nps) + 2),
        )
    )
    assert len(frame) == 29_975
    result = build_master(frame, NONE, NONE, None, {})

    # The count again, with pandas alone: a name key and a region written
    # differently, then the rules of issue 4 spelt out as set operations.
    name = (
        nps["사업장명"]
        .str.replace(
            r"\((?:주|유한|유|재|사)\)|㈜|주식회사|유한회사|재단법인|사단법인",
            "",
            regex=True,
        )
        .str.replace(r"[^0-9A-Za-z가-힣]", "", regex=True)
        .str.lower()
    )
    first = nps["사업장도로명상세주소"].str.split().str[0]
    region = first.where(first.str.len() != 4, first.str[0] + first.str[2]).str[:2]
    rows = pd.DataFrame({"name": name, "region": region, "brn6": nps["사업자등록번호"]})
    assert rows["name"].ne("").all()
    located = rows[rows["region"].notna()]
    groups = located.drop_duplicates(["name", "region", "brn6"])
    assert groups["brn6"].notna().all()  # so a located partner's digits are known
    digits_of_name = groups.groupby("name")["brn6"].agg(list)
    expected = len(groups)
    bare = rows[rows["region"].isna()].groupby(["name", "brn6"], dropna=False).size()
    for (key, brn6), n in bare.items():
        if key not in digits_of_name.index:
            expected += 1  # only bare rows carry this name: they form one partner
        elif sum(d == brn6 or pd.isna(brn6) for d in digits_of_name[key]) != 1:
            expected += n  # no single partner fits: each row stays alone
    assert expected == 29_965
    assert len(result.master) == expected

    # Masked numbers never linked distinct names, nor distinct known digits.
    linked = result.links.assign(
        name=name.to_numpy()[result.links["source_row"] - 2],
        brn6=nps["사업자등록번호"].to_numpy()[result.links["source_row"] - 2],
    )
    assert linked.groupby("partner_id")["name"].nunique().max() == 1
    assert linked.groupby("partner_id")["brn6"].nunique().max() == 1
    assert set(result.master["brn_status"]) == {"partial", "missing"}
    assert "brn" not in set(result.links["match_rule"])
    assert result.master["partner_id"].is_unique


@pytest.fixture(scope="module")
def calderdale(shared_data: Path) -> pd.DataFrame:
    frames = []
    paths = sorted(glob.glob(str(shared_data / "uk-calderdale-spend" / "2021-??.csv")))
    assert len(paths) == 12
    for path in paths:
        raw = pd.read_csv(path, dtype=str)
        frames.append(
            pd.DataFrame(
                {
                    "partner_code": raw["Supplier ID"],
                    "partner_name": raw["Supplier(Beneficiary) Name"],
                    "source_file": Path(path).name,
                    "source_sheet": pd.NA,
                    "source_row": range(2, len(raw) + 2),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    return frame.astype({"partner_code": "string", "partner_name": "string"})


def test_calderdale_one_supplier_id_is_one_partner(calderdale: pd.DataFrame):
    result = build_master(calderdale, NONE, NONE, None, {})
    assert len(calderdale) == 23_762
    ids = calderdale["partner_code"]
    assert len(result.master) == ids.nunique() == 1_436
    assert result.master["partner_code"].is_unique
    assert result.master["n_source_rows"].sum() == len(calderdale)

    # Names that differ beyond case, punctuation and company suffixes, per ID.
    key = (
        calderdale["partner_name"]
        .str.lower()
        .str.replace(r"[^0-9a-z]+", " ", regex=True)
        .str.strip()
        .str.replace(
            r"(?:\s+(?:co|company|ltd|limited|inc|incorporated|corp|"
            r"corporation|llc|llp|plc))+$",
            "",
            regex=True,
        )
        .str.replace(" ", "")
    )
    per_id = key.groupby(ids).nunique()
    several = per_id[per_id > 1]
    names = result.conflicts[result.conflicts["field"] == "partner_name"]
    code_of = result.master.set_index("partner_id")["partner_code"]
    assert sorted(code_of[names["partner_id"]]) == sorted(several.index)
    assert dict(zip(code_of[names["partner_id"]], names["n_values"], strict=True)) == (
        several.to_dict()
    )
    assert several.to_dict()["Personal Budgets"] == 111
    budgets = result.master[result.master["partner_code"] == "Personal Budgets"]
    assert budgets["match_rule"].tolist() == ["code"]


@pytest.mark.slow
def test_fifty_thousand_partners_take_seconds():
    """Blocking, not pairs: 50,000 partners incl. one name shared by 5,000 numbers."""
    n = 50_000
    first9 = [f"{100 + i // 10_000:03d}81{i % 10_000:04d}" for i in range(n)]
    rows = pd.DataFrame(
        {
            "partner_code": [f"C{i:06d}" for i in range(n)],
            "partner_name": [
                ("(주)동명" if i % 10 == 0 else f"(주)회사{i}") for i in range(n)
            ],
            "brn": [valid_brn(f) for f in first9],
            "address": "서울특별시 중구",
        }
    )
    frame = rows.astype("string").assign(
        source_file="big.xlsx", source_sheet="s", source_row=range(2, n + 2)
    )
    result = build_master(frame, NONE, NONE, None, {})
    assert len(result.master) == n
    assert result.master["group_id"].equals(result.master["partner_id"])


def test_every_code_the_master_emits_has_a_label():
    from ledgerflow.labels import load_catalogue
    from ledgerflow.master import CHANGE_RISKS, MATCH_RULES, QUALITY_WEIGHTS

    rules = load_catalogue().entries["rules"]
    codes = [f"match_rule_{r}" for r in MATCH_RULES]
    codes += [f"quality_{q}" for q in QUALITY_WEIGHTS]
    codes += [f"partner_status_{s}" for s in ("new", "active", "dormant", "inactive")]
    codes += [f"change_{r}" for r in CHANGE_RISKS]
    missing = [c for c in codes if c not in rules or set(rules[c]) < {"ko", "en"}]
    assert missing == []


def test_group_codes_number_combinations_in_order_of_appearance():
    from ledgerflow.master.records import group_codes

    first = pd.Series(["a", "b", "a", pd.NA, "a", pd.NA], dtype="string")
    second = pd.Series(["x", "x", "x", "y", "y", "y"], dtype="string")
    # (a,x) (b,x) (a,x) (NA,y) (a,y) (NA,y): NA is a value like any other
    assert group_codes([first, second]).tolist() == [0, 1, 0, 2, 3, 2]


def test_lines_that_differ_only_in_spacing_are_one_record():
    rows = [
        ("2024-03-05", "C1", "가나상사", 10),
        ("2024-01-10", " C1", "가나상사 ", 20),
        ("2024-02-01", "C1", "가나상사", 30),
        ("2024-02-02", "C2", "다라", 40),
    ]
    keys = ["doc_date", "partner_code", "partner_name", "supply_amount"]
    lines = sales([dict(zip(keys, row, strict=True)) for row in rows], "매출.xlsx")
    result = build_master(NONE, lines, NONE, None, {})
    by_code = result.master.set_index("partner_code")
    # rows 2, 3 and 4 (Excel numbering) clean to the same code and name
    assert by_code.loc["C1", "n_sales_lines"] == 3
    assert by_code.loc["C1", "first_txn_date"] == pd.Timestamp("2024-01-10")
    assert by_code.loc["C1", "last_txn_date"] == pd.Timestamp("2024-03-05")
    assert by_code.loc["C2", "n_sales_lines"] == 1
    assert len(result.master) == 2
