"""Inputs move to archive/<YYYY-MM>/ or rejected/ after a run; nothing is deleted."""

from __future__ import annotations

import hashlib
import unicodedata

from ledgerflow import archive, handover


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_used_and_refused_files_move_with_suffix_on_clash(tmp_path):
    inbox = tmp_path / "input"
    (inbox / "archive" / "2024-03").mkdir(parents=True)
    (inbox / "archive" / "2024-03" / "매출.csv").write_bytes(b"old")
    (inbox / "매출.csv").write_bytes(b"new")
    (inbox / "secret.xlsx").write_bytes(b"enc")
    moved = archive.archive_inputs(
        [
            archive.Handled(inbox / "매출.csv", _sha(b"new")),
            archive.Handled(inbox / "secret.xlsx", _sha(b"enc"), "암호가 걸린 파일"),
        ],
        inbox,
        "2024-03",
    )
    assert [m.target for m in moved] == [
        inbox / "archive" / "2024-03" / "매출 (2).csv",
        inbox / "rejected" / "secret.xlsx",
    ]
    assert (inbox / "archive" / "2024-03" / "매출.csv").read_bytes() == b"old"
    assert (inbox / "archive" / "2024-03" / "매출 (2).csv").read_bytes() == b"new"
    note = (inbox / "rejected" / "secret.xlsx.txt").read_text("utf-8")
    assert note == "secret.xlsx\n암호가 걸린 파일\n"
    assert sorted(p.name for p in inbox.iterdir()) == ["archive", "rejected"]


def test_a_file_changed_since_it_was_read_stays(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"corrected")
    moved = archive.archive_inputs(
        [archive.Handled(tmp_path / "a.csv", _sha(b"original"))], tmp_path, "2024-03"
    )
    assert moved == [] and (tmp_path / "a.csv").read_bytes() == b"corrected"


def test_nfd_names_are_archived_in_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", "매출 현황.csv")
    (tmp_path / nfd).write_bytes(b"x")
    run = {
        "period": "2024-03",
        "inputs": [
            {"name": "매출 현황.csv", "sha256": _sha(b"x"), "refused": None},
            {"name": "gone.csv", "sha256": _sha(b"y"), "refused": None},
        ],
    }
    moved = handover.archive_run(run, tmp_path)
    assert [m.target.name for m in moved] == ["매출 현황.csv"]
    assert moved[0].target.parent == tmp_path / "archive" / "2024-03"
    names = [p.name for p in (tmp_path / "archive" / "2024-03").iterdir()]
    assert names == [unicodedata.normalize("NFC", "매출 현황.csv")]
