"""Reads of the webhook pages, always within one organization."""

from django.db.models import Count, Max, Q

from cxplatform.tenancy import scoped

from .models import WebhookAttempt, WebhookCall, WebhookSubscription

LOG_LENGTH = 50
ATTEMPTS_SHOWN = 5


def subscriptions(organization):
    return scoped(WebhookSubscription, organization).annotate(
        failed_calls=Count("calls", filter=Q(calls__status=WebhookCall.Status.FAILED)),
        last_call_at=Max("calls__created_at"))


def delivery_log(subscription, limit: int = LOG_LENGTH) -> list[WebhookCall]:
    """The subscription's latest calls, newest first, each with its latest attempts."""
    calls = list(subscription.calls.order_by("-created_at", "-id")[:limit])
    attempts = {}
    for attempt in WebhookAttempt.objects.filter(call__in=calls).order_by("-attempted_at", "-id"):
        shown = attempts.setdefault(attempt.call_id, [])
        if len(shown) < ATTEMPTS_SHOWN:
            shown.append(attempt)
    for call in calls:
        call.recent_attempts = attempts.get(call.pk, [])
    return calls
