"""Sharing: email with Korean attachment names (local SMTP server), encrypted copies."""

from __future__ import annotations

import email
import email.policy
import io
import socketserver
import threading

import openpyxl
import pytest
import xlsxwriter

from ledgerflow import encrypt, mail
from ledgerflow.errors import ConfigError


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to receive one message per connection."""

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self):
        self._say("220 localhost test SMTP")
        envelope = {"rcpt": []}
        while line := self.rfile.readline():
            command = line.decode("ascii").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250 localhost")
            elif verb == "MAIL":
                envelope["from"] = command
                self._say("250 OK")
            elif verb == "RCPT":
                envelope["rcpt"].append(command.split(":", 1)[1])
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 end with .")
                data = []
                while (row := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(row[1:] if row.startswith(b"..") else row)
                self.server.received.append((envelope, b"".join(data)))
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 OK")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _workbook(path, value="비밀 수익성"):
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("요약").write(0, 0, value)
    book.close()
    return path


def _settings(port):
    return {
        "enabled": True,
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "ledgerflow@example.com",
        "recipients": ["ceo@example.com", "cfo@example.com"],
        "user": "",
        "password_env": "LEDGERFLOW_SMTP_PASSWORD",
        "attach": ["profitability", "evaluation", "insights"],
        "subject": "ledgerflow {period}",
    }


def test_mail_with_korean_file_names_arrives_intact(tmp_path, smtp_server):
    written = [
        _workbook(tmp_path / "profitability_2024-03_수익성.xlsx"),
        _workbook(tmp_path / "partner_master.xlsx"),
    ]
    port = smtp_server.server_address[1]
    settings = _settings(port)
    chosen = mail.chosen_attachments(written, settings["attach"])
    assert [p.name for p in chosen] == ["profitability_2024-03_수익성.xlsx"]
    message = mail.build_message(settings, "2024-03", chosen, "요약 본문")
    mail.send(settings, message)

    envelope, raw = smtp_server.received[0]
    assert envelope["rcpt"] == [
        "<ceo@example.com>",
        "<cfo@example.com>",
    ]
    # RFC 2231 on the wire, not a raw UTF-8 header
    assert (
        b"filename*=utf-8''profitability_2024-03_%EC%88%98%EC%9D%B5%EC%84%B1.xlsx"
        in (raw.replace(b"\r\n ", b" ").replace(b"\r\n\t", b" "))
    )
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "ledgerflow 2024-03"
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_filename() == "profitability_2024-03_수익성.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    assert book["요약"]["A1"].value == "비밀 수익성"
    assert parsed.get_body(("plain",)).get_content().strip() == "요약 본문"


def test_mail_settings_are_checked():
    settings = _settings(25) | {"recipients": []}
    with pytest.raises(ConfigError, match=r"mail\.recipients: empty"):
        mail.check_settings(settings)


def test_mail_login_needs_the_password_variable(monkeypatch, smtp_server):
    monkeypatch.delenv("LEDGERFLOW_SMTP_PASSWORD", raising=False)
    settings = _settings(smtp_server.server_address[1]) | {"user": "robot"}
    message = mail.build_message(settings, "2024-03", [], "x")
    with pytest.raises(ConfigError, match="LEDGERFLOW_SMTP_PASSWORD is empty"):
        mail.send(settings, message)


def test_encrypted_copy_opens_only_with_the_password(tmp_path):
    plain = _workbook(tmp_path / "evaluation_2024.xlsx")
    before = plain.read_bytes()
    (copy,) = encrypt.encrypt_copies([plain], "s3cret-암호")
    assert copy == tmp_path / "shared" / "evaluation_2024.xlsx"
    assert plain.read_bytes() == before  # the plain workbook is untouched
    data = copy.read_bytes()
    assert data[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # an OLE container, not a zip
    with pytest.raises(Exception):  # noqa: B017 - any reader error will do
        openpyxl.load_workbook(io.BytesIO(data))
    opened = openpyxl.load_workbook(
        io.BytesIO(encrypt.decrypt_bytes(data, "s3cret-암호"))
    )
    assert opened["요약"]["A1"].value == "비밀 수익성"
    with pytest.raises(Exception):  # noqa: B017 - msoffcrypto's wrong-password error
        encrypt.decrypt_bytes(data, "wrong")


def test_encryption_without_a_password_is_refused(monkeypatch):
    monkeypatch.delenv("LEDGERFLOW_SHARE_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="LEDGERFLOW_SHARE_PASSWORD is empty"):
        encrypt.password_from_env("LEDGERFLOW_SHARE_PASSWORD")
