"""Background jobs: a Job row per piece of long work, run by a Celery task.

A task stays thin: `run_job(job_id, handler)` claims the row, calls the handler with a
progress reporter and records success or a readable failure on the row. Later apps use
the same path for imports, deduplication and exports.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from . import audit
from .models import Job, Project

log = logging.getLogger(__name__)


class JobError(Exception):
    """A failure whose message is meant for the user: it is shown on the job page."""


class Progress:
    """Writes done/total to the job row, at most a few times a second."""

    def __init__(self, job: Job, min_interval: float = 0.3):
        self.job = job
        self.min_interval = min_interval
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if not finished and now - self._last < self.min_interval:
            return
        self._last = now
        fields: dict[str, Any] = {"progress_done": done}
        if total is not None:
            fields["progress_total"] = total
        if message is not None:
            fields["message"] = message
        Job.objects.filter(pk=self.job.pk, status=Job.Status.RUNNING).update(**fields)


Handler = Callable[[Job, Progress], dict[str, Any] | None]


def start_job(
    *, project: Project, kind: str, label: str, task, user=None, params: dict | None = None,
    retry_of: Job | None = None,
) -> Job:
    """Create a queued Job and enqueue its task once the transaction commits."""
    with transaction.atomic():
        job = Job.objects.create(
            project=project,
            kind=kind,
            label=label,
            task_name=task.name,
            started_by=user,
            params=params or {},
            retry_of=retry_of,
        )
        audit.record(
            project=project, actor=user, action="job.start", target=job,
            after={"kind": kind, "params": job.params, "retry_of": retry_of and retry_of.pk},
        )
        transaction.on_commit(lambda: enqueue(job))
    return job


def enqueue(job: Job) -> None:
    current_app.send_task(job.task_name, kwargs={"job_id": job.pk})


def retry_job(job: Job, *, user) -> Job:
    """Start a new job with the same kind and parameters as a failed one."""
    if job.status != Job.Status.FAILED:
        raise JobError("Only a failed job can be retried.")
    task = current_app.tasks[job.task_name]
    return start_job(
        project=job.project, kind=job.kind, label=job.label, task=task, user=user,
        params=job.params, retry_of=job,
    )


def attach_result_file(job: Job, filename: str, content: bytes) -> None:
    job.result_file.save(filename, ContentFile(content), save=False)
    Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)


def run_job(job_id: int, handler: Handler) -> None:
    """Run `handler` for a queued job exactly once.

    The conditional update claims the job: a redelivered message finds it no longer
    queued and does nothing. Every outcome ends on the row, so the page can show it.
    """
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now()
    )
    if claimed != 1:
        log.warning("Job %s is gone or not queued; nothing to do.", job_id)
        return
    job = Job.objects.get(pk=job_id)
    try:
        result = handler(job, Progress(job))
    except SoftTimeLimitExceeded:
        _finish(job, Job.Status.FAILED,
                f"Stopped: the job ran longer than the limit of "
                f"{settings.CELERY_TASK_SOFT_TIME_LIMIT} seconds.")
    except JobError as exc:
        _finish(job, Job.Status.FAILED, str(exc))
    except Exception as exc:
        log.exception("Job %s (%s) failed", job.pk, job.kind)
        _finish(job, Job.Status.FAILED, f"Unexpected error ({type(exc).__name__}): {exc}")
    else:
        result = result or {}
        _finish(job, Job.Status.SUCCEEDED, result.pop("message", "Done."), result)


def _finish(job: Job, status: str, message: str, result: dict | None = None) -> None:
    job.refresh_from_db(fields=["progress_total", "progress_done"])
    fields: dict[str, Any] = {"status": status, "message": message, "finished_at": timezone.now()}
    if status == Job.Status.SUCCEEDED:
        fields["progress_done"] = job.progress_total = max(job.progress_total, 1)
        fields["progress_total"] = job.progress_total
        fields["result"] = result
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(**fields)
