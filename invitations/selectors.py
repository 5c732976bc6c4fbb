"""Reads of invitations: the funnel of a campaign, a trigger rule or a survey link."""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from .models import Invitation, SkipReason


@dataclass
class Funnel:
    """sent → delivered (not bounced) → opened → started → completed; unsubscribed, skipped."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    opened: int = 0
    started: int = 0
    completed: int = 0
    unsubscribed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def delivered(self) -> int:
        return self.sent - self.bounced

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def rate(self, step: str) -> float | None:
        """A step's share of those delivered, in %; None before anything was delivered."""
        return round(100 * getattr(self, step) / self.delivered, 1) if self.delivered else None

    @property
    def response_rate(self) -> float | None:
        return self.rate("completed")

    def skipped_by_reason(self) -> list[tuple[str, str, int]]:
        """(reason, its label, count), biggest first."""
        return sorted(((reason, SkipReason(reason).label, n) for reason, n in self.skipped.items() if reason),
                      key=lambda row: -row[2])


def funnel(invitations: QuerySet[Invitation]) -> Funnel:
    """One aggregate query for the counts, one for the skips by reason."""
    sent = Q(sent_at__isnull=False)
    counts = invitations.aggregate(
        queued=Count("id", filter=Q(status__in=[Invitation.Status.QUEUED, Invitation.Status.SENDING])),
        sent=Count("id", filter=sent),
        failed=Count("id", filter=Q(status=Invitation.Status.FAILED)),
        bounced=Count("id", filter=sent & Q(bounced_at__isnull=False)),
        opened=Count("id", filter=sent & Q(opened_at__isnull=False)),
        started=Count("id", filter=sent & Q(started_at__isnull=False)),
        completed=Count("id", filter=sent & Q(completed_at__isnull=False)),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
    )
    skipped = dict(invitations.filter(status=Invitation.Status.SKIPPED).values_list("skip_reason")
                   .annotate(n=Count("id")).order_by())
    return Funnel(**counts, skipped=skipped)


def skipped(invitations: QuerySet[Invitation], *, reason: str = "") -> QuerySet[Invitation]:
    rows = invitations.filter(status=Invitation.Status.SKIPPED).select_related("customer")
    return rows.filter(skip_reason=reason) if reason else rows
