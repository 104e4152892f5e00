"""RIS (Ovid, EBSCO, Embase, Scopus, Web of Science, PubMed, Zotero, EndNote, Lens, Dimensions).

A small reader of our own instead of rispy: it knows the line of every record, keeps every
tag (known or not) in `raw`, and reads 100,000 records in a few seconds. A record is the
lines from `TY  - ` to `ER  - `; a line without a tag continues the value before it; text
between records (Ovid's numbering "1." and links) is ignored.
"""

import re
from collections.abc import Iterable

from . import normalise as n
from .base import ImportFileError, ParsedRecord

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  - ?(.*)$", re.MULTILINE)
# A tag line with the lines that continue it (up to the next tag line).
_TAG_VALUE = re.compile(r"^([A-Z][A-Z0-9])  - ?([^\n]*(?:\n(?![A-Z][A-Z0-9]  -|\Z)[^\n]*)*)",
                        re.MULTILINE)

# Tags that Web of Science RIS exports sometimes glue to the end of the previous line
# ("...Manhattan, KS 66506 USAAD  - Kansas State Univ"): split there when the glued tag is a
# known one.
_KNOWN_TAGS = frozenset(
    "TY A1 A2 A3 A4 AU AB AD AN BT C1 C2 C3 C4 C5 C6 C7 C8 CA CN CP CT CY DA DB DI DO DP ED "
    "EP ER ET FU FX ID IS J1 J2 J9 JA JF JI JO KW L1 L2 L3 L4 LA LB LK M1 M2 M3 N1 N2 NV OP "
    "PA PB PI PP PU PY RI RN RP SE SN SP ST T1 T2 T3 TA TI TT U1 U2 U3 U4 U5 UR VL VO WE Y1 Y2"
    .split()
)
_GLUED = re.compile(r"(?<=\S)([A-Z][A-Z0-9])  - ")

_BOOK_TYPES = frozenset({"BOOK", "EBOOK", "EDBOOK", "CHAP", "ECHAP"})
_PUBMED_DB = re.compile(r"pubmed|medline", re.IGNORECASE)


def _split_glued(tag: str, value: str) -> list[tuple[str, str]]:
    pairs = []
    while True:
        for match in _GLUED.finditer(value):
            if match.group(1) in _KNOWN_TAGS:
                pairs.append((tag, value[:match.start()].strip()))
                tag, value = match.group(1), value[match.end():].strip()
                break
        else:
            pairs.append((tag, value))
            return pairs


def _intern_tag(tag: str) -> str:
    """One string object per tag name for all records (saves ~80 MB on 100,000 records)."""
    return _TAG_NAMES.setdefault(tag, tag)


_TAG_NAMES: dict[str, str] = {}


def _tags(text: str) -> dict[str, list[str]]:
    """tag -> values of one record's lines (from its TY line to the line before ER). Lines
    without a tag continue the value before them (kept as lines, trimmed)."""
    pairs = _TAG_VALUE.findall(text)
    if text.count("  -") != len(pairs):  # a tag glued to the end of a value?
        pairs = [item for tag, value in pairs for item in (
            _split_glued(tag, value) if "  - " in value else ((tag, value),))]
    rec: dict[str, list[str]] = {}
    get = rec.get
    for tag, value in pairs:
        value = value.strip()
        if "\n" in value:
            value = "\n".join(line.strip() for line in value.split("\n"))
        values = get(tag)
        if values is None:
            rec[_TAG_NAMES.get(tag) or _intern_tag(tag)] = [value]
        else:
            values.append(value)
    return rec


def _gap(buf: str, start: int, end: int, line_of, filename: str, record: int,
         warnings: list[str]) -> None:
    """Text between records may be anything (Ovid's "1." and links) but a tag line."""
    if buf[start:end].isspace():
        return
    for match in _TAG_LINE.finditer(buf, start, end):
        tag = match.group(1)
        if tag != "ER":
            raise ImportFileError(
                f"the tag {tag} comes before the TY line that starts a record: the TY tag is "
                "missing", filename=filename, line=line_of(match.start()), record=record,
                field=tag)
        warnings.append(f"{filename}, line {line_of(match.start())}: an end line (ER  - ) "
                        "outside any record was ignored.")


def read(chunks: Iterable[str], filename: str) -> tuple[list[ParsedRecord], list[str]]:
    """Records of the RIS text given in pieces of whole lines (see text.iter_text)."""
    records: list[ParsedRecord] = []
    warnings: list[str] = []
    append = records.append
    leftover = ""  # the open record's lines, carried over to the next piece
    next_line = 1  # line number of the first line of the next piece (or of `leftover`)
    for chunk in chunks:
        # A "\n" in front, so that every line start is found as "\n" + tag.
        buf = f"\n{leftover}{chunk}"
        buf_line = next_line  # line number of buf[1]

        def line_of(index: int, buf=buf, buf_line=buf_line) -> int:
            return buf_line + buf.count("\n", 1, index)

        count_pos, count_line = 1, buf_line
        pos = 0  # a "\n" from which on nothing is read yet
        leftover = ""
        while True:
            start = buf.find("\nTY  -", pos)
            if start == -1:
                _gap(buf, pos, len(buf), line_of, filename, len(records) + 1, warnings)
                next_line = buf_line + buf.count("\n", 1)
                break
            if start > pos + 1:
                _gap(buf, pos, start, line_of, filename, len(records) + 1, warnings)
            count_line += buf.count("\n", count_pos, start + 1)
            count_pos = start + 1
            end = buf.find("\nER  -", start)
            if end == -1:
                following = buf.find("\nTY  -", start + 1)
            else:
                following = buf.find("\nTY  -", start + 1, end)
            if following != -1:
                raise ImportFileError(
                    f"record {len(records) + 1} (from line {count_line}) has no end line "
                    "(ER  - ) before the next record starts (TY  - )",
                    filename=filename, line=line_of(following + 1), record=len(records) + 1)
            if end == -1:  # the record goes on in the next piece
                leftover, next_line = buf[start + 1:], count_line
                break
            append(_record(_tags(buf[start + 1:end + 1]), len(records) + 1, count_line))
            pos = buf.find("\n", end + 1)
            if pos == -1:
                next_line = buf_line + buf.count("\n", 1)
                break
    if leftover:
        raise ImportFileError(
            f"the file ends inside record {len(records) + 1}, which starts at line {next_line} "
            "and has no end line (ER  - ): is the file complete?",
            filename=filename, line=next_line, record=len(records) + 1)
    return records, warnings


def _first(t: dict[str, list[str]], *tags: str) -> str:
    for tag in tags:
        values = t.get(tag)
        if values:
            for value in values:
                if value:
                    return value
    return ""


def _year(t: dict[str, list[str]]) -> int | None:
    for tag in ("PY", "Y1", "DA"):
        for value in t.get(tag, ()):
            year = n.year(value)
            if year:
                return year
    return None


def _doi(t: dict[str, list[str]]) -> str:
    for tag in ("DO", "DI"):
        for value in t.get(tag, ()):
            doi = n.doi(value)
            if doi:
                return doi
    for tag in ("L3", "M3", "UR", "L1", "L2", "LK", "L4"):
        for value in t.get(tag, ()):
            if "10." in value:
                for part in value.split():
                    if n.is_doi_like(part):
                        doi = n.doi(part)
                        if doi:
                            return doi
    return ""


def _record(t: dict[str, list[str]], position: int, line: int) -> ParsedRecord:
    get = t.get
    kind = t["TY"][0]
    title = _first(t, "TI", "T1", "CT")
    if not title and kind in _BOOK_TYPES:
        title = _first(t, "BT")
    names = get("AU", []) + get("A1", []) if "A1" in t else get("AU", ())
    authors = [one for one in map(n.one_line, names) if one]

    other_ids: dict[str, str] = {}
    pmid = ""
    if "C2" in t:
        for value in t["C2"]:
            if not pmid:
                pmid = n.pmid(value)
            pmcid = n.pmcid(value)
            if pmcid:
                other_ids.setdefault("pmcid", pmcid)
    accession = _first(t, "AN")
    if not pmid and accession and _PUBMED_DB.search(_first(t, "DB") + " " + _first(t, "DP")):
        pmid = n.pmid(accession)
    record_id = _first(t, "ID") or accession
    if accession and record_id != accession:
        other_ids["accession_number"] = accession
    if "SN" in t:
        other_ids.update(n.standard_numbers(t["SN"]))

    keywords = get("KW")
    if keywords:
        if any("\n" in k or not k for k in keywords):
            keywords = [part.strip() for k in keywords for part in k.split("\n")
                        if part.strip()]
        else:
            keywords = keywords.copy()
    else:
        keywords = []

    url = _first(t, "UR", "LK", "L2")
    if url:
        url = url.split(None, 1)[0]
    sp = _first(t, "SP")
    return ParsedRecord(
        position=position,
        line=line,
        source_record_id=n.one_line(record_id),
        title=n.one_line(title),
        abstract=_first(t, "AB", "N2"),
        authors=authors,
        year=_year(t),
        journal=n.one_line(_first(t, "JF", "T2", "JO", "JA", "J1", "J2")),
        volume=n.one_line(_first(t, "VL", "VO")),
        issue=n.one_line(_first(t, "IS")),
        pages=n.pages(n.one_line(sp), n.one_line(_first(t, "EP"))) if sp else "",
        doi=_doi(t),
        pmid=pmid,
        other_ids=other_ids,
        keywords=keywords,
        language=n.one_line(_first(t, "LA")),
        url=url,
        publication_type=kind,
        raw=t,
    )
