from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import events, ratelimit


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def deliver_event(event_id: int) -> bool:
    return events.deliver(event_id)


@shared_task(acks_late=True)
def redeliver_pending_events() -> int:
    return events.redeliver_pending()


@shared_task(acks_late=True)
def prune_housekeeping() -> dict:
    """Old rate-limit windows and delivered outbox rows are no longer needed."""
    return {"rate_limit_buckets": ratelimit.prune(), "delivered_events": events.prune_delivered()}
