"""Sending webhook calls (docs/adr/0027): claim, POST signed JSON outside any transaction, settle.

A call is claimed by a conditional UPDATE (so two workers never send it at once), posted with a
short timeout and no redirects, and settled in one transaction with its attempt: a 2xx is
delivered; anything else waits WEBHOOKS_BACKOFF_SECONDS · 2^(attempts − 1), at most
WEBHOOKS_BACKOFF_MAX_SECONDS, and fails once an attempt fails WEBHOOKS_RETRY_HOURS after the first.
The beat's `enqueue_due` hands on every call that is due and carried by no message: retries, and
calls whose enqueue met a broker outage.
"""

import logging
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from cxplatform.signatures import outgoing_signature

from . import services
from .models import PING, WebhookAttempt, WebhookCall, WebhookSubscription

logger = logging.getLogger(__name__)

EXCERPT_BYTES = 1000
USER_AGENT = "CX-Platform-Webhooks/1"


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: 1 min, 2, 4 … (defaults), at most an hour."""
    seconds = settings.WEBHOOKS_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.WEBHOOKS_BACKOFF_MAX_SECONDS))


def _sendable() -> Q:
    # A call of a subscription that is off waits (it goes on when turned on again); a test ping goes.
    return Q(subscription__active=True) | Q(event=PING)


def claim(call_id: int, now=None) -> WebhookCall | None:
    now = now or timezone.now()
    until = now + timedelta(seconds=settings.WEBHOOKS_CLAIM_SECONDS)
    taken = (WebhookCall.objects.filter(pk=call_id, status=WebhookCall.Status.PENDING, next_attempt_at__lte=now)
             .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)).filter(_sendable())
             .update(claimed_until=until, queued_at=None))
    if not taken:
        return None
    return WebhookCall.objects.select_related("subscription").get(pk=call_id)


def post(call: WebhookCall) -> dict:
    """One HTTP attempt; returns what the log keeps. Never call it inside a database transaction."""
    subscription = call.subscription
    body = call.body.encode()
    started = time.monotonic()
    outcome = {"status_code": None, "response_excerpt": "", "error": ""}
    problem = services.url_problem(subscription.url)  # checked again: DNS may point elsewhere now
    if problem:
        outcome["error"] = problem
    else:
        headers = {
            "Content-Type": "application/json", "User-Agent": USER_AGENT,
            "X-CX-Event": call.event, "X-CX-Delivery": str(call.delivery_id),
            "X-CX-Signature": outgoing_signature(subscription.secret, body,
                                                 timestamp=int(timezone.now().timestamp())),
        }
        try:
            with requests.post(subscription.url, data=body, headers=headers, stream=True, allow_redirects=False,
                               timeout=(settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS,
                                        settings.WEBHOOKS_TIMEOUT_SECONDS)) as response:
                outcome["status_code"] = response.status_code
                raw = response.raw.read(EXCERPT_BYTES, decode_content=True) or b""
                outcome["response_excerpt"] = raw.decode("utf-8", "replace").replace("\x00", "")
        except requests.RequestException as exc:
            outcome["error"] = f"{type(exc).__name__}: {exc}"[:300]
    outcome["duration_ms"] = int((time.monotonic() - started) * 1000)
    return outcome


def delivered(outcome: dict) -> bool:
    return outcome["status_code"] is not None and 200 <= outcome["status_code"] < 300


@transaction.atomic
def settle(call: WebhookCall, outcome: dict, *, attempted_at) -> str:
    """Record the attempt and decide: delivered, again later, or failed. Returns the call's status."""
    now = timezone.now()
    ok = delivered(outcome)
    WebhookAttempt.objects.create(call=call, attempted_at=attempted_at, delivered=ok, **outcome)
    attempts = call.attempts + 1
    window_started = call.window_started_at or attempted_at
    fields = {"attempts": attempts, "window_started_at": window_started, "last_attempt_at": attempted_at,
              "claimed_until": None, **outcome}
    if ok:
        status = WebhookCall.Status.DELIVERED
        fields["delivered_at"] = now
    elif now >= window_started + timedelta(hours=settings.WEBHOOKS_RETRY_HOURS):
        status = WebhookCall.Status.FAILED
    else:
        status = WebhookCall.Status.PENDING
        fields["next_attempt_at"] = now + backoff(attempts)
    WebhookCall.objects.filter(pk=call.pk).update(status=status, **fields)
    if call.event == PING:  # a test says nothing about the subscription's streak
        return status
    subscriptions = WebhookSubscription.objects.filter(pk=call.subscription_id)
    if ok:
        subscriptions.update(failing_since=None, last_delivered_at=now)
    else:
        subscriptions.update(failing_since=Coalesce(F("failing_since"), attempted_at))
        services.disable_if_failing_for_days(subscription_id=call.subscription_id, now=now)
    return status


def deliver(call_id: int) -> str | None:
    """Claim, send and settle one call; None when there was nothing to do (taken, done, not due)."""
    call = claim(call_id)
    if call is None:
        return None
    attempted_at = timezone.now()
    outcome = post(call)
    status = settle(call, outcome, attempted_at=attempted_at)
    logger.info("webhook call %s (%s) attempt %s: %s %s", call.pk, call.event, call.attempts + 1,
                outcome["status_code"] or outcome["error"], status)
    return status


def due_call_ids(now=None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    lost_before = now - timedelta(seconds=settings.WEBHOOKS_LOST_AFTER_SECONDS)
    return list(
        WebhookCall.objects.filter(status=WebhookCall.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=lost_before)).filter(_sendable())
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


def enqueue_due(now=None) -> int:
    """The beat: hand each due call no message carries to the workers; returns how many went."""
    now = now or timezone.now()
    ids = due_call_ids(now)
    if not ids:
        return 0
    WebhookCall.objects.filter(pk__in=ids).update(queued_at=now)
    return sum(services.enqueue(pk) for pk in ids)


def prune_log(now=None) -> int:
    """Settled calls (and their attempts) older than WEBHOOKS_LOG_DAYS leave the delivery log; a
    call still waiting stays whatever its age. Returns how many calls went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOKS_LOG_DAYS)
    old = WebhookCall.objects.filter(created_at__lt=cutoff).exclude(status=WebhookCall.Status.PENDING)
    _total, per_model = old.delete()
    return per_model.get(WebhookCall._meta.label, 0)
