"""The small exception family of ledgerflow.

Each error subclasses the matching builtin too, so callers that only know the builtin
still catch it. Data problems in input rows never raise: they become reject records.
"""


class LedgerflowError(Exception):
    """Base of every error ledgerflow raises on purpose."""


class ConfigError(LedgerflowError, ValueError):
    """The configuration file is invalid; the message names the key and the fix."""


class ProfileError(LedgerflowError, ValueError):
    """A source profile in schemas/ is malformed."""


class FileRefused(LedgerflowError, ValueError):
    """An input file cannot be read at all (encrypted, not an export, no header).

    ``rule`` is a stable code translated by the label catalogue; ``detail`` carries the
    specifics (what was expected, what was found).
    """

    def __init__(self, rule: str, detail: str = ""):
        super().__init__(f"{rule}: {detail}" if detail else rule)
        self.rule = rule
        self.detail = detail


class OutputError(LedgerflowError, OSError):
    """An output could not be written (read-only folder, disk full, file locked)."""


class UsageError(LedgerflowError, ValueError):
    """A command was asked for something it cannot do (bad period, nothing to do)."""
