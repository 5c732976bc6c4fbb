from celery import shared_task

from cxplatform import import_jobs

from . import export_jobs, services
from .models import ImportJob


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import(job_id: int, language: str | None = None) -> str | None:
    """Messages queued before every import ran through `cxplatform.tasks.run_import_job`: the
    same job, claimed the same way (the job now carries its language)."""
    job = import_jobs.run_job(ImportJob, job_id)
    return job.status if job is not None else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def abandon_unfinished_answers() -> int:
    """Every minute: answers left unfinished for ANSWER_ABANDON_AFTER count, as their last state."""
    return services.abandon_unfinished()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_export(job_id: int) -> str | None:
    """Write an export job's file. A second delivery does nothing: the job is claimed first."""
    job = export_jobs.run_job(job_id=job_id)
    return job.status if job is not None else None


@shared_task(acks_late=True)
def export_housekeeping() -> dict:
    """Expired export files go; an export whose worker was lost starts again."""
    return export_jobs.housekeeping()
