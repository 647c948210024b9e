"""Bookkeeping between stages: period choice, coverage notes, partner IDs."""

from __future__ import annotations

import pandas as pd
import pytest

from ledgerflow import assemble
from ledgerflow.errors import UsageError
from ledgerflow.period import Period


def _sales(*days):
    return pd.DataFrame({"doc_date": pd.to_datetime(list(days))})


def test_latest_month_with_sales_lines_is_the_default():
    period, why = assemble.choose_period(
        None, _sales("2024-02-29", "2024-03-05"), pd.DataFrame()
    )
    assert (period, why) == (Period(2024, 3), "period_latest_sales")


def test_invoices_choose_the_month_when_there_are_no_sales():
    receivables = pd.DataFrame({"invoice_date": pd.to_datetime(["2013-06-02"])})
    period, why = assemble.choose_period(None, _sales(), receivables)
    assert (period, why) == (Period(2013, 6), "period_latest_invoices")


def test_nothing_dated_is_a_usage_error_saying_what_to_do():
    with pytest.raises(UsageError, match="give --period YYYY-MM"):
        assemble.choose_period(None, _sales(), pd.DataFrame())


def test_a_month_without_sales_and_a_partial_month_are_noted():
    sales = _sales("2011-11-30", "2011-12-09")
    assert assemble.period_notes(Period(2011, 12), sales) == [
        "period_partial: 2011-12-09"
    ]
    assert assemble.period_notes(Period(2019, 5), sales) == ["period_no_sales: 2019-05"]
    assert assemble.period_notes(Period(2011, 11), sales) == []


def test_partner_ids_follow_the_code_map_and_unknown_codes_stay_empty():
    frame = pd.DataFrame({"partner_code": pd.array(["00123", "9"], dtype="string")})
    code_map = pd.DataFrame({"partner_code": ["00123"], "partner_id": ["P000001"]})
    out = assemble.attach_partner_ids(frame, code_map)
    assert out["partner_id"].tolist() == ["P000001", pd.NA]
    assert "partner_id" not in frame  # the input frame is not changed


def test_the_same_export_dropped_twice_counts_once(tmp_path):
    from ledgerflow import labels
    from ledgerflow.tables import FileRead, TableRead

    frame = pd.DataFrame({"supply_amount": [100.0]})

    def outcome(name, sha):
        table = TableRead("sales_lines", "p", "", 1, frame, rows_read=1)
        read = FileRead(tmp_path / name, name, sha, 10, "csv", tables=[table])
        done = assemble.FileOutcome(read=read, rows_read=1, rows_used=1)
        done.used = {"sales_lines": [frame]}
        return done

    kept = assemble.drop_repeated_files(
        [outcome("매출.csv", "aa"), outcome("매출 (1).csv", "aa"), outcome("b", "bb")]
    )
    assert [o.read.refused is None for o in kept] == [True, False, True]
    assert assemble.combine(kept, "sales_lines")["supply_amount"].sum() == 200
    refused = kept[1].read.refused
    assert (refused.file, refused.rule, refused.detail) == (
        "매출 (1).csv",
        "file_repeated",
        "매출.csv",
    )
    assert labels.reason(refused.rule, "en", refused.detail).endswith("(매출.csv)")


def test_of_identical_files_the_original_is_used_not_the_copy(tmp_path):
    """Input order puts "12월_매출 (1).csv" before "12월_매출.csv" (a space sorts
    before a dot); the copy is the one refused, whatever the order."""
    from ledgerflow.tables import FileRead

    def outcome(name, sha):
        read = FileRead(tmp_path / name, name, sha, 10, "csv", tables=[])
        return assemble.FileOutcome(read=read, rows_read=1, rows_used=1)

    kept = assemble.drop_repeated_files(
        [
            outcome("12월_매출 (1).csv", "aa"),
            outcome("12월_매출 - 복사본.csv", "aa"),
            outcome("12월_매출.csv", "aa"),
            outcome("x (2).csv", "bb"),
            outcome("x (3).csv", "bb"),
        ]
    )
    refused = [(o.read.name, o.read.refused) for o in kept]
    assert [(n, r.detail if r else None) for n, r in refused] == [
        ("12월_매출 (1).csv", "12월_매출.csv"),
        ("12월_매출 - 복사본.csv", "12월_매출.csv"),
        ("12월_매출.csv", None),
        ("x (2).csv", None),  # both are copies: the first in input order
        ("x (3).csv", "x (2).csv"),
    ]


def test_map_distinct_maps_each_code_like_series_map():
    codes = pd.Series(
        ["007", "12", pd.NA, "007", "99"], dtype="string", index=[5, 6, 7, 8, 9]
    )
    mapped = assemble.map_distinct(codes, {"007": "P0001", "12": "P0002"})
    assert mapped.dtype == "string"
    assert mapped.index.tolist() == [5, 6, 7, 8, 9]
    assert mapped.tolist() == ["P0001", "P0002", pd.NA, "P0001", pd.NA]


def test_attach_partner_ids_leaves_the_given_frame_alone():
    lines = pd.DataFrame({"partner_code": pd.Series(["A", "B"], dtype="string")})
    code_map = pd.DataFrame({"partner_code": ["B"], "partner_id": ["P0007"]})
    out = assemble.attach_partner_ids(lines, code_map)
    assert out["partner_id"].tolist() == [pd.NA, "P0007"]
    assert list(lines.columns) == ["partner_code"]


def _lines(file, days, doc_prefix="D", amount=100.0):
    return pd.DataFrame(
        {
            "doc_no": pd.array(
                [f"{doc_prefix}{d}" if doc_prefix else None for d in days],
                dtype="string",
            ),
            "doc_date": pd.to_datetime([f"2026-11-{d:02d}" for d in days]),
            "partner_code": pd.array(["001"] * len(days), dtype="string"),
            "item_code": pd.array(["A"] * len(days), dtype="string"),
            "qty": pd.array([1.0] * len(days), dtype="Float64"),
            "supply_amount": pd.array([amount] * len(days), dtype="Float64"),
            "source_file": file,
        }
    )


def test_the_same_lines_in_two_files_are_noted_once_per_pair():
    """A month exported twice (another title row: not byte-identical) and a third
    file of other lines: only the pair is named, with its 12 shared lines."""
    sales = pd.concat(
        [
            _lines("11월.xlsx", range(1, 13)),
            _lines("11월 다시.xlsx", range(1, 13)),
            _lines("다른.xlsx", range(1, 13), doc_prefix="X"),
        ],
        ignore_index=True,
    )
    assert assemble.overlap_notes(sales) == [
        "lines_in_two_files: 11월 다시.xlsx / 11월.xlsx: 12"
    ]


def test_a_few_shared_lines_are_noted_only_when_one_file_holds_nothing_else():
    """3 lines (without document numbers) in a file that is all inside another;
    3 equal lines between two otherwise different files are left alone; monthly
    files whose dates do not meet are not compared."""
    inside = pd.concat(
        [
            _lines("year.csv", range(1, 20), doc_prefix=None),
            _lines("part.csv", range(1, 4), doc_prefix=None),
        ],
        ignore_index=True,
    )
    assert assemble.overlap_notes(inside) == [
        "lines_in_two_files: part.csv / year.csv: 3"
    ]
    some = pd.concat(
        [
            _lines("a.csv", range(1, 20)),
            _lines("b.csv", range(1, 4)),
            _lines("b.csv", range(5, 9), amount=7.0),
        ],
        ignore_index=True,
    )
    assert assemble.overlap_notes(some) == []
    october = _lines("10월.csv", range(1, 20)).assign(
        doc_date=pd.to_datetime([f"2026-10-{d:02d}" for d in range(1, 20)])
    )
    months = pd.concat([october, _lines("11월.csv", range(1, 20))], ignore_index=True)
    assert assemble.overlap_notes(months) == []
