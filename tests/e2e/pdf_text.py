"""Text per page of a PDF as Chromium (Skia) writes it: uncompressed object table, Flate
content streams, fonts with ToUnicode maps. Enough to check what a printed page says; not
a general PDF reader (no object streams, no encryption, no text order beyond the stream's)."""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_REF = rb"(\d+) 0 R"


def _objects(data: bytes) -> dict[int, bytes]:
    return {int(num): body for num, body in _OBJECT.findall(data)}


def _stream(body: bytes) -> bytes:
    start = body.index(b"stream") + len(b"stream")
    raw = body[start:].lstrip(b"\r\n")
    raw = raw[: raw.rindex(b"endstream")]
    return zlib.decompress(raw) if b"/FlateDecode" in body[:start] else raw


def _unicode_map(cmap: bytes) -> tuple[dict[int, str], int]:
    """Code → text, and the code width in bytes, from a ToUnicode CMap."""
    mapping: dict[int, str] = {}
    width = 1
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            width = max(width, len(src) // 2)
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            width = max(width, len(lo) // 2)
            first = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(first + offset)
    return mapping, width


def _decode(hex_text: bytes, font: tuple[dict[int, str], int]) -> str:
    mapping, width = font
    raw = bytes.fromhex(re.sub(rb"\s", b"", hex_text).decode())
    codes = [int.from_bytes(raw[i : i + width], "big") for i in range(0, len(raw), width)]
    return "".join(mapping.get(code, "") for code in codes)


def pages_text(data: bytes) -> list[str]:
    """The text of each page, in page order."""
    objects = _objects(data)
    root = re.search(rb"/Root " + _REF, data)
    pages_ref = re.search(rb"/Pages " + _REF, objects[int(root.group(1))]).group(1)
    kids = re.search(rb"/Kids \[(.*?)\]", objects[int(pages_ref)], re.S).group(1)
    texts = []
    for page_ref in re.findall(_REF, kids):
        page = objects[int(page_ref)]
        fonts = {}
        font_dict = re.search(rb"/Font <<(.*?)>>", page, re.S).group(1)
        for name, ref in re.findall(rb"/(\w+) " + _REF, font_dict):
            unicode_ref = re.search(rb"/ToUnicode " + _REF, objects[int(ref)])
            if unicode_ref:
                fonts[name] = _unicode_map(_stream(objects[int(unicode_ref.group(1))]))
        content = b"".join(
            _stream(objects[int(ref)])
            for ref in re.findall(_REF, re.search(rb"/Contents (\[.*?\]|\d+ 0 R)", page).group(1))
        )
        current, parts = None, []
        for token in re.finditer(
            rb"/(\w+) [\d.]+ Tf|\[(.*?)\] ?TJ|<([0-9A-Fa-f\s]*)> ?Tj", content, re.S
        ):
            if token.group(1):
                current = fonts.get(token.group(1))
            elif current is not None:
                shown = token.group(2) or token.group(3)
                parts += (
                    [_decode(h, current) for h in re.findall(rb"<([0-9A-Fa-f\s]*)>", shown)]
                    if token.group(2)
                    else [_decode(shown, current)]
                )
        texts.append("".join(parts))
    return texts
