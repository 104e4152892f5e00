"""CSV, TSV and Excel (.xlsx): a header row, one record per row, and a column mapping."""

import csv
import datetime
import io
import re

from . import normalise as n
from .base import MAPPABLE_FIELDS, ImportFileError, ParsedRecord
from .text import decode, detect_encoding, text_head

# For each field, header names that usually hold it (compared in lower case, with runs of
# spaces, "_", "-", "." and parentheses as one space), best first: Zotero, Scopus, Web of
# Science (CSV, and tab-delimited with its two-letter tags), PubMed, EndNote, Covidence,
# Rayyan and the benchmark (BibDedupe) exports.
SYNONYMS: dict[str, list[str]] = {
    "title": ["title", "article title", "document title", "primary title", "title of article",
              "ti", "t1"],
    "abstract": ["abstract", "abstract note", "abstracts", "ab", "n2"],
    "authors": ["authors", "author", "author s", "author full names", "author names",
                "creators", "af", "au", "a1"],
    "year": ["publication year", "year", "published year", "pubyear", "pub year",
             "year published", "py", "publication date", "date", "y1"],
    "journal": ["publication title", "journal", "source title", "journal title",
                "journal name", "journal/book", "secondary title", "periodical", "so", "t2",
                "jo", "jf"],
    "volume": ["volume", "vol", "vl"],
    "issue": ["issue", "number", "issue number", "is", "ip"],
    "pages": ["pages", "page", "page range", "pagination"],
    "doi": ["doi", "di", "do", "digital object identifier"],
    "pmid": ["pmid", "pubmed id", "pubmedid", "pubmed", "pm"],
    "keywords": ["keywords", "author keywords", "manual tags", "automatic tags", "keyword",
                 "index keywords", "keywords plus", "mesh terms", "tags", "de", "kw"],
    "url": ["url", "link", "links", "uri", "ur"],
    "publication_type": ["item type", "document type", "publication type", "entrytype",
                         "reference type", "type", "pt", "dt", "ty"],
    # "UT" before "ID": in Web of Science files "ID" holds the Keywords Plus.
    "source_record_id": ["ut unique wos id", "unique wos id", "ut", "id", "key", "record id",
                         "record number", "covidence #", "accession number", "eid", "an"],
}
_NAME_NOISE = re.compile(r"[\s_\-.()]+")


def _normal_name(name: str) -> str:
    return _NAME_NOISE.sub(" ", name.lower()).strip()


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """MAPPABLE_FIELDS -> column, for the columns whose names say what they hold."""
    by_name: dict[str, str] = {}
    for column in columns:
        by_name.setdefault(_normal_name(column), column)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for field in MAPPABLE_FIELDS:
        for name in SYNONYMS[field]:
            column = by_name.get(name)
            if column is not None and column not in used:
                mapping[field] = column
                used.add(column)
                break
    return mapping


def _unique_header(cells: list[str]) -> list[str]:
    """Header names, trimmed; an empty one is "Column 3"; a repeated one "Title (2)"."""
    header: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(cells, 1):
        name = cell.strip() or f"Column {index}"
        candidate, count = name, 1
        while candidate in seen:
            count += 1
            candidate = f"{name} ({count})"
        seen.add(candidate)
        header.append(candidate)
    return header


def sniff_delimiter(sample: str, preferred: str | None = None) -> tuple[str, int]:
    """The delimiter (tab, comma or semicolon) that splits the first lines of `sample`
    into the most columns consistently, and that number of columns (0: none fits)."""
    lines = sample.split("\n")
    if len(lines) > 1 and not sample.endswith("\n"):
        sample = "\n".join(lines[:-1])  # a cut last line would look ragged
    best, best_score = ",", 0
    for delimiter in ("\t", ",", ";"):
        rows = []
        try:
            for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
                if any(cell.strip() for cell in row):
                    rows.append(len(row))
                if len(rows) >= 20:
                    break
        except csv.Error:
            continue
        if not rows or rows[0] < 2:
            continue
        consistent = sum(1 for count in rows if count == rows[0])
        score = rows[0] if consistent * 2 > len(rows) else 1
        if score > best_score or (score == best_score and delimiter == preferred):
            best, best_score = delimiter, score
    return best, best_score


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else \
            value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


# The delimiter of a CSV is judged on this many characters from its start.
SNIFF_CHARS = 65536


def _read_delimited(data: bytes, filename: str, delimiter: str | None
                    ) -> tuple[list[str], list[list[str]], list[int], str]:
    text, encoding = decode(data, filename)
    header, rows, lines = _read_text(text, filename, delimiter)
    return header, rows, lines, encoding


def _read_text(text: str, filename: str, delimiter: str | None, limit: int | None = None
               ) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and their lines of a delimited text; only the first `limit` rows when
    it is given."""
    if delimiter is None:  # csv: comma, or semicolon as European Excel writes
        delimiter, _ = sniff_delimiter(text[:SNIFF_CHARS], preferred=",")
        if delimiter == "\t":
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 1
    rows: list[list[str]] = []
    lines: list[int] = []
    line = 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header, header_line = _unique_header(row), start
                continue
            if len(row) != len(header):
                raise ImportFileError(
                    f"this row has {len(row)} cells but the header (line {header_line}) has "
                    f"{len(header)}: is a delimiter or a quote \" too many or missing?",
                    filename=filename, line=start, record=len(rows) + 1)
            rows.append(row)
            lines.append(start)
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as exc:
        raise ImportFileError(f"the row cannot be read ({exc})", filename=filename,
                              line=reader.line_num, record=len(rows) + 1) from None
    if header is None:
        raise ImportFileError("the file has no header row", filename=filename)
    return header, rows, lines


def _read_xlsx(data: bytes, filename: str, limit: int | None = None
               ) -> tuple[list[str], list[list[str]], list[int]]:
    import openpyxl  # only needed here; it is slow to import

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (BadZipFile, KeyError...)
        raise ImportFileError(f"the file cannot be read as an Excel workbook (.xlsx): {exc}",
                              filename=filename) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise ImportFileError("the workbook has no worksheet", filename=filename)
        header: list[str] | None = None
        rows: list[list[str]] = []
        lines: list[int] = []
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
                row = [_cell(value) for value in values]
                while row and not row[-1].strip():
                    row.pop()
                if not row:
                    continue
                if header is None:
                    header = _unique_header(row)
                    continue
                if len(row) > len(header):
                    raise ImportFileError(
                        f"this row has a value in column {len(row)}, which has no header "
                        f"(the header has {len(header)} columns)",
                        filename=filename, line=number, record=len(rows) + 1)
                rows.append(row + [""] * (len(header) - len(row)))
                lines.append(number)
                if limit is not None and len(rows) >= limit:
                    break
        except ImportFileError:
            raise
        except Exception as exc:
            raise ImportFileError(f"the worksheet cannot be read: {exc}",
                                  filename=filename) from None
    finally:
        workbook.close()
    if header is None:
        raise ImportFileError("the first worksheet is empty", filename=filename)
    return header, rows, lines


def read(data: bytes, filename: str, format: str
         ) -> tuple[list[str], list[list[str]], list[int], str]:
    """Header, rows (padded to the header), the line (or sheet row) of each, encoding."""
    if format == "xlsx":
        header, rows, lines = _read_xlsx(data, filename)
        return header, rows, lines, "utf-8"
    return _read_delimited(data, filename, "\t" if format == "tsv" else None)


PREVIEW_ROWS = 5
PREVIEW_HEAD_BYTES = 1024 * 1024


def preview(data: bytes, filename: str, format: str, rows: int = PREVIEW_ROWS,
            head_bytes: int = PREVIEW_HEAD_BYTES) -> tuple[list[str], list[list[str]]]:
    """The header and the first `rows` rows exactly as `read` gives them, without reading
    the rest of the table: what the column-mapping page shows. A CSV or TSV is decoded from
    its start only, in a slice that grows until it holds one row more than asked (so the
    last row shown was not cut by the slice) and the characters its delimiter is judged on.
    Errors after those rows are left to `read`."""
    if format == "xlsx":
        header, sample, _ = _read_xlsx(data, filename, limit=rows)
        return header, sample
    delimiter = "\t" if format == "tsv" else None
    encoding = detect_encoding(data)  # of the whole file, as `read` judges it
    size = head_bytes
    while size < len(data):
        text = text_head(data, encoding, size)
        try:
            header, sample, _ = _read_text(text, filename, delimiter, limit=rows + 1)
        except ImportFileError:
            pass  # perhaps a row cut by the slice: read a longer one
        else:
            if len(sample) > rows and len(text) >= SNIFF_CHARS:
                return header, sample[:rows]
        size *= 4
    text, _ = decode(data, filename)
    header, sample, _ = _read_text(text, filename, delimiter, limit=rows)
    return header, sample


def records(header: list[str], rows: list[list[str]], lines: list[int],
            mapping: dict[str, str] | None, filename: str) -> list[ParsedRecord]:
    if mapping is None:
        mapping = guess_mapping(header)
        if "title" not in mapping and "abstract" not in mapping:
            raise ImportFileError(
                "no column looks like a title or an abstract (columns: "
                f"{', '.join(header)}); choose which columns hold which field",
                filename=filename)
    index: dict[str, int] = {}
    for field, column in mapping.items():
        if not column:
            continue
        if field not in MAPPABLE_FIELDS:
            raise ImportFileError(f"{field!r} is not a field a column can be mapped to "
                                  f"({', '.join(MAPPABLE_FIELDS)})", filename=filename)
        if column not in header:
            raise ImportFileError(
                f"the column {column!r} chosen for {field} is not in the file (its columns: "
                f"{', '.join(header)})", filename=filename, field=field)
        index[field] = header.index(column)

    def cell(row: list[str], field: str) -> str:
        i = index.get(field)
        return row[i].strip() if i is not None else ""

    out = []
    for position, (row, line) in enumerate(zip(rows, lines, strict=True), 1):
        url = cell(row, "url")
        out.append(ParsedRecord(
            position=position,
            line=line,
            source_record_id=cell(row, "source_record_id"),
            title=n.one_line(cell(row, "title")),
            abstract=cell(row, "abstract"),
            authors=_authors(cell(row, "authors")),
            year=n.year(cell(row, "year")),
            journal=n.one_line(cell(row, "journal")),
            volume=cell(row, "volume"),
            issue=cell(row, "issue"),
            pages=cell(row, "pages"),
            doi=n.doi(cell(row, "doi")),
            pmid=n.pmid(cell(row, "pmid")),
            keywords=n.split_list(cell(row, "keywords")),
            url=url.split()[0] if url else "",
            publication_type=n.one_line(cell(row, "publication_type")),
            raw={column: value for column, value in zip(header, row, strict=True) if value},
        ))
    return out


def _authors(value: str) -> list[str]:
    """Authors of a table cell: 'A; B' (Zotero, Scopus), or BibTeX's 'Last, F. and Last, G.'
    when there is no semicolon."""
    if ";" not in value and " and " in value:
        return n.split_list(value, " and ")
    return n.split_list(value)
