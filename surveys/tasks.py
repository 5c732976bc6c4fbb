from celery import shared_task

from . import importing, services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import(job_id: int, language: str | None = None) -> str | None:
    """Import an uploaded file of past responses. A second delivery of the same job does nothing:
    the service claims the job (queued → running) before touching a row."""
    job = importing.run_import(job_id, language=language)
    return job.status if job is not None else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def abandon_unfinished_answers() -> int:
    """Every minute: answers left unfinished for ANSWER_ABANDON_AFTER count, as their last state."""
    return services.abandon_unfinished()
