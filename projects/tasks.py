from celery import shared_task

from . import jobs, services


@shared_task(name="projects.health_check")
def task_health_check(*, job_id: int) -> None:
    jobs.run_job(job_id, services.health_check)


@shared_task(name="projects.sweep_jobs")
def task_sweep_jobs() -> int:
    """Run by Celery beat (CELERY_BEAT_SCHEDULE): fail the jobs whose worker is gone."""
    return jobs.sweep_stale_jobs()


@shared_task(name="projects.purge_job_files")
def task_purge_job_files() -> int:
    """Run by Celery beat (CELERY_BEAT_SCHEDULE): remove job files older than JOB_FILE_DAYS."""
    return jobs.purge_expired_files()
