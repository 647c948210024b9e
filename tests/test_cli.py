"""The command line: help for every command, and cheap failures before Prefect."""

from __future__ import annotations

import pytest

from ledgerflow import cli


def _subcommands():
    parser = cli.build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


def test_every_command_has_help_text():
    """Each subcommand and each of its options says what it does."""
    parser = cli.build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    helps = {c.dest: c.help for c in action._choices_actions}
    for name, sub in _subcommands().items():
        assert helps.get(name), f"{name}: no help text"
        for option in sub._actions:
            if option.dest != "help":
                assert option.help, f"{name} {option.option_strings}: no help text"


def test_every_command_is_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    for name in _subcommands():
        assert f"ledgerflow {name}" in readme, f"README does not show `{name}`"


def test_bad_period_fails_before_prefect(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    code = cli.main(["run", "--input", str(tmp_path / "in"), "--period", "2024-13"])
    assert code == cli.EXIT_USAGE
    assert "period '2024-13': month 13 does not exist" in capsys.readouterr().err


def test_empty_input_folder_says_what_to_do(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "~$locked.xlsx").write_bytes(b"lock")
    code = cli.main(["run", "--input", str(tmp_path / "in")])
    assert code == cli.EXIT_INCOMPLETE
    out = capsys.readouterr().out
    assert "no exports to read" in out and "ledgerflow demo" in out


def test_missing_input_folder(tmp_path, capsys):
    code = cli.main(["run", "--input", str(tmp_path / "nope")])
    assert code == cli.EXIT_USAGE
    assert "no such folder" in capsys.readouterr().out


def test_unknown_setting_in_config_is_named(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    config = tmp_path / "ledgerflow.toml"
    config.write_text("[evaluation]\nweigths = {}\n", encoding="utf-8")
    code = cli.main(["run", "--input", str(tmp_path / "in"), "--config", str(config)])
    assert code == cli.EXIT_USAGE
    assert "evaluation.weigths: unknown setting" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--version"]])
def test_version(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip()


def test_a_config_path_that_names_no_file_is_an_error(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    missing = tmp_path / "missing.toml"
    code = cli.main(["run", "--input", str(tmp_path / "in"), "--config", str(missing)])
    assert code == cli.EXIT_USAGE
    assert f"{missing}: no such settings file" in capsys.readouterr().err
