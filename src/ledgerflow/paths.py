"""Where the data-only folders (schemas/, flows/) live.

In a source checkout they sit at the top of the repository; an installed wheel carries
copies inside the package (see pyproject's force-include).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

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


def load_flow_module(name: str) -> ModuleType:
    """The flow file flows/<name>.py as a module, loaded once per process.

    Registered in sys.modules under ``ledgerflow_flows.<name>`` so Prefect can find
    the flow's file when it deploys it (serve), and so every caller (the CLI, the
    annual flow, tests) shares one module instead of executing the file again.
    """
    key = f"ledgerflow_flows.{name}"
    if key in sys.modules:
        return sys.modules[key]
    path = flows_dir() / f"{name}.py"
    spec = importlib.util.spec_from_file_location(key, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[key]  # a half-loaded module must not be handed out later
        raise
    return module
