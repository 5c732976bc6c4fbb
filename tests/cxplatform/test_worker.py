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


def test_a_hung_broker_does_not_stall_the_answer_and_loses_nothing(tmp_path):
    """Redis up but not answering (SIGSTOP): the publish after commit gives up within about a
    second instead of blocking the web worker, and the event is delivered once Redis answers."""
    import os
    import signal
    import time

    with private_redis() as redis, using_broker(redis.url):
        os.kill(redis.process.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with transaction.atomic():
                event = events.emit(events.PING, token="hung-broker")
            blocked = time.monotonic() - started
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        # Unbounded before the transport timeouts (the web worker waited on the socket for ever);
        # the bound here is loose because the machine is shared.
        assert blocked < 5, f"publishing to a hung broker blocked the request for {blocked:.1f} s"
        assert event.deliveries.get().queued_at is None  # no message carries it: redelivery will
        with celery_worker(redis.url, tmp_path / "worker.log"):
            assert events.redeliver_pending() == 1
            delivered = wait_until(lambda: PipelineProbe.objects.filter(token="hung-broker").exists())
            assert delivered, (tmp_path / "worker.log").read_text()[-3000:]
    assert PipelineProbe.objects.filter(token="hung-broker").count() == 1


def test_a_delivery_failing_every_time_goes_dead_on_a_real_worker_and_shows_on_healthz(tmp_path, client):
    """A ping whose token does not fit its column fails in the worker every time: after
    OUTBOX_MAX_ATTEMPTS it is dead (not retried for ever), and /healthz counts it."""
    from cxplatform.models import EventDelivery

    with private_redis() as redis, using_broker(redis.url), \
            celery_worker(redis.url, tmp_path / "worker.log", OUTBOX_MAX_ATTEMPTS="2", OUTBOX_BACKOFF_SECONDS="0"):
        with transaction.atomic():
            event = events.emit(events.PING, token="x" * 65)
            fine = events.emit(events.PING, token="fine")

        def settled():
            events.redeliver_pending()  # what the beat task does every 15 s
            return not EventDelivery.objects.filter(status=EventDelivery.Status.PENDING).exists()

        assert wait_until(settled, timeout=90, interval=0.5), (tmp_path / "worker.log").read_text()[-3000:]
    delivery = event.deliveries.get()
    assert (delivery.status, delivery.attempts) == (EventDelivery.Status.DEAD, 2)
    assert "value too long" in delivery.last_error
    assert fine.deliveries.get().status == EventDelivery.Status.DELIVERED
    assert client.get("/healthz").json()["events"]["dead"] == 1


def test_a_worker_replaces_a_connection_the_database_dropped_between_tasks(tmp_path):
    """Web requests skip the connection health check (a round trip each); a worker keeps it: a
    connection the database dropped while the worker idled is replaced before the next task, so
    that task runs at its first attempt instead of failing into the back-off."""
    from django.db import connection

    with private_redis() as redis, using_broker(redis.url), \
            celery_worker(redis.url, tmp_path / "worker.log", CONN_MAX_AGE="600"):
        with transaction.atomic():
            events.emit(events.PING, token="before-drop")
        assert wait_until(lambda: PipelineProbe.objects.filter(token="before-drop").exists()), \
            (tmp_path / "worker.log").read_text()[-3000:]
        with connection.cursor() as cursor:  # every other session of the test database: the worker's
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            assert cursor.fetchall(), "the worker kept no connection open between tasks"
        with transaction.atomic():
            event = events.emit(events.PING, token="after-drop")
        assert wait_until(lambda: PipelineProbe.objects.filter(token="after-drop").exists(), timeout=30), \
            (tmp_path / "worker.log").read_text()[-3000:]
    delivery = event.deliveries.get()
    assert delivery.attempts == 1, delivery.last_error
    assert "OperationalError" not in (tmp_path / "worker.log").read_text()
