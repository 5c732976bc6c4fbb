from datetime import date
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from . import reminders


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_action_reminders() -> int:
    """Daily: one task per action due within three days or overdue that has not been reminded today."""
    today = timezone.now().date()
    due = reminders.due(today)
    for action_id, kind in due:
        send_action_reminder.delay(action_id, kind, today.isoformat())
    return len(due)


# Only transient mail errors are retried; the claim makes a retry send nothing twice.
@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(SMTPException, OSError),
             retry_backoff=60, max_retries=5)
def send_action_reminder(action_id: int, kind: str, day: str) -> bool:
    return reminders.send(action_id, kind, date.fromisoformat(day))
