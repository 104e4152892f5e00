from celery import shared_task

from . import jobs, services


@shared_task(name="projects.health_check")
def task_health_check(*, job_id: int) -> None:
    jobs.run_job(job_id, services.health_check)
