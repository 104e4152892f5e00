from celery import shared_task

from projects.jobs import run_job

from . import jobs


@shared_task(name="extraction.export_table")
def task_export_table(*, job_id: int) -> None:
    run_job(job_id, jobs.run_export)
