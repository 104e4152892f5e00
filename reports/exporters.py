"""The exports of a project as files: pure builders that write what the database holds into a
binary file object, row by row, so 100,000 records never sit in memory at once (every read
is a `.iterator(chunk_size=CHUNK)`; XLSX is written by openpyxl's write-only workbook, a zip
member by member).

- References as RIS, BibTeX or CSV, chosen by stage and state (`REFERENCE_FILTERS`).
- Screening decisions: one row per vote and per resolution of settled records only.
- Agreement: kappa per stage and reviewer pair (`screening.agreement.csv_rows`).
- Raw extractions: one row per extractor and study, for the studies whose data are settled
  (the consensus table itself is `extraction.exports`, reused as it is).
- Charting: one sheet per framework, the themes and the numbered studies, and Figure 2 (SVG).

Every CSV and XLSX cell goes through `projects.csvsafe.safe_cell` (a CSV through
`csvsafe.writer`, a sheet through `_xlsx`): text starting with "=", "+", "-" or "@" gets a
quote in front. RIS and BibTeX are not spreadsheets: they hold the text as it is, escaped
for their own syntax.
"""

from __future__ import annotations

import datetime
import heapq
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO

from django.conf import settings
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.utils import timezone
from django.utils.text import slugify
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from accounts.models import User
from extraction import exports as extraction_exports
from extraction.models import Answer, Extraction, Round
from extraction.queries import ExtractionTable
from frameworks.figure import figure_svg
from frameworks.queries import Charting
from projects import csvsafe
from projects.csvsafe import safe_cell
from projects.models import Project
from references.models import Record
from screening import agreement
from screening import queries as screening_queries
from screening.models import Decision, Screening, Stage, Vote

CHUNK = 2000  # rows read from the database at a time
XLSX_CELL_MAX = 32767  # Excel's limit on the characters of one cell
SHEET_NAME_MAX = 31  # Excel's limit on a sheet's name
Progress = Callable[[int], None]  # told how many rows (records, votes...) are written


# ---------------------------------------------------------------------------------------------
# Tables, and the CSV, XLSX and zip writers every export shares


@dataclass
class Table:
    """One sheet of an XLSX, or one CSV of a zip. `rows` may be a generator: it is read once."""

    name: str  # the sheet's name (unique in its workbook, at most 31 characters)
    filename: str  # the CSV's name in a zip
    header: list[str]
    rows: Iterable[list[Any]]


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def write_csv(out: BinaryIO, header: list[str], rows: Iterable[list[Any]],
              progress: Progress | None = None) -> int:
    """One CSV (UTF-8 with a byte order mark, so Excel reads the accents) into `out`; answers
    the number of rows. Every cell goes through `csvsafe.writer`."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    written = 0
    try:
        writer = csvsafe.writer(text)
        writer.writerow(header)
        for written, row in enumerate(rows, start=1):
            writer.writerow([_csv_value(value) for value in row])
            if progress and written % CHUNK == 0:
                progress(written)
    finally:
        text.flush()
        text.detach()  # `out` stays open: the caller owns it
    if progress:
        progress(written)
    return written


def _xlsx(value: Any) -> Any:
    """A cell as a sheet holds it: text neutralised (safe_cell), without the control
    characters XLSX's XML cannot hold and cut at Excel's limit; a time in the project's time
    zone without it (Excel has none), to the second as the CSV writes it."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", safe_cell(value))[:XLSX_CELL_MAX]
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return value.replace(microsecond=0)
    return value


def write_xlsx(out: BinaryIO, tables: Iterable[Table], progress: Progress | None = None) -> int:
    """A workbook with one sheet per table (header frozen), written as it is read; answers
    the number of rows."""
    book = Workbook(write_only=True)
    written = 0
    for table in tables:
        sheet = book.create_sheet(title=table.name)
        sheet.freeze_panes = "A2"
        sheet.append([_xlsx(value) for value in table.header])
        for row in table.rows:
            sheet.append([_xlsx(value) for value in row])
            written += 1
            if progress and written % CHUNK == 0:
                progress(written)
    book.save(out)
    if progress:
        progress(written)
    return written


def write_zip(out: BinaryIO, tables: Iterable[Table], files: dict[str, str | bytes] | None = None,
              progress: Progress | None = None) -> int:
    """A zip of one CSV per table (and `files`, name -> content); answers the number of rows."""
    written = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in tables:
            with archive.open(table.filename, "w", force_zip64=True) as member:
                done = written
                written += write_csv(member, table.header, table.rows,
                                     progress=(lambda n, done=done: progress(done + n))
                                     if progress else None)
        for name, content in (files or {}).items():
            archive.writestr(name, content.encode("utf-8") if isinstance(content, str)
                             else content)
    return written


def unique_sheet_name(label: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (no []:*?/\\, at most 31 characters), unique in `taken`
    (compared without case, as Excel does), which it joins."""
    base = re.sub(r"\s+", " ", re.sub(r"[\[\]:*?/\\]", " ", label)).strip().strip("'") or "Sheet"
    name, n = base[:SHEET_NAME_MAX], 1
    while name.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[:SHEET_NAME_MAX - len(suffix)] + suffix
    taken.add(name.casefold())
    return name


def unique_filename(stem: str, taken: set[str], extension: str = "csv") -> str:
    stem = slugify(stem) or "table"
    name, n = f"{stem}.{extension}", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.{extension}"
    taken.add(name)
    return name


# ---------------------------------------------------------------------------------------------
# References: which records, and RIS, BibTeX and CSV

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
State = Screening.State
SETTLED = (State.INCLUDED, State.EXCLUDED)

REFERENCE_FILTERS = {
    "all": "All records (duplicates and removed records too)",
    "unique": "Unique records (duplicates left out)",
    "ta_included": "Title and abstract: included",
    "ta_excluded": "Title and abstract: excluded",
    "ta_open": "Title and abstract: not settled yet (needs votes or in conflict)",
    "included_reports": "Full text: included, i.e. the included reports (for Zotero or EndNote)",
    "ft_excluded": "Full text: excluded",
    "ft_not_retrieved": "Full text: not retrieved",
    "ft_open": "Full text: not settled yet (needs votes or in conflict)",
}


def _in_state(stage: str, *states: str) -> Exists:
    return Exists(Screening.objects.filter(record=OuterRef("pk"), stage=stage,
                                           state__in=states))


def reference_records(project: Project, which: str) -> QuerySet[Record]:
    """The records of one of REFERENCE_FILTERS, in record order. The stage filters use the
    stage's own records (`screening.queries.eligible`: no duplicates, none removed before
    screening) and its settled states only, as the stage pages count them: "open" is every
    record of the stage not settled (no vote yet, waiting for votes, or in conflict), so no
    export tells one reviewer's vote."""
    if which == "all":
        records = Record.objects.filter(project=project)
    elif which == "unique":
        records = Record.objects.filter(project=project, duplicate_of__isnull=True)
    elif which == "included_reports":
        records = screening_queries.included_reports(project)
    elif which.startswith("ta_"):
        records = screening_queries.eligible(project, TA)
        records = {"ta_included": records.filter(_in_state(TA, State.INCLUDED)),
                   "ta_excluded": records.filter(_in_state(TA, State.EXCLUDED)),
                   "ta_open": records.filter(~_in_state(TA, *SETTLED))}[which]
    elif which.startswith("ft_"):
        records = screening_queries.eligible(project, FT)
        records = {"ft_excluded": records.filter(_in_state(FT, State.EXCLUDED)),
                   "ft_not_retrieved": records.filter(_in_state(FT, State.NOT_RETRIEVED)),
                   "ft_open": records.filter(~_in_state(FT, *SETTLED, State.NOT_RETRIEVED)),
                   }[which]
    else:
        raise ValueError(f"unknown selection of records {which!r}")
    return records.order_by("id")


RECORD_FIELDS = ("id", "study_id", "source__name", "title", "abstract", "authors", "year",
                 "journal", "volume", "issue", "pages", "doi", "pmid", "keywords", "url",
                 "language", "publication_type", "other_ids", "duplicate_of_id")


def record_values(records: QuerySet[Record], *, with_states: bool = False) -> Iterator[dict]:
    """Each record as a dict of RECORD_FIELDS (and, `with_states`, `ta_state`, `ft_state` and
    `ft_reason`: the settled states only, "" for anything open), streamed."""
    states = {}
    if with_states:
        def of(stage: str, field: str = "state") -> Subquery:
            return Subquery(Screening.objects.filter(record=OuterRef("pk"), stage=stage)
                            .values(field)[:1])
        states = {"ta_state": of(TA), "ft_state": of(FT), "ft_reason": of(FT, "reason__label")}
    rows = records.values(*RECORD_FIELDS, **states).iterator(chunk_size=CHUNK)
    if not with_states:
        return rows
    return (_settled_only(row) for row in rows)


def _settled_only(row: dict) -> dict:
    for key in ("ta_state", "ft_state"):
        if row[key] not in (*SETTLED, State.NOT_RETRIEVED):
            row[key] = ""  # pending or conflict: open, whatever the votes so far
    if row["ft_state"] != State.EXCLUDED:
        row["ft_reason"] = ""
    return row


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHITE = re.compile(r"\s+")


def one_line(value: Any) -> str:
    """Text on one line: every run of white space (line breaks too) as one space, control
    characters dropped."""
    if value is None:
        return ""
    return _WHITE.sub(" ", _CONTROL.sub(" ", str(value))).strip()


def _pmcid(row: dict) -> str:
    return (row.get("other_ids") or {}).get("pmcid", "")


# RIS: https://en.wikipedia.org/wiki/RIS_(file_format). One tag a line ("XX  - value"), so
# every value is written on one line (a multi-line abstract is folded): a line break could
# start a line that reads as a tag ("ER  - " ends the record in every reader).
RIS_TYPES = frozenset(
    "ABST ADVS AGGR ANCIENT ART BILL BLOG BOOK CASE CHAP CHART CLSWK COMP CONF CPAPER CTLG "
    "DATA DBASE DICT EBOOK ECHAP EDBOOK EJOUR ELEC ENCYC EQUA FIGURE GEN GOVDOC GRANT HEAR "
    "ICOMM INPR JFULL JOUR LEGAL MANSCPT MAP MGZN MPCT MULTI MUSIC NEWS PAMP PAT PCOMM RPRT "
    "SER SLIDE SOUND STAND STAT THES UNBILL UNPB VIDEO".split())
_RIS_OF_BIBTEX = {"article": "JOUR", "book": "BOOK", "incollection": "CHAP",
                  "inbook": "CHAP", "inproceedings": "CPAPER", "conference": "CPAPER",
                  "phdthesis": "THES", "mastersthesis": "THES", "thesis": "THES",
                  "techreport": "RPRT", "report": "RPRT", "misc": "GEN", "online": "ELEC",
                  "unpublished": "UNPB"}


def ris_type(row: dict) -> str:
    kind = (row.get("publication_type") or "").strip()
    if kind.upper() in RIS_TYPES:
        return kind.upper()
    return _RIS_OF_BIBTEX.get(kind.lower(), "JOUR")


def ris_record(row: dict) -> str:
    """One record as RIS lines (CRLF, as the format's description asks), ending with ER."""
    lines = [f"TY  - {ris_type(row)}"]

    def add(tag: str, value: Any) -> None:
        value = one_line(value)
        if value:
            lines.append(f"{tag}  - {value}")

    add("ID", row["id"])
    add("TI", row["title"])
    for author in row["authors"] or []:
        add("AU", author)
    add("PY", row["year"])
    add("T2", row["journal"])
    add("VL", row["volume"])
    add("IS", row["issue"])
    add("SP", row["pages"])  # the whole range: readers split "123-130" themselves
    add("DO", row["doi"])
    add("C2", row["pmid"])
    add("C2", _pmcid(row))
    other = row.get("other_ids") or {}
    add("SN", other.get("issn") or other.get("isbn"))
    for keyword in row["keywords"] or []:
        add("KW", keyword)
    add("LA", row["language"])
    add("UR", row["url"])
    add("AB", row["abstract"])
    lines.append("ER  - ")
    return "\r\n".join(lines) + "\r\n\r\n"


# BibTeX: values in braces; the characters BibTeX or LaTeX would read as syntax are escaped,
# accented letters stay as UTF-8 (BibLaTeX, Zotero, JabRef and EndNote read it).
_BIB_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&",
                "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}", '"': '{"}'}
_BIB_SPECIAL = re.compile("|".join(re.escape(c) for c in _BIB_ESCAPES))
_BIB_OF_RIS = {"JOUR": "article", "EJOUR": "article", "MGZN": "article", "NEWS": "article",
               "BOOK": "book", "EBOOK": "book", "EDBOOK": "book", "CHAP": "incollection",
               "ECHAP": "incollection", "CONF": "inproceedings", "CPAPER": "inproceedings",
               "THES": "phdthesis", "RPRT": "techreport", "UNPB": "unpublished"}
_BIB_TYPES = frozenset({"article", "book", "booklet", "inbook", "incollection",
                        "inproceedings", "manual", "mastersthesis", "misc", "phdthesis",
                        "proceedings", "techreport", "unpublished"})
_AND = re.compile(r"\sand\s", re.IGNORECASE)


def bib_escape(value: Any) -> str:
    text = _CONTROL.sub(" ", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    return _BIB_SPECIAL.sub(lambda match: _BIB_ESCAPES[match.group(0)], text)


def _bib_verbatim(value: str) -> str:
    """A URL or DOI: no LaTeX, but no brace either (it would end the value)."""
    return one_line(value).replace("{", "%7B").replace("}", "%7D")


def bib_type(row: dict) -> str:
    kind = (row.get("publication_type") or "").strip()
    if kind.lower() in _BIB_TYPES:
        return kind.lower()
    if kind.upper() in _BIB_OF_RIS:
        return _BIB_OF_RIS[kind.upper()]
    return "article" if row["journal"] else "misc"


def bib_key(row: dict) -> str:
    """"Lee2020_12": the first author's surname in ASCII letters, the year and the record's
    id (which makes it unique)."""
    authors = row["authors"] or []
    surname = authors[0].split(",")[0] if authors else ""
    ascii_name = unicodedata.normalize("NFKD", surname).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9]", "", ascii_name) or "record"
    return f"{name}{row['year'] or ''}_{row['id']}"


def _bib_author(name: str) -> str:
    """A name BibTeX keeps whole: in braces when it has no comma (an organisation, which
    BibTeX would split into first and last names) or holds the word "and"."""
    name = bib_escape(one_line(name))
    return f"{{{name}}}" if "," not in name or _AND.search(name) else name


def bibtex_entry(row: dict) -> str:
    kind = bib_type(row)
    fields: list[tuple[str, str]] = []

    def add(name: str, value: Any, verbatim: bool = False) -> None:
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            return
        fields.append((name, _bib_verbatim(value) if verbatim else bib_escape(value).strip()))

    add("title", one_line(row["title"]))
    if row["authors"]:
        fields.append(("author", " and ".join(_bib_author(a) for a in row["authors"]
                                              if one_line(a))))
    add("year", row["year"])
    add("booktitle" if kind in ("incollection", "inproceedings") else "journal",
        one_line(row["journal"]))
    add("volume", one_line(row["volume"]))
    add("number", one_line(row["issue"]))
    add("pages", one_line(row["pages"]).replace("-", "--") if "--" not in (row["pages"] or "")
        else one_line(row["pages"]))
    add("doi", row["doi"], verbatim=True)
    add("pmid", row["pmid"], verbatim=True)
    add("pmcid", _pmcid(row), verbatim=True)
    other = row.get("other_ids") or {}
    add("issn", other.get("issn"), verbatim=True)
    add("isbn", other.get("isbn"), verbatim=True)
    keywords = [one_line(k) for k in row["keywords"] or [] if one_line(k)]
    if keywords:
        # A lone keyword with a comma gets a ";" after it: readers split a list without ";"
        # at its commas.
        joined = "; ".join(keywords) + (";" if len(keywords) == 1 and "," in keywords[0]
                                        else "")
        add("keywords", joined)
    add("language", one_line(row["language"]))
    add("url", row["url"], verbatim=True)
    add("abstract", row["abstract"])
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{bib_key(row)},\n{body}\n}}\n\n"


CSV_HEADER = ["Record ID", "Study ID", "Source", "Title", "Abstract", "Authors", "Year",
              "Journal", "Volume", "Issue", "Pages", "DOI", "PMID", "Keywords", "URL",
              "Language", "Publication type", "Duplicate of", "Title/abstract screening",
              "Full-text screening", "Full-text exclusion reason"]
_STATE_LABELS = dict(State.choices)


def csv_row(row: dict) -> list[Any]:
    """One record's cells, as CSV_HEADER names them; authors and keywords joined by "; "
    (Tandem's CSV import and Zotero's split them there)."""
    return [row["id"], row["study_id"], row["source__name"], row["title"], row["abstract"],
            "; ".join(row["authors"] or []), row["year"], row["journal"], row["volume"],
            row["issue"], row["pages"], row["doi"], row["pmid"],
            "; ".join(row["keywords"] or []), row["url"], row["language"],
            row["publication_type"], row["duplicate_of_id"],
            _STATE_LABELS.get(row.get("ta_state"), ""),
            _STATE_LABELS.get(row.get("ft_state"), ""), row.get("ft_reason") or ""]


REFERENCE_FORMATS = {"ris": "RIS", "bibtex": "BibTeX", "csv": "CSV"}
REFERENCE_EXTENSIONS = {"ris": "ris", "bibtex": "bib", "csv": "csv"}


def write_references(out: BinaryIO, records: QuerySet[Record], file_format: str,
                     progress: Progress | None = None) -> int:
    """The records as RIS, BibTeX or CSV into `out`; answers how many."""
    if file_format == "csv":
        return write_csv(out, CSV_HEADER,
                         (csv_row(row) for row in record_values(records, with_states=True)),
                         progress=progress)
    render = {"ris": ris_record, "bibtex": bibtex_entry}[file_format]
    written, buffer = 0, []
    for written, row in enumerate(record_values(records), start=1):
        buffer.append(render(row))
        if written % CHUNK == 0:
            out.write("".join(buffer).encode("utf-8"))
            buffer.clear()
            if progress:
                progress(written)
    out.write("".join(buffer).encode("utf-8"))
    if progress:
        progress(written)
    return written


# ---------------------------------------------------------------------------------------------
# Screening decisions and agreement

DECISION_HEADER = ["Record ID", "Title", "Stage", "Kind", "Reviewer", "Decision", "Reason",
                   "Note", "Time"]
_STAGE_RANK = Case(When(stage=TA, then=0), default=1, output_field=IntegerField())
_STAGE_LABELS = dict(Stage.choices)
_DECISION_LABELS = {**dict(Decision.choices),
                    # A resolution is stored as the state it settles the record in.
                    State.INCLUDED: Decision.INCLUDE.label,
                    State.EXCLUDED: Decision.EXCLUDE.label}


def people(project: Project) -> dict[int, str]:
    """Everyone who voted in or settled a record of the project (members or not any more):
    user id -> the name teammates see."""
    voters = Vote.objects.filter(screening__project=project).values("reviewer_id")
    settlers = Screening.objects.filter(project=project, settled_by__isnull=False) \
        .values("settled_by_id")
    return {user.pk: str(user) for user in User.objects.filter(Q(pk__in=voters)
                                                               | Q(pk__in=settlers))}


def decision_rows(project: Project) -> Iterator[list[Any]]:
    """One row per vote and per resolution (after the votes it settled) of every record at
    every stage where the record is settled (included or excluded), in record order, title
    and abstract first. A stage still waiting for votes or in conflict gives no row, so no
    one's vote is seen before the record is settled (blinding holds in the file too).
    Duplicates are left out, as the agreement leaves them out."""
    names = people(project)
    settled = Q(screening__state__in=SETTLED, screening__record__duplicate_of__isnull=True)
    votes = (Vote.objects.filter(settled, screening__project=project)
             .annotate(rank=Case(When(screening__stage=TA, then=0), default=1,
                                 output_field=IntegerField()))
             .order_by("screening__record_id", "rank", "created_at", "id")
             .values_list("screening__record_id", "rank", "screening__record__title",
                          "screening__stage", "reviewer_id", "decision", "reason__label",
                          "note", "updated_at")
             .iterator(chunk_size=CHUNK))
    resolutions = (Screening.objects.filter(project=project, state__in=SETTLED,
                                            settled_by__isnull=False,
                                            record__duplicate_of__isnull=True)
                   .annotate(rank=_STAGE_RANK).order_by("record_id", "rank")
                   .values_list("record_id", "rank", "record__title", "stage", "settled_by_id",
                                "state", "reason__label", "note", "settled_at")
                   .iterator(chunk_size=CHUNK))

    def tagged(rows, kind):
        for row in rows:
            yield (row[0], row[1], kind), row

    for (_record, _rank, kind), row in heapq.merge(tagged(votes, 0), tagged(resolutions, 1),
                                                   key=lambda item: item[0]):
        record_id, _, title, stage, who, decision, reason, note, at = row
        yield [record_id, title, _STAGE_LABELS[stage],
               "Vote" if kind == 0 else "Resolution", names.get(who, f"User {who}"),
               _DECISION_LABELS[decision], reason or "", note,
               at]


def decisions_table(project: Project) -> Table:
    header = DECISION_HEADER[:-1] + [f"Time ({settings.TIME_ZONE})"]
    return Table("Decisions", "decisions.csv", header, decision_rows(project))


AGREEMENT_HEADER = ["Stage", *agreement.CSV_HEADER]


def agreement_rows(project: Project) -> list[list[str]]:
    """Per stage, one row per reviewer pair (records both voted on, the 2x2 table, percent
    agreement, kappa) and an "All pairs" row of the pooled table: `screening.agreement`'s
    CSV rows over the settled votes (`screening.queries.pair_agreements`: never a vote on a
    record still waiting for others)."""
    names = people(project)
    rows = []
    for stage, label in Stage.choices:
        pairs = screening_queries.pair_agreements(project, stage)
        if not pairs:
            continue
        body = agreement.csv_rows(pairs, names)[1:]
        pooled = agreement.csv_rows([agreement.overall(pairs)], {0: "All pairs"})[1]
        pooled[1] = ""
        rows += [[label, *row] for row in body] + [[label, *pooled]]
    return rows


def _number(cell: str) -> Any:
    """A figure of `agreement.csv_rows` as a number for a sheet ("0.400" -> 0.4)."""
    if re.fullmatch(r"-?\d+", cell):
        return int(cell)
    if re.fullmatch(r"-?\d+\.\d+", cell):
        return Decimal(cell)
    return cell


def agreement_table(project: Project, *, numbers: bool = False) -> Table:
    rows = agreement_rows(project)
    if numbers:
        rows = [row[:3] + [_number(cell) for cell in row[3:]] for row in rows]
    return Table("Agreement", "agreement.csv", AGREEMENT_HEADER, rows)


# ---------------------------------------------------------------------------------------------
# Extraction: the raw extractions of settled studies

RAW_HEADER = ["Study ID", "Study", "Title", "Extractor", "Status", "Completed", "Form version"]


def raw_extraction_rows(project: Project, table: ExtractionTable) -> Iterator[list[Any]]:
    """One row per main-round extraction by an extractor, of each study in `table` (whose
    data are settled: its consensus is complete, or in single mode its one extraction), in
    study order; one column per field of the table, written as the consensus table writes
    it. A study still waiting for consensus gives no row: no extractor's values reach
    anyone before the study is settled."""
    studies = {row.study.pk: row for row in table.rows}
    extractions = (Extraction.objects.filter(project=project, round=Round.MAIN,
                                             role=Extraction.Role.EXTRACTOR,
                                             study_id__in=list(studies))
                   .select_related("reviewer", "version").order_by("study_id", "id"))
    batch: list[Extraction] = []
    for extraction in extractions.iterator(chunk_size=500):
        batch.append(extraction)
        if len(batch) == 500:
            yield from _raw_batch(batch, studies, table)
            batch = []
    yield from _raw_batch(batch, studies, table)


def _raw_batch(batch: list[Extraction], studies: dict, table: ExtractionTable
               ) -> Iterator[list[Any]]:
    if not batch:
        return
    answers: dict[int, dict[int, tuple[Any, str]]] = {e.pk: {} for e in batch}
    for extraction_id, field_id, value, other in (
            Answer.objects.filter(extraction__in=batch)
            .values_list("extraction_id", "field_id", "value", "other")):
        answers[extraction_id][field_id] = (value, other)
    for extraction in batch:
        row = studies[extraction.study_id]
        given = answers[extraction.pk]
        cells = [row.study.pk, row.label, row.title, str(extraction.reviewer or ""),
                 extraction.get_status_display(), extraction.completed_at,
                 extraction.version.number]
        for fld in table.fields:
            value, other = given.get(fld.pk, (None, ""))
            cells.append(extraction_exports.cell(fld, value, other))
        yield cells


def raw_extractions_table(project: Project, table: ExtractionTable) -> Table:
    header = RAW_HEADER + [extraction_exports.header_of(fld) for fld in table.fields]
    return Table("Raw extractions", "raw-extractions.csv", header,
                 raw_extraction_rows(project, table))


# ---------------------------------------------------------------------------------------------
# Charting

FRAMEWORK_HEADER = ["Category", "Under", "Retired", "n", "Studies", "References"]
THEME_HEADER = ["Theme", "Kind", "Levels", "Components", "n", "Studies", "References"]
STUDY_HEADER = ["Number", "Study", "Study ID"]
FIGURE_FILE = "figure-2-barriers-and-facilitators.svg"


def charting_tables(chart: Charting) -> list[Table]:
    """One table per framework (its categories in order: a TDF domain names its COM-B
    component under "Under"), then the themes and the numbered studies the citation numbers
    refer to: all from `frameworks.queries.charting`."""
    names: set[str] = set()
    files: set[str] = set()
    tables = []
    for fw in chart.frameworks:
        by_id = {c.category.pk: c.name for c in fw.categories}
        rows = [[c.name, by_id.get(c.category.parent_id, "") if c.depth else "",
                 "yes" if c.retired else "", c.n, c.citations, c.references]
                for c in fw.categories]
        tables.append(Table(unique_sheet_name(fw.name, names),
                            unique_filename(f"framework-{fw.name}", files),
                            FRAMEWORK_HEADER, rows))
    tables.append(Table(unique_sheet_name("Themes", names), unique_filename("themes", files),
                        THEME_HEADER,
                        [[t.name, t.kind, "; ".join(t.levels), "; ".join(t.components), t.n,
                          t.citations, "; ".join(s.label for s in t.studies)]
                         for t in chart.themes]))
    tables.append(Table(unique_sheet_name("Studies", names), unique_filename("studies", files),
                        STUDY_HEADER, [[s.number, s.label, s.study.pk] for s in chart.studies]))
    return tables


def charting_files(chart: Charting) -> dict[str, str]:
    return {FIGURE_FILE: figure_svg(chart)}
