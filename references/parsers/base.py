"""What every parser returns: plain records, independent of Django and the database."""

from dataclasses import dataclass, field
from typing import Any

# The formats a user may choose; "auto" detects from the content.
FORMATS = {
    "ris": "RIS (Ovid, EBSCO, Embase, Scopus, Web of Science, PubMed, Zotero, EndNote, Lens, "
           "Dimensions)",
    "nbib": "PubMed / MEDLINE (.nbib, .txt)",
    "bibtex": "BibTeX",
    "endnote-xml": "EndNote XML",
    "wos": "Web of Science tagged (FN/PT/AU)",
    "csv": "CSV (with a column mapping)",
    "tsv": "TSV (with a column mapping)",
    "xlsx": "Excel .xlsx (with a column mapping)",
}
TABLE_FORMATS = {"csv", "tsv", "xlsx"}

# The record fields a table column can be mapped to (CSV/TSV/XLSX).
MAPPABLE_FIELDS = [
    "title", "abstract", "authors", "year", "journal", "volume", "issue", "pages", "doi",
    "pmid", "keywords", "url", "publication_type", "source_record_id",
]


class ImportFileError(Exception):
    """The file cannot be imported. The message says what and where, for the user, e.g.
    'medline.ris, line 12 (record 3): the TY tag is missing.'"""

    def __init__(self, message: str, *, filename: str = "", line: int | None = None,
                 record: int | None = None, field: str | None = None):
        self.filename, self.line, self.record, self.field = filename, line, record, field
        where = ", ".join(
            part for part in (
                filename,
                f"line {line}" if line is not None else "",
                f"record {record}" if record is not None else "",
                f"field {field}" if field else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)


@dataclass
class ParsedRecord:
    position: int  # 1-based position of the record in its file
    line: int | None = None  # line of the file where the record starts, when known
    source_record_id: str = ""  # the file's own id: RIS ID/AN, PMID, BibTeX key, CSV ID
    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)  # in order, "Last, First" where known
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""  # e.g. "123-130"
    doi: str = ""  # normalised: lower case, no "https://doi.org/" or "doi:" prefix
    pmid: str = ""
    other_ids: dict[str, str] = field(default_factory=dict)  # e.g. {"pmcid": "PMC123"}
    keywords: list[str] = field(default_factory=list)
    language: str = ""
    url: str = ""
    publication_type: str = ""
    raw: dict[str, Any] = field(default_factory=dict)  # the record as parsed, JSON-safe

    @property
    def problems(self) -> list[str]:
        """Why this record is unusable (listed in the import report, never dropped)."""
        if not self.title.strip() and not self.abstract.strip():
            return ["no title and no abstract"]
        return []


@dataclass
class ParseResult:
    format: str
    encoding: str
    records: list[ParsedRecord]
    warnings: list[str] = field(default_factory=list)
