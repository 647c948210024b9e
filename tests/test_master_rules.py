"""Partner master, round 2: fuzzy names, places of business, company numbers, bank
accounts, the change watch and contacts switched off; real data from Calderdale."""

from __future__ import annotations

import glob
from pathlib import Path

import pandas as pd
import pytest

from ledgerflow.brn import brn_check_digit
from ledgerflow.master import (
    build_master,
    load_id_registry,
    mask_bank_account,
    save_id_registry,
)
from ledgerflow.master.fuzzy import blocks
from ledgerflow.master.records import branch_numbers, company_numbers
from ledgerflow.tables import PARTNERS, SALES_LINES

NONE = pd.DataFrame()
BRN_A = "123810000" + str(brn_check_digit("123810000"))
BRN_B = "220810000" + str(brn_check_digit("220810000"))


def partners(rows: list[dict], file: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows).reindex(columns=PARTNERS).astype("string")
    frame["credit_limit"] = frame["credit_limit"].astype("Float64")
    frame["founded_date"] = pd.to_datetime(frame["founded_date"])
    frame["source_file"] = file
    frame["source_sheet"] = "거래처"
    frame["source_row"] = range(2, len(rows) + 2)
    return frame


def sales(rows: list[dict], file: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows).reindex(columns=SALES_LINES)
    for column in ("partner_code", "partner_name", "brn"):
        frame[column] = frame[column].astype("string")
    frame["doc_date"] = pd.to_datetime(frame["doc_date"])
    frame["source_file"] = file
    frame["source_sheet"] = "매출"
    frame["source_row"] = range(2, len(rows) + 2)
    return frame


def fuzzy(threshold: float) -> dict:
    return {"master": {"fuzzy_threshold": threshold}}


def by_row(result) -> pd.DataFrame:
    return result.links.sort_values(["source_file", "source_row"])


# ------------------------------------------------------------------ fuzzy names


def test_a_mistyped_name_joins_by_similarity_with_its_score():
    listed = partners(
        [
            {
                "partner_code": "A1",
                "partner_name": "(주)대한정밀기계공업",
                "brn": BRN_A,
                "address": "서울특별시 강남구",
            }
        ],
        "erp.xlsx",
    )
    # 계 -> 게: one syllable of 8: 100 x (1 - 2/16) = 87.5
    typed = partners(
        [{"partner_name": "대한정밀기게공업", "address": "서울 강남구"}], "hand.xlsx"
    )
    frame = pd.concat([listed, typed], ignore_index=True)

    joined = build_master(frame, NONE, NONE, None, fuzzy(85))
    assert joined.master["partner_id"].tolist() == ["P000001"]
    assert joined.master["match_rule"].tolist() == ["fuzzy_name"]
    links = by_row(joined)
    assert links["match_rule"].tolist() == ["fuzzy_name", "fuzzy_name"]
    assert links["match_score"].tolist() == [87.5, 87.5]

    # Above the score, the threshold in the config keeps them apart; 0 = off.
    assert len(build_master(frame, NONE, NONE, None, fuzzy(88)).master) == 2
    assert len(build_master(frame, NONE, NONE, None, fuzzy(0)).master) == 2
    # The default threshold (90) applies without a config.
    assert len(build_master(frame, NONE, NONE, None, {}).master) == 2


def test_similar_names_of_other_companies_stay_apart_at_the_default():
    # 삼성전자 / 삼성전기: 1 syllable of 4 differs, 100 x 6/8 = 75.
    rows = [{"partner_name": "삼성전자", "brn": BRN_A}, {"partner_name": "삼성전기"}]
    frame = partners(rows, "p.xlsx")
    assert len(build_master(frame, NONE, NONE, None, {}).master) == 2
    joined = build_master(frame, NONE, NONE, None, fuzzy(75))
    assert len(joined.master) == 1
    assert by_row(joined)["match_score"].tolist() == [75.0, 75.0]


def test_fuzzy_never_joins_two_numbers_other_digits_or_ambiguous_names():
    two_numbers = partners(
        [
            {"partner_name": "대한정밀기계공업", "brn": BRN_A},
            {"partner_name": "대한정밀기게공업", "brn": BRN_B},
        ],
        "p.xlsx",
    )
    assert len(build_master(two_numbers, NONE, NONE, None, fuzzy(50)).master) == 2
    # Masked numbers that agree are no licence either (a number is an identity).
    masked = two_numbers.assign(brn=["203830", "203830"]).astype({"brn": "string"})
    assert len(build_master(masked, NONE, NONE, None, fuzzy(50)).master) == 2

    plants = partners(
        [{"partner_name": "대한정밀제1공장"}, {"partner_name": "대한정밀제2공장"}],
        "p.xlsx",
    )
    assert len(build_master(plants, NONE, NONE, None, fuzzy(50)).master) == 2

    # One name, equally close to two numbered partners: neither is chosen.
    ambiguous = partners(
        [
            {"partner_name": "대한정밀기계공업", "brn": BRN_A},
            {"partner_name": "대한정밀기계공업", "brn": BRN_B},
            {"partner_name": "대한정밀기게공업"},
        ],
        "p.xlsx",
    )
    result = build_master(ambiguous, NONE, NONE, None, fuzzy(85))
    assert len(result.master) == 3
    assert "fuzzy_name" not in set(result.links["match_rule"])


def test_two_codes_need_a_region_or_phone_in_common_to_join_by_a_similar_name():
    rows = [
        {"partner_code": "S1", "partner_name": "Redacted Personal Data"},
        {"partner_code": "S2", "partner_name": "Redacted Personal Data"},
    ]
    assert len(build_master(partners(rows, "p.csv"), NONE, NONE, None, {}).master) == 2
    placed = [
        {**rows[0], "partner_name": "Hanbit Trading Company Ltd", "region": "부산"},
        {**rows[1], "partner_name": "Hanbit Tradeing Co.", "region": "부산광역시"},
    ]
    # hanbittrading / hanbittradeing: 100 x 26/27 = 96.3
    result = build_master(partners(placed, "p.csv"), NONE, NONE, None, {})
    assert len(result.master) == 1
    assert by_row(result)["match_score"].tolist() == [96.3, 96.3]


def test_blocks_grow_their_prefix_until_small_enough():
    names = ["가나다1", "가나다2", "가나라", "가나", "마바사", "가"]
    assert sorted(map(sorted, blocks(names, size=10))) == [[0, 1, 2, 3], [4], [5]]
    # Over 2 names per block: "가나" -> "가나다" / "가나라" / "가나" (no longer).
    assert sorted(map(sorted, blocks(names, size=2))) == [[0, 1], [2], [3], [4], [5]]


# ------------------------------------------------------------- places of business


def test_places_of_business_of_one_number_are_partners_of_one_group():
    listed = partners(
        [
            {"partner_code": "H", "partner_name": "(주)가나", "brn": BRN_A},
            {
                "partner_code": "B1",
                "partner_name": "(주)가나 부산지점",
                "brn": BRN_A,
                "branch_no": "1",
            },
            {
                "partner_code": "B2",
                "partner_name": "(주)가나",
                "brn": BRN_A,
                "branch_no": "0002",
            },
        ],
        "list.xlsx",
    )
    # An invoice line with the number but no branch goes to the head office.
    lines = sales(
        [{"partner_name": "가나", "brn": BRN_A, "doc_date": "2026-01-05"}], "s.xlsx"
    )
    result = build_master(listed, lines, NONE, None, {})
    master = result.master
    assert master["partner_code"].tolist() == ["H", "B1", "B2"]
    assert master["branch_no"].tolist() == ["0000", "0001", "0002"]
    assert master["group_id"].tolist() == ["P000001"] * 3
    line = result.links[result.links["source_kind"] == "sales"]
    assert line[["partner_id", "match_rule"]].values.tolist() == [["P000001", "brn"]]
    keys = result.registry[result.registry["key_type"] == "brn"]
    assert sorted(keys["key"]) == [BRN_A, f"{BRN_A}/0001", f"{BRN_A}/0002"]


def test_branch_numbers_blank_is_head_office_only_in_a_file_that_has_them():
    values = pd.Series(["1", pd.NA, "０００３", pd.NA, "0"], dtype="string")
    files = pd.Series(["a", "a", "a", "b", "c"])
    assert branch_numbers(values, files).fillna("-").tolist() == [
        "0001",
        "0000",
        "0003",
        "-",
        "0000",
    ]


# --------------------------------------------------------------- company numbers


def test_company_numbers_are_padded_and_personal_numbers_dropped():
    values = pd.Series(
        ["1234567", "SC55775", "sc 055775", "JN393272A", "110111-1234567", pd.NA],
        dtype="string",
    )
    assert company_numbers(values).fillna("-").tolist() == [
        "01234567",
        "SC055775",
        "SC055775",
        "-",
        "1101111234567",
        "-",
    ]


def test_a_company_number_that_lost_its_zero_links_two_codes():
    rows = [
        {"partner_code": "S1", "partner_name": "Atkins Ltd", "company_no": "688424"},
        {"partner_code": "X9", "partner_name": "ATKINS", "company_no": "00688424"},
        {
            "partner_code": "S2",
            "partner_name": "Sole Trader",
            "company_no": "JN393272A",
        },
    ]
    result = build_master(partners(rows, "p.csv"), NONE, NONE, None, {})
    assert result.master["company_no"].fillna("-").tolist() == ["00688424", "-"]
    assert result.master["match_rule"].tolist() == ["company_no", "single"]
    for frame in (result.master, result.links, result.conflicts, result.registry):
        assert "393272" not in frame.astype("string").to_csv()


# ------------------------------------------------------------------ bank accounts


def test_mask_bank_account():
    values = pd.Series(["110-123-456789", "１２３４５", pd.NA], dtype="string")
    assert mask_bank_account(values).fillna("-").tolist() == [
        "****6789",
        "****2345",
        "-",
    ]
    assert mask_bank_account("1234") == "****"


def test_a_changed_bank_account_is_a_risk_signal_shown_by_its_last_digits(tmp_path):
    registry = tmp_path / "ids.csv"
    row = {"partner_code": "A", "partner_name": "가나상사", "brn": BRN_A}
    first = partners([{**row, "bank_account": "110-123-456789"}], "1.xlsx")
    run1 = build_master(first, NONE, NONE, None, {})
    assert run1.master["bank_account"].tolist() == ["****6789"]
    save_id_registry(run1, registry)
    assert "123456789" not in registry.read_text(encoding="utf-8")

    # Same account written differently: no change.
    same = partners([{**row, "bank_account": "110 123 456 789"}], "2.xlsx")
    assert build_master(same, NONE, NONE, load_id_registry(registry), {}).changes.empty

    moved = partners([{**row, "bank_account": "110-987-654321"}], "2.xlsx")
    run2 = build_master(moved, NONE, NONE, load_id_registry(registry), {})
    assert run2.changes.to_dict("records") == [
        {
            "partner_id": "P000001",
            "field": "bank_account",
            "previous": "****6789",
            "current": "****4321",
            "matched_by": "brn",
            "risk": "bank_account_changed",
        }
    ]


def test_two_accounts_in_one_run_are_a_masked_conflict():
    rows = [
        {"partner_code": "A", "partner_name": "가나", "bank_account": "110-123-456789"},
        {"partner_code": "A", "partner_name": "가나", "bank_account": "333-22-111111"},
    ]
    result = build_master(partners(rows, "p.xlsx"), NONE, NONE, None, {})
    banks = result.conflicts[result.conflicts["field"] == "bank_account"]
    assert banks[["values", "n_values"]].values.tolist() == [["****1111; ****6789", 2]]
    for frame in (result.master, result.links, result.conflicts, result.registry):
        text = frame.astype("string").to_csv()
        assert "456789" not in text and "111111" not in text


def test_a_registry_from_before_the_bank_watch_still_loads(tmp_path: Path):
    path = tmp_path / "ids.csv"
    path.write_text(
        "partner_id,key_type,key,partner_name,representative,address,brn\n"
        f"P000007,brn,{BRN_A},가나상사,,,{BRN_A}\n",
        encoding="utf-8",
    )
    frame = partners(
        [{"partner_name": "가나상사", "brn": BRN_A, "bank_account": "110123456789"}],
        "p.xlsx",
    )
    result = build_master(frame, NONE, NONE, load_id_registry(path), {})
    assert result.master["partner_id"].tolist() == ["P000007"]
    assert result.changes.empty  # no fingerprints before: nothing to compare


# -------------------------------------------------------------------- BRN re-use


def test_a_number_known_under_another_partner_and_name_is_flagged(tmp_path):
    registry = tmp_path / "ids.csv"
    first = partners(
        [
            {
                "partner_code": "B1",
                "partner_name": "가나상사 부산지점",
                "brn": BRN_A,
                "branch_no": "0001",
            }
        ],
        "1.xlsx",
    )
    save_id_registry(build_master(first, NONE, NONE, None, {}), registry)
    second = partners(
        [{"partner_code": "Z", "partner_name": "전혀다른상사", "brn": BRN_A}], "2.xlsx"
    )
    result = build_master(second, NONE, NONE, load_id_registry(registry), {})
    assert result.changes.to_dict("records") == [
        {
            "partner_id": "P000002",
            "field": "brn",
            "previous": "P000001 가나상사 부산지점",
            "current": f"{BRN_A} 전혀다른상사",
            "matched_by": "new",
            "risk": "brn_other_name",
        }
    ]


# ---------------------------------------------------------------- contacts off


def test_contacts_off_leave_no_trace_and_do_not_match():
    rows = [
        {"partner_code": "A", "partner_name": "가나상사", "phone": "010-1111-2222"},
        {"partner_code": "B", "partner_name": "가나상사", "phone": "010 1111 2222"},
        {"partner_code": "C", "partner_name": "가나상사", "email": "c@d.kr"},
    ]
    frame = partners(rows, "p.xlsx")
    on = build_master(frame, NONE, NONE, None, {})
    assert len(on.master) == 2  # the first two share name and phone
    off = build_master(frame, NONE, NONE, None, {"master": {"contacts": False}})
    assert len(off.master) == 3
    assert "phone" not in off.master and "email" not in off.master
    for found in (off.master, off.links, off.conflicts, off.registry, off.changes):
        text = found.astype("string").to_csv()
        assert "1111" not in text and "@" not in text and "4444" not in text


# -------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def calderdale_numbers(shared_data: Path) -> pd.DataFrame:
    frames = []
    paths = sorted(glob.glob(str(shared_data / "uk-calderdale-spend" / "2021-??.csv")))
    for path in paths:
        raw = pd.read_csv(path, dtype=str)
        frames.append(
            pd.DataFrame(
                {
                    "partner_code": raw["Supplier ID"],
                    "partner_name": raw["Supplier(Beneficiary) Name"],
                    "company_no": raw["Supplier Registered Company Number"],
                    "source_file": Path(path).name,
                    "source_row": range(2, len(raw) + 2),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True).astype(
        {"partner_code": "string", "partner_name": "string", "company_no": "string"}
    )
    return frame.assign(source_sheet=pd.NA)


def test_calderdale_company_numbers_join_a_register_with_eight_digits(
    calderdale_numbers: pd.DataFrame,
):
    spend = calderdale_numbers
    numbered = spend.dropna(subset=["company_no"]).drop_duplicates("partner_code")
    raw = numbered["company_no"]
    # Worked out from the raw column alone: 132 suppliers carry a number; two are
    # National Insurance numbers (people); 6- or 7-digit numbers lost zeros.
    assert len(numbered) == 132
    personal = raw.str.fullmatch(r"[A-Z]{2}\d{6}[A-D]")
    short = raw.str.fullmatch(r"\d{6,7}")
    assert int(personal.sum()) == 2
    assert int(short.sum()) == 75
    # A register that writes every number as Companies House does (8 characters).
    register = pd.DataFrame(
        {
            "partner_code": "CH-" + raw[~personal].str.zfill(8),
            "partner_name": numbered["partner_name"][~personal],
            "company_no": raw[~personal].str.zfill(8),
            "source_file": "register.csv",
            "source_row": range(2, int((~personal).sum()) + 2),
            "source_sheet": pd.NA,
        }
    ).astype("string")
    frame = pd.concat([spend, register.astype({"source_row": int})], ignore_index=True)
    result = build_master(frame, NONE, NONE, None, {})

    # Every supplier with a company number is one partner with its register row:
    # 130 joins, 75 of them only because the number is padded to 8 digits.
    assert len(result.master) == 1_436
    joined = result.master[result.master["partner_codes"].str.contains("CH-")]
    assert len(joined) == 130
    padded = raw[short].str.zfill(8).tolist()
    assert joined["company_no"].isin(padded).sum() == 75
    assert "fuzzy_name" not in set(result.links["match_rule"])
    for frame_out in (result.master, result.links, result.conflicts):
        assert "393272" not in frame_out.astype("string").to_csv()


def test_a_partner_list_with_branch_and_account_columns_is_read(tmp_path: Path):
    import openpyxl

    from ledgerflow.config import load_config
    from ledgerflow.read import read_file

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        ["거래처코드", "거래처명", "사업자등록번호", "종사업장번호", "계좌번호"]
    )
    sheet.append(["H", "(주)가나", BRN_A, None, "110-123-456789"])
    sheet.append(["B1", "(주)가나 부산지점", BRN_A, "0001", "333-22-111111"])
    path = tmp_path / "거래처.xlsx"
    book.save(path)
    read = read_file(path, load_config(None))
    frame = read.tables[0].frame
    assert frame["branch_no"].fillna("-").tolist() == ["-", "0001"]
    result = build_master(frame, NONE, NONE, None, {})
    assert result.master["branch_no"].tolist() == ["0000", "0001"]
    assert result.master["bank_account"].tolist() == ["****6789", "****1111"]
    assert result.master["group_id"].tolist() == ["P000001", "P000001"]


@pytest.fixture(scope="module")
def parents(shared_data: Path) -> pd.DataFrame:
    path = shared_data / "kr-datatoys" / "derived" / "globalBusiness.xlsx"
    raw = pd.read_excel(path, dtype=str, engine="calamine")
    names = raw["모기업명"].str.strip()
    # "-" and 현지단독진출 ("went abroad alone") are not parent companies.
    keep = names.notna() & ~names.isin(["-", "현지단독진출"])
    return pd.DataFrame(
        {
            "partner_name": names[keep],
            "source_file": "globalBusiness.xlsx",
            "source_sheet": "Sheet1",
            "source_row": raw.index[keep] + 2,
        }
    ).astype({"partner_name": "string"})


def test_kotra_parent_companies_with_doubled_legal_forms(parents: pd.DataFrame):
    assert len(parents) == 583
    # Worked out with pandas alone: legal forms removed, letters and digits kept.
    key = (
        parents["partner_name"]
        .str.replace(r"㈜|\((?:주|유)\)|주식회사", "", regex=True)
        .str.replace(r"[^0-9A-Za-z가-힣]", "", regex=True)
        .str.lower()
    )
    doubled = parents["partner_name"].str.contains("㈜㈜")
    assert int(doubled.sum()) == 13  # e.g. LG전자㈜㈜, 삼성전자㈜㈜
    assert key.nunique() == 520

    exact = build_master(parents, NONE, NONE, None, fuzzy(0))
    assert len(exact.master) == 520
    lg = exact.links[exact.links["partner_name"].isin(["LG전자㈜㈜", "LG전자㈜"])]
    assert len(lg) == 2 and lg["partner_id"].nunique() == 1

    # Similar names: every pair of distinct keys compared without blocking has a
    # ratio under 90 or other digits, so the default fuzzy step joins nothing.
    import re

    from rapidfuzz import fuzz, process

    keys = sorted(set(key))
    scores = process.cdist(keys, keys, scorer=fuzz.ratio, score_cutoff=90)
    close = [
        (keys[i], keys[j])
        for i, j in zip(*scores.nonzero(), strict=True)
        if i < j and re.sub(r"\D", "", keys[i]) == re.sub(r"\D", "", keys[j])
    ]
    assert close == []
    similar = build_master(parents, NONE, NONE, None, {})
    assert len(similar.master) == 520
    assert "fuzzy_name" not in set(similar.links["match_rule"])
