"""Every bad input ends as a clear message naming the file: no traceback, no hang.

The reader and the validator are called directly (no Prefect). A case passes when
read_file returns (never raises), the file is either refused with a catalogued rule
and a detail, or read into tables that validate; nothing takes the "unexpected" path
(an exception the reader did not foresee), and the case ends within its bound.
"""

from __future__ import annotations

import logging
import resource
import subprocess
import sys
import textwrap

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardening.guard import time_bound
from ledgerflow import labels, validate
from ledgerflow.config import load_config
from ledgerflow.read import read_file

CONFIG = load_config(None)
BOUND_SECONDS = 40  # the slowest case (a value in row 1,048,576) takes ~10 s alone

# What the cases that must be refused get (the others may be read or refused).
REFUSED = {
    "truncated zip 10.0%": "file_corrupt",
    "truncated zip 99.9%": "file_corrupt",
    "zip without central directory": "file_corrupt",
    "zip but not a workbook": "file_format_unknown",
    "broken XML in xl/worksheets/sheet1.xml": "file_corrupt",
    "rels point nowhere": "file_corrupt",
    "no sheet part": "file_corrupt",
    "shared string index out of range": "file_corrupt",
    "binary garbage as xlsx": "file_format_unknown",
    "binary garbage as csv": "file_format_unknown",
    "empty file": "file_empty",
    "empty sheet": "file_empty",
    "only sheet hidden": "file_empty",
    "value in XFD1048576": "sheet_too_large",
    "styled empty cell in XFD1048576": "sheet_too_large",
    "row numbered past Excel's last row": "sheet_too_large",
    "zip bomb: 1.1 GB of blanks in the sheet": "zip_bomb",
    "zip with 20,000 parts": "zip_too_many_parts",
    "billion laughs in the sheet": "xml_dtd",
    "billion laughs in shared strings": "xml_dtd",
    "billion laughs in workbook.xml": "xml_dtd",
    "external entity (XXE) to /etc/passwd": "xml_dtd",
    "csv: 10 MB single line": "sheet_too_large",
    "csv: 200,000 columns": "sheet_too_large",
    "html: colspan of a billion": "sheet_too_large",
    "xml spreadsheet: row index of a billion": "sheet_too_large",
    "xml spreadsheet: cell index of a billion": "sheet_too_large",
    "xml spreadsheet: MergeAcross of a billion": "sheet_too_large",
    "xml spreadsheet: index not a number": "file_corrupt",
    "xml spreadsheet: billion laughs": "xml_dtd",
}


def check_read(path, caplog) -> tuple:
    """Read and validate ``path`` as a run would; return (FileRead, validations)."""
    caplog.clear()
    with (
        caplog.at_level(logging.DEBUG, logger="ledgerflow"),
        time_bound(BOUND_SECONDS, path.name),
    ):
        file_read = read_file(path, CONFIG)
        checked = [validate.validate_table(t, CONFIG) for t in file_read.tables]
    unexpected = [r.getMessage() for r in caplog.records if "unexpectedly" in r.msg]
    assert unexpected == [], f"{path.name}: took the unexpected path: {unexpected}"
    tracebacks = [r for r in caplog.records if r.exc_info and r.levelno > logging.DEBUG]
    assert tracebacks == [], f"{path.name}: a traceback reached the log"
    if file_read.refused is not None:
        refused = file_read.refused
        assert refused.file == path.name
        assert labels.has("rules", refused.rule), refused.rule
        # the sentence a person reads (details are coded messages, rendered here)
        shown = labels.reason(refused.rule, "en", refused.detail)
        assert refused.detail and len(shown) > 30, shown
        assert file_read.tables == []
    for table, result in zip(file_read.tables, checked, strict=True):
        used_skipped_rejected = (
            len(result.used) + len(table.skipped) + result.rejected_rows
        )
        assert table.rows_read == used_skipped_rejected, table.sheet
    return file_read, checked


def test_every_bad_input_ends_as_a_clear_message(corpus, tmp_path, caplog):
    """The whole corpus (see README): each case refused clearly or read, in bound."""
    outcomes = {}
    for case, (name, data) in corpus.items():
        path = tmp_path / name
        path.write_bytes(data)
        file_read, _ = check_read(path, caplog)
        outcomes[case] = file_read.refused.rule if file_read.refused else "read"
        path.unlink()
    wrong = {
        case: (outcomes.get(case), rule)
        for case, rule in REFUSED.items()
        if outcomes.get(case) != rule
    }
    assert wrong == {}, "case: (got, expected)"
    assert len(outcomes) >= 60


def test_extreme_values_are_read_not_refused(corpus, tmp_path, caplog):
    """NaN, infinities, far dates and Excel's longest text: rows rejected, not files."""
    by_case = corpus
    for case in (
        "NaN, INF and 1e309 as amounts",
        "dates 1900-01-00, 1900-02-29, 9999-12-31 and past",
        "32,767-character cell",
        "40,000-character cell",
        "csv: NaN and infinity",
        "csv: dates 1900 and 9999",
    ):
        name, data = by_case[case]
        path = tmp_path / name
        path.write_bytes(data)
        file_read, checked = check_read(path, caplog)
        assert file_read.refused is None, case
        for result in checked:
            for column in ("supply_amount", "vat_amount", "total_amount", "amount"):
                if column in result.used:
                    values = result.used[column].dropna().astype(float)
                    assert values.map(lambda v: v == v and abs(v) < 1e300).all(), case


def test_32767_character_text_is_kept_whole(corpus, tmp_path, caplog):
    by_case = corpus
    name, data = by_case["32,767-character cell"]
    path = tmp_path / name
    path.write_bytes(data)
    file_read, _checked = check_read(path, caplog)
    names = file_read.tables[0].frame["partner_name"].dropna()
    assert names.str.len().max() == 32_767


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    prefix=st.sampled_from(
        [
            b"",
            b"PK\x03\x04",
            bytes.fromhex("d0cf11e0a1b11ae1"),
            b"<html><table>",
            b"\xef\xbb\xbf",
            "거래처코드,금액\n".encode("cp949"),
        ]
    ),
    body=st.binary(max_size=4000),
    name=st.sampled_from(["x.xlsx", "x.xls", "x.csv", "x.txt"]),
)
def test_random_bytes_never_escape(tmp_path, caplog, prefix, body, name):
    """hypothesis: any bytes under any name end as a refusal or tables."""
    path = tmp_path / name
    path.write_bytes(prefix + body)
    check_read(path, caplog)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_byte_mutations_of_demo_workbooks(demo_files, tmp_path, caplog, data):
    """hypothesis: flip, cut or splice bytes of a demo workbook."""
    name = data.draw(st.sampled_from(sorted(demo_files)))
    content = bytearray(demo_files[name])
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(content) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            content[at] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del content[at : at + data.draw(st.integers(1, 500))]
        else:
            content[at:at] = data.draw(st.binary(min_size=1, max_size=64))
    path = tmp_path / name
    path.write_bytes(bytes(content))
    check_read(path, caplog)


def test_bombs_are_refused_with_bounded_memory(corpus, tmp_path):
    """Bombs and far cells in a child with 3 GiB of address space: refused, alive."""
    by_case = corpus
    names = []
    for case in (
        "zip bomb: 1.1 GB of blanks in the sheet",
        "value in XFD1048576",
        "billion laughs in the sheet",
        "xml spreadsheet: cell index of a billion",
        "html: colspan of a billion",
    ):
        name, data = by_case[case]
        (tmp_path / name).write_bytes(data)
        names.append(name)
    script = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        from ledgerflow.config import load_config
        from ledgerflow.read import read_file
        for name in {names!r}:
            r = read_file(Path({str(tmp_path)!r}) / name, load_config(None))
            print(name, r.refused.rule if r.refused else "read")
        # VmHWM is this process's own peak; ru_maxrss keeps the peak of the process
        # image before exec, i.e. of the forked pytest process, which is large
        status = Path("/proc/self/status")
        if status.exists():
            hwm = next(
                line for line in status.read_text().splitlines()
                if line.startswith("VmHWM:")
            )
            print("peak MB", int(hwm.split()[1]) // 1024)
        else:
            print("peak MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[:-1] == [
        "bomb.xlsx zip_bomb",
        "far.xlsx sheet_too_large",
        "laughs.xlsx xml_dtd",
        "sscell.xls sheet_too_large",
        "span.xls sheet_too_large",
    ]
    assert int(lines[-1].split()[-1]) < 1024  # peak resident MB
    assert resource.getrusage(resource.RUSAGE_SELF)  # the parent is untouched
