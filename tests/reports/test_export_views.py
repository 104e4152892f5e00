"""The exports page: one form per export, POST starts the job and opens its page; the
project's recent exports with their files and expiry dates; one export through the worker."""

import csv
import io
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from projects.jobs import purge_expired_files
from projects.models import Job
from reports import export_jobs
from tests.factories import JobFactory, ProjectFactory
from tests.reports.test_export_data import screened

pytestmark = pytest.mark.django_db


def _page(client):
    return client.get(reverse("reports:exports", args=["ikt"]))


def _start(client, export, **fields):
    data = {"export": export, **{f"{export}-{k}": v for k, v in fields.items()}}
    return client.post(reverse("reports:export_start", args=["ikt"]), data)


def test_the_exports_page_offers_every_export_to_a_viewer(cast, client_for):
    response = _page(client_for(cast.viewer))

    html = response.content.decode()
    assert response.status_code == 200
    for title in ("References", "Screening decisions", "Agreement", "Extraction table",
                  "Raw extractions", "Charting tables"):
        assert f">{title}</h2>" in html
    assert html.count('name="export"') == 6
    assert '<option value="included_reports">Full text: included, i.e. the included reports ' \
           '(for Zotero or EndNote)</option>' in html
    assert 'id="id_references-format_0" value="ris" checked' in html
    assert "No exports yet." in html


def test_the_reports_page_links_the_exports(cast, client_for):
    response = client_for(cast.viewer).get(reverse("reports:home", args=["ikt"]))

    assert f'href="{reverse("reports:exports", args=["ikt"])}"' in response.content.decode()


def test_an_outsider_gets_404_on_the_page_and_the_start(cast, client_for):
    client = client_for(cast.outsider)

    assert _page(client).status_code == 404
    assert _start(client, "references", format="ris", which="all").status_code == 404
    assert not Job.objects.exists()


def test_get_on_the_start_is_405(cast, client_for):
    response = client_for(cast.viewer).get(reverse("reports:export_start", args=["ikt"]))

    assert response.status_code == 405


def test_a_viewer_starts_an_export_and_lands_on_its_job_page(cast, client_for):
    response = _start(client_for(cast.viewer), "references", format="ris",
                      which="included_reports")

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:job", args=["ikt", job.pk])
    assert (job.kind, job.task_name, job.label, job.params, job.started_by) == (
        export_jobs.REFERENCES, "reports.export", "References (included reports) as RIS",
        {"format": "ris", "which": "included_reports"}, cast.viewer)


@pytest.mark.parametrize("export,fields,message", [
    ("references", {"format": "pdf", "which": "all"},
     "References: choose a format and which records."),
    ("references", {"format": "ris", "which": "everything"},
     "References: choose a format and which records."),
    ("decisions", {}, "Screening decisions: choose a format."),
    ("nothing", {"format": "csv"}, "Choose an export."),
])
def test_a_bad_choice_starts_nothing_and_says_why(cast, client_for, export, fields, message):
    client = client_for(cast.viewer)

    response = _start(client, export, **fields)

    assert response.status_code == 302
    assert response["Location"] == reverse("reports:exports", args=["ikt"])
    assert message in _page(client).content.decode()
    assert not Job.objects.exists()


def _export_job(cast, label, *, days_ago=1.0, file=True, **fields):
    job = JobFactory(project=cast.project, kind=export_jobs.DECISIONS, label=label,
                     task_name="reports.export", status=Job.Status.SUCCEEDED,
                     started_by=cast.ada, result={},
                     finished_at=timezone.now() - timedelta(days=days_ago), **fields)
    if file:
        job.result_file.save("decisions.csv", ContentFile(b"x"))
    return job


def test_recent_exports_show_their_files_and_when_they_are_removed(cast, client_for):
    kept = _export_job(cast, "Screening decisions as CSV", days_ago=1)
    gone = _export_job(cast, "Agreement as XLSX", days_ago=8)
    purge_expired_files()
    JobFactory(project=cast.project, label="Project health check")  # not an export
    JobFactory(project=ProjectFactory(slug="other"), kind=export_jobs.DECISIONS,
               label="Another project's export")

    html = _page(client_for(cast.viewer)).content.decode()

    assert "Project health check" not in html and "Another project" not in html
    expires = timezone.localtime(kept.finished_at + timedelta(days=7)).strftime("%Y-%m-%d %H:%M")
    assert f'<td class="small">{expires}</td>' in html
    assert f'href="{reverse("projects:job_file", args=["ikt", kept.pk])}">Download</a>' in html
    assert "Removed after 7 days" in html
    assert f'href="{reverse("projects:job_file", args=["ikt", gone.pk])}"' not in html


def test_the_exports_page_runs_the_same_queries_with_one_and_three_exports(cast, client_for):
    client = client_for(cast.viewer)
    _export_job(cast, "One")
    _page(client)  # the session and the like, loaded once
    with CaptureQueriesContext(connection) as one:
        _page(client)
    _export_job(cast, "Two")
    _export_job(cast, "Three", file=False)

    with CaptureQueriesContext(connection) as three:
        html = _page(client).content.decode()

    assert html.count("<tr>") == 4
    assert len(three) == len(one)


def test_an_export_runs_in_the_worker_and_downloads(transactional_db, cast, client_for,
                                                    celery_worker):
    s = screened(cast)
    client = client_for(cast.viewer)

    response = _start(client, "references", format="csv", which="ta_excluded")
    job = Job.objects.get(kind=export_jobs.REFERENCES)
    deadline = time.monotonic() + 30
    while not job.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()

    assert response.status_code == 302
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.message == "1 record (excluded at title and abstract) as CSV."
    page = client.get(reverse("projects:job", args=["ikt", job.pk])).content.decode()
    assert "Download the CSV" in page
    download = client.get(reverse("projects:job_file", args=["ikt", job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content)
                                       .decode("utf-8-sig"))))
    assert [row[:4] for row in rows[1:]] == [[str(s.r2.pk), str(s.r2.study_id),
                                              s.r2.source.name, "Record 2"]]
