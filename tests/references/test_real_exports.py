"""The parsers on real exports of other people (../shared/benchdata, see its README §4): every
record comes in, with the right format detected and the fields where the file has them."""

import csv
import gzip
import io
import re

import pytest

from references.parsers import detect_format, parse
from tests.conftest import BENCHDATA

pytestmark = pytest.mark.benchdata

# Every file of formats/ and pipeline/citesource_wildfire_stages/ with its number of records
# as the README gives it (or the file name says), and the format it is in.
FILES = {
    "formats/ris/asysd_scopus.ris": ("ris", 10),
    "formats/ris/asysd_wos_test.ris": ("ris", 50),
    "formats/ris/asysd_ris_export.txt": ("ris", 69),
    "formats/ris/asysd_zotero_export.ris": ("ris", 1000),
    "formats/ris/synthesisr_Scopus_ris_example.ris": ("ris", 3),
    "formats/ris/synthesisr_Ovid_ris_example.ris": ("ris", 4),
    "formats/ris/synthesisr_ASP_ris_example.ris": ("ris", 4),
    "formats/ris/synthesisr_extdata_scopus.ris": ("ris", 92),
    "formats/ris/citesource_20221207_gambling-harms_pubmed_176.ris": ("ris", 176),
    "formats/ris/citesource_20221207_gambling-harms_scopus_255.ris": ("ris", 255),
    "formats/ris/citesource_20221207_gambling-harms_psycinfo_124.ris": ("ris", 124),
    "formats/ris/citesource_20221207_gambling-harms_lens_49.ris": ("ris", 49),
    "formats/ris/citesource_20221207_gambling-harms_crimjust_41.ris": ("ris", 41),
    "formats/nbib/synthesisr_PubMed_example.txt": ("nbib", 3),
    "formats/nbib/nbib_single.nbib": ("nbib", 1),
    "formats/nbib/nbib_pubmed-balloongui-set.nbib": ("nbib", 75),
    "formats/nbib/nbib_pmc_medlars.txt": ("nbib", 5),
    "formats/bibtex/asysd_zotero_export.bib": ("bibtex", 1000),
    "formats/bibtex/synthesisr_Scopus_bib_example.bib": ("bibtex", 3),
    "formats/csv/asysd_zotero_export.csv": ("csv", 1233),
    "formats/wos_tagged/synthesisr_WoS_ciw_example.ciw": ("wos", 5),
    "formats/wos_tagged/synthesisr_WoS_txt_example.txt": ("wos", 4),
    "formats/wos_tagged/rispy_example_wos.ris": ("wos", 2),
    "pipeline/citesource_wildfire_stages/Dimensions_246.ris": ("ris", 246),
    "pipeline/citesource_wildfire_stages/econlit_3.ris": ("ris", 3),
    "pipeline/citesource_wildfire_stages/envindex_100.ris": ("ris", 100),
    "pipeline/citesource_wildfire_stages/final_24.ris": ("ris", 24),
    "pipeline/citesource_wildfire_stages/lens_343.ris": ("ris", 343),
    "pipeline/citesource_wildfire_stages/medline_84.ris": ("ris", 84),
    "pipeline/citesource_wildfire_stages/screened_128.ris": ("ris", 128),
    "pipeline/citesource_wildfire_stages/wos_278.ris": ("ris", 278),
}
# Records without a title in the file itself (all other files have a title for every record).
UNTITLED = {"pipeline/citesource_wildfire_stages/lens_343.ris": 1}

RATHBONE = {  # set: (file, records, with abstract, captioned "Duplicate")
    "rathbone_cytology_screening": ("Cytology_screening", 1856, 1831, 1404),
    "rathbone_haematology": ("Haematology", 1415, 951, 246),
    "rathbone_respiratory": ("Respiratory", 1988, 0, 799),
    "rathbone_stroke": ("Stroke", 1292, 1271, 507),
}


def read(path: str) -> bytes:
    return (BENCHDATA / path).read_bytes()


def count_records(data: bytes, format: str) -> int:
    """The number of records, counted without the parsers."""
    if format == "ris":
        return len(re.findall(rb"^(?:\xef\xbb\xbf)?TY  - ", data, re.MULTILINE))
    if format == "nbib":
        return len(re.findall(rb"^PMID- ", data, re.MULTILINE))
    if format == "bibtex":
        return len(re.findall(rb"^@\w+\{", data, re.MULTILINE))
    if format == "wos":
        return len(re.findall(rb"^ER\r?$", data, re.MULTILINE))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return len(rows) - 1


def count_titles(data: bytes, format: str) -> int:
    """The number of title tags with a value, counted without the parsers."""
    pattern = {"ris": rb"^(?:TI|T1)  - \S", "nbib": rb"^TI  - \S", "wos": rb"^TI \S",
               "bibtex": rb"^\s*title\s*=\s*[{\"]\S"}.get(format)
    if pattern:
        return len(re.findall(pattern, data, re.MULTILINE | re.IGNORECASE))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return sum(1 for row in rows if row["Title"].strip())


def test_benchdata_lists_every_export_file():
    found = {str(path.relative_to(BENCHDATA)) for folder in ("formats", "pipeline")
             for path in (BENCHDATA / folder).rglob("*") if path.is_file()}
    assert found == set(FILES)


@pytest.mark.parametrize("path", sorted(FILES))
def test_real_export_every_record(path):
    format, expected = FILES[path]
    data = read(path)
    assert count_records(data, format) == expected
    assert detect_format(data, path.rsplit("/", 1)[-1]) == format
    result = parse(data, filename=path.rsplit("/", 1)[-1])
    assert result.format == format
    assert len(result.records) == expected
    assert [r.position for r in result.records] == list(range(1, expected + 1))
    titled = sum(1 for r in result.records if r.title)
    assert titled == count_titles(data, format) == expected - UNTITLED.get(path, 0)
    lines = [r.line for r in result.records]
    assert lines == sorted(lines) and lines[0] >= 1


@pytest.mark.parametrize("name", sorted(RATHBONE))
def test_real_export_endnote_xml_rathbone(name):
    stem, expected, with_abstract, duplicates = RATHBONE[name]
    data = gzip.decompress(read(f"dedup/{name}/{stem}.endnote.xml.gz"))
    assert data.count(b"<record>") == expected
    result = parse(data, filename=f"{stem}.xml")
    assert result.format == "endnote-xml"
    assert len(result.records) == expected
    assert [r.position for r in result.records] == list(range(1, expected + 1))
    assert sum(1 for r in result.records if r.abstract) == with_abstract
    assert sum(1 for r in result.records if r.raw.get("caption") == ["Duplicate"]) == duplicates


def records_of(path: str):
    return parse(read(path), filename=path.rsplit("/", 1)[-1]).records


def test_real_export_ris_ovid_spot_check():
    first = records_of("formats/ris/synthesisr_Ovid_ris_example.ris")[0]
    assert (first.line, first.source_record_id) == (2, "20203152553")
    assert first.title == "Detection of retention trees on clearcuts, a 50-year perspective."
    assert first.authors == ["Holmstrom, E.", "Nordstrom, E.", "Lariviere, D.", "Wallin, I."]
    assert (first.year, first.doi, first.journal, first.pages) == (
        2020, "10.4236/ojf.2020.101008", "Open Journal of Forestry", "110-123")


def test_real_export_ris_wos_glued_tags_spot_check():
    first = records_of("formats/ris/asysd_wos_test.ris")[0]
    # "...(SCI-EXPANDED)AN  - WOS:000082252000006" on one line in the file.
    assert first.source_record_id == "WOS:000082252000006"
    assert first.raw["C3"] == ["Kansas State University", "Kansas State University"]
    assert first.title == ("Microangiography of the humeral condyle in Cocker Spaniel and "
                           "non-Cocker Spaniel dogs")
    assert first.authors == ["Larsen, LJ", "Roush, JK", "McLaughlin, RM", "Cash, WC"]
    assert (first.year, first.pages, first.doi) == (1999, "134-137", "")


def test_real_export_ris_ebsco_spot_check():
    first = records_of("formats/ris/synthesisr_ASP_ris_example.ris")[0]
    assert first.title.startswith("“Living on the edge”: The role of field margins")
    assert first.authors == ["Rodríguez-Pastor, Ruth", "Luque-Larena, Juan José",
                             "Lambin, Xavier", "Mougeot, François"]
    assert (first.year, first.doi) == (2016, "10.1016/j.agee.2016.06.041")


def test_real_export_ris_wos_last_record_spot_check():
    last = records_of("pipeline/citesource_wildfire_stages/wos_278.ris")[-1]
    assert (last.position, last.line, last.source_record_id) == (278, 5920, "WOS:001149679400001")
    assert (last.year, last.doi, last.pages) == (2023, "10.1016/s2542-5196(23)00235-8", "e963-e975")
    assert last.authors[:3] == ["Wei, J", "Wang, J", "Li, ZQ"]


def test_real_export_nbib_without_final_newline_spot_check():
    records = records_of("formats/nbib/synthesisr_PubMed_example.txt")
    last = records[-1]
    assert (last.position, last.pmid, last.doi, last.year) == (
        3, "29967742", "10.7717/peerj.5082", 2018)
    assert last.title.startswith("Mulch and groundcover effects on soil temperature")
    assert last.authors == ["Bavougian, Christina M", "Read, Paul E"]
    assert records[0].authors[0] == "Neilen, Amanda D"


def test_real_export_nbib_balloon_spot_check():
    last = records_of("formats/nbib/nbib_pubmed-balloongui-set.nbib")[-1]
    assert (last.position, last.pmid, last.year, last.doi) == (75, "32054612", 2020,
                                                               "10.3174/ajnr.a6414")
    assert last.journal == "AJNR. American journal of neuroradiology"
    assert last.authors[:2] == ["Xing, P F", "Yang, P F"]


def test_real_export_bibtex_repeated_field_spot_check():
    records = records_of("formats/bibtex/synthesisr_Scopus_bib_example.bib")
    first = records[0]
    assert (first.source_record_id, first.line, first.year) == ("Li2020", 2, 2020)
    assert first.doi == "10.1080/20964129.2020.1722034"
    assert len(first.raw["funding_details"]) == 2
    assert first.authors[:3] == ["Li, W.", "Dou, Z.", "Cui, L."]
    zotero = records_of("formats/bibtex/asysd_zotero_export.bib")[0]
    assert (zotero.source_record_id, zotero.title) == (
        "larsen_microangiography_1999",
        "Microangiography of the humeral condyle in Cocker Spaniel and non-Cocker Spaniel dogs")
    assert (zotero.pages, zotero.year) == ("134-137", 1999)


def test_real_export_csv_zotero_spot_check():
    first = records_of("formats/csv/asysd_zotero_export.csv")[0]
    assert (first.source_record_id, first.line) == ("ACSRAG7N", 2)
    assert first.title == "Myoclonus in older Cavalier King Charles Spaniels."
    assert first.authors == ["Rotter, Carina", "Whittaker, Danielle", "Rusbridge, Clare"]
    assert (first.year, first.doi, first.pages) == (2022, "10.1111/jvim.16404", "1032-1038")


def test_real_export_wos_tagged_spot_check():
    first = records_of("formats/wos_tagged/rispy_example_wos.ris")[0]
    assert (first.line, first.source_record_id, first.pmid) == (3, "WOS:000221807500019",
                                                                "15170338")
    assert first.authors == ["Parkes-Loach, PS", "Majeed, AP", "Law, CJ", "Loach, PA"]
    assert (first.year, first.doi, first.pages) == (2004, "10.1021/bi049798f", "7003-7016")
    last = records_of("formats/wos_tagged/synthesisr_WoS_txt_example.txt")[-1]
    assert (last.source_record_id, last.year, last.doi) == (
        "MEDLINE:31858815", 2020, "10.1080/21691401.2019.1703724")
    # The tags rispy's WokParser fails on are read and kept.
    assert {tag: last.raw[tag] for tag in ("Z8", "ZB", "ZR", "ZS")} == {
        "Z8": ["0"], "ZB": ["0"], "ZR": ["0"], "ZS": ["0"]}
