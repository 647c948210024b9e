"""Configuration: the shipped defaults, overridden by one user TOML file."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from ledgerflow.errors import ConfigError

USER_CONFIG_NAME = "ledgerflow.toml"


def load_defaults() -> dict[str, Any]:
    """The documented defaults shipped with the package."""
    text = resources.files("ledgerflow").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


# Tables whose keys are the user's own (evaluation years such as "2026"), not
# settings; their content is checked by the stage that reads it.
OPEN_TABLES = frozenset({("evaluation", "years")})


def _merge(
    base: dict[str, Any],
    override: dict[str, Any],
    where: str,
    path: tuple[str, ...] = (),
) -> None:
    for key, value in override.items():
        if key not in base and path not in OPEN_TABLES:
            known = ", ".join(sorted(base))
            raise ConfigError(
                f"{where}{key}: unknown setting; known settings here are {known}"
            )
        if isinstance(base.get(key), dict) and isinstance(value, dict):
            _merge(base[key], value, f"{where}{key}.", (*path, key))
        else:
            base[key] = value


def load_config(path: Path | None = None) -> dict[str, Any]:
    """Defaults merged with ``path`` (if given and present).

    An unknown key is an error rather than silently ignored: a typo in a weight would
    otherwise change nothing and nobody would notice.
    """
    config = copy.deepcopy(load_defaults())
    if path is None or not Path(path).exists():
        return config
    try:
        override = tomllib.loads(Path(path).read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from exc
    _merge(config, override, f"{Path(path).name}: ")
    _check_values(config, Path(path).name)
    return config


# [output] values (publish.py): the export formats, and what write_workers takes.
LINES_EXPORT_FORMATS = ("parquet", "csv", "none")


def valid_write_workers(value: Any) -> bool:
    """True for "auto" or a whole number of 1 or more (a bool is not a number here)."""
    if isinstance(value, bool):
        return False
    return value == "auto" or (isinstance(value, int) and value >= 1)


def _check_values(config: dict[str, Any], name: str) -> None:
    """Settings whose wrong value would otherwise fail only late in a run (at the
    write, after minutes of reading), checked when the file is loaded."""
    output = config.get("output", {})
    workers = output.get("write_workers", "auto")
    if not valid_write_workers(workers):
        raise ConfigError(
            f'{name}: output.write_workers: expected "auto" or a whole number of 1 '
            f"or more (got {workers!r}); fix the file"
        )
    kind = output.get("lines_export", "parquet")
    if kind not in LINES_EXPORT_FORMATS:
        raise ConfigError(
            f"{name}: output.lines_export: expected parquet, csv or none (got "
            f"{kind!r}); fix the file"
        )
    rows = config.get("read", {}).get("columnar_min_rows", 0)
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise ConfigError(
            f"{name}: read.columnar_min_rows: expected a whole number of 0 or more "
            f"(got {rows!r}); fix the file"
        )
