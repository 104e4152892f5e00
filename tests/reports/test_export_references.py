"""References as RIS, BibTeX and CSV: which records each selection holds, the files' exact
text, and the round trip through our own parsers."""

import csv
import io

import pytest

from references.parsers import detect_format, parse
from reports import exporters
from tests.reports.test_export_data import (
    AWKWARD_ABSTRACT,
    AWKWARD_TITLE,
    file_bytes,
    run_export,
    screened,
)

pytestmark = pytest.mark.django_db

COMPARED = ("title", "abstract", "authors", "year", "journal", "volume", "issue", "pages",
            "doi", "pmid", "keywords")


def _ids(cast, which):
    return list(exporters.reference_records(cast.project, which).values_list("id", flat=True))


def test_each_selection_holds_exactly_its_records(cast):
    s = screened(cast)

    assert _ids(cast, "all") == [r.pk for r in s.all]
    assert _ids(cast, "unique") == [r.pk for r in s.all if r is not s.r8]
    assert _ids(cast, "ta_included") == [s.r1.pk, s.r5.pk, s.r6.pk, s.r7.pk]
    assert _ids(cast, "ta_excluded") == [s.r2.pk]
    # Open: waiting for votes or in conflict, never told apart (nor duplicates, nor removed).
    assert _ids(cast, "ta_open") == [s.r3.pk, s.r4.pk]
    assert _ids(cast, "included_reports") == [s.r1.pk]
    assert _ids(cast, "ft_excluded") == [s.r5.pk]
    assert _ids(cast, "ft_not_retrieved") == [s.r6.pk]
    assert _ids(cast, "ft_open") == [s.r7.pk]


def test_a_selection_never_holds_another_projects_records(cast):
    from tests.factories import ProjectFactory, RecordFactory

    s = screened(cast)
    RecordFactory(project=ProjectFactory(slug="other"), title="Another project's record")

    assert _ids(cast, "all") == [r.pk for r in s.all]


def test_ris_of_the_included_reports_is_exact_and_reimports_the_same_record(cast):
    s = screened(cast)

    job = run_export(cast, "references", "ris", "included_reports")

    assert job.message == "1 record (included reports) as RIS."
    assert job.result_file.name.endswith(".ris")
    assert "ikt-references-included-reports-" in job.result_file.name
    content = file_bytes(job)
    assert content.decode("utf-8") == (
        "TY  - JOUR\r\n"
        f"ID  - {s.r1.pk}\r\n"
        'TI  - =Ärzte & {Pflege}: 100% "gut" — a $5 #1 study_x ^ \\ path, @home visits\r\n'
        "AU  - Müller, Jürgen\r\n"
        "AU  - O'Brien, Seán\r\n"
        "AU  - World Health Organization\r\n"
        "AU  - Barnes and Noble, A.\r\n"
        "PY  - 2021\r\n"
        "T2  - Revue d'épidémiologie & santé\r\n"
        "VL  - 12\r\n"
        "IS  - 3\r\n"
        "SP  - 101-110\r\n"
        "DO  - 10.1000/xyz-(2021)_5\r\n"
        "C2  - 12345678\r\n"
        "KW  - Santé publique\r\n"
        "KW  - Knowledge, translation\r\n"
        "LA  - fre\r\n"
        "UR  - https://example.org/a?b=1&c=%20\r\n"
        # One tag a line: the abstract's line breaks are folded into spaces.
        "AB  - Line one, café. Line two: 50% & {braces} in Zürich. +Third paragraph; -minus.\r\n"
        "ER  - \r\n\r\n")
    assert detect_format(content, "export.ris") == "ris"
    again = parse(content, filename="export.ris").records
    assert len(again) == 1
    for name in COMPARED:
        expected = getattr(s.r1, name)
        if name == "abstract":
            expected = " ".join(AWKWARD_ABSTRACT.split())
        assert getattr(again[0], name) == expected, name


def test_bibtex_escapes_braces_and_specials_and_reimports_every_field_unchanged(cast):
    s = screened(cast)

    job = run_export(cast, "references", "bibtex", "included_reports")

    content = file_bytes(job).decode("utf-8")
    assert job.result_file.name.endswith(".bib")
    assert content.startswith(f"@article{{Muller2021_{s.r1.pk},\n")
    assert ('  title = {=Ärzte \\& \\{Pflege\\}: 100\\% {"}gut{"} — a \\$5 \\#1 study\\_x '
            "\\textasciicircum{} \\textbackslash{} path, @home visits},\n") in content
    # An organisation in braces (kept whole), a name holding "and" too.
    assert ("  author = {Müller, Jürgen and O'Brien, Seán and {World Health Organization} "
            "and {Barnes and Noble, A.}},\n") in content
    assert "  pages = {101--110},\n" in content
    assert ("  abstract = {Line one, café.\nLine two: 50\\% \\& \\{braces\\} in Zürich.\n\n"
            "+Third paragraph; -minus.}\n}\n") in content
    raw = content.encode("utf-8")
    assert detect_format(raw, "export.bib") == "bibtex"
    again = parse(raw, filename="export.bib").records
    assert len(again) == 1
    for name in COMPARED:
        assert getattr(again[0], name) == getattr(s.r1, name), name
    assert again[0].title == AWKWARD_TITLE
    assert again[0].abstract == AWKWARD_ABSTRACT  # line breaks kept


def test_csv_neutralises_formulas_and_reimports_the_same_records(cast):
    s = screened(cast)

    job = run_export(cast, "references", "csv", "ta_included")

    content = file_bytes(job)
    assert job.message == "4 records (included at title and abstract) as CSV."
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == exporters.CSV_HEADER
    assert rows[1] == [
        str(s.r1.pk), str(s.r1.study_id), s.r1.source.name, "'" + AWKWARD_TITLE,
        AWKWARD_ABSTRACT, "Müller, Jürgen; O'Brien, Seán; World Health Organization; "
        "Barnes and Noble, A.", "2021", "Revue d'épidémiologie & santé", "12", "3", "101-110",
        "10.1000/xyz-(2021)_5", "12345678", "Santé publique; Knowledge, translation",
        "https://example.org/a?b=1&c=%20", "fre", "JOUR", "", "Included", "Included", ""]
    # The settled states only; r7's full text waits for a vote: blank, as open.
    assert [row[0] for row in rows[1:]] == [str(r.pk) for r in (s.r1, s.r5, s.r6, s.r7)]
    assert [row[-3:] for row in rows[2:]] == [
        ["Included", "Excluded", "Wrong design"],
        ["Included", "Full text not retrieved", ""],
        ["Included", "", ""]]

    assert detect_format(content, "export.csv") == "csv"
    again = parse(content, filename="export.csv").records
    assert [r.title for r in again] == ["'" + AWKWARD_TITLE, "Record 5", "Record 6",
                                        "Record 7"]
    for name in COMPARED:
        if name != "title":
            assert getattr(again[0], name) == getattr(s.r1, name), name
    assert (again[1].authors, again[1].year) == (["Author5, A"], 2015)


def test_csv_of_open_records_does_not_tell_a_conflict_from_a_record_waiting_for_votes(cast):
    s = screened(cast)

    job = run_export(cast, "references", "csv", "ta_open")

    rows = list(csv.reader(io.StringIO(file_bytes(job).decode("utf-8-sig"))))
    assert [(row[0], row[-3]) for row in rows[1:]] == [(str(s.r3.pk), ""), (str(s.r4.pk), "")]
    assert "SECRET" not in file_bytes(job).decode("utf-8-sig")


def test_every_selection_and_format_reimports_its_records(cast):
    s = screened(cast)

    for which, records in [("all", s.all), ("ta_excluded", [s.r2]), ("ft_open", [s.r7])]:
        for file_format, name in [("ris", "x.ris"), ("bibtex", "x.bib"), ("csv", "x.csv")]:
            job = run_export(cast, "references", file_format, which)
            again = parse(file_bytes(job), filename=name).records
            assert [(r.title.lstrip("'"), r.authors, r.year) for r in again] == \
                [(r.title, r.authors, r.year) for r in records], (which, file_format)


def test_bibtex_keeps_a_lone_keyword_with_a_comma_whole(cast):
    from tests.factories import RecordFactory

    record = RecordFactory(project=cast.project, keywords=["Knowledge, translation"],
                           journal="", publication_type="")
    job = run_export(cast, "references", "bibtex", "all")

    content = file_bytes(job)
    assert content.decode().startswith(f"@misc{{Lee2020_{record.pk},\n")
    assert parse(content, filename="x.bib").records[0].keywords == ["Knowledge, translation"]
