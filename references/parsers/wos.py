"""Web of Science field-tagged format ("FN Clarivate Analytics Web of Science", `PT J`, ...):
two-letter tags, a space, the value; continuation lines start with three spaces; records
go from `PT` to `ER`; the file ends with `EF`.

Our own reader: rispy's WokParser fails on tags it does not map (Z8, ZB, ZR, ZS) and has no
line numbers. Every tag is kept in `raw`, one list item per line of the file.
"""

import re

from . import normalise as n
from .base import ImportFileError, ParsedRecord

_TAG_LINE = re.compile(r"([A-Z][A-Z0-9])(?: (.*))?")
_FILE_TAGS = frozenset({"FN", "VR", "EF"})


def read(text: str, filename: str) -> tuple[list[ParsedRecord], list[str]]:
    records: list[ParsedRecord] = []
    warnings: list[str] = []
    rec: dict[str, list[str]] | None = None
    last: list[str] | None = None
    rec_line = 0
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("  "):
            if rec is None or last is None:
                raise ImportFileError(
                    "this continuation line (starting with spaces) belongs to no tag",
                    filename=filename, line=lineno, record=len(records) + 1)
            last.append(line.strip())
            continue
        match = _TAG_LINE.fullmatch(line.rstrip())
        if match is None:
            raise ImportFileError(
                "this line is not a Web of Science tag line (two capitals, a space, the value)",
                filename=filename, line=lineno, record=len(records) + (rec is not None))
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == "PT":
            if rec is not None:
                raise ImportFileError(
                    f"record {len(records) + 1} (from line {rec_line}) has no end line (ER) "
                    "before the next record starts (PT)",
                    filename=filename, line=lineno, record=len(records) + 1)
            last = [value]
            rec, rec_line = {"PT": last}, lineno
        elif tag == "ER":
            if rec is None:
                warnings.append(f"{filename}, line {lineno}: an end line (ER) outside any "
                                "record was ignored.")
                continue
            records.append(_record(rec, len(records) + 1, rec_line))
            rec = last = None
        elif rec is None:
            if tag in _FILE_TAGS:
                last = None
                continue
            raise ImportFileError(
                f"the tag {tag} comes before the PT line that starts a record: the PT tag is "
                "missing", filename=filename, line=lineno, record=len(records) + 1, field=tag)
        else:
            last = rec.get(tag)
            if last is None:
                last = rec[tag] = [value]
            else:
                last.append(value)
    if rec is not None:
        raise ImportFileError(
            f"the file ends inside record {len(records) + 1}, which starts at line {rec_line} "
            "and has no end line (ER): is the file complete?",
            filename=filename, line=rec_line, record=len(records) + 1)
    return records, warnings


def _text(t: dict[str, list[str]], *tags: str) -> str:
    for tag in tags:
        value = " ".join(v for v in t.get(tag, ()) if v)
        if value:
            return value
    return ""


def _record(t: dict[str, list[str]], position: int, line: int) -> ParsedRecord:
    get = t.get
    authors = [a for a in get("AF") or get("AU") or get("CA") or [] if a]
    year = None
    for tag in ("PY", "PD", "EA"):
        year = n.year(_text(t, tag))
        if year:
            break
    keywords = n.split_list(_text(t, "DE")) + n.split_list(_text(t, "ID"))
    other_ids = n.standard_numbers(get("SN", []) + get("EI", []) + get("BN", []))
    begin = _text(t, "BP")
    return ParsedRecord(
        position=position,
        line=line,
        source_record_id=_text(t, "UT"),
        title=_text(t, "TI"),
        abstract=_text(t, "AB"),
        authors=authors,
        year=year,
        journal=_text(t, "SO", "JI", "J9"),
        volume=_text(t, "VL"),
        issue=_text(t, "IS"),
        pages=n.pages(begin, _text(t, "EP")) if begin else "",
        doi=n.doi(_text(t, "DI")),
        pmid=n.pmid(_text(t, "PM")),
        other_ids=other_ids,
        keywords=keywords,
        language=_text(t, "LA"),
        publication_type=_text(t, "DT", "PT"),
        raw=t,
    )
