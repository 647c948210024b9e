"""The label catalogue: every entry in both languages, exact headers, fallbacks."""

from __future__ import annotations

import logging

import pytest

from ledgerflow import labels

ENGLISH = {
    "partner_code": "Partner code",
    "partner_name": "Partner name",
    "revenue": "Revenue",
    "cost": "Cost",
    "gross_profit": "Gross profit",
    "gross_margin": "Gross margin %",
    "receivable_balance": "Receivable balance",
    "overdue_amount": "Overdue amount",
    "score": "Score",
    "grade": "Grade",
    "is_prune_candidate": "Prune candidate",
    "file": "File",
    "sheet": "Sheet",
    "row": "Row",
    "column": "Column",
    "value": "Value",
    "reason": "Reason",
}
KOREAN = {
    "partner_code": "거래처코드",
    "partner_name": "거래처명",
    "revenue": "매출액",
    "cost": "매출원가",
    "gross_profit": "매출총이익",
    "gross_margin": "매출총이익률 %",
    "receivable_balance": "미수금 잔액",
    "overdue_amount": "연체 금액",
    "score": "점수",
    "grade": "등급",
    "is_prune_candidate": "정리 후보",
    "file": "파일",
    "sheet": "시트",
    "row": "행",
    "column": "열",
    "value": "값",
    "reason": "사유",
}


def test_every_catalogue_file_is_complete_and_consistent():
    """Every entry of every *.toml has ko and en, valid kinds, no disagreements."""
    catalogue = labels.load_catalogue()
    assert catalogue.problems == []
    assert len(list(labels.FOLDER.glob("*.toml"))) >= 2
    for section in labels.SECTIONS:
        for key, entry in catalogue.entries[section].items():
            assert entry["ko"].strip() and entry["en"].strip(), (section, key)


@pytest.mark.parametrize("key", sorted(ENGLISH))
def test_main_headers_are_exact(key):
    assert labels.label(key, "en") == ENGLISH[key]
    assert labels.label(key, "ko") == KOREAN[key]


def test_every_canonical_column_has_a_label():
    from ledgerflow.tables import KINDS, ORIGIN_COLUMNS

    keys = {key for columns in KINDS.values() for key in columns} | set(ORIGIN_COLUMNS)
    assert sorted(k for k in keys if not labels.has("columns", k)) == []


def test_kinds():
    assert labels.kind("revenue") == "money"
    assert labels.kind("gross_margin") == "percent"
    assert labels.kind("doc_date") == "date"
    assert labels.kind("partner_code") == "text"
    assert labels.kind("is_prune_candidate") == "bool"
    assert labels.kind("row") == "int"
    assert labels.kind("no_such_column") == "text"


def test_reason_with_and_without_detail():
    assert labels.reason("negative_gross_profit", "ko") == "매출총이익 적자"
    assert labels.reason("negative_gross_profit", "en", "-60,000") == (
        "Negative gross profit (-60,000)"
    )


def test_unknown_key_shows_itself_and_warns_once(caplog):
    labels.reload()
    with caplog.at_level(logging.WARNING, logger="ledgerflow.labels"):
        assert labels.label("zz_unknown", "ko") == "zz_unknown"
        assert labels.label("zz_unknown", "en") == "zz_unknown"
        assert labels.reason("zz_rule", "en", "x") == "zz_rule (x)"
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        "label catalogue: no [columns.zz_unknown] entry; showing the key itself (add "
        "it to the stage's TOML file in src/ledgerflow/labels/)",
        "label catalogue: no [rules.zz_rule] entry; showing the key itself (add it to "
        "the stage's TOML file in src/ledgerflow/labels/)",
    ]


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language 'de': expected one of ko, en"):
        labels.label("revenue", "de")


def test_placeholders_are_filled():
    assert labels.sheet_title("evaluation", "en", year=2024) == "Evaluation 2024"
    assert labels.phrase("rows_cut", "ko", count=5) == (
        "Excel 시트 한도로 5개 행은 싣지 못했습니다."
    )


def test_merge_reports_gaps_and_disagreements(tmp_path):
    (tmp_path / "a.toml").write_text(
        '[rules.x]\nko = "가"\nen = "A"\n[columns.c]\nko = "씨"\nen = "C"\n'
        'kind = "money"\n',
        encoding="utf-8",
    )
    (tmp_path / "b.toml").write_text(
        '[rules.x]\nko = "나"\nen = "B"\n[rules.y]\nko = "와이"\n'
        '[columns.d]\nko = "디"\nen = "D"\nkind = "euros"\n[other.z]\nko = "z"\n',
        encoding="utf-8",
    )
    (tmp_path / "c.toml").write_text("[rules.x\n", encoding="utf-8")
    catalogue = labels.load_catalogue(tmp_path)
    assert catalogue.entries["rules"]["x"]["en"] == "A"  # first file wins
    assert catalogue.entries["columns"]["c"]["kind"] == "money"
    assert catalogue.problems[:4] == [
        "b.toml: [rules.x]: differs from a.toml; a.toml wins",
        "b.toml: [rules.y]: no text for en",
        "b.toml: [columns.d]: kind 'euros' is not one of money, int, number, percent, "
        "date, text, bool",
        "b.toml: unknown section [other]; expected one of rules, columns, sheets, "
        "phrases",
    ]
    assert catalogue.problems[4].startswith("c.toml: not valid TOML")
