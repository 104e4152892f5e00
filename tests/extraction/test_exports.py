"""The extraction table as XLSX and CSV files, built by a job: labels, numbers, repeating
tables keyed by study, evidence, neutralised cells."""

import csv
import datetime
import io
import time
import zipfile

import openpyxl
import pytest
from django.urls import reverse

from extraction import jobs as extraction_jobs
from extraction.models import Extraction
from projects.jobs import retry_job, run_job, start_job
from projects.models import Job
from tests.extraction.tabledata import extraction, include_studies, paper_form
from tests.factories import FieldFactory

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example","click")'


def _settled(cast):
    lee, kim = include_studies(cast, [("Lee, Kim", 2020), ("Kim, Jo", 2019)])
    paper = paper_form(cast.project)
    extraction(lee, paper.version, {
        paper.design: {"value": "__other__", "other": "Stepped wedge"},
        paper.country: {"value": "CA", "quote": "Toronto's teaching hospitals", "page": "4",
                        "note": "Both said Canada"},
        paper.participants: "120", paper.dose: "2.50", paper.summary: EVIL,
        paper.engaged: "unclear", paper.activities: ["plan", "share"],
        paper.started: "2019-03-31",
        paper.users: [{"user_type": "pat", "user_role": "-Advisor"},
                      {"user_type": "clin", "user_role": "Co-author\x0b lead"}],
    }, reviewer=cast.lead)
    extraction(kim, paper.version, {paper.design: "case", paper.summary: "@home visits",
                                    paper.users: [{"user_role": "+1 mentor"}]},
               reviewer=cast.lead)
    # An extraction still under way: never in the file.
    extraction(kim, paper.version, {paper.summary: "Ada's unsettled summary"},
               role=Extraction.Role.EXTRACTOR, reviewer=cast.ada)
    return paper, lee, kim


def _export(cast, file_format, user=None):
    job = start_job(project=cast.project, kind=extraction_jobs.EXPORT, label="Export",
                    task="extraction.export_table", user=user or cast.viewer,
                    params={"format": file_format})
    run_job(job.pk, extraction_jobs.run_export)
    job.refresh_from_db()
    return job


def _sheet(workbook, name):
    return [list(row) for row in workbook[name].iter_rows(values_only=True)]


def test_xlsx_has_the_studies_each_repeating_table_and_the_evidence(cast):
    paper, lee, kim = _settled(cast)

    job = _export(cast, "xlsx")

    assert job.status == Job.Status.SUCCEEDED
    assert job.message == ("The extraction table of 2 studies as XLSX: a sheet each for the "
                           "studies, each repeating table and the evidence.")
    assert job.result_file.name.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(job.result_file.read()))
    assert workbook.sheetnames == ["Studies", "Knowledge users", "Evidence"]
    assert _sheet(workbook, "Studies") == [
        ["Study ID", "Study", "Title", "Form version", "Study design", "Country",
         "Participants", "Training hours (h)", "Summary", "Users engaged", "Activities",
         "Start date"],
        [lee.pk, "Lee 2020", "Trainee partnerships (Lee)", 1, "Other: Stepped wedge",
         "Canada", 120, 2.5, "'" + EVIL, "Unclear", "Planning; Sharing results",
         datetime.datetime(2019, 3, 31)],
        [kim.pk, "Kim 2019", "Trainee partnerships (Kim)", 1, "Case report", None, None, None,
         "'@home visits", None, None, None],
    ]
    studies = workbook["Studies"]
    assert studies["I2"].data_type == "s"  # text, not a formula
    assert studies["L2"].number_format == "YYYY-MM-DD"
    assert _sheet(workbook, "Knowledge users") == [
        ["Study ID", "Study", "Title", "Row", "User type", "Role"],
        [lee.pk, "Lee 2020", "Trainee partnerships (Lee)", 1, "Patient", "'-Advisor"],
        [lee.pk, "Lee 2020", "Trainee partnerships (Lee)", 2, "Clinician", "Co-author lead"],
        [kim.pk, "Kim 2019", "Trainee partnerships (Kim)", 1, None, "'+1 mentor"],
    ]
    assert _sheet(workbook, "Evidence") == [
        ["Study ID", "Study", "Field", "Answer", "Quote", "Page", "Consensus note"],
        [lee.pk, "Lee 2020", "Country", "Canada", "Toronto's teaching hospitals", "4",
         "Both said Canada"],
    ]


def test_decimals_are_numbers_in_xlsx_and_keep_their_digits_in_csv(cast):
    (lee,) = include_studies(cast, [("Lee, Kim", 2020)])
    paper = paper_form(cast.project)
    extraction(lee, paper.version, {paper.dose: "12345678.123456789"}, reviewer=cast.lead)

    workbook = openpyxl.load_workbook(io.BytesIO(_export(cast, "xlsx").result_file.read()))
    archive = zipfile.ZipFile(io.BytesIO(_export(cast, "csv").result_file.read()))

    cell = workbook["Studies"]["H2"]
    assert (cell.data_type, cell.value) == ("n", 12345678.123456789)  # Excel's own precision
    assert _csv(archive, "studies.csv")[1][7] == "12345678.123456789"


def _csv(archive, name):
    return list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


def test_csv_is_a_zip_of_one_file_per_sheet(cast):
    paper, lee, kim = _settled(cast)

    job = _export(cast, "csv")

    assert job.result["file_label"] == "Download the CSV files (zip)"
    archive = zipfile.ZipFile(io.BytesIO(job.result_file.read()))
    assert archive.namelist() == ["studies.csv", "table-knowledge-users.csv", "evidence.csv"]
    assert _csv(archive, "studies.csv") == [
        ["Study ID", "Study", "Title", "Form version", "Study design", "Country",
         "Participants", "Training hours (h)", "Summary", "Users engaged", "Activities",
         "Start date"],
        [str(lee.pk), "Lee 2020", "Trainee partnerships (Lee)", "1", "Other: Stepped wedge",
         "Canada", "120", "2.50", "'" + EVIL, "Unclear", "Planning; Sharing results",
         "2019-03-31"],
        [str(kim.pk), "Kim 2019", "Trainee partnerships (Kim)", "1", "Case report", "", "", "",
         "'@home visits", "", "", ""],
    ]
    assert _csv(archive, "table-knowledge-users.csv")[1:] == [
        [str(lee.pk), "Lee 2020", "Trainee partnerships (Lee)", "1", "Patient", "'-Advisor"],
        [str(lee.pk), "Lee 2020", "Trainee partnerships (Lee)", "2", "Clinician",
         "Co-author\x0b lead"],
        [str(kim.pk), "Kim 2019", "Trainee partnerships (Kim)", "1", "", "'+1 mentor"],
    ]
    assert _csv(archive, "evidence.csv")[1] == [
        str(lee.pk), "Lee 2020", "Country", "Canada", "Toronto's teaching hospitals", "4",
        "Both said Canada"]


def test_export_never_holds_an_unsettled_extraction(cast):
    (lee,) = include_studies(cast, [("Lee, Kim", 2020)])
    paper = paper_form(cast.project)
    for who, summary in [(cast.ada, "Ada's summary"), (cast.ben, "Ben's summary")]:
        extraction(lee, paper.version, {paper.summary: summary},
                   role=Extraction.Role.EXTRACTOR, reviewer=who)

    archive = zipfile.ZipFile(io.BytesIO(_export(cast, "csv").result_file.read()))

    content = b"".join(archive.read(name) for name in archive.namelist()).decode("utf-8-sig")
    assert "summary" not in content.replace("Summary", "")
    assert len(_csv(archive, "studies.csv")) == 1  # the header alone


def test_sheet_names_are_valid_and_unique(cast):
    (lee,) = include_studies(cast, [("Lee, Kim", 2020)])
    paper = paper_form(cast.project)
    paper.users.label = "Evidence"
    paper.users.save()
    FieldFactory(section=paper.users.section, key="t2", type="table", position=9,
                 label="Users: who/what [detail]? A very long label indeed")

    workbook = openpyxl.load_workbook(io.BytesIO(_export(cast, "xlsx").result_file.read()))

    assert workbook.sheetnames == ["Studies", "Evidence", "Users who what detail A very lo",
                                   "Evidence (2)"]


def test_an_unknown_format_fails_the_job_with_a_message(cast):
    job = _export(cast, "pdf")

    assert (job.status, job.message) == ("failed", "Unknown format 'pdf': choose CSV or XLSX.")


def test_a_viewer_may_retry_a_failed_export(cast, django_capture_on_commit_callbacks):
    job = _export(cast, "pdf")

    with django_capture_on_commit_callbacks(execute=False):
        retried = retry_job(job, user=cast.viewer)

    assert (retried.kind, retried.params, retried.retry_of, retried.task_name) == (
        "extraction_export", {"format": "pdf"}, job, "extraction.export_table")


@pytest.mark.postgres
@pytest.mark.redis
def test_the_worker_builds_the_file_the_job_page_offers(transactional_db, cast, client_for,
                                                        celery_worker):
    paper, lee, kim = _settled(cast)
    client = client_for(cast.viewer)

    response = client.post(reverse("extraction:table_export", args=[cast.project.slug]),
                           {"format": "csv"})
    job = Job.objects.get(kind=extraction_jobs.EXPORT)
    deadline = time.monotonic() + 30
    while not job.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()

    assert job.status == Job.Status.SUCCEEDED
    page = client.get(response["Location"]).content.decode()
    assert "Download the CSV files (zip)" in page
    assert "Back to the extraction table" in page
    download = client.get(reverse("projects:job_file", args=[cast.project.slug, job.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert _csv(archive, "studies.csv")[1][4] == "Other: Stepped wedge"
