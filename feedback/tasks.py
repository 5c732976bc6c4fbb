from celery import shared_task

from . import sla


@shared_task(acks_late=True, reject_on_worker_lost=True)
def check_sla() -> dict:
    """Every few minutes: flag items about to breach and breached, notify and escalate."""
    return sla.check()
