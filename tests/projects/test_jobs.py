"""The job runner in this process: claiming, progress, success and readable failures."""

import json

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from projects import jobs, services
from projects.models import AuditEvent, Job
from tests.factories import JobFactory


def test_health_check_job_succeeds_with_report(cast):
    job = JobFactory(project=cast.project, started_by=cast.lead)

    jobs.run_job(job.pk, services.health_check)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress_done, job.progress_total, job.percent) == (4, 4, 100)
    assert job.message == "5 members (1 lead, 3 reviewers, 1 viewer), 0 pending invitations."
    assert job.result["members_by_role"] == {"viewer": 1, "reviewer": 3, "lead": 1}
    assert json.loads(job.result_file.read())["members"] == 5


def test_a_job_runs_once_even_if_its_message_comes_twice(cast):
    job = JobFactory(project=cast.project)
    calls = []

    def handler(job, progress):
        calls.append(job.pk)

    jobs.run_job(job.pk, handler)
    jobs.run_job(job.pk, handler)

    assert calls == [job.pk]


def test_job_error_message_is_shown_as_is(cast):
    job = JobFactory(project=cast.project)

    def handler(job, progress):
        progress(3, 10, "Reading")
        raise jobs.JobError("file.ris, line 12: the record has no TY tag.")

    jobs.run_job(job.pk, handler)

    job.refresh_from_db()
    assert (job.status, job.message) == ("failed", "file.ris, line 12: the record has no TY tag.")
    assert (job.progress_done, job.progress_total) == (3, 10)
    assert job.finished_at is not None


def test_unexpected_error_says_what_went_wrong(cast):
    job = JobFactory(project=cast.project)

    def handler(job, progress):
        raise KeyError("title")

    jobs.run_job(job.pk, handler)

    job.refresh_from_db()
    assert (job.status, job.message) == ("failed", "Unexpected error (KeyError): 'title'")


def test_time_limit_fails_the_job_with_the_limit(cast, settings):
    job = JobFactory(project=cast.project)

    def handler(job, progress):
        raise SoftTimeLimitExceeded()

    jobs.run_job(job.pk, handler)

    job.refresh_from_db()
    assert job.message == (f"Stopped: the job ran longer than the limit of "
                           f"{settings.CELERY_TASK_SOFT_TIME_LIMIT} seconds.")


def test_health_check_fails_readably_without_a_lead(cast):
    cast.project.memberships.filter(role="lead").delete()
    job = JobFactory(project=cast.project)

    jobs.run_job(job.pk, services.health_check)

    job.refresh_from_db()
    assert (job.status, job.message) == (
        "failed", "The project has no lead: ask an administrator to add one.")


def test_start_job_enqueues_after_commit_and_is_audited(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        job = services.start_health_check(cast.project, user=cast.ada)

    assert len(callbacks) == 1
    assert (job.status, job.kind, job.task_name, job.started_by) == (
        "queued", "health_check", "projects.health_check", cast.ada)
    event = AuditEvent.objects.get(action="job.start")
    assert event.after == {"kind": "health_check", "params": {}, "retry_of": None}


def test_retry_starts_a_new_job_linked_to_the_failed_one(cast):
    failed = JobFactory(project=cast.project, status=Job.Status.FAILED, params={"n": 1})

    retry = jobs.retry_job(failed, user=cast.lead)

    assert retry.pk != failed.pk
    assert (retry.status, retry.retry_of, retry.params, retry.kind) == (
        "queued", failed, {"n": 1}, "health_check")


def test_only_a_failed_job_can_be_retried(cast):
    done = JobFactory(project=cast.project, status=Job.Status.SUCCEEDED)

    with pytest.raises(jobs.JobError, match="Only a failed job"):
        jobs.retry_job(done, user=cast.lead)
