"""The contact log: per-partner figures, the history sheet, notes kept internal."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from ledgerflow import assemble, contacts, read, validate
from ledgerflow.config import load_config
from ledgerflow.errors import LedgerflowError
from ledgerflow.period import Period
from ledgerflow.report import outputs
from ledgerflow.report import profitability as profitability_report

MARCH = Period(2024, 3)
CODE_MAP = pd.DataFrame(
    {
        "partner_code": ["00123", "00456", "00789"],
        "partner_id": ["P0001", "P0002", "P0003"],
    }
).astype("string")
MASTER = CODE_MAP.assign(partner_name=["가나상사", "다라무역", "마바산업"])


def _log(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=["partner_code", "contact_date", "next_action", "due_date", "done"],
    )
    frame = frame.astype(
        {
            "partner_code": "string",
            "contact_date": "datetime64[ns]",
            "next_action": "string",
            "due_date": "datetime64[ns]",
            "done": "boolean",
        }
    )
    frame["person"] = pd.Series("김영희", index=frame.index, dtype="string")
    frame["subject"] = pd.Series("단가 협의", index=frame.index, dtype="string")
    return assemble.attach_partner_ids(frame, CODE_MAP)


# Worked by hand for March 2024 (period end 2024-03-31):
# 00123: Feb 20 open, due Mar 10 -> open + overdue, not in March;
#        Mar 5 open, blank done, due Mar 31 -> open, due on the last day: not overdue;
#        Mar 18 no action -> a contact only; Apr 2 -> after the period, not seen.
#        => last Mar 18, 2 contacts, 2 open, 1 overdue.
# 00456: Mar 10 done -> closed; Jan 5 open without due date -> open, never overdue.
#        => last Mar 10, 1 contact, 1 open, 0 overdue.
# 00789: no contact => NaT, 0, 0, 0.  99999: unknown to the master, left out.
LOG_ROWS = [
    ("00123", "2024-02-20", "견적 송부", "2024-03-10", False),
    ("00123", "2024-03-05", "샘플 발송", "2024-03-31", None),
    ("00123", "2024-03-18", None, None, None),
    ("00123", "2024-04-02", "재방문", "2024-04-01", False),
    ("00456", "2024-03-10", "계약서 송부", "2024-03-15", True),
    ("00456", "2024-01-05", "카탈로그 발송", None, False),
    ("99999", "2024-03-01", "전화", "2024-03-02", False),
]


def test_contact_summary_hand_worked_figures():
    summary = contacts.contact_summary(_log(LOG_ROWS), MASTER, MARCH)
    assert summary.columns.tolist() == ["partner_id", *contacts.SUMMARY_KEYS]
    assert summary["partner_id"].tolist() == ["P0001", "P0002", "P0003"]
    assert summary["last_contact_date"].tolist()[:2] == [
        pd.Timestamp("2024-03-18"),
        pd.Timestamp("2024-03-10"),
    ]
    assert pd.isna(summary["last_contact_date"].iloc[2])
    assert summary["contacts_in_period"].tolist() == [2, 1, 0]
    assert summary["open_next_actions"].tolist() == [2, 1, 0]
    assert summary["overdue_follow_ups"].tolist() == [1, 0, 0]
    assert str(summary["contacts_in_period"].dtype) == "Int64"


def test_contact_summary_judged_at_the_period_end():
    # February 2024: only the Jan 5 and Feb 20 contacts exist yet; the Feb 20 action
    # (due Mar 10) is open but not yet overdue.
    summary = contacts.contact_summary(_log(LOG_ROWS), MASTER, Period(2024, 2))
    assert summary["contacts_in_period"].tolist() == [1, 0, 0]
    assert summary["open_next_actions"].tolist() == [1, 1, 0]
    assert summary["overdue_follow_ups"].tolist() == [0, 0, 0]
    assert summary["last_contact_date"].iloc[1] == pd.Timestamp("2024-01-05")


def test_contact_summary_of_an_empty_log_is_zeros():
    empty = assemble.attach_partner_ids(_log([]).iloc[:0], CODE_MAP)
    summary = contacts.contact_summary(empty, MASTER, MARCH)
    assert summary["open_next_actions"].tolist() == [0, 0, 0]
    assert summary["last_contact_date"].isna().all()


def test_contact_summary_needs_partner_ids():
    frame = _log(LOG_ROWS).drop(columns=["partner_id"])
    with pytest.raises(ValueError, match="attach the master's ids first"):
        contacts.contact_summary(frame, MASTER, MARCH)


def test_with_summary_adds_counts_and_refuses_notes():
    summary = contacts.contact_summary(_log(LOG_ROWS), MASTER, MARCH)
    month = pd.DataFrame(
        {"partner_id": ["P0002", "P0009"], "revenue": [1_000.0, 2_000.0]}
    ).astype({"partner_id": "string"})
    shown = contacts.with_summary(month, summary, contacts.SHARED_KEYS)
    assert shown.columns.tolist() == ["partner_id", "revenue", *contacts.SHARED_KEYS]
    # P0009 is not in the summary: zero counts, not blanks.
    assert shown["contacts_in_period"].tolist() == [1, 0]
    assert shown["open_next_actions"].tolist() == [1, 0]
    with pytest.raises(ValueError, match="person, subject are contact notes"):
        contacts.with_summary(month, summary, ["person", "subject"])


def test_history_newest_first_without_unknown_partners():
    history = contacts.contact_history(_log(LOG_ROWS))
    assert history["contact_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-04-02",
        "2024-03-18",
        "2024-03-10",
        "2024-03-05",
        "2024-02-20",
        "2024-01-05",
    ]
    assert "99999" not in history["partner_code"].tolist()
    assert history.columns.tolist() == [
        c for c in contacts.HISTORY_COLUMNS if c != "partner_name" and c != "channel"
    ]


def test_shared_workbooks_refuse_contact_notes():
    with pytest.raises(LedgerflowError, match="columns person, subject hold"):
        outputs.check_shareable(["partner_id", "person", "subject"], "x.xlsx")
    month_keys = set(profitability_report.MONTH_COLUMNS)
    assert set(contacts.SHARED_KEYS) <= month_keys
    assert not (contacts.CONTACT_NOTE_KEYS | {"last_contact_date"}) & month_keys
    assert set(contacts.SUMMARY_KEYS) <= set(outputs.MASTER_COLUMNS)


def _contact_workbook(path):
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("접촉이력")
    header = "상담일 거래처코드 거래처명 방법 담당자 상담내용 후속조치 예정일 완료"
    rows = [
        header.split(),
        ["2024-03-05", "00123", "가나상사", "방문", "김영희", "단가 협의", "견적 송부"],
        ["2024-03-18", "00123", "가나상사", "전화", "김영희", "납기 확인", "샘플 발송"],
        ["2024-02-10", "00456", "다라무역", "메일", "박철수", "신제품 소개", ""],
        ["", "00456", "다라무역", "전화", "박철수", "일자 누락", ""],
    ]
    tails = [[], ["2024-03-20", "Y"], ["2024-03-25", ""], ["", ""], ["", ""]]
    rows = [[*row, *tail] for row, tail in zip(rows, tails, strict=True)]
    for number, row in enumerate(rows):
        sheet.write_row(number, 0, row)
    workbook.close()


def test_korean_contact_log_read_validated_and_summarised(tmp_path):
    path = tmp_path / "접촉이력_2024-03.xlsx"
    _contact_workbook(path)
    config = load_config(None)
    file_read = read.read_file(path, config)
    assert file_read.refused is None
    (table,) = file_read.tables
    assert (table.kind, table.profile, table.rows_read) == (
        "contacts_log",
        "generic_ko_contacts",
        4,
    )
    checked = validate.validate_table(table, config)
    # The row without a contact date (Excel row 5) is rejected, the rest used.
    assert [(r.row, r.column, r.rule) for r in checked.rejects] == [
        (5, "상담일", "contact_date_missing")
    ]
    used = checked.used
    assert used["done"].tolist() == [True, pd.NA, pd.NA]
    assert used["partner_code"].tolist() == ["00123", "00123", "00456"]

    log = assemble.attach_partner_ids(used, CODE_MAP)
    summary = contacts.contact_summary(log, MASTER, MARCH)
    # 00123: two March contacts; Mar 5 done, Mar 18 open and due Mar 25 -> overdue.
    assert summary["contacts_in_period"].tolist() == [2, 0, 0]
    assert summary["open_next_actions"].tolist() == [1, 0, 0]
    assert summary["overdue_follow_ups"].tolist() == [1, 0, 0]
    assert summary["last_contact_date"].iloc[1] == pd.Timestamp("2024-02-10")


def test_partner_master_gets_figures_and_history_sheet(tmp_path):
    log = _log(LOG_ROWS)
    summary = contacts.contact_summary(log, MASTER, MARCH)
    master = contacts.with_summary(MASTER, summary, contacts.SUMMARY_KEYS)
    path = outputs.write_partner_master(
        master,
        tmp_path / "partner_master.xlsx",
        lang="en",
        created=dt.date(2024, 3, 31),
        contacts=contacts.contact_history(log),
    )
    book = openpyxl.load_workbook(path, read_only=True)
    assert len(book.sheetnames) == 2
    history = list(book.worksheets[1].values)
    headers = [str(v) for v in history[0] if v is not None]
    assert "Subject" in headers and "Person" in headers
    rows = [r for r in history[1:] if any(v is not None for v in r)]
    assert len(rows) == 6
    master_rows = list(book.worksheets[0].values)
    header = [str(v) for v in master_rows[0] if v is not None]
    assert "Overdue follow-ups" in header
