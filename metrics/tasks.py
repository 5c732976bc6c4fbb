import logging
from datetime import date

from celery import shared_task
from django.conf import settings

from . import digest, rollups, services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def rebuild_dirty_days() -> int:
    """Rebuild the rollups of marked (survey, day)s: a moment after a day is marked (debounced),
    again while answers keep marking it during the rebuilds, and every half minute from beat in
    case a message was lost."""
    rollups.take_rebuild_request()  # marks made from now on may ask for the next run
    rebuilt = rollups.rebuild_marked()
    if rebuilt.left:
        schedule_dirty_rebuild()
    return rebuilt.days


def schedule_dirty_rebuild() -> None:
    """Ask for a rebuild of marked days after METRICS_REBUILD_DELAY_SECONDS, so the answers of
    that moment are folded in by one rebuild; nothing when a run is already waiting. A broker
    outage only delays it until beat's run."""
    if not rollups.request_rebuild():
        return
    try:
        rebuild_dirty_days.apply_async(countdown=settings.METRICS_REBUILD_DELAY_SECONDS)
    except Exception:
        logger.warning("could not schedule the rollup rebuild; beat will run it", exc_info=True)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def reconcile_recent_days(days: int | None = None) -> int:
    """Nightly: rebuild the last `days` days of every organization from raw responses, so a
    lost task or a worker killed mid-run leaves no lasting error."""
    return services.reconcile_recent(days or settings.METRICS_RECONCILE_DAYS)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_weekly_digests() -> int:
    """Monday morning: one task per subscriber who has not had last week's digest yet."""
    due, week = digest.due()
    for subscription_id in due:
        send_digest.delay(subscription_id, week.isoformat())
    return len(due)


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_digest(subscription_id: int, week: str) -> bool:
    return digest.send(subscription_id, date.fromisoformat(week))


@shared_task(acks_late=True, reject_on_worker_lost=True)
def reread_comments(job_id: int) -> int | None:
    """Read all comments of an organization again (a job started by an admin): claimed once, so a
    redelivered message does nothing."""
    from . import reread

    job = reread.run(job_id=job_id)
    return job.done if job is not None else None
