"""The archive's pages, jobs and commands: a lead downloads it, anyone signed in restores
one as a new project of their own, `export_project` and `import_project` do the same from
the shell, and the real worker runs both jobs."""

import io
import json
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from projects.jobs import run_job
from projects.models import Job, Membership, Project, Role
from references.models import Record
from reports import archive, archive_jobs
from screening.prisma import prisma_counts
from tests.factories import RecordFactory, UserFactory
from tests.reports.fullproject import build_full_project

pytestmark = pytest.mark.postgres


@pytest.fixture
def records(cast):
    return [RecordFactory(project=cast.project, title=f"Record {i}") for i in range(3)]


def upload(data: bytes, name="ikt-archive.zip"):
    return SimpleUploadedFile(name, data, content_type="application/zip")


def finish(job: Job, timeout: float = 60) -> Job:
    deadline = time.monotonic() + timeout
    while not job.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    return job


# --- the download ---------------------------------------------------------------------------


def test_lead_starts_the_archive_download_and_the_job_writes_the_zip(cast, client_for,
                                                                    records):
    response = client_for(cast.lead).post(reverse("reports:archive_export", args=["ikt"]))

    job = Job.objects.get(kind=archive_jobs.EXPORT)
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:job", args=["ikt", job.pk])
    assert (job.status, job.started_by, job.label) == ("queued", cast.lead, "Project archive")
    run_job(job.pk, archive_jobs.run_export)
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.result_file.name.endswith(".zip") and "/ikt-archive-" in job.result_file.name
    with job.result_file.open("rb") as fh, zipfile.ZipFile(fh) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["tables"]["records"]["rows"] == 3
    rows = sum(t["rows"] for t in manifest["tables"].values())
    assert job.message == f"The archive holds {rows:,} rows and 0 files."
    page = client_for(cast.lead).get(response["Location"]).content.decode()
    assert "Download the project archive (.zip)" in page


@pytest.mark.parametrize("who", ["ada", "viewer"])
def test_non_lead_cannot_start_the_archive_download(cast, client_for, who):
    response = client_for(cast.user(who)).post(reverse("reports:archive_export", args=["ikt"]))

    assert response.status_code == 403
    assert not Job.objects.filter(kind=archive_jobs.EXPORT).exists()


def test_outsider_gets_404_on_the_archive_download(cast, client_for):
    response = client_for(cast.outsider).post(reverse("reports:archive_export", args=["ikt"]))

    assert response.status_code == 404
    assert not Job.objects.exists()


def test_get_on_the_archive_download_is_405(cast, client_for):
    response = client_for(cast.lead).get(reverse("reports:archive_export", args=["ikt"]))

    assert response.status_code == 405


def test_reports_page_offers_the_download_to_leads_only(cast, client_for):
    url = reverse("reports:home", args=["ikt"])
    lead_page = client_for(cast.lead).get(url).content.decode()
    reviewer_page = client_for(cast.ada).get(url).content.decode()

    assert "Download the project archive" in lead_page
    assert reverse("reports:archive_export", args=["ikt"]) in lead_page
    assert "Download the project archive" not in reviewer_page
    assert "A lead downloads it" in reviewer_page
    assert reverse("reports:archive_import") in reviewer_page


def test_my_projects_page_links_the_import_beside_new_project(cast, client_for):
    page = client_for(cast.ada).get(reverse("projects:home")).content.decode()

    assert f'href="{reverse("reports:archive_import")}">Import a project archive</a>' in page


# --- the upload -----------------------------------------------------------------------------


def test_import_page_shows_the_form(cast, client_for):
    response = client_for(cast.outsider).get(reverse("reports:archive_import"))

    assert response.status_code == 200
    assert "Project archive (.zip)" in response.content.decode()


def test_import_page_needs_sign_in(client):
    response = client.get(reverse("reports:archive_import"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_upload_makes_a_new_project_led_by_the_uploader_and_the_job_restores_it(
        cast, client_for, records):
    data = archive.build_archive(cast.project)
    newcomer = UserFactory(username="newcomer")

    response = client_for(newcomer).post(reverse("reports:archive_import"),
                                         {"file": upload(data), "name": "IKT copy"})

    project = Project.objects.get(name="IKT copy")
    job = Job.objects.get(kind=archive_jobs.IMPORT)
    assert response["Location"] == reverse("projects:job", args=[project.slug, job.pk])
    assert (project.slug, job.project, job.started_by) == ("ikt-copy", project, newcomer)
    assert list(Membership.objects.filter(project=project).values_list(
        "user__username", "role")) == [("newcomer", Role.LEAD)]
    run_job(job.pk, archive_jobs.run_import)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    manifest = archive.peek(io.BytesIO(data))
    rows = sum(t["rows"] for t in manifest["tables"].values())
    assert job.message == ("Restored 'Trainee-led IKT scoping review' as ikt-copy: "
                           f"{rows:,} rows, 0 files.")
    assert job.result["link"]["url"] == reverse("reports:overview", args=["ikt-copy"])
    assert sorted(Record.objects.filter(project=project).values_list("title", flat=True)) == [
        "Record 0", "Record 1", "Record 2"]
    members = dict(Membership.objects.filter(project=project)
                   .values_list("user__username", "role"))
    assert members == {"lead": "lead", "ada": "reviewer", "ben": "reviewer", "cy": "reviewer",
                       "viewer": "viewer", "newcomer": "lead"}
    assert not archive_jobs.default_storage.exists(job.params["upload"])


def test_upload_of_a_wrong_file_is_refused_on_the_form_without_a_project(cast, client_for):
    response = client_for(cast.ada).post(reverse("reports:archive_import"),
                                         {"file": upload(b"not a zip", "refs.ris")})

    assert response.status_code == 200
    assert "This file is not a zip archive" in response.content.decode()
    assert Project.objects.count() == 1 and not Job.objects.exists()


def test_upload_of_a_newer_archive_is_refused_with_the_upgrade_message(cast, client_for,
                                                                       records):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive.build_archive(cast.project))) as src, \
            zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            body = src.read(name)
            if name == "manifest.json":
                body = json.dumps({**json.loads(body), "format_version": 3})
            dst.writestr(name, body)

    response = client_for(cast.ada).post(reverse("reports:archive_import"),
                                         {"file": upload(out.getvalue())})

    assert ("This archive was written by a newer version of Tandem (format 3); this server "
            "reads format 2. Upgrade Tandem to import it.") in response.content.decode()
    assert Project.objects.count() == 1


def test_a_failed_restore_job_says_why_keeps_the_project_empty_and_can_be_retried(
        cast, client_for, records):
    data = archive.build_archive(cast.project)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        lines = zf.read("records.json").decode().splitlines()
    lines[2] = lines[2][:30]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, "\n".join(lines) if name == "records.json" else src.read(name))
    client = client_for(cast.ada)
    client.post(reverse("reports:archive_import"), {"file": upload(out.getvalue())})
    job = Job.objects.get(kind=archive_jobs.IMPORT)

    run_job(job.pk, archive_jobs.run_import)

    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message.startswith("records.json, row 2: damaged JSON (")
    assert not Record.objects.filter(project=job.project).exists()
    page = client.get(reverse("projects:job", args=[job.project.slug, job.pk])).content.decode()
    assert "The job failed." in page and "records.json, row 2: damaged JSON" in page
    assert "Retry</button>" in page  # the uploader leads the new project
    assert archive_jobs.default_storage.exists(job.params["upload"])


# --- the commands -------------------------------------------------------------------------


def test_export_and_import_commands_round_trip(cast, records, tmp_path):
    out = tmp_path / "ikt.zip"
    stdout = io.StringIO()

    call_command("export_project", "ikt", "--out", str(out), stdout=stdout)
    call_command("import_project", str(out), "--name", "From the shell", "--slug", "shell",
                 "--user", "ada", stdout=stdout)

    text = stdout.getvalue()
    assert f"Wrote the archive of 'ikt' to {out}: " in text
    assert "Restored 'Trainee-led IKT scoping review' as shell: " in text
    project = Project.objects.get(slug="shell")
    assert project.name == "From the shell"
    assert Membership.objects.get(project=project, user=cast.ada).role == Role.LEAD
    assert Record.objects.filter(project=project).count() == 3


def test_import_command_refuses_a_damaged_archive_with_its_reason(cast, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 truncated")

    with pytest.raises(CommandError, match="The archive was not imported: This file is not a "
                                           "zip archive"):
        call_command("import_project", str(bad), "--user", "lead")


def test_import_command_refuses_a_taken_slug_and_an_unknown_user(cast, records, tmp_path):
    out = tmp_path / "ikt.zip"
    call_command("export_project", "ikt", "--out", str(out), stdout=io.StringIO())

    with pytest.raises(CommandError, match="A project with the address 'ikt' exists already"):
        call_command("import_project", str(out), "--slug", "ikt", "--user", "lead")
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("import_project", str(out), "--user", "nobody")
    with pytest.raises(CommandError, match="No project with the slug 'nope'"):
        call_command("export_project", "nope", "--out", str(out))


# --- the real worker ----------------------------------------------------------------------


def test_the_worker_writes_the_archive_and_restores_it_as_a_new_project(
        transactional_db, cast, client_for, celery_worker):
    build_full_project(cast)
    lead = client_for(cast.lead)

    lead.post(reverse("reports:archive_export", args=["ikt"]))
    export = finish(Job.objects.get(kind=archive_jobs.EXPORT))
    assert export.status == "succeeded", export.message
    download = lead.get(reverse("projects:job_file", args=["ikt", export.pk]))
    data = b"".join(download.streaming_content)
    newcomer = UserFactory(username="newcomer")
    client_for(newcomer).post(reverse("reports:archive_import"), {"file": upload(data)})
    restore = finish(Job.objects.get(kind=archive_jobs.IMPORT))

    assert restore.status == "succeeded", restore.message
    assert restore.project.slug == "trainee-led-ikt-scoping-review"
    assert prisma_counts(restore.project) == prisma_counts(cast.project)
    assert Record.objects.filter(project=restore.project).count() == 19
