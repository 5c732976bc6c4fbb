from celery import shared_task
from django.conf import settings

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def reconcile_recent_days(days: int | None = None) -> int:
    """Nightly: rebuild the last `days` days of every organization from raw responses, so a
    lost task or a worker killed mid-run leaves no lasting error."""
    return services.reconcile_recent(days or settings.METRICS_RECONCILE_DAYS)
