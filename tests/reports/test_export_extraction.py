"""Raw extractions (one row per extractor and study, every field) for settled studies only,
and the consensus table started from the exports page (the extraction app's own job)."""

import csv
import datetime
import io

import openpyxl
import pytest

from extraction import jobs as extraction_jobs
from extraction.models import Extraction
from projects.models import Job
from reports import export_jobs
from tests.extraction.tabledata import extraction, include_studies, paper_form
from tests.reports.test_export_data import file_bytes, run_export

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example","click")'
FIELDS = ["Study design", "Country", "Participants", "Training hours (h)", "Summary",
          "Users engaged", "Activities", "Start date", "Knowledge users"]
HEADER = ["Study ID", "Study", "Title", "Extractor", "Status", "Completed", "Form version",
          *FIELDS]


def _extractions(cast):
    """Lee: ada's and ben's complete extractions and their consensus. Kim: ada complete, ben
    still drafting: no consensus, so neither may be seen."""
    lee, kim = include_studies(cast, [("Lee, Kim", 2020), ("Kim, Jo", 2019)])
    paper = paper_form(cast.project)
    ada = extraction(lee, paper.version, {
        paper.design: "cohort", paper.country: "CA", paper.participants: "120",
        paper.dose: "2.50", paper.summary: EVIL, paper.engaged: "yes",
        paper.activities: ["plan", "share"], paper.started: "2019-03-31",
        paper.users: [{"user_type": "pat", "user_role": "-Advisor"}],
    }, role=Extraction.Role.EXTRACTOR, reviewer=cast.ada)
    ben = extraction(lee, paper.version, {
        paper.design: {"value": "__other__", "other": "Stepped wedge"},
        paper.country: "NO", paper.participants: "118",
    }, role=Extraction.Role.EXTRACTOR, reviewer=cast.ben)
    extraction(lee, paper.version, {paper.design: "cohort", paper.country: "CA"},
               reviewer=cast.lead)
    extraction(kim, paper.version, {paper.summary: "KIM-SECRET by Ada"},
               role=Extraction.Role.EXTRACTOR, reviewer=cast.ada)
    extraction(kim, paper.version, {paper.summary: "KIM-SECRET by Ben"},
               role=Extraction.Role.EXTRACTOR, reviewer=cast.ben,
               status=Extraction.Status.DRAFT)
    return lee, kim, ada, ben


def test_raw_extractions_csv_has_one_row_per_extractor_of_settled_studies(cast):
    lee, kim, ada, ben = _extractions(cast)

    job = run_export(cast, "raw_extractions", "csv")

    assert job.message == "2 extractions of 1 settled study."
    assert job.result_file.name.endswith(".csv")
    text = file_bytes(job).decode("utf-8-sig")
    assert "KIM-SECRET" not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        HEADER,
        [str(lee.pk), "Lee 2020", "Trainee partnerships (Lee)", "Ada", "Complete",
         ada.completed_at.isoformat(timespec="seconds"), "1", "Cohort study", "Canada", "120",
         "2.50", "'" + EVIL, "Yes", "Planning; Sharing results", "2019-03-31",
         "User type: Patient; Role: -Advisor"],
        [str(lee.pk), "Lee 2020", "Trainee partnerships (Lee)", "Ben", "Complete",
         ben.completed_at.isoformat(timespec="seconds"), "1", "Other: Stepped wedge", "Norway",
         "118", "", "", "", "", "", ""],
    ]


def test_raw_extractions_xlsx_keeps_numbers_and_dates(cast):
    lee, kim, ada, ben = _extractions(cast)

    job = run_export(cast, "raw_extractions", "xlsx")

    book = openpyxl.load_workbook(io.BytesIO(file_bytes(job)))
    assert book.sheetnames == ["Raw extractions"]
    rows = [list(row) for row in book["Raw extractions"].iter_rows(values_only=True)]
    assert rows[0] == HEADER
    assert rows[1] == [lee.pk, "Lee 2020", "Trainee partnerships (Lee)", "Ada", "Complete",
                       ada.completed_at.replace(tzinfo=None, microsecond=0), 1,
                       "Cohort study", "Canada", 120, 2.5, "'" + EVIL, "Yes",
                       "Planning; Sharing results", datetime.datetime(2019, 3, 31),
                       "User type: Patient; Role: -Advisor"]
    assert len(rows) == 3


def test_the_consensus_table_is_the_extraction_apps_own_export(cast):
    _extractions(cast)

    job = export_jobs.start_export(cast.project, user=cast.viewer, export="extraction_table",
                                   file_format="xlsx")

    assert (job.kind, job.label, job.params) == (extraction_jobs.EXPORT,
                                                 "Extraction table as XLSX", {"format": "xlsx"})
    from projects.jobs import run_job

    run_job(job.pk, extraction_jobs.run_export)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    book = openpyxl.load_workbook(io.BytesIO(file_bytes(job)))
    studies = [list(row) for row in book["Studies"].iter_rows(values_only=True)]
    assert [row[:2] for row in studies[1:]] == [[studies[1][0], "Lee 2020"]]
