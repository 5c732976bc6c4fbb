"""Outgoing webhooks against a real loopback receiver: signature and replay window, retries and
back-off, failure after a day, disabling after days, broker outages, no double delivery."""

import json
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import requests
import time_machine
from django.utils import timezone

from cxplatform import events
from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, EventDelivery, Notification, NotificationKind, Role
from integrations import delivery, services
from integrations.models import WebhookAttempt, WebhookCall, WebhookEvent, WebhookSubscription
from tests.workers import free_port, using_broker

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_a_delivery_is_signed_and_the_documented_check_accepts_it(org_a, subscribe, receiver, answer_recorded):
    subscription = subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED])
    response, event = answer_recorded(org_a, score=3)

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.verified and got.answered == 200
    call = WebhookCall.objects.get(subscription=subscription)
    assert call.status == WebhookCall.Status.DELIVERED and call.status_code == 200 and call.attempts == 1
    assert call.outbox_event_id == event.pk
    assert got.headers["X-CX-Event"] == "response.completed"
    assert got.headers["X-CX-Delivery"] == str(call.delivery_id)
    assert got.headers["Content-Type"] == "application/json"
    body = json.loads(got.body)
    assert body["id"] == str(call.delivery_id) and body["event"] == "response.completed"
    assert body["organization"] == "alpha" and body["version"] == 1
    assert body["data"]["response"]["id"] == response.pk and body["data"]["response"]["score"] == 3
    assert got.body == call.body.encode()  # the stored body is the signed body
    assert '{"ok": true}' in call.response_excerpt and call.duration_ms is not None


def test_a_replayed_old_or_tampered_delivery_is_refused_by_the_documented_check(
        org_a, subscribe, receiver, answer_recorded):
    subscribe(org_a)
    with time_machine.travel(START, tick=True):
        answer_recorded(org_a)
    original = receiver.accepted[-1]
    replay_headers = {name: original.headers[name] for name in ("X-CX-Signature", "X-CX-Event", "X-CX-Delivery")}

    # Sent again as captured, a minute later: still inside the window (the receiver dedupes by X-CX-Delivery).
    with time_machine.travel(START + timedelta(minutes=1), tick=True):
        assert requests.post(receiver.url, data=original.body, headers=replay_headers, timeout=5).status_code == 200
    # Six minutes later: older than the five-minute window, refused.
    with time_machine.travel(START + timedelta(minutes=6), tick=True):
        assert requests.post(receiver.url, data=original.body, headers=replay_headers, timeout=5).status_code == 401
    # A body changed on the way: refused, whatever the time.
    with time_machine.travel(START + timedelta(seconds=30), tick=True):
        tampered = original.body.replace(b'"score":9', b'"score":0')
        assert tampered != original.body
        assert requests.post(receiver.url, data=tampered, headers=replay_headers, timeout=5).status_code == 401
        # A signature made with another secret: refused.
        forged = dict(replay_headers, **{"X-CX-Signature": original.headers["X-CX-Signature"][:-4] + "0000"})
        assert requests.post(receiver.url, data=original.body, headers=forged, timeout=5).status_code == 401
        # A fresh timestamp pasted onto the old signature: refused (the time is signed too).
        stamp = original.headers["X-CX-Signature"].split(",")[1]
        restamped = dict(replay_headers, **{"X-CX-Signature": f"t={int(timezone.now().timestamp())},{stamp}"})
        assert requests.post(receiver.url, data=original.body, headers=restamped, timeout=5).status_code == 401


def test_the_platforms_own_check_agrees_with_the_documented_one(org_a, subscribe, receiver, answer_recorded):
    from cxplatform.signatures import outgoing_signature, outgoing_verified

    subscription = subscribe(org_a)
    body = b'{"x":1}'
    now = timezone.now()
    header = outgoing_signature(subscription.secret, body, timestamp=int(now.timestamp()))
    assert outgoing_verified(subscription.secret, body, header, now=now)
    assert receiver.verify(subscription.secret, body, header)
    assert not outgoing_verified(subscription.secret, body, header, now=now + timedelta(minutes=6))
    assert not outgoing_verified("whsec_other", body, header, now=now)


def test_a_receivers_500_is_retried_with_the_same_delivery_id_then_delivered(
        org_a, subscribe, receiver, answer_recorded):
    subscription = subscribe(org_a)
    receiver.answers = [500, 200]
    with time_machine.travel(START, tick=False):
        answer_recorded(org_a)
        call = WebhookCall.objects.get(subscription=subscription, event="response.completed")
        assert (call.status, call.status_code, call.attempts) == (WebhookCall.Status.PENDING, 500, 1)
        assert call.next_attempt_at == START + timedelta(minutes=1)
        assert delivery.enqueue_due() == 0  # not due yet
    with time_machine.travel(START + timedelta(minutes=1, seconds=1), tick=False):
        assert delivery.enqueue_due() == 1  # the beat
    call.refresh_from_db()
    assert (call.status, call.status_code, call.attempts) == (WebhookCall.Status.DELIVERED, 200, 2)
    first, second = [r for r in receiver.received if r.headers["X-CX-Event"] == "response.completed"]
    assert first.headers["X-CX-Delivery"] == second.headers["X-CX-Delivery"] == str(call.delivery_id)
    assert first.body == second.body and first.verified and second.verified
    assert first.headers["X-CX-Signature"] != second.headers["X-CX-Signature"]  # signed at each attempt
    assert [a.status_code for a in call.attempt_log.order_by("attempted_at")] == [500, 200]
    subscription.refresh_from_db()
    assert subscription.failing_since is None and subscription.last_delivered_at is not None


def test_back_off_doubles_from_a_minute_to_an_hour_and_the_call_fails_a_day_after_its_first_attempt(
        org_a, subscribe, receiver, answer_recorded):
    subscription = subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED])
    receiver.answers = [503]
    with time_machine.travel(START, tick=False):
        answer_recorded(org_a)
    call = WebhookCall.objects.get(subscription=subscription)
    waits = []
    for _ in range(60):
        call.refresh_from_db()
        if call.status != WebhookCall.Status.PENDING:
            break
        waits.append(call.next_attempt_at - call.last_attempt_at)
        with time_machine.travel(call.next_attempt_at, tick=False):
            assert delivery.enqueue_due() == 1
    minutes = [int(wait.total_seconds() // 60) for wait in waits]
    assert minutes[:8] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert set(minutes[6:]) == {60}
    assert call.status == WebhookCall.Status.FAILED
    attempts = list(call.attempt_log.order_by("attempted_at").values_list("attempted_at", flat=True))
    assert attempts[-1] - attempts[0] >= timedelta(hours=24)
    assert attempts[-2] - attempts[0] < timedelta(hours=24)  # one more try was still inside the day
    assert call.attempts == len(attempts) == len(receiver.received)
    assert all(r.verified for r in receiver.received)
    with time_machine.travel(START + timedelta(days=2), tick=False):
        assert delivery.enqueue_due() == 0  # failed is final until someone resends
    subscription.refresh_from_db()
    assert subscription.active  # a day of failures is not yet days


def test_a_subscription_failing_for_days_is_turned_off_and_its_admins_are_told(
        org_a, subscribe, receiver, answer_recorded, make_member, mailoutbox, django_capture_on_commit_callbacks):
    admin = make_member(org_a, Role.ADMIN)
    admin.email = "admin@alpha.example"
    admin.save()
    manager = make_member(org_a, Role.CX_MANAGER)
    subscription = subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED])
    receiver.answers = [500]
    with time_machine.travel(START, tick=False):
        answer_recorded(org_a)
    subscription.refresh_from_db()
    assert subscription.failing_since == START
    # Two days on, another answer: still failing, not yet three days.
    with time_machine.travel(START + timedelta(days=2), tick=False):
        answer_recorded(org_a)
    subscription.refresh_from_db()
    assert subscription.active
    # Three days and a minute after the first failure, another attempt fails: turned off.
    later = START + timedelta(days=3, minutes=1)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert delivery.enqueue_due() == 2  # the first answer's retry turns it off; the second's then waits
    subscription.refresh_from_db()
    assert not subscription.active and subscription.disabled_at == later
    entry = AuditEntry.objects.get(action=AuditAction.WEBHOOK_DISABLED)
    assert entry.organization == org_a and entry.target_id == str(subscription.pk)
    told = Notification.objects.get(kind=NotificationKind.WEBHOOK_FAILING)
    assert told.user == admin and subscription.url in told.rendered()
    assert not Notification.objects.filter(user=manager).exists()
    assert [m.to for m in mailoutbox] == [["admin@alpha.example"]]
    assert "turned off" in mailoutbox[0].body

    # Off: new answers make no calls, and waiting ones wait.
    sent = len(receiver.received)
    with time_machine.travel(later + timedelta(hours=2), tick=False):
        answer_recorded(org_a)
        assert delivery.enqueue_due() == 0
    assert len(receiver.received) == sent
    assert WebhookCall.objects.filter(subscription=subscription).count() == 2
    # A successful delivery ends a streak: turned on again, it starts afresh.
    receiver.answers = [200]
    services.update_subscription(subscription=subscription, request=None, url=subscription.url,
                                 events_wanted=subscription.events, active=True)
    subscription.refresh_from_db()
    assert subscription.active and subscription.failing_since is None and subscription.disabled_at is None


def test_a_refused_broker_only_delays_the_outbox_event_and_the_call(
        org_a, subscribe, receiver, django_capture_on_commit_callbacks):
    """The broker refuses connections (nothing listens on its port) when the answer is recorded:
    nothing is lost; once it is back, the beat's re-deliveries send the webhook."""
    from surveys.services import RESPONSE_RECORDED
    from tests import factories

    subscription = subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED])
    response = factories.response(org_a)
    with using_broker(f"redis://127.0.0.1:{free_port()}/0"):
        with django_capture_on_commit_callbacks(execute=True):
            event = events.emit(RESPONSE_RECORDED, organization=org_a, response_id=response.pk)
        assert event.deliveries.get(subscriber="integrations.webhooks.response.completed").queued_at is None
        assert not WebhookCall.objects.exists() and not receiver.received
        # The outbox comes back first (say the broker came back for a moment): the fan-out makes the
        # call, but its own enqueue meets the outage again.
        with django_capture_on_commit_callbacks(execute=True):
            events.deliver(event.pk)
        call = WebhookCall.objects.get(subscription=subscription)
        assert call.status == WebhookCall.Status.PENDING and call.queued_at is None and call.attempts == 0
        assert not receiver.received
    # Broker back (in-process tasks): the beat picks the call up.
    assert delivery.enqueue_due() == 1
    call.refresh_from_db()
    assert call.status == WebhookCall.Status.DELIVERED
    assert len(receiver.accepted) == 1


def test_a_lost_outbox_publish_is_redelivered_by_the_beat_and_then_sent(
        org_a, subscribe, receiver, django_capture_on_commit_callbacks):
    from cxplatform.tasks import deliver_event
    from surveys.services import RESPONSE_RECORDED
    from tests import factories

    subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED])
    response = factories.response(org_a)
    broker_down = mock.patch.object(deliver_event, "apply_async", side_effect=ConnectionRefusedError("broker down"))
    with broker_down, django_capture_on_commit_callbacks(execute=True):
        events.emit(RESPONSE_RECORDED, organization=org_a, response_id=response.pk)
    assert not receiver.received
    with django_capture_on_commit_callbacks(execute=True):
        assert events.redeliver_pending(older_than_seconds=0) == 1
    assert len(receiver.accepted) == 1


def test_a_handler_run_twice_makes_one_call_and_one_request(org_a, subscribe, receiver, answer_recorded,
                                                            django_capture_on_commit_callbacks):
    subscription = subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED])
    other = subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED], description="second")
    receiver.secret = other.secret
    _response, event = answer_recorded(org_a)
    assert WebhookCall.objects.count() == 2
    # At least once: the outbox runs the webhooks' delivery again (a worker lost after the commit).
    EventDelivery.objects.filter(event=event, subscriber="integrations.webhooks.response.completed").update(
        status=EventDelivery.Status.PENDING, claimed_until=None)
    with django_capture_on_commit_callbacks(execute=True):
        events.deliver(event.pk)
    assert WebhookCall.objects.filter(subscription=subscription).count() == 1
    assert WebhookCall.objects.filter(subscription=other).count() == 1
    assert len(receiver.received) == 2
    # A duplicated task message for a delivered call sends nothing.
    call = WebhookCall.objects.get(subscription=subscription)
    assert delivery.deliver(call.pk) is None
    assert len(receiver.received) == 2


def test_only_subscriptions_of_the_events_organization_that_want_the_event_get_it(
        org_a, org_b, subscribe, receiver, answer_recorded):
    wants = subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED])
    subscribe(org_a, events=[WebhookEvent.CASE_OPENED])
    subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED], active=False)
    subscribe(org_b, events=[WebhookEvent.RESPONSE_COMPLETED])
    receiver.secret = wants.secret
    answer_recorded(org_a)
    assert list(WebhookCall.objects.filter(event="response.completed").values_list("subscription", flat=True)) \
        == [wants.pk]


def test_private_addresses_are_refused_unless_allowed(org_a, settings, receiver, answer_recorded):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    for url in ("http://127.0.0.1:8000/x", "http://localhost/x", "http://10.1.2.3/x", "http://[::1]/x",
                "http://169.254.169.254/latest/meta-data/", "ftp://example.com/x", "http://user:pw@example.com/",
                "javascript:alert(1)"):
        with pytest.raises(services.WebhookError):
            services.create_subscription(organization=org_a, request=None, url=url,
                                         events_wanted=[WebhookEvent.RESPONSE_COMPLETED])
    assert not WebhookSubscription.objects.exists()
    # A subscription made while allowed is not called once the setting is off: the attempt says why.
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    subscription, _secret = services.create_subscription(organization=org_a, request=None, url=receiver.url,
                                                         events_wanted=[WebhookEvent.RESPONSE_COMPLETED])
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    answer_recorded(org_a)
    call = WebhookCall.objects.get(subscription=subscription)
    assert call.status == WebhookCall.Status.PENDING and call.status_code is None
    assert "private network" in call.error
    assert not receiver.received


def test_an_unreachable_receiver_is_an_attempt_that_failed(org_a, subscribe, answer_recorded):
    subscription = subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED],
                             url=f"http://127.0.0.1:{free_port()}/nobody")
    answer_recorded(org_a)
    call = WebhookCall.objects.get(subscription=subscription)
    assert call.status == WebhookCall.Status.PENDING and call.attempts == 1
    assert "ConnectionError" in call.error
    assert WebhookAttempt.objects.get(call=call).status_code is None


def test_resending_a_failed_call_starts_a_new_window_with_the_same_delivery_id(
        org_a, subscribe, receiver, answer_recorded, django_capture_on_commit_callbacks):
    subscription = subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED])
    receiver.answers = [500]
    answer_recorded(org_a)
    call = WebhookCall.objects.get(subscription=subscription)
    WebhookCall.objects.filter(pk=call.pk).update(status=WebhookCall.Status.FAILED)  # its day is over
    receiver.answers = [200]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resend(call=call)
    call.refresh_from_db()
    assert call.status == WebhookCall.Status.DELIVERED and call.attempts == 2
    assert call.window_started_at > call.attempt_log.order_by("attempted_at").first().attempted_at
    assert [r.headers["X-CX-Delivery"] for r in receiver.received] == [str(call.delivery_id)] * 2
    # While an attempt holds the call, a resend is refused rather than sent twice at once.
    WebhookCall.objects.filter(pk=call.pk).update(claimed_until=timezone.now() + timedelta(seconds=30))
    assert not services.resend(call=call)


def test_the_delivery_log_keeps_settled_calls_a_month_and_waiting_ones_always(org_a, settings):
    from tests import factories

    settings.WEBHOOKS_LOG_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    gone = factories.webhook_call(org_a)
    WebhookAttempt.objects.create(call=gone, attempted_at=old, status_code=500, duration_ms=5)
    waiting = factories.webhook_call(org_a)
    recent = factories.webhook_call(org_a)
    WebhookCall.objects.filter(pk__in=[gone.pk, waiting.pk]).update(created_at=old)
    WebhookCall.objects.filter(pk=waiting.pk).update(status=WebhookCall.Status.PENDING)
    assert delivery.prune_log() == 1
    assert set(WebhookCall.objects.values_list("pk", flat=True)) == {waiting.pk, recent.pk}
    assert not WebhookAttempt.objects.exists()
