"""One small event dispatch between apps, through a transactional outbox.

A lower app tells higher ones that something happened without importing them:

    emit("response.recorded", organization=org, response_id=response.pk)

writes an outbox row in the caller's transaction and, on commit, enqueues its delivery. A
rollback therefore sends nothing; a failed enqueue (broker down) leaves the row pending, and the
beat task `redeliver_pending_events` hands it to the workers again. Handlers receive ids, never
objects, and must be idempotent: delivery is at least once.

Apps register handlers in `AppConfig.ready()`:

    events.register("response.recorded", handle_response_recorded)
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)

_handlers: dict[str, list[Callable[..., None]]] = defaultdict(list)


def register(event_name: str, handler: Callable[..., None]) -> None:
    if handler not in _handlers[event_name]:
        _handlers[event_name].append(handler)


def handlers_for(event_name: str) -> list[Callable[..., None]]:
    return list(_handlers.get(event_name, ()))


def emit(event_name: str, *, organization=None, **ids):
    """Record `event_name` with its ids in the current transaction; deliver after commit."""
    from .models import OutboxEvent

    event = OutboxEvent.objects.create(
        organization=organization, name=event_name, payload=ids
    )
    transaction.on_commit(lambda: enqueue(event.pk))
    return event


def enqueue(event_id: int) -> bool:
    """Hand one event to the workers. Never raises: the outbox row is the durable copy."""
    from .tasks import deliver_event

    try:
        deliver_event.apply_async(args=[event_id])
    except Exception:  # a broker outage only delays delivery; the beat task retries
        logger.warning("could not enqueue outbox event %s; it stays pending", event_id, exc_info=True)
        return False
    return True


def _claim(event_id: int) -> bool:
    """Take the event for this worker, unless it is delivered or another worker holds it."""
    from .models import OutboxEvent

    now = timezone.now()
    claimed = (
        OutboxEvent.objects.filter(pk=event_id, status=OutboxEvent.Status.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS))
    )
    return claimed == 1


def deliver(event_id: int) -> bool:
    """Run every handler of the event; mark it delivered when all succeeded.

    Returns False when the event was not ours to deliver (already delivered or claimed).
    A handler's exception propagates after the claim is released, so the task may retry.
    """
    from django.db.models import F

    from .models import OutboxEvent

    if not _claim(event_id):
        return False
    event = OutboxEvent.objects.get(pk=event_id)
    try:
        for handler in handlers_for(event.name):
            with transaction.atomic():
                handler(**event.payload)
    except Exception as exc:
        OutboxEvent.objects.filter(pk=event_id).update(
            claimed_until=None, attempts=F("attempts") + 1, last_error=repr(exc)[:2000]
        )
        raise
    OutboxEvent.objects.filter(pk=event_id).update(
        status=OutboxEvent.Status.DELIVERED,
        delivered_at=timezone.now(),
        claimed_until=None,
        attempts=F("attempts") + 1,
        last_error="",
    )
    return True


def pending_event_ids(older_than_seconds: int | None = None, limit: int = 1000) -> list[int]:
    from .models import OutboxEvent

    if older_than_seconds is None:
        older_than_seconds = settings.OUTBOX_REDELIVERY_AFTER_SECONDS
    now = timezone.now()
    return list(
        OutboxEvent.objects.filter(
            status=OutboxEvent.Status.PENDING,
            created_at__lte=now - timedelta(seconds=older_than_seconds),
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def redeliver_pending(older_than_seconds: int | None = None) -> int:
    """Enqueue every pending event old enough to have been lost. Returns how many were sent."""
    return sum(enqueue(event_id) for event_id in pending_event_ids(older_than_seconds))


# --- The platform's own event: an end-to-end probe of outbox → broker → worker → database.
PING = "platform.ping"


def record_ping(token: str) -> None:
    from .models import PipelineProbe

    PipelineProbe.objects.get_or_create(token=token)


register(PING, record_ping)


def prune_delivered(older_than_days: int = 7) -> int:
    from .models import OutboxEvent

    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = OutboxEvent.objects.filter(status=OutboxEvent.Status.DELIVERED, delivered_at__lt=cutoff).delete()
    return deleted
