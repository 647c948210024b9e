"""Password-encrypt workbooks that leave the company (real OOXML encryption).

Sheet protection only hides formulas from the polite; Excel's "Encrypt with
Password" (ECMA-376 agile encryption) makes the file unreadable without the
password. msoffcrypto-tool writes that format; Excel, LibreOffice and ledgerflow's
own reader open it with the password.

Rules:

- The plain workbooks in output/<YYYY-MM>/ stay as they are (byte-identical on a
  re-run); encrypted copies go to a ``shared/`` folder beside them, written
  atomically.
- The password comes from an environment variable; an empty or missing one is an
  error naming the variable, never an unencrypted copy.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import msoffcrypto
from msoffcrypto.format.ooxml import OOXMLFile

from ledgerflow.errors import ConfigError
from ledgerflow.report.atomic import atomic_path

log = logging.getLogger(__name__)

SHARED_FOLDER = "shared"


def password_from_env(variable: str) -> str:
    """The password in environment variable ``variable``, or a ConfigError."""
    password = os.environ.get(variable, "")
    if not password:
        raise ConfigError(
            f"mail.encrypt is on but the environment variable {variable} is empty; "
            "set it to the password the recipients will use"
        )
    return password


def encrypt_bytes(data: bytes, password: str) -> bytes:
    """The OOXML workbook ``data`` encrypted with ``password``."""
    source = OOXMLFile(io.BytesIO(data))
    target = io.BytesIO()
    source.encrypt(password, target)
    return target.getvalue()


def decrypt_bytes(data: bytes, password: str) -> bytes:
    """The plain workbook inside encrypted ``data`` (used to check a copy)."""
    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    office.load_key(password=password)
    target = io.BytesIO()
    office.decrypt(target)
    return target.getvalue()


def encrypt_copies(paths: list[Path], password: str) -> list[Path]:
    """Encrypted copies of ``paths`` in their ``shared/`` folder; return the copies."""
    copies = []
    for path in paths:
        target = Path(path).parent / SHARED_FOLDER / Path(path).name
        with atomic_path(target) as temporary:
            temporary.write_bytes(encrypt_bytes(Path(path).read_bytes(), password))
        copies.append(target)
    log.info("shared copies: %d workbooks encrypted", len(copies))
    return copies
