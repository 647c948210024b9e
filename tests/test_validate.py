"""validate: schemas as data, every failure of every row, the row account."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerflow import labels, tables
from ledgerflow.config import load_config
from ledgerflow.errors import ProfileError
from ledgerflow.labels import message, term
from ledgerflow.tables import Reject, Skip, TableRead
from ledgerflow.validate import (
    ELEMENT_RULES,
    REQUIRED_COLUMN_MISSING,
    ROW_RULES,
    VALUE_TYPE,
    Validated,
    load_table_schemas,
    validate_table,
)

FILE, SHEET = "in.xlsx", "매출"
MARCH = (pd.Timestamp(2024, 3, 1), pd.Timestamp(2024, 3, 31))
CONFIG = load_config()
SCHEMAS = load_table_schemas()
DTYPE_OF_FIELD_TYPE = {
    "date": "datetime64[ns]",
    "number": "Float64",
    "amount": "Float64",
    "flag": "boolean",
}


def _frame(kind: str, columns: dict[str, list]) -> pd.DataFrame:
    """An inline frame typed as the reader types it, rows from Excel row 2 on."""
    frame = pd.DataFrame(columns)
    for name in columns:
        dtype = DTYPE_OF_FIELD_TYPE.get(tables.FIELD_TYPES.get(name, "text"), "string")
        frame[name] = frame[name].astype(dtype)
    n = len(frame)
    frame["source_file"] = FILE
    frame["source_sheet"] = SHEET
    frame["source_row"] = range(2, n + 2)
    return frame


def _table(kind="sales_lines", rejects=(), period=None, skipped=(), **columns):
    frame = _frame(kind, columns)
    return TableRead(
        kind=kind,
        profile="test",
        sheet=SHEET,
        header_row=1,
        frame=frame,
        rows_read=len(frame) + len(skipped),
        skipped=list(skipped),
        rejects=list(rejects),
        declared_period=period,
    )


def _run(table: TableRead, config=None) -> Validated:
    result = validate_table(table, config or CONFIG, SCHEMAS)
    # the row account holds for every result
    used, skipped = len(result.used), len(table.skipped)
    assert table.rows_read == used + skipped + result.rejected_rows
    return result


def _rj(row, column, value, rule, detail=""):
    return Reject(FILE, SHEET, row, column, value, rule, detail)


def _sales(n=1, **columns):
    """Sales lines with a code and a March date unless a test says otherwise."""
    base = {"doc_date": ["2024-03-04"] * n, "partner_code": ["00123"] * n}
    return base | columns


# --------------------------------------------------------------------- schemas


def test_schemas_cover_every_kind_with_contract_dtypes():
    assert set(SCHEMAS) == set(tables.KINDS)
    for kind, schema in SCHEMAS.items():
        for name, column in schema.columns.items():
            assert name in tables.KINDS[kind]
            field_type = tables.FIELD_TYPES.get(name, "text")
            assert column.dtype == DTYPE_OF_FIELD_TYPE.get(field_type, "string"), name


def test_required_columns_as_the_rules_say():
    def required(kind):
        cols = SCHEMAS[kind].columns
        return sorted(n for n, c in cols.items() if c.required)

    def not_null(kind):
        return sorted(n for n, c in SCHEMAS[kind].columns.items() if not c.nullable)

    assert required("sales_lines") == ["doc_date", "partner_code"]
    assert not_null("sales_lines") == [
        "doc_date",
        "doc_no",
        "partner_code",
        "partner_name",
    ]
    assert required("receivables") == ["amount", "partner_code"]
    assert not_null("receivables") == [
        "amount",
        "invoice_date",
        "invoice_no",
        "partner_code",
    ]
    assert required("partners") == [] and not_null("partners") == []


def test_schema_with_unknown_check_names_file_and_check(tmp_path):
    (tmp_path / "sales_lines.toml").write_text(
        'kind = "sales_lines"\n[columns.brn]\ndtype = "string"\nchecks = ["luhn"]\n',
        "utf-8",
    )
    with pytest.raises(
        ProfileError, match=r"sales_lines.toml: \[columns.brn\] unknown"
    ):
        load_table_schemas(tmp_path)


def test_schema_with_unknown_row_check(tmp_path):
    (tmp_path / "receivables.toml").write_text(
        'kind = "receivables"\n[[checks]]\nrule = "nope"\ncolumn = "amount"\n', "utf-8"
    )
    with pytest.raises(ProfileError, match="rule 'nope' is not a check"):
        load_table_schemas(tmp_path)


def test_every_emitted_rule_has_korean_and_english_labels():
    catalogue = labels.load_catalogue(labels.FOLDER)
    ours = tomllib_rules()
    codes = {REQUIRED_COLUMN_MISSING, VALUE_TYPE, *ELEMENT_RULES, *ROW_RULES}
    for schema in SCHEMAS.values():
        codes |= {c.missing_rule for c in schema.columns.values() if not c.nullable}
    for code in codes:
        # A kind's own labels file may hold its missing-value rules (contacts.toml).
        assert code in ours or code in catalogue.entries["rules"], f"{code}: no label"
        entry = catalogue.entries["rules"][code]
        assert entry["ko"] and entry["en"], code


def tomllib_rules() -> dict:
    import tomllib

    text = (labels.FOLDER / "validate.toml").read_text("utf-8")
    return tomllib.loads(text)["rules"]


# ------------------------------------------------------------- required columns


def test_blank_required_cells_are_rejected_once_per_cell():
    table = _table(
        doc_no=["A1", "A2"],
        doc_date=["2024-03-04", None],
        partner_code=[None, "00123"],
        partner_name=["가", "나"],
    )
    result = _run(table)
    assert result.rejects == [
        _rj(2, "partner_code", None, "partner_code_missing"),
        _rj(3, "doc_date", None, "doc_date_missing"),
    ]
    assert result.rejected_rows == 2 and result.used.empty


def test_a_column_absent_from_the_source_is_not_missing_on_every_row():
    result = _run(_table(**_sales(2)))  # no doc_no, no partner_name column
    assert result.rejects == [] and len(result.used) == 2


def test_missing_required_column_refuses_the_table():
    table = _table(doc_date=["2024-03-04", "2024-03-05"], doc_no=["A1", "A2"])
    result = _run(table)
    assert result.rejects == [
        _rj(
            None,
            "partner_code",
            None,
            REQUIRED_COLUMN_MISSING,
            message(
                "column_absent", column=term("partner_code"), found="doc_date, doc_no"
            ),
        )
    ]
    assert result.rejected_rows == 2
    assert list(result.used.columns) == tables.SALES_LINES + tables.ORIGIN_COLUMNS


def test_parse_rejects_keep_their_rows_out_and_are_not_reported_as_missing():
    parse = _rj(3, "partner_code", "#REF!", "code_format")
    table = _table(rejects=[parse], **_sales(2, partner_code=["00123", None]))
    result = _run(table)
    assert result.rejects == [parse]
    assert result.rejected_rows == 1
    assert result.used["source_row"].tolist() == [2]


def test_parse_reject_named_by_header_covers_its_row():
    # the reader names the column as the file's header says (수량, 거래처코드)
    parse = _rj(2, "거래처코드", "#REF!", "code_format")
    table = _table(rejects=[parse], **_sales(2, partner_code=[None, None]))
    result = _run(table)
    assert result.rejects == [
        parse,
        _rj(3, "partner_code", None, "partner_code_missing"),
    ]


# ----------------------------------------------------------------------- BRN


def test_brn_checks_in_sales_lines_are_rejects():
    brns = ["287-12-56410", "586-01-96691", "586-01-96691", "12345", "123-45-*****"]
    result = _run(_table(**_sales(5, brn=brns)))
    assert result.rejects == [
        _rj(3, "brn", "586-01-96691", "brn_checksum", "586-01-96691"),
        _rj(4, "brn", "586-01-96691", "brn_checksum", "586-01-96691"),
        _rj(5, "brn", "12345", "brn_length", "12345"),
        _rj(6, "brn", "123-45-*****", "brn_masked", "123-45-*****"),
    ]
    # check digit 0 is valid (the takahall.com bug refused it)
    assert result.used["brn"].tolist() == ["287-12-56410"]


def test_brn_problems_in_partner_lists_are_flags_and_the_partner_is_kept():
    table = _table(
        "partners",
        partner_name=["(주)가", "(주)나", "(주)다", "(주)라", "(주)마"],
        brn=["126811", "586-01-96691", "1234567", "287-12-56410", None],
    )
    result = _run(table)
    assert result.rejects == [] and len(result.used) == 5
    assert result.flags == [
        _rj(2, "brn", "126811", "brn_masked", "126811"),
        _rj(3, "brn", "586-01-96691", "brn_checksum", "586-01-96691"),
        _rj(4, "brn", "1234567", "brn_length", "1234567"),
    ]


def test_partner_needs_a_code_or_a_name():
    table = _table(
        "partners",
        partner_code=["P1", None, None],
        partner_name=[None, "(주)나", None],
    )
    result = _run(table)
    assert result.rejects == [_rj(4, "partner_code", None, "partner_id_missing")]
    assert result.used["source_row"].tolist() == [2, 3]


def test_partner_list_without_codes_uses_names():
    result = _run(_table("partners", partner_name=["(주)가", None]))
    assert result.rejects == [_rj(3, "partner_code", None, "partner_id_missing")]


# ----------------------------------------------------------- dates and period


def test_date_outside_declared_period_is_rejected_with_the_period():
    dates = ["2024-03-01", "2024-03-31", "2024-04-01", "2024-02-29"]
    result = _run(_table(period=MARCH, **_sales(4, doc_date=dates)))

    def span(date):
        return message(
            "date_outside_period", date=date, start="2024-03-01", end="2024-03-31"
        )

    assert result.rejects == [
        _rj(
            4,
            "doc_date",
            "2024-04-01",
            "date_outside_file_period",
            span("2024-04-01"),
        ),
        _rj(
            5,
            "doc_date",
            "2024-02-29",
            "date_outside_file_period",
            span("2024-02-29"),
        ),
    ]


def test_no_declared_period_no_period_check():
    result = _run(_table(**_sales(1, doc_date=["2023-01-01"])))
    assert result.rejects == []


def test_blank_date_is_missing_not_outside_the_period():
    result = _run(_table(period=MARCH, **_sales(1, doc_date=[None])))
    assert result.rejects == [_rj(2, "doc_date", None, "doc_date_missing")]


# ------------------------------------------------------------------- amounts


def test_supply_is_derived_from_qty_and_price_when_the_source_has_none():
    table = _table(**_sales(3, qty=[3, None, -2], unit_price=[1500, 10, 2.5]))
    result = _run(table)
    assert result.used["supply_amount"].tolist() == [4500, pd.NA, -5]
    assert result.notes[0].startswith("supply_amount derived from qty × unit_price")


def test_supply_must_agree_with_qty_times_price_within_tolerance():
    table = _table(
        **_sales(
            4,
            qty=[3, 3, 3, None],
            unit_price=[110000, 110000, 110000, 5],
            supply_amount=[300000, 330001, 330002, 7],
        )
    )
    result = _run(table)
    assert result.rejects == [
        _rj(
            2,
            "supply_amount",
            "300000",
            "supply_mismatch",
            message("got_expected", got="300,000", expected="330,000"),
        ),
        _rj(
            4,
            "supply_amount",
            "330002",
            "supply_mismatch",
            message("got_expected", got="330,002", expected="330,000"),
        ),
    ]


def test_vat_is_floor_of_supply_times_rate_within_one_won():
    supply = [980000, 180012, 180012, 180012, -60000, 245000]
    vat = [89000, 18001, 18002, 18003, -6000, 24500]
    result = _run(_table(**_sales(6, supply_amount=supply, vat_amount=vat)))
    assert result.rejects == [
        _rj(
            2,
            "vat_amount",
            "89000",
            "vat_mismatch",
            message("got_expected", got="89,000", expected="98,000"),
        ),
        _rj(
            5,
            "vat_amount",
            "18003",
            "vat_mismatch",
            message("got_expected", got="18,003", expected="18,001"),
        ),
    ]


def test_vat_of_a_return_mirrors_the_sale():
    # -60,005 × 0.1 = -6,000.5: the return reverses a sale whose VAT was 6,000
    result = _run(_table(**_sales(1, supply_amount=[-60005], vat_amount=[-6002])))
    assert result.rejects == [
        _rj(
            2,
            "vat_amount",
            "-6002",
            "vat_mismatch",
            message("got_expected", got="-6,002", expected="-6,000"),
        )
    ]


def test_vat_rate_and_tolerance_come_from_config():
    config = load_config()
    config["read"]["vat_rate"] = 0.2
    config["read"]["vat_tolerance"] = 0
    table = _table(**_sales(2, supply_amount=[1000, 1000], vat_amount=[200, 201]))
    result = _run(table, config)
    assert [r.detail for r in result.rejects] == [
        message("got_expected", got="201", expected="200")
    ]


def test_total_is_supply_plus_vat():
    table = _table(
        **_sales(
            2,
            supply_amount=[550000, 550000],
            vat_amount=[55000, 55000],
            total_amount=[650000, 605001],
        )
    )
    result = _run(table)
    assert result.rejects == [
        _rj(
            2,
            "total_amount",
            "650000",
            "total_mismatch",
            message("got_expected", got="650,000", expected="605,000"),
        )
    ]


def test_fractional_amounts_show_two_decimals():
    table = _table(**_sales(1, qty=[3], unit_price=[2.55], supply_amount=[9.95]))
    assert _run(table).rejects[0].detail == message(
        "got_expected", got="9.95", expected="7.65"
    )


# ---------------------------------------------------------------- duplicates


def test_repeated_doc_no_keeps_the_first_when_one_row_is_one_document():
    table = _table(**_sales(4, doc_no=["S1", "S2", "S1", "S1"]))
    result = _run(table)
    assert result.rejects == [
        _rj(4, "doc_no", "S1", "duplicate_doc_no", message("first_seen_row", row=2)),
        _rj(5, "doc_no", "S1", "duplicate_doc_no", message("first_seen_row", row=2)),
    ]
    assert result.used["source_row"].tolist() == [2, 3]


def test_with_item_columns_only_identical_lines_are_duplicates():
    table = _table(
        **_sales(
            4,
            doc_no=["S1", "S1", "S1", "S2"],
            item_code=["A", "B", "A", "A"],
            qty=[1, 1, 1, 1],
        )
    )
    result = _run(table)
    assert result.rejects == [
        _rj(4, "doc_no", "S1", "duplicate_line", message("first_seen_row", row=2))
    ]


def test_duplicate_lines_can_be_kept_by_config():
    config = load_config()
    config["validate"] = {"reject_duplicate_lines": False}
    table = _table(**_sales(2, doc_no=["S1", "S1"], item_code=["A", "A"]))
    assert _run(table, config).rejects == []


# ---------------------------------------------------------- several problems


def test_a_row_with_several_problems_lists_all_in_column_order():
    table = _table(
        period=MARCH,
        doc_no=["S1"],
        doc_date=["2024-04-02"],
        partner_code=[None],
        brn=["12345"],
        supply_amount=[1000000],
        vat_amount=[90000],
        total_amount=[1000000],
    )
    assert [(r.column, r.rule) for r in _run(table).rejects] == [
        ("doc_date", "date_outside_file_period"),
        ("partner_code", "partner_code_missing"),
        ("brn", "brn_length"),
        ("vat_amount", "vat_mismatch"),
        ("total_amount", "total_mismatch"),
    ]


def test_skipped_rows_count_in_the_account():
    skips = [Skip(FILE, SHEET, 4, "total_row")]
    result = _run(_table(skipped=skips, **_sales(2)))
    assert len(result.used) == 2 and result.rejected_rows == 0


# -------------------------------------------------------------- receivables


def _receivables(**columns):
    base = {
        "partner_code": ["C1", "C2", "C3"],
        "invoice_date": ["2013-01-02", "2013-01-26", "2013-07-03"],
        "amount": [55.94, 61.74, 65.88],
    }
    return _table("receivables", **(base | columns))


def test_receivable_dates_in_order():
    table = _receivables(
        due_date=["2013-02-01", "2013-01-25", None],
        settled_date=["2013-01-15", "2013-01-26", "2013-07-01"],
    )
    result = _run(table)
    assert result.rejects == [
        _rj(
            3,
            "due_date",
            "2013-01-25",
            "due_before_invoice",
            message("date_before", date="2013-01-25", before="2013-01-26"),
        )
    ]
    # an advance payment is possible: flagged, kept
    assert result.flags == [
        _rj(
            4,
            "settled_date",
            "2013-07-01",
            "settled_before_invoice",
            message("date_before", date="2013-07-01", before="2013-07-03"),
        )
    ]
    assert result.used["source_row"].tolist() == [2, 4]


def test_settled_amount_defaults_to_the_amount_when_settled():
    result = _run(_receivables(settled_date=["2013-01-15", None, "2013-07-08"]))
    assert result.used["settled_amount"].tolist() == [55.94, pd.NA, 65.88]
    assert result.notes[0].startswith("settled_amount taken as the full amount")


def test_receivables_require_amount_and_invoice_no_when_present():
    result = _run(_receivables(amount=[1.0, None, 3.0], invoice_no=["1", "2", None]))
    assert result.rejects == [
        _rj(3, "amount", None, "amount_missing"),
        _rj(4, "invoice_no", None, "invoice_no_missing"),
    ]


def test_ibm_receivables_are_all_accepted(shared_data):
    """Real-ish data: due = invoice + 30 days, none settled before the invoice."""
    raw = pd.read_csv(
        shared_data / "ibm-accounts-receivable/WA_Fn-UseC_-Accounts-Receivable.csv",
        dtype=str,
    )
    columns = {
        "partner_code": raw["customerID"],
        "invoice_no": raw["invoiceNumber"],
        "amount": raw["InvoiceAmount"].astype(float),
        "is_disputed": raw["Disputed"].eq("Yes"),
    }
    for name, source in [
        ("invoice_date", "InvoiceDate"),
        ("due_date", "DueDate"),
        ("settled_date", "SettledDate"),
    ]:
        columns[name] = pd.to_datetime(raw[source], format="%m/%d/%Y")
    result = _run(_table("receivables", **columns))
    assert (len(result.used), result.rejects, result.flags) == (2466, [], [])
    assert result.used["settled_amount"].sum() == pytest.approx(
        raw["InvoiceAmount"].astype(float).sum()
    )


# ----------------------------------------------------------------- currency


def test_currency_filled_from_config_where_blank():
    config = load_config()
    config["run"]["currency"] = "KRW"
    result = _run(_table(**_sales(2, currency=["GBP", None])), config)
    assert result.used["currency"].tolist() == ["GBP", "KRW"]
    result = _run(_table(**_sales(1)), config)
    assert result.used["currency"].tolist() == ["KRW"]
    assert "currency KRW assumed where the source gives none" in result.notes


def test_used_has_every_canonical_column_then_origin():
    result = _run(_receivables())
    assert list(result.used.columns) == tables.RECEIVABLES + tables.ORIGIN_COLUMNS
    assert str(result.used["settled_date"].dtype) == "datetime64[ns]"


def test_other_datetime_resolutions_and_object_columns_are_conformed():
    table = _table(**_sales(2))
    table.frame["doc_date"] = table.frame["doc_date"].astype("datetime64[us]")
    table.frame["qty"] = pd.Series([3, "x"], dtype=object)
    result = _run(table)
    assert result.rejects == [_rj(3, "qty", "x", VALUE_TYPE)]
    assert str(result.used["doc_date"].dtype) == "datetime64[ns]"


# -------------------------------------------------------------------- case 18

CASE18_HEADERS = {
    "전표번호": "doc_no",
    "거래처코드": "partner_code",
    "거래처명": "partner_name",
    "사업자등록번호": "brn",
    "일자": "doc_date",
    "수량": "qty",
    "단가": "unit_price",
    "공급가액": "supply_amount",
    "부가세": "vat_amount",
    "합계": "total_amount",
}


def _case18_table(path: Path) -> TableRead:
    """The case workbook as a reader would hand it over (header on row 1)."""
    sheet = openpyxl.load_workbook(path, read_only=True)["매출"]
    rows = list(sheet.iter_rows(values_only=True))
    names = [CASE18_HEADERS[h] for h in rows[0]]
    columns: dict[str, list] = {name: [] for name in names}
    rejects = []
    for excel_row, cells in enumerate(rows[1:], start=2):
        for name, cell in zip(names, cells, strict=True):
            typed = tables.FIELD_TYPES.get(name) in ("number", "amount")
            if typed and isinstance(cell, str):
                bad = Reject(path.name, "매출", excel_row, name, cell, "number_format")
                rejects.append(bad)
                cell = None
            columns[name].append(cell)
    frame = _frame("sales_lines", columns)
    frame["source_file"] = path.name
    return TableRead(
        kind="sales_lines",
        profile="case18",
        sheet="매출",
        header_row=1,
        frame=frame,
        rows_read=len(rows) - 1,
        rejects=rejects,
        declared_period=MARCH,
    )


def test_case18_every_failure_of_every_row_in_one_pass(cases_dir):
    path = cases_dir / "18-validation-rejects-report" / "sales_lines_2024-03.xlsx"
    table = _case18_table(path)
    result = _run(table)
    # the reader's reject for 'abc' comes through as it is
    assert table.rejects == [
        Reject(path.name, "매출", 7, "qty", "abc", "number_format")
    ]
    ko = [
        (r.row, labels.reason(r.rule, "ko", r.detail))
        for r in result.rejects
        if r not in table.rejects
    ]
    assert ko == [
        (3, "사업자등록번호 검증번호 오류 (586-01-96691)"),
        (4, "사업자등록번호 검증번호 오류 (586-01-96691)"),
        (5, "거래처명 누락"),
        (8, "부가세 불일치 (89,000, 기대 98,000)"),
        (9, "합계 불일치 (650,000, 기대 605,000)"),
        (10, "공급가액 ≠ 수량×단가 (300,000, 기대 330,000)"),
        (12, "전표번호 중복 (2행에 처음 나옴)"),
        (13, "보고 기간 외 일자 (2024-04-01, 기간 2024-03-01 ~ 2024-03-31)"),
        (15, "거래처코드 누락"),
        (15, "사업자등록번호 자릿수 오류 (12345)"),
        (15, "부가세 불일치 (90,000, 기대 100,000)"),
    ]
    assert all(r.file == path.name and r.sheet == "매출" for r in result.rejects)
    used = result.used
    assert used["source_row"].tolist() == [2, 6, 11, 14, 16]
    assert used["doc_no"].tolist()[:1] == ["S2403-001"]
    assert used["qty"].isna().tolist() == [False, True, False, False, False]
    totals = used[["supply_amount", "vat_amount", "total_amount"]].sum().tolist()
    assert totals == [1_895_012, 189_501, 2_084_513]
    assert (table.rows_read, len(used), result.rejected_rows) == (15, 5, 10)
    assert len(result.rejects) == 12


def test_case18_through_the_reader(cases_dir):
    """The same outcome when the real reader hands the table over."""
    from ledgerflow.read import read_file

    path = cases_dir / "18-validation-rejects-report" / "sales_lines_2024-03.xlsx"
    (table,) = read_file(path, CONFIG).tables
    result = _run(table)
    assert [(r.row, r.rule) for r in result.rejects] == [
        (3, "brn_checksum"),
        (4, "brn_checksum"),
        (5, "partner_name_missing"),
        (7, table.rejects[0].rule),
        (8, "vat_mismatch"),
        (9, "total_mismatch"),
        (10, "supply_mismatch"),
        (12, "duplicate_doc_no"),
        (13, "date_outside_file_period"),
        (15, "partner_code_missing"),
        (15, "brn_length"),
        (15, "vat_mismatch"),
    ]
    assert result.used["source_row"].tolist() == [2, 6, 11, 14, 16]
    totals = result.used[["supply_amount", "vat_amount", "total_amount"]].sum()
    assert totals.tolist() == [1_895_012, 189_501, 2_084_513]
    # Every reject names the column by the header a person sees in the file.
    assert [r.column for r in result.rejects] == [
        "사업자등록번호",
        "사업자등록번호",
        "거래처명",
        "수량",
        "부가세",
        "합계",
        "공급가액",
        "전표번호",
        "일자",
        "거래처코드",
        "사업자등록번호",
        "부가세",
    ]


def test_case04_only_the_impossible_and_the_april_dates_are_rejected(cases_dir):
    from ledgerflow.read import read_file

    path = cases_dir / "04-mixed-date-formats" / "sales_vouchers_2024-03.xlsx"
    (table,) = read_file(path, CONFIG).tables
    result = _run(table)
    assert [r.row for r in result.rejects] == [15, 16]
    assert result.rejects[1].rule == "date_outside_file_period"
    assert result.used["doc_no"].tolist() == [f"2403-{i:04d}" for i in range(1, 12)]
    totals = result.used[["supply_amount", "vat_amount"]].sum().tolist()
    assert totals == [10_285_000, 1_028_500]


def test_case08_receivables_without_dates_are_used(cases_dir):
    """A 미수금 list without an invoice date column is not refused."""
    from ledgerflow.read import read_file

    path = cases_dir / "08-amount-text-formats" / "receivables_amount_text.csv"
    (table,) = read_file(path, CONFIG).tables
    result = _run(table)
    assert [r.row for r in result.rejects] == [13, 14, 15]
    assert result.rejects[2].rule == "amount_missing"
    assert len(result.used) == 11
    assert result.used["amount"].sum() == 9_766_200


@pytest.mark.slow
def test_nps_partner_list_is_kept_with_masked_numbers_flagged(shared_data):
    from ledgerflow.read import read_file

    path = shared_data / "kr-datatoys" / "derived" / "nationalPension.xlsx"
    (table,) = read_file(path, CONFIG).tables
    result = _run(table)
    assert (len(result.used), result.rejects) == (29_975, [])
    # every business number is cut to its first 6 digits; one row holds a name only
    assert {r.rule for r in result.flags} == {"brn_masked"}
    assert len(result.flags) == 29_974


# ----------------------------------------------------------- property: account


@st.composite
def _sales_tables(draw):
    n = draw(st.integers(0, 25))
    amounts = st.one_of(st.none(), st.integers(-(10**6), 10**6))
    supply = draw(st.lists(amounts, min_size=n, max_size=n))
    columns = {
        "doc_no": draw(
            st.lists(st.sampled_from(["A", "B", "C", None]), min_size=n, max_size=n)
        ),
        "doc_date": draw(
            st.lists(
                st.sampled_from(["2024-02-29", "2024-03-01", "2024-03-31", None]),
                min_size=n,
                max_size=n,
            )
        ),
        "partner_code": draw(
            st.lists(st.sampled_from(["1", "2", None]), min_size=n, max_size=n)
        ),
        "qty": draw(
            st.lists(st.one_of(st.none(), st.integers(-5, 5)), min_size=n, max_size=n)
        ),
        "unit_price": draw(
            st.lists(st.sampled_from([None, 0, 1000, 2000]), min_size=n, max_size=n)
        ),
        "supply_amount": supply,
        "vat_amount": [None if s is None else s // 10 for s in supply],
    }
    if draw(st.booleans()):
        columns["item_code"] = draw(
            st.lists(st.sampled_from(["X", "Y"]), min_size=n, max_size=n)
        )
    parse_rows = draw(st.sets(st.integers(2, n + 1), max_size=n)) if n else set()
    rejects = [_rj(row, "qty", "?", "number_format") for row in sorted(parse_rows)]
    for row in parse_rows:
        columns["qty"][row - 2] = None
    skipped = [
        Skip(FILE, SHEET, 100 + i, "total_row") for i in range(draw(st.integers(0, 3)))
    ]
    period = draw(st.sampled_from([None, MARCH]))
    return _table(rejects=rejects, skipped=skipped, period=period, **columns)


@given(_sales_tables())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_row_is_used_or_rejected_exactly_once(table):
    result = _run(table)
    frame = table.frame
    rejected_rows = {r.row for r in result.rejects}
    used_rows = set(result.used["source_row"])
    assert used_rows.isdisjoint(rejected_rows)
    assert used_rows | rejected_rows == set(frame["source_row"])
    assert result.rejected_rows == len(rejected_rows)
    rejected = frame[frame["source_row"].isin(rejected_rows)]
    total = result.used["supply_amount"].sum() + rejected["supply_amount"].sum()
    assert total == frame["supply_amount"].sum()


# ------------------------------------------------------ large real file: speed


@pytest.fixture(scope="module")
def online_retail(shared_data) -> TableRead:
    path = shared_data / "uci-online-retail" / "derived" / "Online Retail.xlsx"
    raw = pd.read_excel(
        path, engine="calamine", dtype={"InvoiceNo": str, "StockCode": str}
    )
    frame = pd.DataFrame(
        {
            "doc_no": raw["InvoiceNo"].astype("string"),
            "doc_date": raw["InvoiceDate"].dt.normalize().astype("datetime64[ns]"),
            "partner_code": raw["CustomerID"].astype("Int64").astype("string"),
            "item_code": raw["StockCode"].astype("string"),
            "item_name": raw["Description"].astype("string"),
            "qty": raw["Quantity"].astype("Float64"),
            "unit_price": raw["UnitPrice"].astype("Float64"),
            "currency": pd.Series("GBP", index=raw.index, dtype="string"),
            "source_file": path.name,
            "source_sheet": "Online Retail",
            "source_row": range(2, len(raw) + 2),
        }
    )
    return TableRead("sales_lines", "uci", "Online Retail", 1, frame, len(frame))


@pytest.mark.slow
def test_online_retail_validates_in_seconds(online_retail):
    result = _run(online_retail)
    rules = pd.Series([r.rule for r in result.rejects]).value_counts().to_dict()
    # 135,080 lines without CustomerID; 5,268 exact duplicates in the source, plus
    # one line of invoice 567183 repeated a minute later (dates carry no time)
    assert rules == {"partner_code_missing": 135_080, "duplicate_line": 5_269}
    assert (len(result.used), result.rejected_rows) == (401_603, 140_306)
    assert math.isclose(
        result.used["supply_amount"].sum(),
        (online_retail.frame["qty"] * online_retail.frame["unit_price"])
        .loc[~online_retail.frame["source_row"].isin({r.row for r in result.rejects})]
        .sum(),
    )
