"""How the frontline answers customers, from the inbox: first response time, resolution time,
first-contact resolution (FCR) and SLA compliance for the scope's period.

Read from the items themselves, not from daily rollups: an item's times change long after it
arrived (it is answered, resolved, reopened), there are far fewer items than survey answers, and
every figure is one indexed pass over the period's items. On PostgreSQL the medians are computed
by the database (`percentile_cont`); the embedded SQLite default computes them in Python.
"""

from datetime import UTC, datetime, time

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q
from django.db.models.functions import Extract
from django.utils import timezone

from feedback.models import FeedbackItem, Message
from feedback.sla import DONE

from . import definitions

NAMES = ("first_response_time", "resolution_time", "fcr", "sla_compliance")
LOOP_NAMES = ("contacted_in_time", "loop_closed_rate", "loop_close_time", "recovery_rate", "unreachable")


class Median(Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _moment(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def items_in(scope):
    """The scope's items: its touchpoints, channels, languages and customer segments; with surveys
    named, the comments of those surveys' answers."""
    qs = FeedbackItem.objects.filter(organization=scope.organization)
    if scope.touchpoints:
        qs = qs.filter(touchpoint_id__in=scope.touchpoints)
    if scope.channels:
        qs = qs.filter(channel_id__in=scope.channels)
    if scope.languages:
        qs = qs.filter(language__in=scope.languages)
    if scope.surveys:
        qs = qs.filter(response__survey_id__in=scope.surveys)
    if scope.segments:
        attribute = scope.organization.segment_attribute or "segment"
        qs = qs.filter(**{f"customer__attributes__{attribute}__in": list(scope.segments)})
    return qs


def _median_hours(qs, end_field: str) -> tuple[float | None, int]:
    span = F(end_field) - F("received_at")
    if connection.vendor == "postgresql":
        row = qs.aggregate(m=Median(Extract(span, "epoch")), n=Count("pk"))
        return (row["m"] / 3600 if row["m"] is not None else None), row["n"]
    seconds = sorted((end - start).total_seconds() for start, end in qs.values_list("received_at", end_field))
    figure = definitions.median_duration("x", seconds)
    return figure.value, figure.n


def inbox_figures(scope, now: datetime | None = None) -> dict[str, definitions.Figure]:
    now = now or timezone.now()
    start, end = _moment(scope.start), _moment(scope.end)
    items = items_in(scope)
    received = items.filter(received_at__gte=start, received_at__lt=end)
    resolved = items.filter(resolved_at__gte=start, resolved_at__lt=end, status__in=DONE)

    first, first_n = _median_hours(received.filter(first_responded_at__isnull=False), "first_responded_at")
    resolution, resolution_n = _median_hours(resolved, "resolved_at")

    # FCR: of the resolved items that had a reply, those resolved with exactly one (an item closed
    # without ever writing to the customer — praise, a duplicate — was no contact at all).
    replies = resolved.annotate(replies=Count("messages", filter=Q(messages__direction=Message.Direction.OUT)))
    fcr = replies.filter(replies__gte=1).aggregate(total=Count("pk"), hits=Count("pk", filter=Q(replies=1)))

    # SLA compliance: items of the period with a target whose outcome is known — resolved, or
    # past their due time unresolved (a breach) — met when answered and resolved in time.
    due = received.filter(resolution_due__isnull=False).filter(Q(resolved_at__isnull=False) | Q(resolution_due__lt=now))
    met = Q(resolved_at__isnull=False, resolved_at__lte=F("resolution_due")) & (
        Q(first_response_due__isnull=True) | Q(first_responded_at__lte=F("first_response_due")))
    sla = due.aggregate(total=Count("pk"), hits=Count("pk", filter=met))

    return {
        "first_response_time": definitions.Figure("first_response_time", first, first_n, 0, {}, None, "h"),
        "resolution_time": definitions.Figure("resolution_time", resolution, resolution_n, 0, {}, None, "h"),
        "fcr": definitions.rate("fcr", fcr["hits"], fcr["total"]),
        "sla_compliance": definitions.rate("sla_compliance", sla["hits"], sla["total"]),
    }


def loop_figures(scope, now: datetime | None = None) -> dict[str, definitions.Figure]:
    """The closed loop's figures: of the period's call-back cases, the share contacted within
    their rule's time and the share closed within it (counted once the outcome is known: done, or
    past due); the median time to close a loop; of the customers who answered the follow-up,
    the share recovered (a better score than the first); and, of the period's unhappy answers a case
    rule took, the share nobody could call back (no known customer, or neither e-mail nor phone)."""
    now = now or timezone.now()
    start, end = _moment(scope.start), _moment(scope.end)
    cases = items_in(scope).filter(kind=FeedbackItem.Kind.CASE)
    received = cases.filter(received_at__gte=start, received_at__lt=end)
    contact = received.filter(first_response_due__isnull=False).filter(
        Q(first_responded_at__isnull=False) | Q(first_response_due__lt=now)).aggregate(
        total=Count("pk"), hits=Count("pk", filter=Q(first_responded_at__lte=F("first_response_due"))))
    closing = received.filter(resolution_due__isnull=False).filter(
        Q(resolved_at__isnull=False) | Q(resolution_due__lt=now)).aggregate(
        total=Count("pk"), hits=Count("pk", filter=Q(resolved_at__lte=F("resolution_due"))))
    resolved = cases.filter(resolved_at__gte=start, resolved_at__lt=end, status__in=DONE)
    close_time, close_n = _median_hours(resolved, "resolved_at")
    recovery = resolved.filter(recovered__isnull=False).aggregate(
        total=Count("pk"), hits=Count("pk", filter=Q(recovered=True)))
    unreachable = Q(kind=FeedbackItem.Kind.VOICE, loop_state=FeedbackItem.LoopState.UNREACHABLE)
    taken = items_in(scope).filter(received_at__gte=start, received_at__lt=end).filter(
        Q(kind=FeedbackItem.Kind.CASE) | unreachable).aggregate(
        total=Count("pk"), hits=Count("pk", filter=unreachable))
    return {
        "contacted_in_time": definitions.rate("contacted_in_time", contact["hits"], contact["total"]),
        "loop_closed_rate": definitions.rate("loop_closed_rate", closing["hits"], closing["total"]),
        "loop_close_time": definitions.Figure("loop_close_time", close_time, close_n, 0, {}, None, "h"),
        "recovery_rate": definitions.rate("recovery_rate", recovery["hits"], recovery["total"]),
        "unreachable": definitions.rate("unreachable", taken["hits"], taken["total"]),
    }
