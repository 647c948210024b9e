"""Email the management workbooks after a run (SMTP, optional).

Rules:

- Settings come from ``[mail]`` in the config: host, port, security ("starttls",
  "ssl" or "none"), sender, recipients, user; the password is read from the
  environment variable named by ``password_env``, never from a file.
- File names are sent as RFC 2231 parameters (``filename*=utf-8''%EB%A7%A4...``)
  so a Korean name arrives intact in Outlook, Gmail and Apple Mail; the body says
  the period and lists the attachments.
- Only the workbooks named in ``attach`` go out (the partner master and the
  rejects list hold internal data and never do).
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from ledgerflow.errors import ConfigError

log = logging.getLogger(__name__)

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def check_settings(settings: dict) -> None:
    """Raise ConfigError naming the first mail setting that cannot work."""
    if not settings["host"]:
        raise ConfigError("mail.host: empty; set the SMTP server, or enabled = false")
    if not settings["sender"]:
        raise ConfigError("mail.sender: empty; set the From address")
    if not settings["recipients"]:
        raise ConfigError("mail.recipients: empty; list at least one address")
    if settings["security"] not in ("starttls", "ssl", "none"):
        raise ConfigError(
            f"mail.security {settings['security']!r}: use starttls, ssl or none"
        )


def chosen_attachments(paths: list[Path], prefixes: list[str]) -> list[Path]:
    """The workbooks whose file name starts with one of ``prefixes``."""
    return [
        p
        for p in paths
        if p.suffix.lower() == ".xlsx" and p.name.startswith(tuple(prefixes))
    ]


def build_message(
    settings: dict, period: str, attachments: list[Path], body: str
) -> EmailMessage:
    """The email: subject with the period, the summary as text, the workbooks."""
    message = EmailMessage()
    message["Subject"] = settings["subject"].format(period=period)
    message["From"] = settings["sender"]
    message["To"] = ", ".join(settings["recipients"])
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="ledgerflow")
    message.set_content(body)
    for path in attachments:
        message.add_attachment(
            Path(path).read_bytes(),
            maintype=XLSX_TYPE[0],
            subtype=XLSX_TYPE[1],
            # A (charset, language, value) triple makes the email package write an
            # RFC 2231 filename* parameter instead of a raw UTF-8 header.
            filename=("utf-8", "", Path(path).name),
        )
    return message


def send(settings: dict, message: EmailMessage, timeout: float = 30) -> None:
    """Deliver ``message`` with the SMTP settings (see module rules)."""
    check_settings(settings)
    host, port = settings["host"], int(settings["port"])
    context = ssl.create_default_context()
    if settings["security"] == "ssl":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if settings["security"] == "starttls":
            client.starttls(context=context)
        if settings["user"]:
            password = os.environ.get(settings["password_env"], "")
            if not password:
                raise ConfigError(
                    f"mail.user is set but the environment variable "
                    f"{settings['password_env']} is empty; set it to the SMTP password"
                )
            client.login(settings["user"], password)
        client.send_message(message)
    log.info(
        "mail %s: sent to %d recipients with %d attachments",
        message["Subject"],
        len(settings["recipients"]),
        sum(1 for _ in message.iter_attachments()),
    )
