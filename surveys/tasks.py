from celery import shared_task

from . import importing


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import(job_id: int, language: str | None = None) -> str | None:
    """Import an uploaded file of past responses. A second delivery of the same job does nothing:
    the service claims the job (queued → running) before touching a row."""
    job = importing.run_import(job_id, language=language)
    return job.status if job is not None else None
