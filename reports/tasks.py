from celery import shared_task

from projects.jobs import run_job

from . import archive_jobs, export_jobs


@shared_task(name="reports.archive_export")
def task_archive_export(*, job_id: int) -> None:
    run_job(job_id, archive_jobs.run_export)


@shared_task(name="reports.archive_import")
def task_archive_import(*, job_id: int) -> None:
    run_job(job_id, archive_jobs.run_import)


@shared_task(name="reports.export")
def task_export(*, job_id: int) -> None:
    run_job(job_id, export_jobs.run_export)
