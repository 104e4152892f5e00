"""BibTeX (Zotero, JabRef, Scopus, Google Scholar...).

bibtexparser's Splitter cuts the file into blocks (with their lines); the rest is ours:
entries with a repeated field (DuplicateFieldKeyBlock) or a repeated key
(DuplicateBlockKeyBlock) are kept, @string macros and `#` concatenation are resolved,
LaTeX ({\\"u}, \\'e, \\&, {Braces}) becomes plain text (latex.py) and a syntax error
anywhere is an ImportFileError that names the entry and its line.
"""

import re

from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ImplicitComment,
    ParsingFailedBlock,
    String,
)
from bibtexparser.splitter import Splitter

from . import normalise as n
from .base import ImportFileError, ParsedRecord
from .latex import to_text as latex_to_text

_MONTHS = {m[:3].lower(): m for m in (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December")}
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_ENTRY_KEY = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s]*)")
# Fields that are not prose: no LaTeX decoding (a URL's "~" or "%" stays as it is).
_VERBATIM = frozenset({"url", "doi", "eprint", "file", "pmid", "pmcid", "isbn", "issn"})


def _split_top(value: str, separator: re.Pattern) -> list[str]:
    """Split at `separator` where it is outside {braces} (and "quotes")."""
    if "{" not in value and '"' not in value and "\\" not in value:
        return separator.split(value)
    parts, depth, start, quoted = [], 0, 0, False
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif depth == 0 and not quoted:
            match = separator.match(value, i)
            if match:
                parts.append(value[start:i])
                start = i = match.end()
                continue
        i += 1
    parts.append(value[start:])
    return parts


_HASH = re.compile(r"#")


def resolve(raw: str, strings: dict[str, str]) -> str:
    """A field value as written (`{...}`, `"..."`, 2020, a macro, or `a # {b}`) as text that
    may still hold LaTeX."""
    pieces = _split_top(raw, _HASH) if "#" in raw else [raw]
    out = []
    for piece in pieces:
        piece = piece.strip()
        if len(piece) >= 2 and (piece[0], piece[-1]) in (("{", "}"), ('"', '"')):
            out.append(piece[1:-1])
        elif piece.isdigit():
            out.append(piece)
        else:
            out.append(strings.get(piece.lower(), piece))
    return "".join(out)


def read(text: str, filename: str) -> tuple[list[ParsedRecord], list[str]]:
    records: list[ParsedRecord] = []
    warnings: list[str] = []
    try:
        blocks = Splitter(text).split().blocks
    except Exception as exc:  # the splitter's own "please report this bug" states
        raise ImportFileError(f"the BibTeX could not be read ({exc})", filename=filename) \
            from exc
    strings = dict(_MONTHS)
    last_entry: Entry | None = None
    for block in blocks:
        line = block.start_line + 1 if block.start_line is not None else None
        if isinstance(block, DuplicateFieldKeyBlock):
            entry = block.ignore_error_block
            warnings.append(
                f"{filename}, line {line} (record {len(records) + 1}): the field(s) "
                f"{', '.join(sorted(block.duplicate_keys))} appear more than once in entry "
                f"{entry.key}; the first value is used, all are kept.")
        elif isinstance(block, DuplicateBlockKeyBlock):
            entry = block.ignore_error_block
            if isinstance(entry, String):
                strings[entry.key.lower()] = resolve(entry.value, strings)
                continue
            warnings.append(f"{filename}, line {line} (record {len(records) + 1}): the key "
                            f"{block.key} is used by an earlier entry too; both are kept.")
        elif isinstance(block, ParsingFailedBlock):
            raise _syntax_error(block, filename, line, len(records) + 1)
        elif isinstance(block, String):
            strings[block.key.lower()] = resolve(block.value, strings)
            continue
        elif isinstance(block, Entry):
            entry = block
        else:
            if isinstance(block, ImplicitComment) and last_entry is not None and \
                    ("}" in block.comment or "=" in block.comment):
                raise ImportFileError(
                    f"text follows the end of entry {last_entry.key} (line "
                    f"{last_entry.start_line + 1}) outside any entry: is a closing brace }} "
                    "too many, or a field outside its entry?",
                    filename=filename, line=line, record=len(records))
            continue  # comments, @preamble
        last_entry = entry
        records.append(_record(entry, len(records) + 1, line, strings))
    return records, warnings


def _syntax_error(block: ParsingFailedBlock, filename: str, line: int | None,
                  record: int) -> ImportFileError:
    reason = getattr(block.error, "abort_reason", "") or str(block.error)
    match = _ENTRY_KEY.match(block.raw or "")
    name = f" {match.group(2)}" if match and match.group(2) else ""
    return ImportFileError(
        f"entry{name} is not valid BibTeX: {reason.strip().rstrip('.')}. Check for an "
        "unbalanced brace { } or quote \" in it or in the entry before",
        filename=filename, line=line, record=record)


def _record(entry: Entry, position: int, line: int | None,
            strings: dict[str, str]) -> ParsedRecord:
    raw: dict[str, object] = {"ENTRYTYPE": entry.entry_type, "ID": entry.key}
    values: dict[str, str] = {}  # lower-case field name -> first value, LaTeX as written
    for field in entry.fields:
        value = resolve(field.value, strings) if isinstance(field.value, str) else \
            str(field.value)
        if field.key in raw:
            previous = raw[field.key]
            raw[field.key] = [*previous, value] if isinstance(previous, list) else \
                [previous, value]
        else:
            raw[field.key] = value
        values.setdefault(field.key.lower(), value)

    def text(*names: str) -> str:
        for name in names:
            value = values.get(name)
            if value:
                return n.one_line(value if name in _VERBATIM else latex_to_text(value))
        return ""

    authors = []
    if values.get("author"):
        for name in _split_top(values["author"], _AND):
            name = n.one_line(latex_to_text(name))
            if name and name.lower() != "others":
                authors.append(name)
    keywords = []
    for name in ("keywords", "author_keywords", "mesh", "keyword"):
        value = text(name)
        if value:
            keywords.extend(n.split_list(value, ";" if ";" in value else ","))
    other_ids = n.standard_numbers([text("issn"), text("isbn")])
    pmcid = n.pmcid(text("pmcid"))
    if pmcid:
        other_ids["pmcid"] = pmcid
    pmid = n.pmid(text("pmid"))
    if not pmid and text("eprinttype").lower() == "pubmed":
        pmid = n.pmid(text("eprint"))
    url = text("url")
    return ParsedRecord(
        position=position,
        line=line,
        source_record_id=entry.key,
        title=text("title"),
        abstract=latex_to_text(values.get("abstract", "")).strip(),
        authors=authors,
        year=n.year(text("year")) or n.year(text("date")),
        journal=text("journal", "journaltitle", "booktitle"),
        volume=text("volume"),
        issue=text("number", "issue"),
        pages=text("pages").replace("--", "-").replace("–", "-"),
        doi=n.doi(text("doi")),
        pmid=pmid,
        other_ids=other_ids,
        keywords=keywords,
        language=text("language", "langid"),
        url=url.split()[0] if url else "",
        publication_type=entry.entry_type.lower(),
        raw=raw,
    )
