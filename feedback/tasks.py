from smtplib import SMTPException

from celery import shared_task

from . import conversation, loop, sla


@shared_task(acks_late=True, reject_on_worker_lost=True)
def check_sla() -> dict:
    """Every few minutes: flag items about to breach and breached, notify and escalate."""
    return sla.check()


# Only transient mail errors are retried; send() marks a reply failed after its last attempt.
@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(SMTPException, OSError),
             retry_backoff=30, retry_backoff_max=900, max_retries=conversation.MAX_ATTEMPTS)
def send_reply(message_id: int) -> bool:
    return conversation.send(message_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_queued_replies() -> int:
    """Every minute: hand on the replies whose task was lost."""
    return conversation.requeue_lost()


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(SMTPException, OSError),
             retry_backoff=60, max_retries=5)
def send_follow_up(item_id: int) -> bool:
    """After a case is resolved: ask the customer the survey's question again."""
    return loop.send_follow_up(item_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(SMTPException, OSError),
             retry_backoff=60, max_retries=5)
def send_thanks(thanks_id: int) -> bool:
    return loop.send_thanks(thanks_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def hand_on_loop_mail() -> int:
    """Every few minutes: follow-ups and thank-yous whose task was lost."""
    return loop.hand_on_lost()
