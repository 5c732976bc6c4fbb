from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import delivery


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError, InterfaceError),
             retry_backoff=True, max_retries=5)
def deliver_webhook(call_id: int) -> str | None:
    """A receiver's failure is settled on the call (back-off, then failed), not retried here."""
    return delivery.deliver(call_id)


@shared_task(acks_late=True)
def deliver_due_webhooks() -> int:
    return delivery.enqueue_due()


@shared_task(acks_late=True)
def prune_webhook_log() -> int:
    return delivery.prune_log()
