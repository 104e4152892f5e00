"""Background jobs: a Job row per piece of long work, run by a Celery task.

A task stays thin: `run_job(job_id, handler)` claims the row, calls the handler with a
progress reporter and records success or a readable failure on the row. Later apps use
the same path for imports, deduplication and exports.

A job never hangs: the claim and every progress report write `heartbeat_at`, and
`sweep_stale_jobs` (run by Celery beat) fails a running job whose heartbeat stopped (its
worker was killed) and a queued job no worker took (its message was lost), so it can be
retried. Each kind of job is registered with the role it needs (`register_kind`, in the
app's `jobs.py`): only that role may retry it.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from . import audit
from .models import ROLE_RANK, Job, Membership, Project, Role

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
        fields: dict[str, Any] = {"progress_done": done, "heartbeat_at": timezone.now()}
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
    """Create a queued Job and enqueue its task (a Celery task, or its name) once the
    transaction commits."""
    with transaction.atomic():
        job = Job.objects.create(
            project=project,
            kind=kind,
            label=label,
            task_name=task if isinstance(task, str) else task.name,
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


@dataclass(frozen=True)
class JobKind:
    kind: str
    task_name: str
    role: str


_KINDS: dict[str, JobKind] = {}


def register_kind(kind: str, *, task: str, role: str) -> None:
    """Declare a kind of job: the name of the Celery task that runs it and the least role
    that may start it again. Each app registers its kinds at the top level of its `jobs.py`
    (found by `job_kind`), with the role its view asks to start one."""
    _KINDS[kind] = JobKind(kind=kind, task_name=task, role=Role(role))


def job_kind(kind: str) -> JobKind | None:
    """The registered kind, or None: an unregistered kind cannot be retried."""
    if kind not in _KINDS:
        autodiscover_modules("jobs")  # every app's jobs.py, where the kinds are registered
    return _KINDS.get(kind)


def can_retry(job: Job, membership: Membership) -> bool:
    """Whether this member may retry this job: it failed, its kind is registered and the
    member's role is at least the one the kind needs. The retry button shows this."""
    kind = job_kind(job.kind)
    return (job.status == Job.Status.FAILED and kind is not None
            and ROLE_RANK[membership.role] >= ROLE_RANK[kind.role])


def retry_job(job: Job, *, user) -> Job:
    """Start a new job with the same kind and parameters as a failed one.

    Raises PermissionDenied when the user's role in the project is below the one the kind
    needs (a reviewer retrying a lead's deduplication), JobError for a job that did not
    fail or whose kind is not registered.
    """
    kind = job_kind(job.kind)
    membership = Membership.objects.filter(project_id=job.project_id, user=user).first()
    if kind is not None and (membership is None
                             or ROLE_RANK[membership.role] < ROLE_RANK[kind.role]):
        raise PermissionDenied(f"Retrying this job needs the {kind.role.label.lower()} role.")
    if job.status != Job.Status.FAILED:
        raise JobError("Only a failed job can be retried.")
    if kind is None:
        raise JobError("This kind of job cannot be retried.")
    return start_job(
        project=job.project, kind=job.kind, label=job.label, task=kind.task_name, user=user,
        params=job.params, retry_of=job,
    )


STALE_RUNNING_MESSAGE = (
    "The worker running this job stopped (it was killed, ran out of memory or was shut "
    "down) before the job finished. Retry it."
)
STALE_QUEUED_MESSAGE = (
    "No worker took this job: its message was lost (the queue was emptied or a worker "
    "stopped while holding it). Retry it."
)


def sweep_stale_jobs(now: datetime | None = None) -> int:
    """Mark failed every job whose worker is gone, so the page stops waiting and the job can
    be retried; answer how many.

    A running job is stale when its heartbeat is older than JOB_STALE_AFTER seconds, a
    queued one when it was created more than JOB_QUEUED_STALE_AFTER seconds ago. Each job is
    failed by a conditional update that repeats the staleness test, so a job that finishes
    or reports progress meanwhile keeps its outcome; and since a worker only runs a job it
    claims from `queued`, a redelivered message of a swept job does nothing.
    """
    now = now or timezone.now()
    running_cutoff = now - timedelta(seconds=settings.JOB_STALE_AFTER)
    queued_cutoff = now - timedelta(seconds=settings.JOB_QUEUED_STALE_AFTER)
    stale = [
        (Q(status=Job.Status.RUNNING)
         & (Q(heartbeat_at__lt=running_cutoff)
            # claimed before heartbeats existed
            | Q(heartbeat_at__isnull=True, started_at__lt=running_cutoff)),
         STALE_RUNNING_MESSAGE),
        (Q(status=Job.Status.QUEUED, created_at__lt=queued_cutoff), STALE_QUEUED_MESSAGE),
    ]
    swept = 0
    for condition, message in stale:
        for job in Job.objects.filter(condition).select_related("project"):
            with transaction.atomic():
                if not Job.objects.filter(condition, pk=job.pk).update(
                    status=Job.Status.FAILED, message=message, finished_at=now
                ):
                    continue
                audit.record(project=job.project, actor=None, action="job.stale", target=job,
                             before={"status": job.status,
                                     "heartbeat_at": job.heartbeat_at and
                                     job.heartbeat_at.isoformat()},
                             after={"status": Job.Status.FAILED})
            log.warning("Job %s (%s) was %s with no sign of its worker: marked failed.",
                        job.pk, job.kind, job.status)
            swept += 1
    return swept


def attach_result_file(job: Job, filename: str, content: bytes | IO[bytes]) -> None:
    """Store `content` (bytes, or a binary file read from its start in chunks, so a large
    export never sits in memory whole) as the job's file."""
    file = ContentFile(content) if isinstance(content, bytes) else File(content, name=filename)
    job.result_file.save(filename, file, save=False)
    Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)


def file_expires_at(job: Job) -> datetime | None:
    """When the clean-up removes the job's file (JOB_FILE_DAYS after the job finished), or
    None for a job without a file."""
    if not job.result_file or job.finished_at is None:
        return None
    return job.finished_at + timedelta(days=settings.JOB_FILE_DAYS)


def purge_expired_files(now: datetime | None = None) -> int:
    """Delete the result files of jobs that finished more than JOB_FILE_DAYS days ago, and
    answer how many. Run by Celery beat (CELERY_BEAT_SCHEDULE).

    The row stays: its `result_file` is emptied and `result["file_expired_at"]` (and
    `file_days`) say when and why, so the job page tells why there is no download. The file
    goes first, then the row, by a conditional update that still finds that file: a crash
    between the two leaves a row whose missing file the next run clears, and two runs at
    once clear each row once.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.JOB_FILE_DAYS)
    purged = 0
    expired = (Job.objects.filter(finished_at__lt=cutoff).exclude(result_file="")
               .only("pk", "result_file", "result"))
    for job in expired.iterator(chunk_size=500):
        name = job.result_file.name
        job.result_file.storage.delete(name)  # nothing to do if it is gone already
        result = {**(job.result or {}), "file_expired_at": now.isoformat(),
                  "file_days": settings.JOB_FILE_DAYS}
        purged += Job.objects.filter(pk=job.pk, result_file=name).update(result_file="",
                                                                          result=result)
    if purged:
        log.info("Removed %s job file(s) older than %s days.", purged, settings.JOB_FILE_DAYS)
    return purged


def run_job(job_id: int, handler: Handler) -> None:
    """Run `handler` for a queued job exactly once.

    The conditional update claims the job: a redelivered message finds it no longer
    queued and does nothing. Every outcome ends on the row, so the page can show it.
    """
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now
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


register_kind("health_check", task="projects.health_check", role=Role.REVIEWER)
