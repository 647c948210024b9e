"""Profiles as data: the shipped ones, a user's own, and broken ones."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from ledgerflow import paths
from ledgerflow.config import load_config
from ledgerflow.errors import ProfileError
from ledgerflow.read import load_profiles, normalise_header, read_file
from ledgerflow.read.header import find_header

READ_PACKAGE = Path(__file__).resolve().parents[2] / "src" / "ledgerflow" / "read"
LABELS = Path(__file__).resolve().parents[2] / "src" / "ledgerflow" / "labels"

DEMO_HEADERS = {
    "sales_lines": "일자 전표번호 거래처코드 거래처명 품목코드 품목명 수량 단가 "
    "공급가액 부가세 합계 원가",
    "receivables": "거래처코드 거래처명 계산서번호 발행일 만기일 금액 입금일 입금액",
    "partners": "거래처코드 거래처명 사업자등록번호 대표자 업태 종목 주소 우편번호 "
    "전화 이메일 종업원수",
}


def test_shipped_profiles_load():
    profiles = load_profiles()
    names = [p.name for p in profiles]
    assert len(names) == len(set(names))
    for expected in (
        "generic_ko_sales",
        "generic_ko_receivables",
        "generic_ko_partners",
        "ecount_sales",
        "ecount_partners",
        "hometax_tax_invoices",
        "generic_en_sales",
        "generic_en_receivables",
    ):
        assert expected in names
    assert all(p.layout.get("control_total") for p in profiles)


@pytest.mark.parametrize("kind", sorted(DEMO_HEADERS))
def test_demo_headers_are_recognised_completely(kind):
    headers = DEMO_HEADERS[kind].split()
    header, _ = find_header([headers], load_profiles(), 30)
    assert header is not None and header.profile.kind == kind
    assert header.unmapped == []  # every demo column means something


def test_normalise_header():
    assert normalise_header(" 거래처 코드 ") == normalise_header("거래처코드")
    assert normalise_header("Invoice No.") == "invoiceno"
    assert normalise_header("ＣｕｓｔｏｍｅｒＩＤ") == "customerid"


def test_a_user_profile_is_a_file(tmp_path):
    (tmp_path / "my_shop.toml").write_text(
        'name = "my_shop"\nkind = "sales_lines"\nlabel = "My shop"\n'
        'date_order = "DMY"\n[fields]\npartner_code = ["Kunde"]\n'
        'supply_amount = ["Betrag"]\ndoc_date = ["Datum"]\n'
        '[match]\nrequired = ["partner_code", "supply_amount"]\n'
        '[fixed]\ncurrency = "EUR"\n',
        encoding="utf-8",
    )
    data = tmp_path / "in.csv"
    data.write_text("Datum;Kunde;Betrag\n03/04/2024;K-1;12\n", encoding="utf-8")
    file_read = read_file(data, load_config(), load_profiles(tmp_path))
    (table,) = file_read.tables
    assert table.profile == "my_shop"
    assert table.frame["currency"].tolist() == ["EUR"]
    assert str(table.frame["doc_date"].iloc[0].date()) == "2024-04-03"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\nkind = "orders"\n[fields]\n', "kind 'orders' is unknown"),
        ('name = "x"\nkind = "partners"\n[fields]\nqty = ["a"]\n', "field 'qty'"),
        (
            'name = "x"\nkind = "partners"\n[fields]\npartner_code = ["a"]\n'
            '[match]\nrequired = ["brn"]\n',
            "match.required names 'brn'",
        ),
        ('name = "x"\nkind = "partners"\n', "missing key 'fields'"),
        ("name = ", "not valid TOML"),
    ],
)
def test_broken_profiles_name_the_file_and_the_key(tmp_path, text, message):
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match=re.escape(message)) as error:
        load_profiles(tmp_path)
    assert "bad.toml" in str(error.value)


def test_every_rule_the_reader_emits_has_a_label():
    """Rule codes written in the read package all appear in labels/read.toml."""
    source = "\n".join(p.read_text("utf-8") for p in READ_PACKAGE.glob("*.py"))
    emitted = set(re.findall(r'FileRefused\(\s*"([a-z_]+)"', source))
    emitted |= set(re.findall(r'"rule":\s*"([a-z_]+)"', source))
    emitted |= {"control_total", "subtotal", "footer", "control_total_mismatch"}
    emitted |= {"file_unreadable"}
    labels = tomllib.loads((LABELS / "read.toml").read_text("utf-8"))["rules"]
    assert len(emitted) >= 12
    assert emitted <= set(labels)
    for code in emitted:
        assert labels[code]["ko"] and labels[code]["en"]


def test_profiles_dir_is_the_shipped_folder():
    assert (paths.profiles_dir() / "_layout.toml").exists()
