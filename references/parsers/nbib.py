"""PubMed / MEDLINE format (.nbib, .txt): `TAG - value` lines, the tag padded to four
characters, continuation lines indented, records separated by blank lines.

Our own reader instead of the nbib package: nbib drops the last record of a file without a
final newline, drops tags it does not know and gives no line numbers.
"""

import re

from . import normalise as n
from .base import ImportFileError, ParsedRecord

_TAG_LINE = re.compile(r"([A-Z][A-Z0-9]{0,3}) *- ?(.*)")
_DOI_ID = re.compile(r"^(\S+)\s*\[doi\]", re.IGNORECASE)


def _tag(line: str) -> tuple[str, str] | None:
    """(tag, value) of a tag line (the dash in column 5), else None."""
    if len(line) >= 5 and line[4] == "-" and line[0] != " ":
        match = _TAG_LINE.fullmatch(line)
        if match and len(match.group(1)) + line[:4].count(" ") == 4:
            return match.group(1), match.group(2).strip()
    return None


def read(text: str, filename: str) -> tuple[list[ParsedRecord], list[str]]:
    records: list[ParsedRecord] = []
    warnings: list[str] = []
    rec: dict[str, list[str]] | None = None
    last: list[str] | None = None
    rec_line = 0
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            if rec is not None:
                records.append(_record(rec, len(records) + 1, rec_line))
                rec = last = None
            continue
        tagged = _tag(line)
        if tagged is None:
            if rec is None:
                if records:
                    raise ImportFileError(
                        "this line is neither a MEDLINE tag line (e.g. 'TI  - ...') nor the "
                        "continuation of one", filename=filename, line=lineno,
                        record=len(records) + 1)
                continue  # text before the first record
            value = line.strip()
            last[-1] = f"{last[-1]} {value}" if last[-1] else value
            continue
        tag, value = tagged
        if rec is not None and tag == "PMID" and "PMID" in rec:
            # Two records without a blank line between them.
            records.append(_record(rec, len(records) + 1, rec_line))
            rec = None
        if rec is None:
            rec, rec_line = {}, lineno
        last = rec.get(tag)
        if last is None:
            last = rec[tag] = [value]
        else:
            last.append(value)
    if rec is not None:
        records.append(_record(rec, len(records) + 1, rec_line))
    return records, warnings


def _first(t: dict[str, list[str]], *tags: str) -> str:
    for tag in tags:
        for value in t.get(tag, ()):
            if value:
                return value
    return ""


def _record(t: dict[str, list[str]], position: int, line: int) -> ParsedRecord:
    get = t.get
    pmid = n.pmid(_first(t, "PMID"))
    doi = ""
    for value in get("LID", []) + get("AID", []):
        match = _DOI_ID.match(value)
        if match:
            doi = n.doi(match.group(1))
            if doi:
                break
    other_ids = {}
    pmcid = n.pmcid(_first(t, "PMC"))
    if pmcid:
        other_ids["pmcid"] = pmcid
    if "IS" in t or "ISBN" in t:
        other_ids.update(n.standard_numbers(get("IS", []) + get("ISBN", [])))
    authors = get("FAU") or get("AU") or get("CN") or []
    year = None
    for tag in ("DP", "DEP", "DA"):
        year = n.year(_first(t, tag))
        if year:
            break
    keywords = [k for k in get("OT", []) + get("MH", []) if k]
    return ParsedRecord(
        position=position,
        line=line,
        source_record_id=_first(t, "PMID"),
        title=n.one_line(_first(t, "TI", "BTI", "TT")),
        abstract=_first(t, "AB"),
        authors=[a for a in authors if a],
        year=year,
        journal=n.one_line(_first(t, "JT", "TA")),
        volume=_first(t, "VI"),
        issue=_first(t, "IP"),
        pages=_first(t, "PG"),
        doi=doi,
        pmid=pmid,
        other_ids=other_ids,
        keywords=keywords,
        language=_first(t, "LA"),
        publication_type="; ".join(v for v in get("PT", ()) if v),
        raw=t,
    )
