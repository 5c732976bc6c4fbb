"""Thin Celery wrappers over the sending services (idempotent: every row is claimed first)."""

from celery import shared_task

from . import sending, services


@shared_task(acks_late=True)
def send_due() -> int:
    return sending.send_due()


@shared_task(acks_late=True)
def start_due_campaigns() -> int:
    started = services.start_due()
    services.finish_sent_campaigns()
    return len(started)
