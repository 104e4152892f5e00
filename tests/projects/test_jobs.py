"""The job runner in this process: claiming, progress, success and readable failures."""

import json
from datetime import timedelta

import pytest
from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from projects import jobs, services, tasks
from projects.models import AuditEvent, Job
from references import jobs as references_jobs
from references import tasks as references_tasks
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


# --- heartbeat and sweep ---------------------------------------------------------------------


def test_claim_and_progress_write_the_heartbeat(cast):
    job = JobFactory(project=cast.project)
    seen = []

    def handler(job, progress):
        job.refresh_from_db()
        seen.append(job.heartbeat_at)
        Job.objects.filter(pk=job.pk).update(heartbeat_at=None)
        progress(1, 2, "Half-way")
        job.refresh_from_db()
        seen.append(job.heartbeat_at)

    before = timezone.now()
    jobs.run_job(job.pk, handler)

    claimed, reported = seen
    assert claimed is not None and claimed >= before
    assert reported is not None and reported >= claimed


def stale(job: Job, seconds: int) -> None:
    """Date a job's heartbeat (and creation and start) `seconds` back."""
    then = timezone.now() - timedelta(seconds=seconds)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=then, created_at=then, started_at=then)


def test_sweep_fails_running_jobs_whose_heartbeat_stopped(cast, settings):
    settings.JOB_STALE_AFTER = 600
    dead = JobFactory(project=cast.project, status=Job.Status.RUNNING)
    stale(dead, 601)
    alive = JobFactory(project=cast.project, status=Job.Status.RUNNING)
    stale(alive, 590)

    swept = jobs.sweep_stale_jobs()

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert swept == 1
    assert (dead.status, dead.message) == ("failed", jobs.STALE_RUNNING_MESSAGE)
    assert dead.message.startswith("The worker running this job stopped (it was killed, ran out "
                                   "of memory or was shut down) before the job finished.")
    assert dead.finished_at is not None
    assert alive.status == "running"
    event = AuditEvent.objects.get(action="job.stale")
    assert (event.target_id, event.actor, event.before["status"], event.after) == (
        str(dead.pk), None, "running", {"status": "failed"})


def test_sweep_fails_running_jobs_claimed_before_heartbeats_existed(cast, settings):
    settings.JOB_STALE_AFTER = 600
    old = JobFactory(project=cast.project, status=Job.Status.RUNNING,
                     started_at=timezone.now() - timedelta(seconds=601))
    recent = JobFactory(project=cast.project, status=Job.Status.RUNNING,
                        started_at=timezone.now())

    assert jobs.sweep_stale_jobs() == 1

    assert Job.objects.get(pk=old.pk).status == "failed"
    assert Job.objects.get(pk=recent.pk).status == "running"


def test_sweep_fails_jobs_queued_too_long_and_leaves_the_rest(cast, settings):
    settings.JOB_QUEUED_STALE_AFTER = 3600
    lost = JobFactory(project=cast.project)
    stale(lost, 3601)
    waiting = JobFactory(project=cast.project)
    stale(waiting, 3500)
    finished = [JobFactory(project=cast.project, status=status)
                for status in (Job.Status.SUCCEEDED, Job.Status.FAILED)]
    for job in finished:
        stale(job, 100_000)

    swept = jobs.sweep_stale_jobs()

    assert swept == 1
    assert Job.objects.get(pk=lost.pk).message == jobs.STALE_QUEUED_MESSAGE
    assert {j.pk: j.status for j in Job.objects.all()} == {
        lost.pk: "failed", waiting.pk: "queued", finished[0].pk: "succeeded",
        finished[1].pk: "failed"}
    assert [Job.objects.get(pk=j.pk).message for j in finished] == ["", ""]


def test_sweep_takes_now_so_a_fresh_job_is_stale_later(cast, settings):
    settings.JOB_STALE_AFTER = 600
    job = JobFactory(project=cast.project, status=Job.Status.RUNNING)
    stale(job, 0)

    assert jobs.sweep_stale_jobs() == 0
    assert jobs.sweep_stale_jobs(now=timezone.now() + timedelta(seconds=601)) == 1
    assert jobs.sweep_stale_jobs(now=timezone.now() + timedelta(seconds=601)) == 0


def test_a_swept_job_is_not_run_by_its_redelivered_message(cast, settings):
    settings.JOB_QUEUED_STALE_AFTER = 3600
    job = JobFactory(project=cast.project)
    stale(job, 3601)
    jobs.sweep_stale_jobs()
    calls = []

    jobs.run_job(job.pk, lambda job, progress: calls.append(job.pk))

    job.refresh_from_db()
    assert calls == []
    assert (job.status, job.message) == ("failed", jobs.STALE_QUEUED_MESSAGE)


def test_a_swept_job_keeps_its_failure_when_its_worker_comes_back(cast, settings):
    """A worker that was only stalled finishes after the sweep: the row stays failed, so
    the page does not flip back and a retry already started is not contradicted."""
    settings.JOB_STALE_AFTER = 600
    job = JobFactory(project=cast.project)

    def handler(job, progress):
        stale(job, 601)
        assert jobs.sweep_stale_jobs() == 1
        progress(5, 10, "Still going")
        return {"message": "Done late."}

    jobs.run_job(job.pk, handler)

    job.refresh_from_db()
    assert (job.status, job.message, job.progress_done) == (
        "failed", jobs.STALE_RUNNING_MESSAGE, 0)


def test_sweep_task_runs_the_sweep(cast, settings):
    settings.JOB_STALE_AFTER = 600
    job = JobFactory(project=cast.project, status=Job.Status.RUNNING)
    stale(job, 601)

    assert tasks.task_sweep_jobs.apply().get() == 1
    assert Job.objects.get(pk=job.pk).status == "failed"


def test_beat_runs_the_sweep_every_minute_and_the_file_clean_up_every_hour():
    schedule = django_settings.CELERY_BEAT_SCHEDULE

    assert schedule == {
        "sweep-stale-jobs": {
            "task": "projects.sweep_jobs", "schedule": 60, "options": {"expires": 60}},
        "purge-expired-job-files": {
            "task": "projects.purge_job_files", "schedule": 3600, "options": {"expires": 3600}},
    }
    assert tasks.task_sweep_jobs.name == "projects.sweep_jobs"
    assert current_app.conf.beat_schedule == schedule
    assert current_app.conf.beat_schedule_filename == str(
        django_settings.BASE_DIR / "var" / "celerybeat-schedule")


def test_stale_settings_defaults():
    assert (django_settings.JOB_STALE_AFTER, django_settings.JOB_QUEUED_STALE_AFTER) == (
        600, 3600)


# --- kinds and the role each needs to retry ---------------------------------------------------


def test_registered_kinds_and_their_roles():
    kinds = {kind: jobs.job_kind(kind) for kind in
             ["health_check", references_jobs.IMPORT, references_jobs.DEDUPLICATE]}

    assert {k: (v.task_name, v.role) for k, v in kinds.items()} == {
        "health_check": (tasks.task_health_check.name, "reviewer"),
        "import_references": (references_tasks.task_import_references.name, "reviewer"),
        "deduplicate": (references_tasks.task_deduplicate.name, "lead"),
    }
    assert jobs.job_kind("no_such_kind") is None


def failed_deduplication(cast) -> Job:
    return JobFactory(project=cast.project, kind=references_jobs.DEDUPLICATE,
                      label="Deduplication", task_name="references.deduplicate",
                      status=Job.Status.FAILED, started_by=cast.lead)


def test_a_reviewer_cannot_retry_a_lead_job(cast):
    failed = failed_deduplication(cast)

    with pytest.raises(PermissionDenied, match="Retrying this job needs the lead role."):
        jobs.retry_job(failed, user=cast.ada)

    assert list(Job.objects.values_list("pk", flat=True)) == [failed.pk]
    assert not AuditEvent.objects.filter(action="job.start").exists()


def test_a_lead_retries_a_lead_job(cast):
    failed = failed_deduplication(cast)

    retry = jobs.retry_job(failed, user=cast.lead)

    assert (retry.status, retry.kind, retry.task_name, retry.retry_of, retry.started_by) == (
        "queued", "deduplicate", "references.deduplicate", failed, cast.lead)


def test_a_viewer_and_an_outsider_cannot_retry_even_a_reviewer_job(cast):
    failed = JobFactory(project=cast.project, status=Job.Status.FAILED)

    for user in (cast.viewer, cast.outsider):
        with pytest.raises(PermissionDenied, match="needs the reviewer role"):
            jobs.retry_job(failed, user=user)

    assert jobs.retry_job(failed, user=cast.ada).retry_of == failed


def test_a_kind_not_registered_cannot_be_retried(cast):
    failed = JobFactory(project=cast.project, kind="mystery", status=Job.Status.FAILED)

    with pytest.raises(jobs.JobError, match="This kind of job cannot be retried."):
        jobs.retry_job(failed, user=cast.lead)

    assert Job.objects.count() == 1


def test_can_retry_follows_status_kind_and_role(cast):
    dedup = failed_deduplication(cast)
    check = JobFactory(project=cast.project, status=Job.Status.FAILED)
    done = JobFactory(project=cast.project, status=Job.Status.SUCCEEDED)
    mystery = JobFactory(project=cast.project, kind="mystery", status=Job.Status.FAILED)
    members = {m.user.username: m for m in cast.project.memberships.select_related("user")}

    assert {name: [jobs.can_retry(job, m) for job in (dedup, check, done, mystery)]
            for name, m in members.items()} == {
        "lead": [True, True, False, False],
        "ada": [False, True, False, False],
        "ben": [False, True, False, False],
        "cy": [False, True, False, False],
        "viewer": [False, False, False, False],
    }
