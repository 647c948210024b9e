"""Case 19: a result kept by the store is never stale after a file changes in place.

The flow's read task is not cached by Prefect (NO_CACHE); the store keys each file's
outcome by its SHA-256, name and folder. These tests run the store-level read through
the case's whole sequence, with totals worked out from the csv files themselves, plus
a change that keeps the file's size and modification time (what a cache keyed by
path, size and mtime would miss).
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil

import pytest
from prefect.cache_policies import NO_CACHE

from ledgerflow import cli, store, validate
from ledgerflow.config import load_config

CASE_19 = "19-prefect-task-cache-dataframe"
FIRST, COPY, CORRECTED = (
    "sales_2024-03.csv",
    "sales_2024-03_copy.csv",
    "sales_2024-03_corrected.csv",
)


def _csv_total(path) -> int:
    """The 공급가액 column summed with the csv module (independent of the reader)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return sum(
            int(row["공급가액"].replace(",", "")) for row in csv.DictReader(handle)
        )


def _store_total(outcome) -> int:
    frames = outcome.used["sales_lines"]
    return int(sum(frame["supply_amount"].sum() for frame in frames))


@pytest.fixture(scope="module")
def config():
    return load_config(None)


@pytest.fixture(scope="module")
def schemas():
    return validate.load_table_schemas()


def test_case_totals_match_case_md(cases_dir):
    case = cases_dir / CASE_19
    assert [_csv_total(case / n) for n in (FIRST, COPY, CORRECTED)] == [
        39_205_000,
        39_205_000,
        39_305_000,
    ]
    sums = [hashlib.sha256((case / n).read_bytes()).hexdigest() for n in (FIRST, COPY)]
    assert sums[0] == sums[1]


def test_case_19_sequence_through_the_store(tmp_path, cases_dir, config, schemas):
    """Runs 1-5 of the case in one store; run 5 (in-place overwrite) is the check."""
    case = cases_dir / CASE_19
    folder = tmp_path / "input"
    folder.mkdir()
    for name in (FIRST, COPY, CORRECTED):
        shutil.copyfile(case / name, folder / name)
    first_total = _csv_total(folder / FIRST)
    corrected_total = _csv_total(folder / CORRECTED)
    kept = store.Store(tmp_path / "store", store.fingerprint(config))

    runs = []
    for name in (FIRST, FIRST, COPY, CORRECTED):
        outcome, hit = store.read_validated(folder / name, config, schemas, kept)
        runs.append((hit, _store_total(outcome)))
    # Run 5: the corrected bytes written over the first path.
    (folder / FIRST).write_bytes((folder / CORRECTED).read_bytes())
    fifth, hit = store.read_validated(folder / FIRST, config, schemas, kept)
    runs.append((hit, _store_total(fifth)))

    # The copy is a miss by design: the name is part of the key, so its rejects
    # and origin columns name the copy (case 19 allows a hit or a miss there).
    assert runs == [
        (False, first_total),
        (True, first_total),
        (False, first_total),
        (False, corrected_total),
        (False, corrected_total),
    ]
    assert [total for _, total in runs] == [
        39_205_000,
        39_205_000,
        39_205_000,
        39_305_000,
        39_305_000,
    ]


def test_change_keeping_size_and_mtime_is_read_again(
    tmp_path, cases_dir, config, schemas
):
    """Same length, same modification time, other bytes: still a miss."""
    path = tmp_path / "input" / FIRST
    path.parent.mkdir()
    shutil.copyfile(cases_dir / CASE_19 / FIRST, path)
    kept = store.Store(tmp_path / "store", store.fingerprint(config))
    store.read_validated(path, config, schemas, kept)
    before = path.stat()

    # 미래테크 980,000 -> 990,000 and VAT 98,000 -> 99,000: as many characters.
    text = path.read_bytes().decode("utf-8-sig")
    line = "10234,미래테크,980000,98000"
    assert text.count(line) == 1
    changed = "\ufeff" + text.replace(line, "10234,미래테크,990000,99000")
    path.write_bytes(changed.encode("utf-8"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert path.stat().st_mtime_ns == before.st_mtime_ns

    outcome, hit = store.read_validated(path, config, schemas, kept)
    assert (hit, _store_total(outcome)) == (False, _csv_total(path))
    assert _csv_total(path) == 39_215_000


def test_flow_tasks_reading_or_writing_are_not_cached():
    """Prefect's own cache is off for the read task and every side-effect task."""
    module = cli._load_flow_module("monthly_partner_report")
    for name in (
        "read_validate_file",
        "write_workbooks",
        "archive_inputs",
        "share_run",
    ):
        assert getattr(module, name).cache_policy is NO_CACHE, name
