from celery import shared_task

from cxplatform import import_jobs

from .models import ImportJob


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import(job_id: int, language: str | None = None) -> str | None:
    """Messages queued before every import ran through `cxplatform.tasks.run_import_job`: the
    same job, claimed the same way (the job now carries its language)."""
    job = import_jobs.run_job(ImportJob, job_id)
    return job.status if job is not None else None
