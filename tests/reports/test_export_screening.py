"""Screening decisions (one row per vote and per resolution, settled records only) and the
agreement tables, as CSV and XLSX."""

import csv
import datetime
import io

import openpyxl
import pytest

from reports import exporters
from screening import services as screening
from screening.models import Screening
from tests.factories import MembershipFactory, ProjectFactory, RecordFactory
from tests.reports.test_export_data import AWKWARD_TITLE, TA, file_bytes, run_export, screened, vote

pytestmark = pytest.mark.django_db

HEADER = ["Record ID", "Title", "Stage", "Kind", "Reviewer", "Decision", "Reason", "Note",
          "Time (UTC)"]


def _expected(s):
    """Every row but the time: r1 (both stages), r2, r5 (a resolution, then full text), r6 and
    r7 at title and abstract; never r3 (conflict), r4 (waiting), r7's full text (waiting)."""
    title = "'" + AWKWARD_TITLE
    return [
        [s.r1.pk, title, "Title and abstract", "Vote", "Ada", "Include", "", "ada likes it"],
        [s.r1.pk, title, "Title and abstract", "Vote", "Ben", "Include", "", "ben likes it"],
        [s.r1.pk, title, "Full text", "Vote", "Ada", "Include", "", ""],
        [s.r1.pk, title, "Full text", "Vote", "Ben", "Include", "", ""],
        [s.r2.pk, "Record 2", "Title and abstract", "Vote", "Ada", "Exclude", "", "'=SUM(A1)"],
        [s.r2.pk, "Record 2", "Title and abstract", "Vote", "Ben", "Exclude", "", ""],
        [s.r5.pk, "Record 5", "Title and abstract", "Vote", "Ada", "Include", "", ""],
        [s.r5.pk, "Record 5", "Title and abstract", "Vote", "Ben", "Exclude", "",
         "'@ben thinks not"],
        [s.r5.pk, "Record 5", "Title and abstract", "Resolution", "Lena Lead", "Include", "",
         "Fits the criteria"],
        [s.r5.pk, "Record 5", "Full text", "Vote", "Ada", "Exclude", "Wrong design", ""],
        [s.r5.pk, "Record 5", "Full text", "Vote", "Ben", "Exclude", "Wrong design", ""],
        [s.r6.pk, "Record 6", "Title and abstract", "Vote", "Ada", "Include", "", ""],
        [s.r6.pk, "Record 6", "Title and abstract", "Vote", "Ben", "Include", "", ""],
        [s.r7.pk, "Record 7", "Title and abstract", "Vote", "Ada", "Include", "", ""],
        [s.r7.pk, "Record 7", "Title and abstract", "Vote", "Ben", "Include", "", ""],
    ]


def test_decisions_csv_has_one_row_per_vote_and_resolution_of_settled_records(cast):
    s = screened(cast)

    job = run_export(cast, "decisions", "csv")

    assert job.message == "15 decisions (votes and resolutions of settled records)."
    assert job.result_file.name.endswith(".csv")
    text = file_bytes(job).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADER
    assert [row[:-1] for row in rows[1:]] == [[str(c) for c in row] for row in _expected(s)]
    resolution = Screening.objects.get(record=s.r5, stage=TA)
    assert rows[9][-1] == resolution.settled_at.isoformat(timespec="seconds")
    assert all(datetime.datetime.fromisoformat(row[-1]).tzinfo for row in rows[1:])


def test_decisions_never_show_a_vote_on_a_record_still_open(cast):
    screened(cast)
    # Another project's settled votes: never in this project's file.
    other = ProjectFactory(slug="other")
    MembershipFactory(project=other, user=cast.ada)
    MembershipFactory(project=other, user=cast.ben)
    elsewhere = RecordFactory(project=other, title="OTHER-PROJECT")
    for who in (cast.ada, cast.ben):
        vote(elsewhere, TA, who, "exclude")

    for file_format in ("csv", "xlsx"):
        content = file_bytes(run_export(cast, "decisions", file_format))
        if file_format == "xlsx":
            book = openpyxl.load_workbook(io.BytesIO(content))
            content = repr(list(book["Decisions"].iter_rows(values_only=True))).encode()
        for secret in ("ADA-SECRET", "CONFLICT-SECRET", "FT-SECRET", "OTHER-PROJECT"):
            assert secret.encode() not in content, (file_format, secret)


def test_a_reopened_record_leaves_the_decisions_until_it_is_settled_again(cast):
    s = screened(cast)
    settled = Screening.objects.get(record=s.r2, stage=TA)
    screening.reopen(settled, membership=cast.lead.memberships.get())

    rows = list(exporters.decision_rows(cast.project))

    assert s.r2.pk not in [row[0] for row in rows]
    assert len(rows) == 13


def test_decisions_xlsx_holds_the_same_rows_with_times_as_dates(cast):
    s = screened(cast)

    job = run_export(cast, "decisions", "xlsx")

    assert job.result_file.name.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(file_bytes(job)))
    assert book.sheetnames == ["Decisions"]
    rows = [list(row) for row in book["Decisions"].iter_rows(values_only=True)]
    assert rows[0] == HEADER
    assert [[cell if cell is not None else "" for cell in row[:-1]] for row in rows[1:]] == \
        _expected(s)
    resolution = Screening.objects.get(record=s.r5, stage=TA)
    assert rows[9][-1] == resolution.settled_at.replace(tzinfo=None, microsecond=0)


AGREEMENT = [
    ["Stage", "Reviewer A", "Reviewer B", "Records", "Both include", "A include / B exclude",
     "A exclude / B include", "Both exclude", "Percent agreement", "Kappa"],
    # r1, r6, r7 both include; r3 (conflict: all votes in) and r5 ada include, ben exclude;
    # r2 both exclude. r4 waits for ben's vote: not counted.
    ["Title and abstract", "Ada", "Ben", "6", "3", "2", "0", "1", "66.7", "0.333"],
    ["Title and abstract", "All pairs", "", "6", "3", "2", "0", "1", "66.7", "0.333"],
    # r1 both include, r5 both exclude; r7 waits for ben's full-text vote.
    ["Full text", "Ada", "Ben", "2", "1", "0", "0", "1", "100.0", "1.000"],
    ["Full text", "All pairs", "", "2", "1", "0", "0", "1", "100.0", "1.000"],
]


def test_agreement_csv_gives_kappa_per_stage_and_pair(cast):
    screened(cast)

    job = run_export(cast, "agreement", "csv")

    assert job.message == "Agreement: 4 rows (each reviewer pair per stage and all pairs " \
                          "together)."
    rows = list(csv.reader(io.StringIO(file_bytes(job).decode("utf-8-sig"))))
    assert rows == AGREEMENT


def test_agreement_xlsx_writes_the_figures_as_numbers_and_neutralises_names(cast):
    screened(cast)
    cast.ada.display_name = "=Ada"
    cast.ada.save()

    job = run_export(cast, "agreement", "xlsx")

    book = openpyxl.load_workbook(io.BytesIO(file_bytes(job)))
    rows = [list(row) for row in book["Agreement"].iter_rows(values_only=True)]
    assert rows[0] == AGREEMENT[0]
    assert rows[1] == ["Title and abstract", "'=Ada", "Ben", 6, 3, 2, 0, 1, 66.7, 0.333]
    assert rows[3] == ["Full text", "'=Ada", "Ben", 2, 1, 0, 0, 1, 100, 1]


def test_agreement_of_a_project_without_votes_is_the_header_alone(cast):
    job = run_export(cast, "agreement", "csv")

    assert list(csv.reader(io.StringIO(file_bytes(job).decode("utf-8-sig")))) == [AGREEMENT[0]]
