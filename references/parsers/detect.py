"""Which format a file is in, from its content (the file name only breaks ties)."""

import io
import re
import zipfile
from pathlib import PurePath

from .base import ImportFileError
from .table import sniff_delimiter
from .text import detect_encoding, text_head

NOT_READABLE = ("is not a reference file Tandem can read (RIS, PubMed, BibTeX, EndNote XML, "
                "Web of Science, CSV, TSV or XLSX)")

_OVID_NUMBER = re.compile(r"^\d+\.\s*$")
_RIS_START = re.compile(r"^TY  -", re.MULTILINE)
_PMID = re.compile(r"^PMID- ?\d", re.MULTILINE)
_MEDLINE_LINE = re.compile(r"^[A-Z][A-Z0-9 ]{3}- ")
_BIBTEX_ENTRY = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.MULTILINE)
_WOS_LINE = re.compile(r"^[A-Z][A-Z0-9] \S")
_WOS_START = re.compile(r"^(?:FN|VR|PT) ", re.MULTILINE)
_XML_RECORD = re.compile(r"<records?[\s>]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def not_readable(filename: str, hint: str = "") -> ImportFileError:
    error = ImportFileError(f"{PurePath(filename).name or 'The file'} {NOT_READABLE}.{hint}")
    error.filename = filename
    return error


def empty(filename: str) -> ImportFileError:
    error = ImportFileError(f"{PurePath(filename).name or 'The file'} is empty.")
    error.filename = filename
    return error


def detect_format(data: bytes, filename: str) -> str:
    """One of the FORMATS keys, or ImportFileError naming the file."""
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except Exception:  # a damaged zip: BadZipFile, ValueError, ...
            names = set()
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise not_readable(filename)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise not_readable(filename, " Save an Excel 97-2003 workbook (.xls) as .xlsx or CSV.")
    if not data.strip():
        raise empty(filename)
    head = text_head(data, detect_encoding(data))
    if not head.strip():
        raise empty(filename)
    return detect_text(head, filename)


def detect_text(head: str, filename: str) -> str:
    """The format of a text file from its first 64 KB (decoded)."""
    if len(_CONTROL.findall(head)) * 100 > len(head):
        raise not_readable(filename)
    extension = PurePath(filename.lower()).suffix
    first = ""
    for line in head.split("\n"):
        if line.strip() and not _OVID_NUMBER.match(line):
            first = line.lstrip()
            break
    if first.startswith("TY  -"):
        return "ris"
    if first.startswith("<"):
        if _XML_RECORD.search(head):
            return "endnote-xml"
        raise not_readable(filename)
    if _BIBTEX_ENTRY.match(first):
        return "bibtex"
    if _MEDLINE_LINE.match(first) and _PMID.search(head):
        return "nbib"
    if first.startswith(("FN ", "VR ")) or (
            _WOS_LINE.match(first) and "  - " not in first and _WOS_START.search(head)):
        return "wos"
    if extension in (".csv", ".tsv", ".tab"):
        table = _table(head, extension)
        if table:
            return table
    # A preamble before the first record (a search history, a comment).
    if _RIS_START.search(head):
        return "ris"
    if _PMID.search(head):
        return "nbib"
    if _BIBTEX_ENTRY.search(head):
        return "bibtex"
    table = _table(head, extension)
    if table:
        return table
    raise not_readable(filename)


def _table(head: str, extension: str) -> str | None:
    preferred = "\t" if extension in (".tsv", ".tab", ".txt") else ","
    delimiter, columns = sniff_delimiter(head, preferred=preferred)
    if columns < 2:
        return None
    first_line = head.split("\n", 1)[0]
    if any(len(cell) > 300 for cell in first_line.split(delimiter)):
        return None  # prose, not a header row
    return "tsv" if delimiter == "\t" else "csv"
