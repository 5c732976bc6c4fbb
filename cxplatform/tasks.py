from celery import shared_task
from django.apps import apps
from django.db import InterfaceError, OperationalError

from . import audit, events, import_jobs, services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def deliver_event(event_id: int, *more_event_ids: int, lane: str = "") -> int:
    """The events of one transaction, in order, for the subscribers of one lane (a message of the
    previous release names no lane: every subscriber), claimed and settled together. A handler's
    failure is settled on its delivery row (back-off, then dead), not retried here; only a lost
    database connection retries the task, and what was delivered is not run again."""
    return events.deliver_all([event_id, *more_event_ids], lane)


@shared_task(acks_late=True)
def redeliver_pending_events() -> int:
    return events.redeliver_pending()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import_job(job_model: str, job_id: int) -> str | None:
    """Import an uploaded file (any kind: `job_model` is the job's model label). A second delivery
    does nothing: the job is claimed (queued → running) before a row is touched."""
    job = import_jobs.run_job(apps.get_model(job_model), job_id)
    return job.status if job is not None else None


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=5)
def mail_notification(notification_id: int) -> bool:
    return services.mail_notification(notification_id)


@shared_task(acks_late=True)
def prune_housekeeping() -> dict:
    """Old rate-limit windows and delivered outbox rows are no longer needed; nor are uploads of
    import jobs a day old, and a job whose worker was lost is queued again. An event whose
    deliveries are all done but that was left pending is settled first."""
    return {"settled_events": events.settle_stragglers(),
            "delivered_events": events.prune_delivered(),
            "import_jobs": import_jobs.housekeeping(),
            "notification_mails": services.requeue_unmailed()}


@shared_task(acks_late=True)
def purge_audit_log() -> int:
    """Entries older than AUDIT_RETENTION_DAYS go; run twice, the second run finds none."""
    return audit.purge_expired()
