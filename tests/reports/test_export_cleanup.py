"""Export files are kept JOB_FILE_DAYS days, then removed by the clean-up beat runs; the job
stays and its page says why there is no file."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from projects import tasks
from projects.jobs import file_expires_at, purge_expired_files
from projects.models import Job
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def _finished_job(project, *, days_ago: float, name="export.csv", **fields):
    job = JobFactory(project=project, status=Job.Status.SUCCEEDED,
                     finished_at=timezone.now() - timedelta(days=days_ago),
                     result={"file_label": "Download the CSV"}, **fields)
    job.result_file.save(name, ContentFile(b"a,b\r\n"))
    return job


def test_files_are_kept_seven_days_by_default():
    assert settings.JOB_FILE_DAYS == 7


def test_the_clean_up_removes_files_older_than_seven_days_and_keeps_the_rows(cast):
    old = _finished_job(cast.project, days_ago=7.01, name="old.csv")
    fresh = _finished_job(cast.project, days_ago=6.99, name="fresh.csv")
    running = JobFactory(project=cast.project, status=Job.Status.RUNNING)
    old_path = old.result_file.path
    now = timezone.now()

    removed = purge_expired_files(now=now)

    assert removed == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.result_file.name == ""
    assert old.result == {"file_label": "Download the CSV",
                          "file_expired_at": now.isoformat(), "file_days": 7}
    assert not old.result_file.storage.exists(old_path)
    assert fresh.result_file.storage.exists(fresh.result_file.name)
    assert Job.objects.filter(pk__in=[old.pk, fresh.pk, running.pk]).count() == 3


def test_the_clean_up_twice_removes_each_file_once(cast):
    _finished_job(cast.project, days_ago=8)
    now = timezone.now()

    assert purge_expired_files(now=now) == 1
    assert purge_expired_files(now=now) == 0


def test_the_clean_up_clears_a_row_whose_file_is_already_gone(cast):
    job = _finished_job(cast.project, days_ago=30)
    job.result_file.storage.delete(job.result_file.name)

    assert purge_expired_files() == 1
    job.refresh_from_db()
    assert job.result_file.name == ""


def test_the_clean_up_task_is_on_beats_schedule_and_runs_the_service(cast):
    _finished_job(cast.project, days_ago=9)

    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-job-files"]
    assert entry["task"] == tasks.task_purge_job_files.name == "projects.purge_job_files"
    assert entry["schedule"] == 3600
    assert tasks.task_purge_job_files() == 1


def test_a_file_expires_seven_days_after_its_job_finished(cast):
    job = _finished_job(cast.project, days_ago=1)

    assert file_expires_at(job) == job.finished_at + timedelta(days=7)
    assert file_expires_at(JobFactory(project=cast.project)) is None


def test_the_job_page_says_the_file_was_removed(cast, client_for):
    job = _finished_job(cast.project, days_ago=10, message="12 records as RIS.")
    purge_expired_files()

    response = client_for(cast.viewer).get(reverse("projects:job", args=["ikt", job.pk]))

    html = response.content.decode()
    assert "This file was removed after 7 days; run the export again." in html
    assert "Download the CSV" not in html
    assert client_for(cast.viewer).get(
        reverse("projects:job_file", args=["ikt", job.pk])).status_code == 404
