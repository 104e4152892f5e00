from celery import shared_task

from projects.jobs import run_job

from . import jobs, services


@shared_task(name="ranking.retrain")
def task_retrain(*, project_id: int, stage: str, token: str) -> None:
    services.retrain(project_id, stage, token)


@shared_task(name="ranking.stop")
def task_stop(*, job_id: int) -> None:
    run_job(job_id, jobs.run_stop)


@shared_task(name="ranking.undo_stop")
def task_undo_stop(*, job_id: int) -> None:
    run_job(job_id, jobs.run_undo)
