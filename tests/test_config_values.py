"""Settings with a wrong value are refused when the file is loaded, naming the file,
not minutes later in the write stage."""

import pytest

from ledgerflow.cli import main
from ledgerflow.config import load_config
from ledgerflow.errors import ConfigError


@pytest.mark.parametrize(
    "text, wrong",
    [
        ("[output]\nwrite_workers = 0\n", "output.write_workers"),
        ('[output]\nwrite_workers = "two"\n', "output.write_workers"),
        ("[output]\nwrite_workers = true\n", "output.write_workers"),
        ('[output]\nlines_export = "xlsx"\n', "output.lines_export"),
        ("[read]\ncolumnar_min_rows = -5\n", "read.columnar_min_rows"),
        ("[read]\ncolumnar_min_rows = 1.5\n", "read.columnar_min_rows"),
    ],
)
def test_a_wrong_value_names_the_file_and_the_setting(tmp_path, text, wrong):
    path = tmp_path / "mine.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"mine.toml: {wrong}: expected")


@pytest.mark.parametrize(
    "text",
    [
        "[output]\nwrite_workers = 3\n",
        '[output]\nwrite_workers = "auto"\nlines_export = "csv"\n',
        '[output]\nlines_export = "none"\n',
        "[read]\ncolumnar_min_rows = 0\n",
    ],
)
def test_right_values_load(tmp_path, text):
    path = tmp_path / "mine.toml"
    path.write_text(text, "utf-8")
    load_config(path)


def test_check_refuses_a_negative_limit(tmp_path, capsys):
    export = tmp_path / "a.csv"
    export.write_text("거래처코드,거래처명\n001,가나상사\n", "utf-8")
    with pytest.raises(SystemExit) as stopped:
        main(["check", "--limit", "-3", str(export)])
    assert stopped.value.code == 2
    assert "--limit" in capsys.readouterr().err


def test_check_explains_an_excel_lock_file(tmp_path, capsys):
    lock = tmp_path / "~$매출.xlsx"
    lock.write_bytes(b"\x05user  ")
    assert main(["check", "--lang", "en", str(lock)]) == 2
    assert capsys.readouterr().out.strip() == (
        "~$매출.xlsx: the lock file Excel keeps while 매출.xlsx is open, not an "
        "export; runs skip it. Check 매출.xlsx instead"
    )
