"""The queue end to end: a real worker process takes the job from Redis and runs it."""

import json
import random
import signal
import string
import time
from datetime import timedelta

import pytest
from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from projects import jobs, services
from projects.models import Job
from references import jobs as references_jobs
from references.models import Record, Study
from tests.conftest import start_celery_worker, stop_celery_worker
from tests.factories import SourceFactory


def wait_for_job(job: Job, timeout: float = 30) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout}s")


@pytest.mark.postgres
@pytest.mark.redis
def test_health_check_job_runs_on_a_real_worker(transactional_db, cast, celery_worker):
    job = services.start_health_check(cast.project, user=cast.lead)

    job = wait_for_job(job)

    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress_done, job.progress_total, job.percent) == (4, 4, 100)
    assert job.message == "5 members (1 lead, 3 reviewers, 1 viewer), 0 pending invitations."
    assert job.started_at is not None and job.finished_at >= job.started_at
    report = json.loads(job.result_file.read())
    assert report["members_by_role"] == {"viewer": 1, "reviewer": 3, "lead": 1}
    assert report["project"] == "ikt"


def generated_project_records(project, n: int) -> None:
    """`n` records whose titles share a small vocabulary: deduplicating them takes seconds of
    matching (with progress reports) and finds few duplicates."""
    rng = random.Random(14)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 10)))
             for _ in range(150)]
    source = SourceFactory(project=project, record_count=n)
    studies = Study.objects.bulk_create([Study(project=project) for _ in range(n)],
                                        batch_size=5000)
    Record.objects.bulk_create([
        Record(project=project, source=source, study=study, source_position=i + 1,
               title=" ".join(rng.choices(words, k=12)), year=2000 + i % 20,
               authors=[f"{rng.choice(words).title()}, A."], journal=rng.choice(words[:40]))
        for i, study in enumerate(studies)
    ], batch_size=5000)


def wait_until(job: Job, condition, what: str, timeout: float = 20) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if condition(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job.pk} never {what}: {job.status} "
                         f"{job.progress_done}/{job.progress_total} {job.message!r}")


@pytest.fixture
def own_queue():
    """A queue of this test's own, where this process sends its tasks: the session's worker,
    if one runs, must not take a job meant for a worker the test kills."""
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-own"
    run_queue = current_app.conf.task_default_queue
    current_app.conf.task_default_queue = queue
    yield queue
    current_app.conf.task_default_queue = run_queue


@pytest.mark.postgres
@pytest.mark.redis
def test_a_job_whose_worker_is_killed_fails_by_the_sweep_and_its_retry_succeeds(
        transactional_db, cast, own_queue):
    generated_project_records(cast.project, 20_000)
    worker = start_celery_worker("doomed", queue=own_queue)
    try:
        job = references_jobs.start_deduplication(cast.project, user=cast.lead)
        job = wait_until(job, lambda j: j.status == Job.Status.RUNNING and j.progress_done > 1,
                         "reported progress")
        worker.send_signal(signal.SIGKILL)  # as the kernel's OOM killer or `docker kill` does
        worker.wait(timeout=10)
    finally:
        worker.kill()
    assert worker.returncode == -signal.SIGKILL

    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING  # nothing else would ever end it
    assert 1 < job.progress_done < 100
    assert jobs.sweep_stale_jobs() == 0  # its heartbeat is recent: it may still be running
    assert jobs.sweep_stale_jobs(
        now=timezone.now() + timedelta(seconds=settings.JOB_STALE_AFTER + 1)) == 1
    job.refresh_from_db()
    assert (job.status, job.message) == (Job.Status.FAILED, jobs.STALE_RUNNING_MESSAGE)
    assert Record.objects.filter(project=cast.project, duplicate_of__isnull=False).count() == 0

    with pytest.raises(PermissionDenied):
        jobs.retry_job(job, user=cast.ada)  # deduplication is a lead's job
    retry = jobs.retry_job(job, user=cast.lead)
    jobs.enqueue(job)  # the killed job's message, delivered again: it must not run twice
    worker = start_celery_worker("successor", queue=own_queue)
    try:
        retry = wait_until(retry, lambda j: j.is_finished, "finished", timeout=60)
    finally:
        stop_celery_worker(worker)

    assert (retry.status, retry.retry_of_id, retry.progress_done) == (
        Job.Status.SUCCEEDED, job.pk, 100)
    assert retry.result["records"] == 20_000
    job.refresh_from_db()
    assert (job.status, job.message) == (Job.Status.FAILED, jobs.STALE_RUNNING_MESSAGE)
    assert Job.objects.filter(project=cast.project).count() == 2
