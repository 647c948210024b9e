"""The incremental store: a stored outcome equals a fresh read, and is never stale.

The files are the field case 19 (a sales CSV, its byte-identical copy and its
correction) and small files written here; the expected totals come from case.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ledgerflow import store, validate
from ledgerflow.config import load_config
from ledgerflow.demo import generate_demo

CASE_19 = "19-prefect-task-cache-dataframe"
TOTAL_FIRST, TOTAL_CORRECTED = 39_205_000, 39_305_000


@pytest.fixture(scope="module")
def config():
    return load_config(None)


@pytest.fixture(scope="module")
def schemas():
    return validate.load_table_schemas()


@pytest.fixture
def kept(tmp_path, config):
    return store.Store(tmp_path / "store", store.fingerprint(config))


def _supply_total(outcome) -> int:
    frames = outcome.used["sales_lines"]
    return int(sum(frame["supply_amount"].sum() for frame in frames))


def _assert_same(fresh, stored) -> None:
    """Every part of a FileOutcome the rest of the run looks at is equal."""
    assert fresh.used.keys() == stored.used.keys()
    for kind, frames in fresh.used.items():
        assert len(frames) == len(stored.used[kind])
        for a, b in zip(frames, stored.used[kind], strict=True):
            pd.testing.assert_frame_equal(a, b)
    for name in ("rejects", "skipped", "flags", "notes"):
        assert getattr(fresh, name) == getattr(stored, name), name
    for name in ("rows_read", "rows_used", "rows_rejected"):
        assert getattr(fresh, name) == getattr(stored, name), name
    for name in ("name", "sha256", "size_bytes", "format", "encoding", "refused"):
        assert getattr(fresh.read, name) == getattr(stored.read, name), name
    assert fresh.read.ignored_sheets == stored.read.ignored_sheets
    assert fresh.read.notes == stored.read.notes
    for a, b in zip(fresh.read.tables, stored.read.tables, strict=True):
        for field in dataclasses.fields(a):
            if field.name == "frame":
                assert list(a.frame.columns) == list(b.frame.columns)
                assert list(a.frame.dtypes) == list(b.frame.dtypes)
                assert len(a.frame) == len(b.frame) == 0  # slim: no raw rows kept
            else:
                assert getattr(a, field.name) == getattr(b, field.name), field.name


# ------------------------------------------------------------- case 19, run by run


def test_case_19_runs_hit_and_miss_by_content(
    tmp_path, cases_dir, config, schemas, kept
):
    """Runs 1, 2, 4 and 5 of case 19 (run 3, the copy, is its own test)."""
    case = cases_dir / CASE_19
    folder = tmp_path / "input"
    folder.mkdir()
    path = folder / "sales_2024-03.csv"
    shutil.copyfile(case / "sales_2024-03.csv", path)

    first, hit = store.read_validated(path, config, schemas, kept)  # run 1
    assert (hit, _supply_total(first)) == (False, TOTAL_FIRST)
    again, hit = store.read_validated(path, config, schemas, kept)  # run 2
    assert (hit, _supply_total(again)) == (True, TOTAL_FIRST)
    _assert_same(first, again)

    corrected = folder / "sales_2024-03_corrected.csv"  # run 4: another file
    shutil.copyfile(case / "sales_2024-03_corrected.csv", corrected)
    other, hit = store.read_validated(corrected, config, schemas, kept)
    assert (hit, _supply_total(other)) == (False, TOTAL_CORRECTED)

    # Run 5, the acceptance test: the corrected bytes written over the first path.
    path.write_bytes((case / "sales_2024-03_corrected.csv").read_bytes())
    fifth, hit = store.read_validated(path, config, schemas, kept)
    assert (hit, _supply_total(fifth)) == (False, TOTAL_CORRECTED)
    assert fifth.read.sha256 == (
        "c32777da262b7183a22f006520408a097defefe988c065077913b3b150f531c4"
    )
    # ... and the entry for the corrected bytes is used on the run after.
    sixth, hit = store.read_validated(path, config, schemas, kept)
    assert (hit, _supply_total(sixth)) == (True, TOTAL_CORRECTED)


def test_identical_copy_under_another_name_is_read_for_its_own_name(
    tmp_path, cases_dir, config, schemas, kept
):
    """Same bytes, other name: its own entry, so rejects name the right file."""
    case = cases_dir / CASE_19
    store.read_validated(case / "sales_2024-03.csv", config, schemas, kept)
    copy, hit = store.read_validated(
        case / "sales_2024-03_copy.csv", config, schemas, kept
    )
    assert hit is False
    assert _supply_total(copy) == TOTAL_FIRST
    assert set(copy.used["sales_lines"][0]["source_file"]) == {"sales_2024-03_copy.csv"}


def test_other_parsing_rules_do_not_reuse_an_entry(tmp_path, cases_dir, schemas):
    """A changed [read]/[validate] setting changes the fingerprint: read again."""
    path = cases_dir / CASE_19 / "sales_2024-03.csv"
    base = load_config(None)
    strict = load_config(None)
    strict["validate"]["reject_duplicate_lines"] = False
    lang_only = load_config(None)
    lang_only["run"]["lang"] = "en"  # not a parsing rule
    assert store.fingerprint(base) != store.fingerprint(strict)
    assert store.fingerprint(base) == store.fingerprint(lang_only)

    root = tmp_path / "store"
    store.read_validated(
        path, base, schemas, store.Store(root, store.fingerprint(base))
    )
    other = store.Store(root, store.fingerprint(strict))
    _, hit = store.read_validated(path, strict, schemas, other)
    assert hit is False


def test_key_depends_on_bytes_name_and_folder_only():
    rules = "r" * 64
    key = store.entry_key("a" * 64, Path("/x/2024-03/매출.csv"), rules)
    assert key == store.entry_key("a" * 64, Path("/elsewhere/2024-03/매출.csv"), rules)
    assert key != store.entry_key("b" * 64, Path("/x/2024-03/매출.csv"), rules)
    assert key != store.entry_key("a" * 64, Path("/x/2024-04/매출.csv"), rules)
    assert key != store.entry_key("a" * 64, Path("/x/2024-03/매출2.csv"), rules)
    assert key != store.entry_key("a" * 64, Path("/x/2024-03/매출.csv"), "s" * 64)
    # A Hangul name stored decomposed (NFD, from a Mac) is the same file name.
    decomposed = "/x/2024-03/" + "\u1106\u1162\u110e\u116e\u11af" + ".csv"
    assert key == store.entry_key("a" * 64, Path(decomposed), rules)


# ------------------------------------------------------- fidelity on real layouts


def test_stored_outcome_equals_a_fresh_read_for_the_demo_files(
    tmp_path, config, schemas, kept
):
    """Title rows, totals, rejects, flags, several tables: all come back equal."""
    generate_demo(tmp_path / "demo")
    checked = 0
    for path in sorted((tmp_path / "demo").iterdir()):
        fresh, _ = store.read_validated(path, config, schemas, None)
        store.read_validated(path, config, schemas, kept)
        stored, hit = store.read_validated(path, config, schemas, kept)
        assert hit is True, path.name
        _assert_same(fresh, stored)
        checked += 1
    assert checked >= 5  # partners, three sales years, receivables


def test_case_18_rejects_come_back_record_for_record(cases_dir, config, schemas, kept):
    folder = cases_dir / "18-validation-rejects-report"
    paths = [p for p in sorted(folder.iterdir()) if p.suffix in (".xlsx", ".csv")]
    assert paths
    for path in paths:
        fresh, _ = store.read_validated(path, config, schemas, None)
        assert fresh.rejects, f"{path.name}: the case has rejects"
        store.read_validated(path, config, schemas, kept)
        stored, hit = store.read_validated(path, config, schemas, kept)
        assert hit is True
        _assert_same(fresh, stored)


def test_refused_and_encrypted_files_are_not_stored(cases_dir, config, schemas, kept):
    locked = cases_dir / "14-password-protected" / "receivables_locked.xlsx"
    outcome, _ = store.read_validated(locked, config, schemas, kept)
    assert outcome.read.refused is not None
    assert store.Store.save(kept, outcome) is None
    _, hit = store.read_validated(locked, config, schemas, kept)
    assert hit is False
    assert not list(kept.root.rglob("meta.json"))


# --------------------------------------------------------------- damage and writes


def _stored_entry(kept, path, config, schemas) -> Path:
    store.read_validated(path, config, schemas, kept)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    folder = kept.entry_dir(store.entry_key(sha, path, kept.rules))
    assert (folder / "meta.json").is_file()
    return folder


@pytest.mark.parametrize(
    "damage",
    ["truncate_parquet", "garble_meta", "drop_meta", "flip_byte"],
)
def test_a_damaged_entry_is_ignored_with_a_warning_and_rebuilt(
    damage, cases_dir, config, schemas, kept, caplog
):
    path = cases_dir / CASE_19 / "sales_2024-03.csv"
    folder = _stored_entry(kept, path, config, schemas)
    used = folder / "used-sales_lines-0.parquet"
    if damage == "truncate_parquet":
        used.write_bytes(used.read_bytes()[:100])
    elif damage == "garble_meta":
        (folder / "meta.json").write_text("{not json", encoding="utf-8")
    elif damage == "drop_meta":
        (folder / "meta.json").unlink()
    else:  # same size, one byte different: only the checksum can tell
        data = bytearray(used.read_bytes())
        data[len(data) // 2] ^= 0xFF
        used.write_bytes(bytes(data))

    with caplog.at_level(logging.WARNING, logger="ledgerflow.store"):
        outcome, hit = store.read_validated(path, config, schemas, kept)
    assert hit is False
    assert _supply_total(outcome) == TOTAL_FIRST
    assert "damaged" in caplog.text and "sales_2024-03.csv" in caplog.text
    # Rebuilt: the next read is a clean hit with the right figures.
    again, hit = store.read_validated(path, config, schemas, kept)
    assert (hit, _supply_total(again)) == (True, TOTAL_FIRST)


def test_writes_leave_no_temporary_folders(cases_dir, config, schemas, kept):
    path = cases_dir / CASE_19 / "sales_2024-03.csv"
    folder = _stored_entry(kept, path, config, schemas)
    # Stored twice (e.g. two workers): the second write replaces the first whole.
    outcome, _ = store.read_validated(path, config, schemas, None)
    assert kept.save(outcome) == folder
    leftovers = [p.name for p in folder.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert sorted(p.name for p in folder.iterdir()) == [
        "meta.json",
        "records.parquet",
        "used-sales_lines-0.parquet",
    ]


def test_an_unwritable_store_costs_speed_not_the_run(
    tmp_path, cases_dir, config, schemas, caplog
):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the store folder should be", encoding="utf-8")
    kept = store.Store(blocked / "store", store.fingerprint(config))
    path = cases_dir / CASE_19 / "sales_2024-03.csv"
    with caplog.at_level(logging.WARNING, logger="ledgerflow.store"):
        outcome, hit = store.read_validated(path, config, schemas, kept)
    assert (hit, _supply_total(outcome)) == (False, TOTAL_FIRST)
    assert "could not keep the result of sales_2024-03.csv" in caplog.text


def test_open_store_follows_the_settings(tmp_path):
    config = load_config(None)
    kept = store.open_store(config, tmp_path / "out")
    assert kept.root == (tmp_path / "out" / ".state" / "store").absolute()
    config["store"]["location"] = str(tmp_path / "elsewhere")
    assert store.open_store(config, tmp_path / "out").root == tmp_path / "elsewhere"
    config["store"]["enabled"] = False
    assert store.open_store(config, tmp_path / "out") is None
