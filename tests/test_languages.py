"""One language at a time: Korean output holds no English words, English no Korean.

What a person reads (workbook cells, `ledgerflow check` and `run` on the console)
is checked word by word. Allowed in Korean: abbreviations (VAT, BRN, DSO, ...),
codes and setting names (snake_case, [section], --option), file names, and any word
found in the input files themselves (a partner called "LED Korea", a header
"Amount"). Allowed in English: Hangul only when it comes from the input.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from ledgerflow import cli, labels, names
from ledgerflow.demo import generate_demo

# Words that read the same in both languages' reports.
ALLOWED = {
    "ABC", "BRN", "CP949", "CSV", "DSO", "DTD", "ERP", "EUR", "Excel", "HHI", "ID",
    "KRW", "NaN", "RFM", "SUM", "TSV", "USD", "UTF", "VAT", "VIP", "XLS", "XLSX",
    "XML", "BOM", "input", "output", "ledgerflow",
}  # fmt: skip
ASCII_WORD = re.compile(r"[A-Za-z]{3,}")
HANGUL = re.compile(r"[\uac00-\ud7a3]+")
# Codes and names a person types as they are: setting sections, options, files,
# snake_case setting names, quoted values.
_CODES = re.compile(
    r"\[[^\]]*\]|`[^`]*`|--[a-z][a-z-]*|ledgerflow \w+|\S+\.(?:xlsx|xlsm|xls|csv|txt"
    r"|toml|json|md)\b|\b\w+_\w+\b|'[^']*'|\b[\w.-]+/[\w./-]*"
)
_QUOTED = re.compile(r"'[^']*'")


def foreign_words(text: str, lang: str, allowed: set[str] = frozenset()) -> list[str]:
    """The words of ``text`` in the other language that are not allowed."""
    if lang == "ko":
        words = ASCII_WORD.findall(_CODES.sub(" ", text))
        return [w for w in words if w not in ALLOWED and w not in allowed]
    # a value shortened from the input (경기 from an address's 경기도) is input too
    return [
        w
        for w in HANGUL.findall(_QUOTED.sub(" ", text))
        if w not in allowed and not any(w in word for word in allowed)
    ]


def input_words(paths: list[Path]) -> set[str]:
    """Every word (ASCII or Hangul) in the files' names and cells."""
    words: set[str] = set()

    def add(text: str) -> None:
        words.update(ASCII_WORD.findall(text))
        words.update(HANGUL.findall(text))

    for path in paths:
        add(path.name)
        if path.suffix.lower() in (".csv", ".txt"):
            data = path.read_bytes()
            for encoding in ("utf-8-sig", "cp949", "latin-1"):
                try:
                    add(data.decode(encoding))
                    break
                except UnicodeDecodeError:
                    continue
            continue
        try:
            book = CalamineWorkbook.from_path(str(path))
        except Exception:
            continue
        for name in book.sheet_names:
            add(name)
            for row in book.get_sheet_by_name(name).to_python():
                for value in row:
                    if isinstance(value, str):
                        add(value)
    return words


def workbook_texts(path: Path):
    """(sheet, cell, text) of every text cell, formulas left out."""
    book = openpyxl.load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        yield sheet.title, "", sheet.title
        for row in sheet.iter_rows():
            for cell in row:
                value = getattr(cell, "value", None)
                if isinstance(value, str) and not value.startswith("="):
                    yield sheet.title, cell.coordinate, value
    book.close()


# --------------------------------------------------------------- the checker


def test_the_checker_catches_the_reported_mixes():
    assert foreign_words("숫자 형식 오류 (expected a number such as 12)", "ko") == [
        "expected",
        "number",
        "such",
    ]
    assert foreign_words("전표번호 중복 (first seen on row 2)", "ko") == [
        "first",
        "seen",
        "row",
    ]
    assert foreign_words("VAT does not match (89,000, 기대 98,000)", "en") == ["기대"]
    assert foreign_words("품목군 기준: item_code, first 3 characters", "ko") == [
        "first",
        "characters",
    ]
    assert foreign_words("설정 [cost_to_serve] cost_of_capital이 0", "ko") == []
    assert foreign_words("VAT, DSO, 사업자등록번호 (BRN)", "ko") == []
    assert foreign_words("partner 'LED Korea'", "en", {"LED"}) == []
    assert foreign_words("headers such as '거래처코드'", "en") == []
    assert foreign_words("schemas/profiles/에 추가", "ko") == []


# ----------------------------------------------------------- the catalogue


def _filled(text: str) -> str:
    return re.sub(r"\{[^}]*\}", "1", text)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_catalogue_text_is_in_its_language(lang):
    catalogue = labels.load_catalogue()
    bad = [
        f"[{section}.{key}] {lang}: {foreign_words(_filled(str(e[lang])), lang)}"
        for section, items in catalogue.entries.items()
        for key, e in items.items()
        if foreign_words(_filled(str(e.get(lang, ""))), lang)
    ]
    assert bad == []


_MESSAGE_CALL = re.compile(r"\bmessage\(\s*\"([a-z][a-z0-9_]*)\"")


def _emitted_codes() -> set[str]:
    src = Path(labels.__file__).resolve().parents[1]
    found = set()
    for path in src.rglob("*.py"):
        found.update(_MESSAGE_CALL.findall(path.read_text("utf-8")))
    return found


def test_every_coded_message_the_code_emits_has_both_languages():
    codes = _emitted_codes()
    assert {"got_expected", "first_seen_row", "tag_rule_trend"} <= codes
    missing = sorted(c for c in codes if not labels.has("phrases", c))
    assert missing == []


def test_a_coded_detail_is_worded_in_each_language():
    detail = labels.message("got_expected", got="89,000", expected="98,000")
    assert labels.reason("vat_mismatch", "ko", detail) == (
        "부가세 불일치 (89,000, 기대 98,000)"
    )
    assert labels.reason("vat_mismatch", "en", detail) == (
        "VAT does not match the supply amount (89,000, expected 98,000)"
    )
    assert labels.reason("duplicate_doc_no", "ko", "first_seen_row|row=2") == (
        "전표번호 중복 (2행에 처음 나옴)"
    )


def test_values_survive_the_coding_and_terms_are_translated():
    text = labels.message(
        "column_absent", column=labels.term("doc_date"), found="a|b; @c 100%"
    )
    assert labels.decode(text) == (
        "column_absent",
        {"column": "doc_date", "found": "a|b; @c 100%"},
    )
    assert labels.render(text, "ko") == (
        f"{labels.label('doc_date', 'ko')} 열이 없습니다 (찾은 열: a|b; @c 100%)"
    )
    # plain text (a value as written, a footer line) is shown unchanged
    assert labels.render("합계: 1,250", "en") == "합계: 1,250"
    assert labels.render("not_a_phrase|x=1", "en") == "not_a_phrase|x=1"


def test_several_coded_details_are_worded_one_by_one():
    one = labels.message("total_row_matches", rows=3)
    two = labels.message("first_seen_row", row=2)
    assert labels.render(f"{one}; {two}", "en") == (
        "matches the 3 rows above; first seen on row 2"
    )


# ------------------------------------------------- `ledgerflow check` on cases


def _case_files(cases_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in cases_dir.glob("*/*")
        if p.suffix.lower() in (".xlsx", ".xls", ".csv", ".txt")
    )


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_check_speaks_one_language_on_every_case(cases_dir, capsys, lang):
    problems = []
    for path in _case_files(cases_dir):
        cli.main(["check", str(path), "--lang", lang, "--limit", "1000"])
        out = capsys.readouterr().out
        allowed = input_words([path])
        for line in out.splitlines():
            bad = foreign_words(line, lang, allowed)
            if bad:
                problems.append(f"{path.name}: {line.strip()} -> {bad}")
    assert problems == []


def test_check_says_a_missing_file_does_not_exist(tmp_path, capsys):
    code = cli.main(["check", str(tmp_path / "nope.xlsx"), "--lang", "en"])
    assert code == cli.EXIT_USAGE
    assert capsys.readouterr().out == (
        f"{tmp_path / 'nope.xlsx'}: no such file; check the path and the file name\n"
    )
    assert cli.main(["check", str(tmp_path), "--lang", "ko"]) == cli.EXIT_USAGE
    assert "폴더입니다" in capsys.readouterr().out


def test_check_lists_skipped_rows_and_no_empty_places(cases_dir, capsys):
    path = cases_dir / "01-title-rows-total-row" / "sales_by_partner_2024-03.xlsx"
    cli.main(["check", str(path), "--lang", "en"])
    out = capsys.readouterr().out
    assert "Total row (matches the" in out
    for noise in ("None", "sheet ''", "encoding None"):
        assert noise not in out


def test_check_names_the_missing_column_by_the_files_headers(tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text(
        "거래처코드,거래처명,공급가액\nA1,가나상사,1000\n", encoding="utf-8"
    )
    code = cli.main(["check", str(path), "--lang", "ko"])
    out = capsys.readouterr().out
    assert code == cli.EXIT_INCOMPLETE
    date = labels.label("doc_date", "ko")
    assert f"{date} 열이 없습니다 (찾은 열: 거래처코드, 거래처명, 공급가액)" in out
    assert "doc_date" not in out and "partner_code" not in out


# ------------------------------------------------------- a demo run's workbooks


@pytest.fixture(scope="module")
def demo_outputs(prefect_harness, tmp_path_factory):
    """The demo data run once in each language: (input files, {lang: workbooks})."""
    flow = cli._load_flow_module("monthly_partner_report").monthly_partner_report
    base = tmp_path_factory.mktemp("languages")
    inputs = generate_demo(base / "input")
    books = {}
    for lang in ("ko", "en"):
        out = base / f"output_{lang}"
        flow(
            input_dir=str(base / "input"),
            output_dir=str(out),
            lang=lang,
            use_store=False,
        )
        found = sorted(out.glob("*/*.xlsx"))
        found += sorted(out.glob("*/scorecards/*.xlsx"))[:3]
        books[lang] = found
    return inputs, books


@pytest.mark.prefect
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_demo_workbooks_speak_one_language(demo_outputs, lang):
    inputs, books = demo_outputs
    allowed = input_words(inputs)
    # the region column shortens the input's addresses (충청남도 -> 충남)
    allowed |= {names.region_of(word) for word in allowed} - {None}
    assert len(books[lang]) >= 5
    problems = set()
    for path in books[lang]:
        for sheet, cell, text in workbook_texts(path):
            bad = foreign_words(text, lang, allowed)
            if bad:
                problems.add(f"{path.name} {sheet}!{cell}: {text[:120]} -> {bad}")
    assert sorted(problems)[:40] == []


def test_run_summary_speaks_the_language_and_names_the_rejects_workbook(capsys):
    summary = {
        "period": "2024-03",
        "period_reason": "period_requested",
        "inputs": [
            {
                "name": "fake.xlsx",
                "rows": {"read": 0, "used": 0, "skipped": 0, "rejected": 0},
                "refused": {"reason": labels.reason("file_empty", "ko")},
            },
            {
                "name": "매출.xlsx",
                "rows": {"read": 5, "used": 3, "skipped": 1, "rejected": 1},
                "refused": None,
            },
        ],
        "outputs": ["partner_master.xlsx", "rejects_2024-03.xlsx"],
    }
    code = cli._print_summary(summary, "ko", Path("결과"))
    out = capsys.readouterr().out
    assert code == cli.EXIT_INCOMPLETE
    month = Path("결과", "2024-03")
    assert out.splitlines() == [
        "ledgerflow: 보고 월: 실행 시 지정한 월: 2024-03",
        "  사용하지 못함 fake.xlsx: 빈 파일",
        "  매출.xlsx: 읽은 행 5 = 사용 3 + 건너뜀 1 + 제외 1",
        f"작성한 파일 ({month}):",
        "  partner_master.xlsx",
        "  rejects_2024-03.xlsx",
        "파일 1개를 사용하지 못했습니다. 이유는 제외 내역 파일에 있습니다: "
        f"{month / 'rejects_2024-03.xlsx'}",
    ]
    assert not [w for line in out.splitlines() for w in foreign_words(line, "ko")]
