"""Where the data-only folders (schemas/, flows/) live.

In a source checkout they sit at the top of the repository; an installed wheel carries
copies inside the package (see pyproject's force-include).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_REPO = _PACKAGE.parent.parent


def _locate(name: str) -> Path:
    for candidate in (_REPO / name, _PACKAGE / f"_{name}"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"ledgerflow: the {name}/ folder is missing; reinstall")


def schemas_dir() -> Path:
    return _locate("schemas")


def profiles_dir() -> Path:
    return schemas_dir() / "profiles"


def flows_dir() -> Path:
    return _locate("flows")
