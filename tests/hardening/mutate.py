"""Hostile and broken variants of good workbooks, made in memory for the tests.

Each function takes the bytes of a good xlsx (the demo's) and returns the bytes of a
variant; nothing here touches the disk. The XML edits are plain text edits on
xlsxwriter's output, whose layout is fixed (one <sheetData>, rows in order).
"""

from __future__ import annotations

import io
import zipfile

SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"


def members(data: bytes) -> dict[str, bytes]:
    """The zip members of ``data`` by name, in their order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(parts: dict[str, bytes], level: int = 6) -> bytes:
    """A zip of ``parts`` (deflated)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return out.getvalue()


def replace(data: bytes, name: str, content: bytes) -> bytes:
    """``data`` with member ``name`` replaced (or added)."""
    parts = members(data)
    parts[name] = content
    return rezip(parts)


def edit(data: bytes, name: str, old: bytes, new: bytes, count: int = 1) -> bytes:
    """``data`` with ``old`` replaced by ``new`` in member ``name``."""
    parts = members(data)
    if old not in parts[name]:
        raise ValueError(f"{name}: {old!r} not found")
    parts[name] = parts[name].replace(old, new, count)
    return rezip(parts)


def drop(data: bytes, name: str) -> bytes:
    """``data`` without member ``name``."""
    parts = members(data)
    del parts[name]
    return rezip(parts)


def far_cell(data: bytes, ref: str = "XFD1048576", row: int = 1048576) -> bytes:
    """A value in a far-away cell: the used range grows to ``ref``."""
    cell = f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>'.encode()
    return edit(data, SHEET, b"</sheetData>", cell + b"</sheetData>")


def huge_dimension(data: bytes, ref: str = "A1:XFD1048576") -> bytes:
    """The <dimension> record claims the whole sheet (the cells stay as they are)."""
    parts = members(data)
    sheet = parts[SHEET]
    start = sheet.index(b"<dimension ref=")
    end = sheet.index(b"/>", start) + 2
    parts[SHEET] = sheet[:start] + f'<dimension ref="{ref}"/>'.encode() + sheet[end:]
    return rezip(parts)


def bomb_member(data: bytes, size: int, name: str = SHEET) -> bytes:
    """Member ``name`` padded with ``size`` bytes of blanks: tiny packed, huge open.

    Written in blocks, so making the bomb does not need ``size`` bytes of memory.
    """
    parts = members(data)
    head, _, tail = parts.pop(name).partition(b"<sheetData>")
    out = io.BytesIO()
    block = b" " * (1 << 24)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for other, content in parts.items():
            zf.writestr(other, content)
        with zf.open(name, "w", force_zip64=True) as stream:
            stream.write(head)
            for _ in range(size // len(block)):
                stream.write(block)
            stream.write(b"<sheetData>" + tail)
    return out.getvalue()


def many_members(data: bytes, count: int) -> bytes:
    """``count`` extra tiny members in the archive."""
    parts = members(data)
    for i in range(count):
        parts[f"xl/media/junk{i}.bin"] = b""
    return rezip(parts, level=1)


def _laugh(level: int) -> bytes:
    inner = "&lol" + (str(level - 1) if level > 1 else "") + ";"
    return f' <!ENTITY lol{level} "{inner * 10}">\n'.encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(_laugh(i) for i in range(1, 10))
    + b"]>\n"
)


def entity_expansion(data: bytes, name: str = SHEET) -> bytes:
    """Member ``name`` with a billion-laughs DTD and the entity used in a cell."""
    parts = members(data)
    content = parts[name]
    body = content.split(b"?>", 1)[1] if content.startswith(b"<?xml") else content
    body = body.replace(b"<sheetData>", b"<sheetData>", 1)
    parts[name] = BILLION_LAUGHS + body.lstrip()
    if name == SHEET:
        parts[name] = parts[name].replace(
            b"</sheetData>",
            b'<row r="60000"><c r="A60000" t="inlineStr"><is><t>&lol9;</t></is></c>'
            b"</row></sheetData>",
            1,
        )
    return rezip(parts)


def external_entity(data: bytes, target: str, name: str = SHEET) -> bytes:
    """Member ``name`` with an external entity pointing at ``target`` (a local file)."""
    parts = members(data)
    content = parts[name]
    body = content.split(b"?>", 1)[1] if content.startswith(b"<?xml") else content
    dtd = (
        f'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{target}">]>'
    ).encode()
    body = body.replace(
        b"</sheetData>",
        b'<row r="60000"><c r="A60000" t="inlineStr"><is><t>&xxe;</t></is></c>'
        b"</row></sheetData>",
        1,
    )
    parts[name] = dtd + body
    return rezip(parts)
