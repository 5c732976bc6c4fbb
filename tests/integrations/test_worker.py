"""The whole path for real: outbox → Redis → a `celery worker` process → the webhooks queue →
a signed POST to the loopback receiver, retried through the beat after a 500."""

import pytest
from django.db import transaction

from cxplatform import events
from integrations import delivery, services
from integrations.models import WebhookCall, WebhookEvent
from surveys.services import RESPONSE_RECORDED
from tests import factories
from tests.workers import celery_worker, private_redis, using_broker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_real_worker_delivers_a_signed_webhook_and_retries_a_500(org_a, receiver, tmp_path):
    subscription, receiver.secret = services.create_subscription(
        organization=org_a, request=None, url=receiver.url, events_wanted=[WebhookEvent.RESPONSE_COMPLETED])
    receiver.answers = [500, 200]
    response = factories.response(org_a, score=10)
    log = tmp_path / "worker.log"
    with private_redis() as redis, using_broker(redis.url), \
            celery_worker(redis.url, log, WEBHOOKS_BACKOFF_SECONDS="1"):
        with transaction.atomic():
            events.emit(RESPONSE_RECORDED, organization=org_a, response_id=response.pk)
        assert wait_until(lambda: len(receiver.received) >= 1, timeout=60), log.read_text()[-3000:]
        call = WebhookCall.objects.get(subscription=subscription)

        def delivered():
            delivery.enqueue_due()  # what the beat does every 30 s
            call.refresh_from_db()
            return call.status == WebhookCall.Status.DELIVERED

        assert wait_until(delivered, timeout=60, interval=0.5), log.read_text()[-3000:]
    assert [r.answered for r in receiver.received] == [500, 200]
    assert all(r.verified for r in receiver.received)
    assert {r.headers["X-CX-Delivery"] for r in receiver.received} == {str(call.delivery_id)}
    assert call.attempts == 2 and call.outbox_event_id is not None
    assert "integrations.tasks.deliver_webhook" in log.read_text()
