"""EndNote XML (`<xml><records><record>...`), read with expat as a stream.

`raw` holds every element of a record by its path below `<record>`, e.g.
{"titles/title": ["..."], "contributors/authors/author": ["A", "B"],
"ref-type@name": ["Journal Article"]}; the `<style>` wrappers EndNote puts around text are
dropped (their texts are joined).
"""

import re
import xml.parsers.expat
from collections.abc import Iterable

from . import normalise as n
from .base import ImportFileError, ParsedRecord

_PUBMED = re.compile(r"pubmed|medline", re.IGNORECASE)


class _Reader:
    def __init__(self, filename: str):
        self.filename = filename
        self.records: list[ParsedRecord] = []
        self.parser = xml.parsers.expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.data
        self.parser.EntityDeclHandler = self.entity
        self.rec: dict[str, list[str]] | None = None
        self.rec_line = 0
        self.path: list[str] = []  # element names below <record>, "style" included
        self.texts: list[list[str]] = []  # text parts of each element of `path`

    def entity(self, name, *args):
        raise ImportFileError(
            f"the XML declares an entity ({name}); EndNote XML never does, and Tandem does "
            "not read such files", filename=self.filename, line=self.parser.CurrentLineNumber)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.rec is None:
            if name == "record":
                self.rec, self.rec_line = {}, self.parser.CurrentLineNumber
                self.path, self.texts = [], []
            return
        if name == "style" and self.path:
            return  # its text belongs to the element around it
        self.path.append(name)
        self.texts.append([])
        if attrs:
            prefix = "/".join(self.path)
            for key, value in attrs.items():
                self.rec.setdefault(f"{prefix}@{key}", []).append(value)

    def data(self, text: str) -> None:
        if self.texts:
            self.texts[-1].append(text)

    def end(self, name: str) -> None:
        if self.rec is None:
            return
        if name == "style" and self.path:
            return
        if not self.path:  # </record>
            self.records.append(_record(self.rec, len(self.records) + 1, self.rec_line))
            self.rec = None
            return
        key = "/".join(self.path)
        text = "".join(self.texts.pop()).strip()
        self.path.pop()
        if text:
            self.rec.setdefault(key, []).append(text)

    def feed(self, chunks: Iterable[str]) -> None:
        try:
            for chunk in chunks:
                self.parser.Parse(chunk, False)
            self.parser.Parse("", True)
        except xml.parsers.expat.ExpatError as exc:
            raise ImportFileError(
                f"the XML is not well-formed ({xml.parsers.expat.errors.messages[exc.code]}, "
                f"column {exc.offset + 1})", filename=self.filename, line=exc.lineno,
                record=len(self.records) + 1 if self.rec is not None else None) from None


def read(chunks: Iterable[str], filename: str) -> tuple[list[ParsedRecord], list[str]]:
    reader = _Reader(filename)
    reader.feed(chunks)
    return reader.records, []


def _first(t: dict[str, list[str]], *keys: str) -> str:
    for key in keys:
        for value in t.get(key, ()):
            if value:
                return value
    return ""


def _record(t: dict[str, list[str]], position: int, line: int) -> ParsedRecord:
    doi = n.doi(_first(t, "electronic-resource-num"))
    urls = t.get("urls/related-urls/url", []) + t.get("urls/web-urls/url", [])
    if not doi:
        for value in urls:
            for part in value.split():
                if n.is_doi_like(part):
                    doi = n.doi(part)
                    break
            if doi:
                break
    accession = _first(t, "accession-num")
    pmid = ""
    if accession and _PUBMED.search(_first(t, "remote-database-name", "remote-database-provider")):
        pmid = n.pmid(accession)
    other_ids = n.standard_numbers(t.get("isbn", []))
    if accession and not pmid:
        other_ids["accession_number"] = accession
    keywords = []
    for value in t.get("keywords/keyword", ()):
        keywords.extend(part.strip() for part in value.split("\n") if part.strip())
    return ParsedRecord(
        position=position,
        line=line,
        source_record_id=_first(t, "rec-number"),
        title=n.one_line(_first(t, "titles/title")),
        abstract=_first(t, "abstract"),
        authors=[n.one_line(a) for a in t.get("contributors/authors/author", ())],
        year=n.year(_first(t, "dates/year")) or n.year(_first(t, "dates/pub-dates/date")),
        journal=n.one_line(_first(t, "periodical/full-title", "titles/secondary-title",
                                  "alt-periodical/full-title", "periodical/abbr-1")),
        volume=n.one_line(_first(t, "volume")),
        issue=n.one_line(_first(t, "number", "issue")),
        pages=n.one_line(_first(t, "pages")),
        doi=doi,
        pmid=pmid,
        other_ids=other_ids,
        keywords=keywords,
        language=n.one_line(_first(t, "language")),
        url=urls[0].split()[0] if urls else "",
        publication_type=_first(t, "ref-type@name"),
        raw=t,
    )
