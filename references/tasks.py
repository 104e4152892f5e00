from celery import shared_task

from projects.jobs import run_job

from . import jobs


@shared_task(name="references.import")
def task_import_references(*, job_id: int) -> None:
    run_job(job_id, jobs.run_import)


@shared_task(name="references.deduplicate")
def task_deduplicate(*, job_id: int) -> None:
    run_job(job_id, jobs.run_deduplication)
