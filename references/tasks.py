from celery import shared_task

from projects.jobs import run_job

from . import jobs


@shared_task(name="references.import")
def task_import_references(*, job_id: int) -> None:
    run_job(job_id, jobs.run_import)


@shared_task(name="references.deduplicate")
def task_deduplicate(*, job_id: int) -> None:
    run_job(job_id, jobs.run_deduplication)


@shared_task(name="references.decide_group")
def task_decide_group(*, job_id: int) -> None:
    run_job(job_id, jobs.run_group_decision)


@shared_task(name="references.undo_group")
def task_undo_group(*, job_id: int) -> None:
    run_job(job_id, jobs.run_group_undo)
