"""Reading reference files: RIS, PubMed/MEDLINE, BibTeX, EndNote XML, Web of Science tagged,
CSV, TSV and Excel.

    parse(data, filename=..., format="auto", mapping=None) -> ParseResult
    detect_format(data, filename) -> "ris" | "nbib" | ... (a FORMATS key)
    decode(data, filename) -> (text, encoding)
    read_table(data, filename=..., format="csv" | "tsv" | "xlsx") -> (header, rows)
    preview_table(data, filename=..., format=...) -> (header, first rows), reading no further
    guess_mapping(columns) -> {field: column}

All or nothing: `parse` returns every record of the file or raises ImportFileError saying
what is wrong and where (file, line, record, field). It raises no other exception.
"""

import gc
import logging

from . import bibtex, detect, endnote_xml, nbib, ris, table, wos
from .base import (
    FORMATS,
    MAPPABLE_FIELDS,
    TABLE_FORMATS,
    ImportFileError,
    ParsedRecord,
    ParseResult,
)
from .detect import empty
from .table import guess_mapping
from .text import decode, detect_encoding, iter_text

__all__ = [
    "FORMATS", "MAPPABLE_FIELDS", "TABLE_FORMATS", "ImportFileError", "ParseResult",
    "ParsedRecord", "decode", "detect_format", "guess_mapping", "parse", "preview_table",
    "read_table",
]

logger = logging.getLogger(__name__)

# The start of the message when a parser fails in a way it should not (a bug of ours).
INTERNAL_ERROR = "the file could not be read because of an error in Tandem"


def detect_format(data: bytes, filename: str) -> str:
    """The format of the file (a FORMATS key), judged by its content; the file name only
    breaks ties. ImportFileError (naming the file) when it is none Tandem reads."""
    try:
        return detect.detect_format(data, filename)
    except ImportFileError:
        raise
    except Exception as exc:
        logger.exception("detect_format failed on %s", filename)
        raise ImportFileError(f"{INTERNAL_ERROR} ({type(exc).__name__})",
                              filename=filename) from exc


def read_table(data: bytes, *, filename: str, format: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows (strings, "" where empty, each as long as the header) of a CSV, TSV or
    XLSX file. Blank rows are skipped; a row with more or fewer cells is an ImportFileError."""
    if format not in TABLE_FORMATS:
        raise ImportFileError(
            f"{format!r} is not a table format ({', '.join(sorted(TABLE_FORMATS))})",
            filename=filename)
    if not data.strip():
        raise empty(filename)
    try:
        header, rows, _, _ = table.read(data, filename, format)
    except ImportFileError:
        raise
    except Exception as exc:
        logger.exception("read_table failed on %s", filename)
        raise ImportFileError(f"{INTERNAL_ERROR} ({type(exc).__name__})",
                              filename=filename) from exc
    return header, rows


def preview_table(data: bytes, *, filename: str, format: str
                  ) -> tuple[list[str], list[list[str]]]:
    """Header and the first few rows of a CSV, TSV or XLSX file, as `read_table` gives them,
    without parsing the rest (for the column-mapping page: the import job reads it all)."""
    if format not in TABLE_FORMATS:
        raise ImportFileError(
            f"{format!r} is not a table format ({', '.join(sorted(TABLE_FORMATS))})",
            filename=filename)
    if not data.strip():
        raise empty(filename)
    try:
        return table.preview(data, filename, format)
    except ImportFileError:
        raise
    except Exception as exc:
        logger.exception("preview_table failed on %s", filename)
        raise ImportFileError(f"{INTERNAL_ERROR} ({type(exc).__name__})",
                              filename=filename) from exc


def parse(data: bytes, *, filename: str, format: str = "auto",
          mapping: dict[str, str] | None = None) -> ParseResult:
    """Every record of the file, or ImportFileError."""
    # Parsing creates millions of small lists and strings and no reference cycles: the cyclic
    # garbage collector would only scan them again and again (a third of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = _parse(data, filename, format, mapping)
    except ImportFileError:
        raise
    except RecursionError as exc:
        raise ImportFileError("the file is nested too deeply to be read",
                              filename=filename) from exc
    except MemoryError as exc:
        raise ImportFileError("the file is too big to be read here: split it into smaller "
                              "files", filename=filename) from exc
    except Exception as exc:
        logger.exception("parse failed on %s (%s)", filename, format)
        raise ImportFileError(f"{INTERNAL_ERROR} ({type(exc).__name__}: {exc})",
                              filename=filename) from exc
    finally:
        if collecting:
            gc.enable()
    if not result.records:
        raise ImportFileError(
            f"no records were found in it as {FORMATS[result.format]}: is it an export of "
            "references, and the right format?", filename=filename)
    return result


def _parse(data: bytes, filename: str, format: str, mapping: dict[str, str] | None
           ) -> ParseResult:
    if format != "auto" and format not in FORMATS:
        raise ImportFileError(f"{format!r} is not a format Tandem reads ("
                              f"{', '.join(FORMATS)})", filename=filename)
    if not data.strip():
        raise empty(filename)
    if format == "auto":
        format = detect_format(data, filename)
    if format in TABLE_FORMATS:
        header, rows, lines, encoding = table.read(data, filename, format)
        records = table.records(header, rows, lines, mapping, filename)
        warnings: list[str] = []
    else:
        encoding = detect_encoding(data)
        if format == "ris":
            records, warnings = ris.read(iter_text(data, encoding, filename), filename)
        elif format == "endnote-xml":
            records, warnings = endnote_xml.read(iter_text(data, encoding, filename), filename)
        else:
            text, encoding = decode(data, filename)
            reader = {"nbib": nbib.read, "bibtex": bibtex.read, "wos": wos.read}[format]
            records, warnings = reader(text, filename)
    if encoding in ("cp1252", "latin-1"):
        warnings.insert(0, f"{filename} is not UTF-8: it was read as "
                           f"{'Windows-1252' if encoding == 'cp1252' else 'Latin-1'}; check "
                           "that accented letters look right.")
    return ParseResult(format=format, encoding=encoding, records=records, warnings=warnings)
