import os

from celery import shared_task

from projects.jobs import run_job

from . import jobs, services

# Retraining yields the CPU to web requests: from its first training on, the worker process
# runs at this niceness (its other jobs with it: background work, all of it).
NICENESS = 10


@shared_task(name="ranking.retrain")
def task_retrain(*, project_id: int, stage: str, token: str) -> None:
    current = os.nice(0)
    if current < NICENESS:
        os.nice(NICENESS - current)
    services.retrain(project_id, stage, token)


@shared_task(name="ranking.stop")
def task_stop(*, job_id: int) -> None:
    run_job(job_id, jobs.run_stop)


@shared_task(name="ranking.undo_stop")
def task_undo_stop(*, job_id: int) -> None:
    run_job(job_id, jobs.run_undo)
