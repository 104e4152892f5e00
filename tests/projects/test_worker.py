"""The queue end to end: a real worker process takes the job from Redis and runs it."""

import json
import time

import pytest

from projects import services
from projects.models import Job


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
