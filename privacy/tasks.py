from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def apply_retention() -> dict:
    """Daily: each organization's personal data older than its retention period is erased."""
    return {str(org_id): counts for org_id, counts in services.apply_all_retention().items()}
