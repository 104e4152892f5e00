"""Bytes to text: which encoding a file uses, and its text with plain "\\n" line ends.

UTF-8 (with or without BOM) and UTF-16 (BOM, or the tell-tale zero bytes of ASCII text)
are recognised; anything else that is not valid UTF-8 is Windows-1252 when it decodes as
such, else Latin-1 (which decodes any bytes). Big files are decoded in slices that end at a
line break, so the tagged-format readers never hold a second copy of a 150 MB file.
"""

import codecs
from collections.abc import Iterator

from .base import ImportFileError

CHUNK_BYTES = 8 * 1024 * 1024

# The five bytes Windows-1252 leaves undefined: a file holding one is Latin-1.
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")


def detect_encoding(data: bytes) -> str:
    """The codec name for `data` (names as Python spells them)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    head = data[:4096]
    if len(head) >= 4:
        even, odd = head[0::2], head[1::2]
        if even.count(0) * 4 < len(even) and odd.count(0) * 2 > len(odd):
            return "utf-16-le"
        if odd.count(0) * 4 < len(odd) and even.count(0) * 2 > len(even):
            return "utf-16-be"
    if _is_utf8(data):
        return "utf-8"
    if any(b in data for b in _CP1252_UNDEFINED):
        return "latin-1"
    return "cp1252"


def _is_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), CHUNK_BYTES):
            decoder.decode(data[start:start + CHUNK_BYTES])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _clean(text: str) -> str:
    """Plain "\\n" line ends; no BOM (also none left by concatenated files); no NUL."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\ufeff" in text:
        text = text.replace("\ufeff", "")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text


def _decode_whole(data: bytes, encoding: str, filename: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].decode(encoding, errors="ignore").count("\n") + 1
        raise ImportFileError(
            f"the file looks like {encoding.upper()} text, but byte {exc.start + 1} is not "
            f"valid {encoding.upper()} (is the file truncated or damaged?)",
            filename=filename, line=line) from None


def decode(data: bytes, filename: str) -> tuple[str, str]:
    """The text of `data` and the name of its encoding, with "\\n" line ends."""
    encoding = detect_encoding(data)
    return _clean(_decode_whole(data, encoding, filename)), encoding


def iter_text(data: bytes, encoding: str, filename: str,
              chunk_bytes: int | None = None) -> Iterator[str]:
    """The text of `data` in pieces of whole lines (each but the last ends with "\\n"), for
    readers that go line by line. Memory: one piece at a time instead of the whole text."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    if encoding.startswith("utf-16") or len(data) <= chunk_bytes:
        yield _clean(_decode_whole(data, encoding, filename))
        return
    if encoding == "utf-8-sig":
        data_start, codec = 3, "utf-8"
    else:
        data_start, codec = 0, encoding
    start = data_start
    while start < len(data):
        end = data.find(b"\n", start + chunk_bytes)
        end = len(data) if end == -1 else end + 1
        # Line ends are single bytes in these encodings, so every piece decodes alone
        # (the whole file was checked to be valid UTF-8 before).
        yield _clean(data[start:end].decode(codec))
        start = end


def text_head(data: bytes, encoding: str, size: int = 65536) -> str:
    """The first `size` bytes as text (a character cut at the end is dropped)."""
    head = data[:size]
    if encoding.startswith("utf-16") and len(head) % 2:
        head = head[:-1]
    return _clean(head.decode(encoding, errors="ignore"))
