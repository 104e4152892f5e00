"""The import parsers on small files we wrote by hand (tests/references/fixtures/)."""

import io
import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from references import parsers
from references.parsers import (
    ImportFileError,
    decode,
    detect_format,
    guess_mapping,
    parse,
    read_table,
)

FIXTURES = Path(__file__).parent / "fixtures"
NOT_READABLE = ("is not a reference file Tandem can read (RIS, PubMed, BibTeX, EndNote XML, "
                "Web of Science, CSV, TSV or XLSX).")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_fixture(name: str, **kwargs):
    return parse(fixture(name), filename=name, **kwargs)


def error_of(data: bytes, filename: str, **kwargs) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        parse(data, filename=filename, **kwargs)
    return caught.value


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


XLSX_ROWS = [
    ["Title", "Authors", "Publication Year", "Source title", "DOI", "PubMed ID", "Notes"],
    ["Learning health systems and research partnerships", "Ahn, Ji-woo; Wright, Ben", 2021,
     "Learning Health Systems Notes", "https://doi.org/10.5555/LHS.2021.7", 34000001.0, None],
    [None, None, None, None, None, None, None],
    ["Partnered research in long-term care", "Silva, Rita", "2019", None, None, None,
     date(2020, 1, 31)],
]


# --- decoding -------------------------------------------------------------------------------


def test_decode_utf8_bom_and_crlf():
    assert decode(b"\xef\xbb\xbfTY  - JOUR\r\nER  - \r\n", "a.ris") == (
        "TY  - JOUR\nER  - \n", "utf-8-sig")


def test_decode_utf8_without_bom_and_old_mac_newlines():
    assert decode("Tremblay, Marie-Ève\rB\n".encode(), "a.txt") == (
        "Tremblay, Marie-Ève\nB\n", "utf-8")


def test_decode_utf16_with_bom_little_and_big_endian():
    text = "TY  - JOUR\r\nTI  - Übersetzung – partnerships\r\nER  - \r\n"
    expected = "TY  - JOUR\nTI  - Übersetzung – partnerships\nER  - \n"
    assert decode(b"\xff\xfe" + text.encode("utf-16-le"), "a.ris") == (expected, "utf-16-le")
    assert decode(b"\xfe\xff" + text.encode("utf-16-be"), "a.ris") == (expected, "utf-16-be")


def test_decode_utf16_without_bom():
    assert decode("TY  - JOUR\n".encode("utf-16-le"), "a.ris") == ("TY  - JOUR\n", "utf-16-le")


def test_decode_windows1252_when_not_utf8():
    assert decode("Bélanger – O’Connor".encode("cp1252"), "a.csv") == (
        "Bélanger – O’Connor", "cp1252")


def test_decode_latin1_when_not_windows1252():
    # 0x81 is undefined in Windows-1252.
    assert decode(b"Gr\xfc\x81e", "a.csv") == ("Grü\x81e", "latin-1")


def test_decode_utf16_odd_byte_is_import_error():
    with pytest.raises(ImportFileError) as caught:
        decode(b"\xff\xfeT\x00Y", "broken.ris")
    assert str(caught.value) == ("broken.ris, line 1: the file looks like UTF-16-LE text, but "
                                 "byte 5 is not valid UTF-16-LE (is the file truncated or "
                                 "damaged?)")


# --- detecting the format -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("ris_bom_crlf.ris", "ris"),
    ("ris_ovid.ris", "ris"),
    ("ris_ebsco.ris", "ris"),
    ("pubmed.nbib", "nbib"),
    ("pubmed_no_final_newline.txt", "nbib"),
    ("bibtex_duplicate_field.bib", "bibtex"),
    ("endnote.xml", "endnote-xml"),
    ("wos_unknown_tags.txt", "wos"),
    ("zotero_bom.csv", "csv"),
    ("windows1252.csv", "csv"),
    ("benchmark.tsv", "tsv"),
])
def test_detect_format_fixtures_by_content(name, expected):
    assert detect_format(fixture(name), name) == expected
    # The content decides, not the name.
    assert detect_format(fixture(name), "export.dat") == expected


def test_detect_format_xlsx():
    assert detect_format(xlsx_bytes(XLSX_ROWS), "search.xlsx") == "xlsx"


def test_detect_format_tsv_named_txt():
    assert detect_format(b"title\tyear\nA\t2020\n", "savedrecs.txt") == "tsv"


def test_detect_format_semicolon_csv():
    assert detect_format(b"title;year\nA;2020\n", "export.csv") == "csv"


def test_detect_format_ris_after_preamble():
    data = b"Search history: partnership* AND knowledge\n\nTY  - JOUR\nTI  - A\nER  - \n"
    assert detect_format(data, "export.txt") == "ris"


def test_detect_format_unknown_text_is_import_error():
    with pytest.raises(ImportFileError) as caught:
        detect_format(b"Dear colleagues\nplease find the references attached\n", "letter.txt")
    assert str(caught.value) == f"letter.txt {NOT_READABLE}"
    assert caught.value.filename == "letter.txt"


def test_detect_format_binary_and_other_zip_are_import_errors():
    with pytest.raises(ImportFileError) as caught:
        detect_format(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01", "figure.png")
    assert str(caught.value) == f"figure.png {NOT_READABLE}"
    docx = io.BytesIO()
    import zipfile
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(ImportFileError) as caught:
        detect_format(docx.getvalue(), "protocol.docx")
    assert str(caught.value) == f"protocol.docx {NOT_READABLE}"


def test_detect_format_xls_is_import_error_with_hint():
    with pytest.raises(ImportFileError) as caught:
        detect_format(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls")
    assert str(caught.value) == (f"old.xls {NOT_READABLE} Save an Excel 97-2003 workbook (.xls) "
                                 "as .xlsx or CSV.")


# --- RIS ------------------------------------------------------------------------------------


def test_parse_ris_bom_crlf_continuation_lines():
    result = parse_fixture("ris_bom_crlf.ris")
    assert (result.format, result.encoding, result.warnings) == ("ris", "utf-8-sig", [])
    assert [r.position for r in result.records] == [1, 2, 3]
    assert [r.line for r in result.records] == [1, 31, 42]
    first = result.records[0]
    assert first.source_record_id == "KT-0001"
    assert first.title == ("Research partnerships between universities and community health "
                           "organisations: a scoping review")
    assert first.authors == ["Okafor, Adaeze N.", "Lindqvist, Per", "Tremblay, Marie-Ève"]
    assert first.year == 2019
    assert first.journal == "Journal of Knowledge Translation"
    assert (first.volume, first.issue, first.pages) == ("12", "2", "101-118")
    assert first.doi == "10.5555/jkt.2019.0042"
    assert first.pmid == "30811234"
    assert first.other_ids == {"issn": "1234-5678"}
    assert first.keywords == ["research partnership", "Community engagement",
                              "integrated knowledge translation", "scoping review"]
    assert first.abstract == (
        "Background: Partnerships between researchers and knowledge users are promoted to make "
        "research more relevant.\nMethods: We mapped 84 reports of university-community "
        "partnerships.\n\nResults: Most partnerships shared decisions on research questions; "
        "few shared budgets.")
    assert (first.language, first.url, first.publication_type) == (
        "English", "https://example.org/jkt/2019/0042", "JOUR")
    assert first.raw["DO"] == ["https://doi.org/10.5555/JKT.2019.0042"]
    assert first.raw["J2"] == ["J Knowl Transl"]
    assert first.problems == []


def test_parse_ris_chapter_and_unusable_record_kept():
    second, third = parse_fixture("ris_bom_crlf.ris").records[1:]
    assert (second.title, second.authors, second.journal, second.pages) == (
        "Co-producing guidelines with patients", ["Haddad, Samir"],
        "Handbook of Engaged Scholarship", "45-67")
    assert second.doi == "10.5555/hes.2021.ch3"
    assert second.other_ids == {"isbn": "9780123456789"}
    assert second.publication_type == "CHAP"
    # No title, no abstract, a year that is not one: still a record, with its problem.
    assert (third.position, third.line, third.source_record_id) == (3, 42, "KT-0003")
    assert (third.title, third.abstract, third.year) == ("", "", None)
    assert third.problems == ["no title and no abstract"]
    assert third.raw == {"TY": ["JOUR"], "ID": ["KT-0003"], "AU": ["Nguyen, Thi Lan"],
                         "PY": ["n.d."], "T2": ["Implementation Science Letters"]}


def test_parse_ris_ovid_numbering_and_links_between_records():
    result = parse_fixture("ris_ovid.ris")
    assert [(r.position, r.line, r.source_record_id) for r in result.records] == [
        (1, 2, "20193088123"), (2, 24, "20193088456")]
    first = result.records[0]
    assert first.title == "Knowledge brokers in regional health systems: a realist evaluation."
    assert first.authors == ["Fernandes, R.", "Osei, K. A."]
    assert first.year == 2018
    assert first.doi == "10.5555/kmb.2018.117"
    assert first.journal == "Knowledge Management in Health"
    assert first.abstract.startswith("Knowledge brokers link researchers and decision makers.")
    assert first.pages == "233-241"
    assert result.warnings == []


def test_parse_ris_ebsco_without_final_newline():
    data = fixture("ris_ebsco.ris")
    assert not data.endswith(b"\n")
    [record] = parse(data, filename="ris_ebsco.ris").records
    assert record.title == "Deliberative dialogues as a knowledge translation strategy."
    assert record.authors == ["Mbeki, Thandiwe", "Kowalczyk, Jan"]
    assert record.year == 2021
    assert record.journal == "Health Research Policy Notes"
    # The first AB is the abstract; EBSCO's copyright line stays in raw.
    assert record.abstract == ("Deliberative dialogues bring together researchers, policy "
                               "makers and citizens.")
    assert len(record.raw["AB"]) == 2
    assert record.doi == "10.5555/hrpn.2021.212"  # from L3
    assert record.other_ids == {"issn": "1606-6359"}
    assert record.source_record_id == ""


def test_parse_ris_utf16_with_bom():
    text = fixture("ris_bom_crlf.ris").decode("utf-8-sig")
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        result = parse(bom + text.encode(codec), filename="utf16.ris")
        assert (result.format, result.encoding) == ("ris", codec)
        assert [r.title for r in result.records] == [
            r.title for r in parse_fixture("ris_bom_crlf.ris").records]
        assert result.records[0].authors[2] == "Tremblay, Marie-Ève"


def test_parse_ris_glued_tags_are_split():
    data = (b"TY  - JOUR\nTI  - Glued tags\nAD  - Univ A, City 1 USAAD  - Univ B, City 2 USA\n"
            b"WE  - Science Citation Index Expanded (SCI-EXPANDED)AN  - WOS:000000000000001\n"
            b"ER  - \n")
    [record] = parse(data, filename="wos.ris").records
    assert record.raw["AD"] == ["Univ A, City 1 USA", "Univ B, City 2 USA"]
    assert record.raw["WE"] == ["Science Citation Index Expanded (SCI-EXPANDED)"]
    assert record.source_record_id == "WOS:000000000000001"


def test_parse_ris_concatenated_files_with_second_bom():
    data = fixture("ris_ovid.ris") + fixture("ris_bom_crlf.ris")
    result = parse(data, filename="both.ris")
    assert [r.position for r in result.records] == [1, 2, 3, 4, 5]
    assert [r.line for r in result.records] == [2, 24, 36, 66, 77]  # 35 lines, then 47


def test_parse_ris_big_file_across_pieces(monkeypatch):
    # Records that straddle the pieces the file is decoded in keep their lines and values.
    monkeypatch.setattr(parsers.text, "CHUNK_BYTES", 64)
    records = parse_fixture("ris_bom_crlf.ris").records
    small = parse(fixture("ris_bom_crlf.ris") * 3, filename="x.ris").records
    assert [r.line for r in small] == [1, 31, 42, 48, 78, 89, 95, 125, 136]  # 47 lines each
    assert [r.raw for r in small] == [r.raw for r in records] * 3


def test_parse_ris_truncated_record_is_import_error():
    error = error_of(fixture("ris_truncated.ris"), "ris_truncated.ris")
    assert str(error) == ("ris_truncated.ris, line 6, record 2: the file ends inside record 2, "
                          "which starts at line 6 and has no end line (ER  - ): is the file "
                          "complete?")
    assert (error.filename, error.line, error.record) == ("ris_truncated.ris", 6, 2)


def test_parse_ris_missing_er_before_next_record_is_import_error():
    data = b"TY  - JOUR\nTI  - One\n\nTY  - JOUR\nTI  - Two\nER  - \n"
    assert str(error_of(data, "a.ris")) == (
        "a.ris, line 4, record 1: record 1 (from line 1) has no end line (ER  - ) before the "
        "next record starts (TY  - )")


def test_parse_ris_missing_ty_is_import_error():
    data = b"TY  - JOUR\nTI  - One\nER  - \n\nTI  - Two\nER  - \n"
    error = error_of(data, "a.ris")
    assert str(error) == ("a.ris, line 5, record 2, field TI: the tag TI comes before the TY "
                          "line that starts a record: the TY tag is missing")


def test_parse_ris_stray_er_is_a_warning():
    result = parse(b"TY  - JOUR\nTI  - One\nER  - \nER  - \n", filename="a.ris")
    assert [r.title for r in result.records] == ["One"]
    assert result.warnings == ["a.ris, line 4: an end line (ER  - ) outside any record was "
                               "ignored."]


# --- PubMed / MEDLINE -----------------------------------------------------------------------


def test_parse_nbib_fields():
    result = parse_fixture("pubmed.nbib")
    assert (result.format, result.encoding) == ("nbib", "utf-8")
    first, second = result.records
    assert (first.position, first.line, first.source_record_id, first.pmid) == (
        1, 1, "31415926", "31415926")
    assert first.title == ("Integrated knowledge translation in health research partnerships: "
                           "a systematic review of outcomes.")
    assert first.authors == ["Gagnon, Marie-Pierre", "O'Brien, Siobhan"]  # FAU, not AU
    assert first.year == 2020
    assert first.journal == "Implementation science notes"  # JT, not TA
    assert (first.volume, first.issue, first.pages) == ("15", "1", "17")
    assert first.doi == "10.5555/is.2020.017"
    assert first.other_ids == {"pmcid": "PMC7054321", "issn": "1748-5908"}
    assert first.keywords == ["co-production", "research partnership",
                              "*Community-Based Participatory Research", "Humans"]
    assert first.publication_type == "Journal Article; Systematic Review"
    assert first.abstract == (
        "BACKGROUND: Integrated knowledge translation (IKT) engages knowledge users throughout "
        "research. METHODS: We reviewed 52 studies. RESULTS: IKT improved relevance and "
        "uptake.")
    assert first.raw["LID"] == ["10.5555/IS.2020.017 [doi]", "17 [pii]"]
    assert (second.position, second.line, second.pmid) == (2, 32, "32718281")
    assert second.authors == ["Adeyemi T", "Castro J"]  # AU when there is no FAU
    assert second.doi == "10.5555/hsr.2021.88"  # from AID


def test_parse_nbib_without_final_newline_keeps_last_record():
    data = fixture("pubmed_no_final_newline.txt")
    assert not data.endswith(b"\n")
    result = parse(data, filename="pubmed_no_final_newline.txt")
    assert [r.pmid for r in result.records] == ["31415926", "32718281"]
    assert result.records[1].journal == "Health services research notes"
    assert [r.raw for r in result.records] == [r.raw for r in parse_fixture(
        "pubmed.nbib").records]


# --- BibTeX ---------------------------------------------------------------------------------


def test_parse_bibtex_repeated_field_latex_and_macros():
    result = parse_fixture("bibtex_duplicate_field.bib")
    assert [(r.position, r.line, r.source_record_id) for r in result.records] == [
        (1, 4, "mueller2018"), (2, 19, "osei2020"), (3, 27, "osei2020")]
    first = result.records[0]
    assert first.title == "Knowledge brokers and Übersetzung: partnerships in German public health"
    assert first.authors == ["Müller, Jörg", "François, Hélène", "Evidence Network Collaboration"]
    assert first.journal == "Knowledge Translation Quarterly"  # @string + concatenation
    assert (first.year, first.volume, first.issue, first.pages) == (2018, "4", "2", "45-67")
    assert first.doi == "10.5555/ktq.2018.045"
    assert first.keywords == ["knowledge brokers", "partnerships"]
    assert first.publication_type == "article"
    assert first.raw["note"] == ["First note", "Second note"]
    assert first.raw["month"] == "March"
    assert first.raw["author"] == ('M{\\"u}ller, J{\\"o}rg and Fran{\\c c}ois, '
                                   "H{\\'e}l{\\`e}ne and {Evidence Network Collaboration}")
    assert result.warnings == [
        "bibtex_duplicate_field.bib, line 4 (record 1): the field(s) note appear more than once "
        "in entry mueller2018; the first value is used, all are kept.",
        "bibtex_duplicate_field.bib, line 27 (record 3): the key osei2020 is used by an earlier "
        "entry too; both are kept.",
    ]


def test_parse_bibtex_escapes_others_and_booktitle():
    second, third = parse_fixture("bibtex_duplicate_field.bib").records[1:]
    assert second.title == "Sharing power in research partnerships: 50% of budgets"
    assert second.authors == ["Osei, Kwame"]  # "and others" dropped
    assert second.journal == "Proceedings of the Engaged Research Conference"
    assert second.pages == "1-9"
    assert second.publication_type == "inproceedings"
    assert third.journal == "Evidence & Policy Letters"


def test_parse_bibtex_unbalanced_braces_is_import_error():
    error = error_of(fixture("bibtex_unbalanced.bib"), "bibtex_unbalanced.bib")
    assert str(error) == (
        "bibtex_unbalanced.bib, line 6, record 2: entry broken2020 is not valid BibTeX: "
        "Unexpected block start: `@article`. Was still looking for field-value closing `}`. "
        "Check for an unbalanced brace { } or quote \" in it or in the entry before")


def test_parse_bibtex_extra_closing_brace_is_import_error():
    data = b"@article{a1,\n  title = {One}},\n  year = {2020}\n}\n"
    assert str(error_of(data, "extra.bib")) == (
        "extra.bib, line 2, record 1: text follows the end of entry a1 (line 1) outside any "
        "entry: is a closing brace } too many, or a field outside its entry?")


def test_parse_bibtex_latex_forms():
    data = (rb"@article{k, title = {Gon{\c c}alves, na\"{\i}ve \'{e}t\'e, {\AA}se \& "
            rb"Ko\l{}odziej: $\alpha$-tests ~ 10--20\%}, author = {{\v{S}}koda, Ale{\v s} and "
            rb"D{\'\i}az, Mar{\'\i}a}}" b"\n")
    [record] = parse(data, filename="latex.bib").records
    assert record.title == ("Gonçalves, naïve été, Åse & Kołodziej: $\\alpha$-tests 10–20%")
    assert record.authors == ["Škoda, Aleš", "Díaz, María"]


# --- EndNote XML ----------------------------------------------------------------------------


def test_parse_endnote_xml():
    result = parse_fixture("endnote.xml")
    assert (result.format, result.encoding) == ("endnote-xml", "utf-8")
    first, second = result.records
    assert (first.position, first.line, first.source_record_id) == (1, 3, "17")
    assert first.title == "Evaluating research–practice partnerships in primary care"
    assert first.authors == ["Kaur, Harpreet", "Ahmed, Yusuf"]
    assert first.year == 2022
    assert first.journal == "Primary Care Research Notes"
    assert (first.volume, first.issue, first.pages) == ("8", "3", "e1023")
    assert first.doi == "10.5555/pcrn.2022.1023"
    assert first.pmid == "35012345"  # accession number of a PubMed record
    assert first.keywords == ["partnership", "primary care"]
    assert first.abstract == "We evaluated twelve research-practice partnerships & their outputs."
    assert (first.language, first.url, first.publication_type) == (
        "eng", "https://example.org/pcrn/1023", "Journal Article")
    assert first.raw["titles/secondary-title"] == ["Prim Care Res Notes"]
    assert first.raw["database@path"] == ["C:\\Partnerships.enl"]
    assert (second.position, second.line, second.title, second.authors, second.year) == (
        2, 4, "Knowledge exchange in municipal governments", ["Lopez, Ana"], 2019)
    assert second.publication_type == "Report"


def test_parse_endnote_xml_not_well_formed_is_import_error():
    data = b"<xml><records><record><titles><title>A</titles></record></records></xml>"
    assert str(error_of(data, "bad.xml")) == (
        "bad.xml, line 1, record 1: the XML is not well-formed (mismatched tag, column 41)")


def test_parse_endnote_xml_entity_declaration_is_import_error():
    data = (b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">]>'
            b"<xml><records><record><titles><title>&a;</title></titles></record></records></xml>")
    assert str(error_of(data, "bomb.xml")) == (
        "bomb.xml, line 1: the XML declares an entity (a); EndNote XML never does, and Tandem "
        "does not read such files")


# --- Web of Science -------------------------------------------------------------------------


def test_parse_wos_unknown_tags_kept():
    result = parse_fixture("wos_unknown_tags.txt")
    assert result.format == "wos"
    first, second = result.records
    assert (first.position, first.line, first.source_record_id) == (1, 3, "WOS:000470000000001")
    assert first.title == ("Boundary spanners in research-policy partnerships: a mixed-methods "
                           "study")
    assert first.authors == ["Moreau, Camille", "Bakshi, Rohan"]  # AF, not AU
    assert (first.year, first.journal, first.volume, first.issue, first.pages) == (
        2019, "EVIDENCE & POLICY REVIEW", "14", "2", "88-104")
    assert (first.doi, first.pmid) == ("10.5555/epr.2019.088", "30999888")
    assert first.keywords == ["boundary spanning", "research partnerships", "policy",
                              "KNOWLEDGE", "USE"]
    assert (first.language, first.publication_type) == ("English", "Article")
    assert {tag: first.raw[tag] for tag in ("Z8", "ZB", "ZR", "ZS", "ZA")} == {
        "Z8": ["0"], "ZB": ["1"], "ZR": ["0"], "ZS": ["0"], "ZA": ["2"]}
    assert first.raw["AB"] == ["Boundary spanners connect research and policy. We surveyed 210 "
                               "staff", "in four ministries."]
    assert (second.position, second.line, second.authors, second.year) == (
        2, 33, ["Tanaka, H"], 2021)


def test_parse_wos_truncated_is_import_error():
    data = b"FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nTI A title\n"
    assert str(error_of(data, "savedrecs.txt")) == (
        "savedrecs.txt, line 3, record 1: the file ends inside record 1, which starts at line 3 "
        "and has no end line (ER): is the file complete?")


# --- tables ---------------------------------------------------------------------------------


def test_parse_csv_zotero_bom_guessed_mapping():
    result = parse_fixture("zotero_bom.csv")
    assert (result.format, result.encoding) == ("csv", "utf-8-sig")
    first, second, third = result.records
    assert (first.position, first.line, first.source_record_id) == (1, 2, "Q7ZK2M4A")
    assert first.title == ("Co-designing research with community partners: lessons, tensions "
                           "and benefits")
    assert first.authors == ["Ndlovu, Sipho", "Berg, Annika", "Castillo, Mateo"]
    assert (first.year, first.journal, first.volume, first.issue, first.pages) == (
        2020, "Journal of Participatory Research", "6", "1", "11-29")
    assert first.doi == "10.5555/jpr.2020.011"
    assert first.keywords == ["co-design", "participatory research"]
    assert first.abstract == "We describe a co-design process, its tensions\nand benefits."
    assert first.raw["Extra"] == "PMID: 32000001"
    assert "Automatic Tags" not in first.raw  # empty cells are left out of raw
    # The quoted line break makes the second row start on line 4.
    assert (second.position, second.line, second.authors) == (2, 4, ["Ortega, Lucía"])
    assert (third.position, third.line, third.problems) == (3, 5, ["no title and no abstract"])


def test_parse_csv_windows1252():
    result = parse_fixture("windows1252.csv")
    assert result.encoding == "cp1252"
    [record] = result.records
    assert record.title == "Évaluation des partenariats de recherche – une synthèse"
    assert record.authors == ["Bélanger, Hélène", "O’Connor, Seán"]
    assert record.journal == "Revue de l’application des connaissances"
    assert result.warnings == ["windows1252.csv is not UTF-8: it was read as Windows-1252; check "
                               "that accented letters look right."]


def test_parse_tsv_benchmark_columns():
    result = parse_fixture("benchmark.tsv")
    assert result.format == "tsv"
    first, second = result.records
    assert (first.source_record_id, first.title, first.authors, first.year) == (
        "id_0000001", "Policy dialogues and research uptake", ["Asante, Kofi", "Lee, Min-jun"],
        2015)
    assert (first.journal, first.volume, first.issue, first.pages, first.doi) == (
        "Evidence Matters", "3", "2", "10-19", "10.5555/em.2015.10")
    assert (second.line, second.title, second.journal) == (
        3, "A protocol for co-produced evaluation", "")


def test_parse_csv_explicit_mapping():
    mapping = {"title": "Abstract Note", "source_record_id": "Key", "doi": ""}
    result = parse_fixture("zotero_bom.csv", mapping=mapping)
    first = result.records[0]
    assert first.title == "We describe a co-design process, its tensions and benefits."
    assert (first.source_record_id, first.authors, first.doi) == ("Q7ZK2M4A", [], "")


def test_parse_csv_mapping_missing_column_is_import_error():
    error = error_of(fixture("benchmark.tsv"), "benchmark.tsv", mapping={"doi": "DOI number"})
    assert str(error) == (
        "benchmark.tsv, field doi: the column 'DOI number' chosen for doi is not in the file "
        "(its columns: ID, title, author, year, journal, volume, number, pages, doi, abstract, "
        "url)")
    assert error.field == "doi"


def test_parse_csv_mapping_unknown_field_is_import_error():
    assert str(error_of(fixture("benchmark.tsv"), "benchmark.tsv", mapping={"isbn": "ID"})) == (
        "benchmark.tsv: 'isbn' is not a field a column can be mapped to (title, abstract, "
        "authors, year, journal, volume, issue, pages, doi, pmid, keywords, url, "
        "publication_type, source_record_id)")


def test_parse_csv_ragged_row_is_import_error():
    error = error_of(fixture("ragged.csv"), "ragged.csv")
    assert str(error) == ("ragged.csv, line 3, record 2: this row has 4 cells but the header "
                          "(line 1) has 3: is a delimiter or a quote \" too many or missing?")
    with pytest.raises(ImportFileError) as caught:
        read_table(fixture("ragged.csv"), filename="ragged.csv", format="csv")
    assert caught.value.line == 3


def test_parse_csv_without_title_or_abstract_column_is_import_error():
    assert str(error_of(b"name,when\nA,2020\n", "people.csv")) == (
        "people.csv: no column looks like a title or an abstract (columns: name, when); choose "
        "which columns hold which field")


def test_parse_xlsx(tmp_path):
    path = tmp_path / "scopus.xlsx"
    path.write_bytes(xlsx_bytes(XLSX_ROWS))
    result = parse(path.read_bytes(), filename="scopus.xlsx")
    assert (result.format, result.encoding) == ("xlsx", "utf-8")
    first, second = result.records
    assert (first.position, first.line) == (1, 2)
    assert first.title == "Learning health systems and research partnerships"
    assert first.authors == ["Ahn, Ji-woo", "Wright, Ben"]
    assert (first.year, first.journal, first.doi, first.pmid) == (
        2021, "Learning Health Systems Notes", "10.5555/lhs.2021.7", "34000001")
    assert (second.position, second.line, second.year) == (2, 4, 2019)  # the empty row skipped
    assert second.raw == {"Title": "Partnered research in long-term care",
                          "Authors": "Silva, Rita", "Publication Year": "2019",
                          "Notes": "2020-01-31"}


def test_read_table_xlsx_pads_rows():
    header, rows = read_table(xlsx_bytes([["title", "year", "doi"], ["A", 2020]]),
                              filename="a.xlsx", format="xlsx")
    assert header == ["title", "year", "doi"]
    assert rows == [["A", "2020", ""]]


def test_read_table_xlsx_value_without_header_is_import_error():
    data = xlsx_bytes([["title", "year"], ["A", 2020], ["B", 2021, "stray"]])
    with pytest.raises(ImportFileError) as caught:
        read_table(data, filename="a.xlsx", format="xlsx")
    assert str(caught.value) == ("a.xlsx, line 3, record 2: this row has a value in column 3, "
                                 "which has no header (the header has 2 columns)")


def test_read_table_damaged_xlsx_is_import_error():
    data = xlsx_bytes(XLSX_ROWS)[:300]
    with pytest.raises(ImportFileError) as caught:
        read_table(data, filename="cut.xlsx", format="xlsx")
    assert str(caught.value).startswith("cut.xlsx: the file cannot be read as an Excel workbook "
                                        "(.xlsx): ")


def test_read_table_csv_header_and_rows():
    header, rows = read_table(fixture("zotero_bom.csv"), filename="z.csv", format="csv")
    assert header[:4] == ["Key", "Item Type", "Publication Year", "Author"]
    assert len(header) == 15
    assert [row[0] for row in rows] == ["Q7ZK2M4A", "B4TR9XW2", ""]
    assert all(len(row) == 15 for row in rows)


def test_read_table_names_empty_and_repeated_headers():
    header, rows = read_table(b"Title,,Title\nA,B,C\n", filename="a.csv", format="csv")
    assert header == ["Title", "Column 2", "Title (2)"]
    assert rows == [["A", "B", "C"]]


def test_read_table_semicolon_csv():
    header, rows = read_table("Titel;Autor;Jahr\nÄrzte;Ölz, A;2020\n".encode("cp1252"),
                              filename="de.csv", format="csv")
    assert (header, rows) == (["Titel", "Autor", "Jahr"], [["Ärzte", "Ölz, A", "2020"]])


def long_rows_csv(count: int) -> bytes:
    """A CSV of `count` rows of about 20 KB, with quoted line breaks and CRLF line ends."""
    lines = ["Title,Abstract,Year"]
    for n in range(1, count + 1):
        abstract = f"Résumé {n}, part " + "\r\n".join(f"{n}.{k} xyz" for k in range(2000))
        lines.append(f'Study {n},"{abstract}",{2000 + n}')
    return ("\r\n".join(lines) + "\r\n").encode()


# Row 6 of long_rows_csv(12) starts at byte 114,631 and row 7 at 137,553: slices that end
# in row 5's abstract, in its year ("20" of "2005": a whole-looking row), at the start of
# row 6 (a short row), in its quoted abstract, between the "\r" and "\n" ending it, and at
# the start of row 7.
@pytest.mark.parametrize("head_bytes", [1, 30_000, 100_003, 114_627, 114_640, 120_000,
                                        137_552, 137_553, 500_000])
def test_preview_table_gives_the_first_rows_as_read_table_does(head_bytes):
    data = long_rows_csv(12)

    preview = parsers.table.preview(data, "long.csv", "csv", rows=5, head_bytes=head_bytes)

    header, rows = read_table(data, filename="long.csv", format="csv")
    assert preview == (header, rows[:5])
    assert [row[0] for row in preview[1]] == ["Study 1", "Study 2", "Study 3", "Study 4",
                                              "Study 5"]


def test_preview_table_reads_no_further_than_its_rows():
    data = long_rows_csv(60) + b"Study 61,a stray, comma,2061\r\n"

    header, sample = parsers.preview_table(data, filename="long.csv", format="csv")

    assert (header, [row[0] for row in sample]) == (
        ["Title", "Abstract", "Year"], ["Study 1", "Study 2", "Study 3", "Study 4", "Study 5"])
    with pytest.raises(ImportFileError) as caught:
        read_table(data, filename="long.csv", format="csv")
    assert caught.value.record == 61


def test_preview_table_judges_the_encoding_on_the_whole_file():
    data = long_rows_csv(60).replace(b"Title", "Titré".encode()) + "Study 61,é,2061\r\n".encode(
        "cp1252")

    header, sample = parsers.preview_table(data, filename="mixed.csv", format="csv")

    assert header == ["TitrÃ©", "Abstract", "Year"]  # as the import reads it: Windows-1252
    assert header == read_table(data, filename="mixed.csv", format="csv")[0]
    assert sample[0][1].startswith("RÃ©sumÃ© 1, part 1.0 xyz\n1.1 xyz")


def test_preview_table_xlsx_and_tsv_first_rows():
    rows = [["title", "year"]] + [[f"T{n}", 2000 + n] for n in range(8)]

    xlsx = parsers.preview_table(xlsx_bytes(rows), filename="a.xlsx", format="xlsx")
    tsv = parsers.preview_table(b"title\tyear\nT0\t2000\nT1\t2001\n", filename="a.tsv",
                                format="tsv")

    assert xlsx == (["title", "year"], [[f"T{n}", str(2000 + n)] for n in range(5)])
    assert tsv == (["title", "year"], [["T0", "2000"], ["T1", "2001"]])


# --- guessing the column mapping ------------------------------------------------------------


def test_guess_mapping_zotero_columns():
    columns = ["Key", "Item Type", "Publication Year", "Author", "Title", "Publication Title",
               "ISBN", "ISSN", "DOI", "Url", "Abstract Note", "Date", "Pages", "Issue", "Volume",
               "Manual Tags", "Automatic Tags", "Extra", "Number"]
    assert guess_mapping(columns) == {
        "title": "Title", "abstract": "Abstract Note", "authors": "Author",
        "year": "Publication Year", "journal": "Publication Title", "volume": "Volume",
        "issue": "Issue", "pages": "Pages", "doi": "DOI", "keywords": "Manual Tags",
        "url": "Url", "publication_type": "Item Type", "source_record_id": "Key",
    }


def test_guess_mapping_benchmark_columns():
    columns = ["ID", "ENTRYTYPE", "title", "author", "year", "journal", "volume", "number",
               "pages", "doi", "abstract", "url", "isbn"]
    assert guess_mapping(columns) == {
        "title": "title", "abstract": "abstract", "authors": "author", "year": "year",
        "journal": "journal", "volume": "volume", "issue": "number", "pages": "pages",
        "doi": "doi", "url": "url", "publication_type": "ENTRYTYPE", "source_record_id": "ID",
    }


def test_guess_mapping_scopus_columns():
    columns = ["Authors", "Author full names", "Author(s) ID", "Title", "Year", "Source title",
               "Volume", "Issue", "Art. No.", "Page start", "Page end", "Cited by", "DOI",
               "Link", "Abstract", "Author Keywords", "Index Keywords", "PubMed ID", "Source",
               "EID"]
    assert guess_mapping(columns) == {
        "title": "Title", "abstract": "Abstract", "authors": "Authors", "year": "Year",
        "journal": "Source title", "volume": "Volume", "issue": "Issue", "doi": "DOI",
        "pmid": "PubMed ID", "keywords": "Author Keywords", "url": "Link",
        "source_record_id": "EID",
    }


def test_guess_mapping_wos_columns_and_tags():
    columns = ["Publication Type", "Authors", "Author Full Names", "Article Title",
               "Source Title", "Author Keywords", "Keywords Plus", "Abstract",
               "Publication Year", "Volume", "Issue", "Start Page", "DOI", "Pubmed Id",
               "UT (Unique WOS ID)"]
    assert guess_mapping(columns) == {
        "title": "Article Title", "abstract": "Abstract", "authors": "Authors",
        "year": "Publication Year", "journal": "Source Title", "volume": "Volume",
        "issue": "Issue", "doi": "DOI", "pmid": "Pubmed Id", "keywords": "Author Keywords",
        "publication_type": "Publication Type", "source_record_id": "UT (Unique WOS ID)",
    }
    tags = ["PT", "AU", "AF", "TI", "SO", "DE", "ID", "AB", "PY", "VL", "IS", "BP", "EP", "DI",
            "PM", "UT"]
    assert guess_mapping(tags) == {
        "title": "TI", "abstract": "AB", "authors": "AF", "year": "PY", "journal": "SO",
        "volume": "VL", "issue": "IS", "doi": "DI", "pmid": "PM", "keywords": "DE",
        "publication_type": "PT", "source_record_id": "UT",
    }


def test_guess_mapping_covidence_columns():
    columns = ["Title", "Authors", "Abstract", "Published Year", "Published Month", "Journal",
               "Volume", "Issue", "Pages", "Accession Number", "DOI", "Ref", "Covidence #",
               "Study", "Notes", "Tags"]
    assert guess_mapping(columns) == {
        "title": "Title", "abstract": "Abstract", "authors": "Authors", "year": "Published Year",
        "journal": "Journal", "volume": "Volume", "issue": "Issue", "pages": "Pages",
        "doi": "DOI", "keywords": "Tags", "source_record_id": "Covidence #",
    }


def test_parse_csv_spreadsheet_numbers():
    data = b"Title,PMID,Year\nCommunity boards,31415926.0,2019.0\n"
    [record] = parse(data, filename="pandas.csv").records
    assert (record.pmid, record.year) == ("31415926", 2019)


def test_guess_mapping_never_maps_one_column_twice():
    assert guess_mapping(["ID"]) == {"source_record_id": "ID"}
    assert guess_mapping(["Nothing", "here"]) == {}
    mapping = guess_mapping(["Title", "TITLE", "title"])
    assert mapping == {"title": "Title"}


# --- all or nothing -------------------------------------------------------------------------


def test_parse_empty_file_is_import_error():
    assert str(error_of(b"", "empty.ris")) == "empty.ris is empty."
    assert str(error_of(b" \r\n\n", "blank.ris", format="ris")) == "blank.ris is empty."


def test_parse_unknown_format_is_import_error():
    assert str(error_of(b'{"references": []}', "export.json")) == f"export.json {NOT_READABLE}"


def test_parse_no_records_is_import_error():
    assert str(error_of(b"Nothing to see\n", "a.ris", format="ris")) == (
        "a.ris: no records were found in it as RIS (Ovid, EBSCO, Embase, Scopus, Web of "
        "Science, PubMed, Zotero, EndNote, Lens, Dimensions): is it an export of references, "
        "and the right format?")


def test_parse_unknown_format_name_is_import_error():
    assert str(error_of(b"TY  - JOUR\nER  - \n", "a.ris", format="refworks")) == (
        "a.ris: 'refworks' is not a format Tandem reads (ris, nbib, bibtex, endnote-xml, wos, "
        "csv, tsv, xlsx)")


def test_parse_raw_is_json_serialisable():
    for name in ("ris_bom_crlf.ris", "ris_ovid.ris", "pubmed.nbib",
                 "bibtex_duplicate_field.bib", "endnote.xml", "wos_unknown_tags.txt",
                 "zotero_bom.csv", "benchmark.tsv"):
        for record in parse_fixture(name).records:
            assert json.loads(json.dumps(record.raw)) == record.raw
            assert json.loads(json.dumps(record.other_ids)) == record.other_ids


def test_parse_csv_bibtex_style_authors_and_entry_type():
    data = (b'ID,ENTRYTYPE,title,author,year\n'
            b'id_1,article,Peer mentoring,"Lee, K. and Okafor, A. and Department of Health",2020\n'
            b'id_2,inproceedings,Advisory boards,"Singh, P.; Brown, S.",2019\n')
    first, second = parse(data, filename="bench.csv").records
    assert (first.authors, first.publication_type, first.source_record_id) == (
        ["Lee, K.", "Okafor, A.", "Department of Health"], "article", "id_1")
    assert (second.authors, second.publication_type) == (["Singh, P.", "Brown, S."],
                                                         "inproceedings")
