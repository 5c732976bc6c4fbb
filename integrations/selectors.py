"""Reads of the webhook pages, always within one organization."""

from django.core.paginator import Paginator
from django.db.models import Count, Max, Q

from cxplatform.tenancy import scoped

from .models import WebhookAttempt, WebhookCall, WebhookSubscription

LOG_LENGTH = 50
ATTEMPTS_SHOWN = 5


def subscriptions(organization):
    return scoped(WebhookSubscription, organization).annotate(
        failed_calls=Count("calls", filter=Q(calls__status=WebhookCall.Status.FAILED)),
        last_call_at=Max("calls__created_at"))


def delivery_log(subscription, *, status: str = "", page=1, per_page: int = LOG_LENGTH):
    """One page of the subscription's calls, newest first (only those in `status`, when it is one
    of a call's statuses), each with its latest attempts."""
    calls = subscription.calls.order_by("-created_at", "-id")
    if status in WebhookCall.Status.values:
        calls = calls.filter(status=status)
    shown_page = Paginator(calls, per_page).get_page(page)
    attempts = {}
    calls_shown = list(shown_page.object_list)
    for attempt in WebhookAttempt.objects.filter(call__in=calls_shown).order_by("-attempted_at", "-id"):
        shown = attempts.setdefault(attempt.call_id, [])
        if len(shown) < ATTEMPTS_SHOWN:
            shown.append(attempt)
    for call in shown_page.object_list:
        call.recent_attempts = attempts.get(call.pk, [])
    return shown_page
