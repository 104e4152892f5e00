import os
import threading

from celery import shared_task
from django.db import connections

from projects.jobs import run_job

from . import jobs, services


@shared_task(name="ranking.retrain")
def task_retrain(*, project_id: int, stage: str, token: str) -> None:
    in_idle_thread(services.retrain, project_id, stage, token)


def in_idle_thread(fn, *args):
    """Run fn(*args) in a thread of its own at Linux's SCHED_IDLE policy: it gets a core only
    when no web request, vote or database query wants it. A retraining holds a core for a
    second or more, and on a small server (2 cores) the screens slowed while it ran, even at
    nice 10. The policy is the new thread's alone (Linux sets it per thread), so the worker's
    other jobs keep their priority and nothing needs restoring afterwards (an unprivileged
    process could not raise it back). The thread uses its own database connection and closes
    it when done."""
    outcome: dict = {}

    def run():
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except (AttributeError, OSError):  # not Linux: run at the normal priority
            pass
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # re-raised in the caller, for Celery to log
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="ranking-retrain")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@shared_task(name="ranking.stop")
def task_stop(*, job_id: int) -> None:
    run_job(job_id, jobs.run_stop)


@shared_task(name="ranking.undo_stop")
def task_undo_stop(*, job_id: int) -> None:
    run_job(job_id, jobs.run_undo)
