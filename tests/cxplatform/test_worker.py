"""The worker path for real: outbox → Redis → a `celery worker` process → database."""

import pytest
from django.db import transaction

from cxplatform import events
from cxplatform.models import OutboxEvent, PipelineProbe
from tests.workers import celery_worker, private_redis, using_broker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_event_is_delivered_by_a_real_worker_through_redis(tmp_path):
    with private_redis() as redis, using_broker(redis.url), celery_worker(redis.url, tmp_path / "worker.log"):
        with transaction.atomic():
            event = events.emit(events.PING, token="through-redis")
        delivered = wait_until(lambda: PipelineProbe.objects.filter(token="through-redis").exists())
        assert delivered, (tmp_path / "worker.log").read_text()[-3000:]
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED
    assert PipelineProbe.objects.filter(token="through-redis").count() == 1


def test_event_whose_enqueue_failed_is_delivered_once_the_broker_is_back(tmp_path):
    with private_redis() as redis, using_broker(redis.url):
        redis.stop()  # the broker goes down before the response commits
        with transaction.atomic():
            event = events.emit(events.PING, token="after-outage")
        event.refresh_from_db()
        assert event.status == OutboxEvent.Status.PENDING
        assert not PipelineProbe.objects.exists()

        redis.start()  # back up: the beat task's re-delivery hands the event to a worker
        with celery_worker(redis.url, tmp_path / "worker.log"):
            assert events.redeliver_pending(older_than_seconds=0) == 1
            delivered = wait_until(lambda: PipelineProbe.objects.filter(token="after-outage").exists())
            assert delivered, (tmp_path / "worker.log").read_text()[-3000:]
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED
    assert PipelineProbe.objects.filter(token="after-outage").count() == 1
