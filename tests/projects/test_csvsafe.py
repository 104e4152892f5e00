"""Every CSV Tandem writes is safe to open in a spreadsheet (projects.csvsafe)."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from projects.csvsafe import safe_cell, writer
from references import services as reference_services
from references.models import Record
from screening import services as screening_services
from tests.factories import RecordFactory

FORMULA_RIS = """TY  - JOUR
ID  - rec-1
AU  - -Lee, Kim
TI  - =HYPERLINK("http://x","y")
T2  - +Journal
PY  - 2019
ER  -

TY  - JOUR
ID  - rec-2
AU  - Singh, Priya
TI  - @SUM(1)
PY  - 2021
ER  -
"""


def import_formulas(project):
    reference_services.import_file(project=project, data=FORMULA_RIS.encode(),
                                   filename="evil.ris", source_name="=cmd|' /C calc'!A0")


@pytest.mark.parametrize(("value", "written"), [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("@SUM(1)", "'@SUM(1)"),
    ("+1+cmd", "'+1+cmd"),
    ("-2-3", "'-2-3"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("-", "'-"),
    ("Trainee-led research", "Trainee-led research"),
    (" =not at the start", " =not at the start"),
    ("", ""),
])
def test_safe_cell_quotes_text_a_spreadsheet_would_run(value, written):
    assert safe_cell(value) == written


@pytest.mark.parametrize("value", ["-0.125", "+3", "-1", "-1e-05", "-.5", "0.400", "83.3",
                                   -7, 2019, None])
def test_safe_cell_keeps_plain_numbers_and_values_that_are_not_text(value):
    assert safe_cell(value) is value


def test_writer_writes_neutralised_rows_and_returns_what_the_file_returns():
    out = io.StringIO()

    written = writer(out).writerow(["@SUM(1)", "-0.125", 3])
    writer(out).writerows([["=1+1", "ok"]])

    assert written == len("'@SUM(1),-0.125,3\r\n")
    assert out.getvalue() == "'@SUM(1),-0.125,3\r\n'=1+1,ok\r\n"


def test_records_download_neutralises_imported_formulas(cast, client_for):
    import_formulas(cast.project)

    response = client_for(cast.viewer).get(reverse("references:export", args=["ikt"]))

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["title"], r["authors"], r["journal"], r["source"], r["year"]) for r in rows] == [
        ('\'=HYPERLINK("http://x","y")', "'-Lee, Kim", "'+Journal", "'=cmd|' /C calc'!A0",
         "2019"),
        ("'@SUM(1)", "Singh, Priya", "", "'=cmd|' /C calc'!A0", "2021"),
    ]


def test_export_records_command_neutralises_imported_formulas(cast, tmp_path):
    import_formulas(cast.project)
    out = tmp_path / "records.csv"

    call_command("export_records", "ikt", "--out", str(out), stdout=io.StringIO())

    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [(r["title"], r["authors"], r["journal"], r["source_record_id"]) for r in rows] == [
        ('\'=HYPERLINK("http://x","y")', "'-Lee, Kim", "'+Journal", "rec-1"),
        ("'@SUM(1)", "Singh, Priya", "", "rec-2"),
    ]
    assert [r["record_id"] for r in rows] == [
        str(pk) for pk in Record.objects.order_by("id").values_list("id", flat=True)]


def test_agreement_download_neutralises_names_and_keeps_a_negative_kappa(cast, client_for):
    cast.ada.display_name = "@SUM(1)"
    cast.ada.save()
    cast.ben.display_name = '=HYPERLINK("http://x","y")'
    cast.ben.save()
    votes = [("include", "include"), ("include", "exclude"), ("exclude", "include")]
    for (ada, ben), record in zip(votes, RecordFactory.create_batch(3, project=cast.project),
                                  strict=True):
        screening_services.record_vote(record, stage="title_abstract", reviewer=cast.ada,
                                       decision=ada)
        screening_services.record_vote(record, stage="title_abstract", reviewer=cast.ben,
                                       decision=ben)

    response = client_for(cast.lead).get(
        reverse("screening:agreement_csv", args=["ikt", "title_abstract"]))

    # observed 1/3, expected 5/9: kappa (1/3 - 5/9) / (1 - 5/9) = -0.5
    assert list(csv.reader(io.StringIO(response.content.decode())))[1:] == [
        ["'@SUM(1)", '\'=HYPERLINK("http://x","y")', "3", "1", "1", "1", "0", "33.3", "-0.500"]]
