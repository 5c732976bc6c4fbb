"""The outbox: a rollback sends nothing, a commit delivers once, a retry doubles nothing."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from cxplatform import events
from cxplatform.models import OutboxEvent, PipelineProbe

pytestmark = pytest.mark.django_db


def test_committed_event_is_delivered_to_its_handler(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = events.emit(events.PING, token="committed")
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED
    assert PipelineProbe.objects.filter(token="committed").count() == 1


def test_event_emitted_in_a_rolled_back_transaction_is_never_delivered(django_capture_on_commit_callbacks):
    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Abort), transaction.atomic():
        events.emit(events.PING, token="rolled-back")
        raise Abort
    assert callbacks == []
    assert not OutboxEvent.objects.exists()
    assert events.redeliver_pending(older_than_seconds=0) == 0
    assert not PipelineProbe.objects.filter(token="rolled-back").exists()


def test_a_failed_enqueue_leaves_the_event_pending_and_redelivery_delivers_it(
    django_capture_on_commit_callbacks,
):
    from cxplatform.tasks import deliver_event

    broker_down = mock.patch.object(deliver_event, "apply_async", side_effect=ConnectionRefusedError("broker down"))
    with broker_down, django_capture_on_commit_callbacks(execute=True):
        event = events.emit(events.PING, token="late")
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.PENDING
    assert not PipelineProbe.objects.filter(token="late").exists()

    # Too young to be considered lost: the beat task leaves it alone for now...
    assert events.redeliver_pending() == 0
    # ...and re-delivers it once it is older than the redelivery delay.
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert events.redeliver_pending() == 1
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED
    assert PipelineProbe.objects.filter(token="late").count() == 1


def test_delivering_twice_runs_handlers_once():
    event = events.emit(events.PING, token="twice")
    assert events.deliver(event.pk) is True
    assert events.deliver(event.pk) is False  # already delivered: nothing to do
    assert PipelineProbe.objects.filter(token="twice").count() == 1


def test_a_claimed_event_is_left_to_its_worker_until_the_claim_expires():
    event = events.emit(events.PING, token="claimed")
    OutboxEvent.objects.filter(pk=event.pk).update(claimed_until=timezone.now() + timedelta(minutes=5))
    assert events.deliver(event.pk) is False
    # A worker killed mid-delivery leaves an expired claim: the next delivery takes over.
    OutboxEvent.objects.filter(pk=event.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert events.deliver(event.pk) is True
    assert PipelineProbe.objects.filter(token="claimed").count() == 1


def test_a_failing_handler_keeps_the_event_pending_with_its_error():
    def broken(**ids):
        raise RuntimeError("downstream failed")

    events.register("test.broken", broken)
    try:
        event = events.emit("test.broken", thing_id=1)
        with pytest.raises(RuntimeError):
            events.deliver(event.pk)
        event.refresh_from_db()
        assert event.status == OutboxEvent.Status.PENDING
        assert event.attempts == 1
        assert "downstream failed" in event.last_error
        assert event.claimed_until is None  # released, so a retry can take it
    finally:
        events._handlers["test.broken"].remove(broken)


def test_housekeeping_prunes_only_old_rows():
    from cxplatform import ratelimit
    from cxplatform.models import RateLimitBucket
    from cxplatform.tasks import prune_housekeeping

    old, fresh = events.emit(events.PING, token="old"), events.emit(events.PING, token="fresh")
    for event in (old, fresh):
        events.deliver(event.pk)
    OutboxEvent.objects.filter(pk=old.pk).update(delivered_at=timezone.now() - timedelta(days=8))
    ratelimit.hit("k", 5, 600, now=timezone.now() - timedelta(days=2))
    ratelimit.hit("k", 5, 600)
    pruned = prune_housekeeping()
    assert (pruned["rate_limit_buckets"], pruned["delivered_events"]) == (1, 1)
    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert RateLimitBucket.objects.count() == 1
