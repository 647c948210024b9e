"""ledgerflow: turn ERP and accounting exports into a partner master and reports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ledgerflow")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
