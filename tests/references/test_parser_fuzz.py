"""Whatever bytes come in, `parse` gives a ParseResult or an ImportFileError: never another
exception, never a partial result, and records numbered 1..n in file order."""

import io
import json
from functools import cache
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from references.parsers import INTERNAL_ERROR, ImportFileError, ParseResult, parse

FIXTURES = Path(__file__).parent / "fixtures"
VALID = [
    ("ris_bom_crlf.ris", "ris"), ("ris_ovid.ris", "ris"), ("ris_ebsco.ris", "ris"),
    ("pubmed.nbib", "nbib"), ("pubmed_no_final_newline.txt", "nbib"),
    ("bibtex_duplicate_field.bib", "bibtex"), ("endnote.xml", "endnote-xml"),
    ("wos_unknown_tags.txt", "wos"), ("zotero_bom.csv", "csv"), ("windows1252.csv", "csv"),
    ("benchmark.tsv", "tsv"),
]
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@cache
def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@cache
def xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Title", "Authors", "Year"])
    workbook.active.append(["Partnership charters", "Rossi, Marco; Lee, Ann", 2012])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def check(data: bytes, filename: str, format: str = "auto") -> ParseResult | None:
    """Parse; assert the all-or-nothing contract; return the result (None: an error)."""
    try:
        result = parse(data, filename=filename, format=format)
    except ImportFileError as exc:
        message = str(exc)
        assert message and INTERNAL_ERROR not in message, message
        return None
    assert isinstance(result, ParseResult)
    assert result.records, "a result without records should have been an ImportFileError"
    assert [r.position for r in result.records] == list(range(1, len(result.records) + 1))
    lines = [r.line for r in result.records if r.line is not None]
    assert lines == sorted(lines) and all(line >= 1 for line in lines)
    for record in result.records:
        assert record.year is None or 1000 <= record.year <= 2100
        assert record.doi == record.doi.lower()
        json.dumps(record.raw)
        json.dumps(record.other_ids)
    return result


@FUZZ
@given(st.binary(max_size=3000))
def test_parse_arbitrary_bytes_result_or_import_error(data):
    check(data, "upload.bin")


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(
    ["ris", "nbib", "bibtex", "endnote-xml", "wos", "csv", "tsv", "xlsx"]))
def test_parse_arbitrary_bytes_each_format_result_or_import_error(data, format):
    check(data, "upload.bin", format)


def mutate(data: bytes, draw) -> bytes:
    kind = draw(st.sampled_from(["truncate", "insert", "duplicate_line", "delete_line",
                                 "swap_lines"]))
    if kind == "truncate":
        return data[:draw(st.integers(0, len(data)))]
    if kind == "insert":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=20)) + data[at:]
    lines = data.split(b"\n")
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "duplicate_line":
        lines.insert(i, lines[i])
    elif kind == "delete_line":
        del lines[i]
    else:
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


@FUZZ
@given(st.sampled_from(VALID), st.data())
def test_parse_mutated_fixtures_result_or_import_error(case, data):
    name, format = case
    mutated = fixture(name)
    for _ in range(data.draw(st.integers(1, 3))):
        mutated = mutate(mutated, data.draw)
    check(mutated, name)
    check(mutated, name, format)


@FUZZ
@given(st.data())
def test_parse_mutated_xlsx_result_or_import_error(data):
    check(mutate(xlsx(), data.draw), "search.xlsx")


# Lines that look like the formats, so that the fuzzing reaches deep into each reader.
LINES = {
    "ris": ["TY  - JOUR", "ER  - ", "ER  -", "AU  - Rossi, M", "TI  - Partnerships", "",
            "  continued", "1.", "PY  - 2020", "KW  - a", "DO  - 10.1/x", "AD  - x USAAD  - y",
            "\ufeffTY  - BOOK", "SP  - 1", "EP  - 9", "C2  - PMC1", "AN  - 123", "DB  - PubMed"],
    "nbib": ["PMID- 123", "TI  - Partnerships", "      continued", "", "FAU - Rossi, M",
             "AU  - Rossi M", "LID - 10.1/x [doi]", "DP  - 2020 Jan", "PMC - PMC1", "junk"],
    "wos": ["FN Clarivate", "VR 1.0", "PT J", "ER", "EF", "AU Rossi, M", "   Lee, A",
            "TI Partnerships", "PY 2020", "Z8 0", "", "DE a; b", "junk line"],
    "bibtex": ["@article{a,", "@book{b,", "}", "title = {Partnerships},", "author = {A and B},",
               'year = "2020",', "note = {x", "@string{s = {S}}", "journal = s # {J},", "",
               "@comment{c}", "{", "pages = {1--2},"],
    "endnote-xml": ["<xml><records>", "<record>", "</record>", "</records></xml>",
                    "<titles><title>A</title></titles>", "<style>B</style>", "<year>2020</year>",
                    "&amp;", "<!ENTITY x 'y'>", "<", ""],
    "csv": ["title,author,year", "A,\"B; C\",2020", "\"x", "a,b", "", "t\tx", "\"q\"\"\",1,2"],
}


@FUZZ
@given(st.sampled_from(sorted(LINES)), st.data())
def test_parse_format_like_lines_result_or_import_error(format, data):
    lines = data.draw(st.lists(st.sampled_from(LINES[format]), max_size=40))
    newline = data.draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(lines) + data.draw(st.sampled_from(["", newline]))
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        raw = text.encode("utf-8")
    check(raw, f"upload.{format}")
    check(raw, f"upload.{format}", format)


@pytest.mark.parametrize(("name", "format"), VALID)
def test_parse_valid_fixtures_pass_the_contract(name, format):
    result = check(fixture(name), name)
    assert result is not None and result.format == format
