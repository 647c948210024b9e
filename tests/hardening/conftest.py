"""Fixtures of the hardening tests: one small demo, made once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ledgerflow.demo import generate_demo


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """A small demo input folder (20 partners, 2 months): never modified by tests."""
    folder = tmp_path_factory.mktemp("demo") / "input"
    generate_demo(folder, partners=20, months=2)
    return folder


@pytest.fixture(scope="session")
def demo_files(demo_dir) -> dict[str, bytes]:
    """The demo exports by file name."""
    return {p.name: p.read_bytes() for p in sorted(demo_dir.iterdir())}


@pytest.fixture
def demo_copy(demo_dir, tmp_path) -> Path:
    """A private copy of the demo input folder."""
    folder = tmp_path / "input"
    shutil.copytree(demo_dir, folder)
    return folder


@pytest.fixture(scope="session")
def corpus(demo_files) -> dict[str, tuple[str, bytes]]:
    """The bad inputs (corpus.py) by case: (file name, content); built once."""
    from hardening.corpus import bad_inputs

    return {case: (name, data) for case, name, data in bad_inputs(demo_files)}
