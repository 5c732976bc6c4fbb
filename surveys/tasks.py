from celery import shared_task

from cxplatform import import_jobs

from . import services
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
