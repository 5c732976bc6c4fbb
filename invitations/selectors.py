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

    def share_of_sent(self, step: str) -> float | None:
        """A step's share of those sent, in %: delivered and bounced, which split the sent."""
        return round(100 * getattr(self, step) / self.sent, 1) if self.sent else None

    @property
    def response_rate(self) -> float | None:
        return self.rate("completed")

    def skipped_by_reason(self) -> list[tuple[str, str, int]]:
        """(reason, its label, count), biggest first."""
        return sorted(((reason, SkipReason(reason).label, n) for reason, n in self.skipped.items() if reason),
                      key=lambda row: -row[2])


def funnel_counts() -> dict:
    """The funnel's counts as aggregates: the one definition of each step, for one funnel, a
    funnel per group (funnels_by) and the dashboard's response rate per link."""
    sent = Q(sent_at__isnull=False)
    return {
        "queued": Count("id", filter=Q(status__in=[Invitation.Status.QUEUED, Invitation.Status.SENDING])),
        "sent": Count("id", filter=sent),
        "failed": Count("id", filter=Q(status=Invitation.Status.FAILED)),
        "bounced": Count("id", filter=sent & Q(bounced_at__isnull=False)),
        "opened": Count("id", filter=sent & Q(opened_at__isnull=False)),
        "started": Count("id", filter=sent & Q(started_at__isnull=False)),
        "completed": Count("id", filter=sent & Q(completed_at__isnull=False)),
        "unsubscribed": Count("id", filter=Q(unsubscribed_at__isnull=False)),
    }


def funnel_of(row: dict, skipped: dict | None = None) -> Funnel:
    """A Funnel from a row carrying funnel_counts()."""
    return Funnel(**{name: row[name] for name in funnel_counts()}, skipped=skipped or {})


def funnel(invitations: QuerySet[Invitation]) -> Funnel:
    """One aggregate query for the counts, one for the skips by reason."""
    skipped = dict(invitations.filter(status=Invitation.Status.SKIPPED).values_list("skip_reason")
                   .annotate(n=Count("id")).order_by())
    return funnel_of(invitations.aggregate(**funnel_counts()), skipped)


def funnels_by(invitations: QuerySet[Invitation], key: str) -> dict:
    """A funnel per value of `key` (e.g. "campaign_id"), in two queries whatever their number."""
    skipped: dict = {}
    for value, reason, n in (invitations.filter(status=Invitation.Status.SKIPPED)
                             .values_list(key, "skip_reason").annotate(n=Count("id")).order_by()):
        skipped.setdefault(value, {})[reason] = n
    return {row[key]: funnel_of(row, skipped.get(row[key]))
            for row in invitations.values(key).annotate(**funnel_counts()).order_by()}


def campaign_funnels(campaigns) -> dict:
    """Each of these campaigns' funnel, by campaign id (two queries for a page of them)."""
    return funnels_by(Invitation.objects.filter(campaign__in=campaigns), "campaign_id")


def skipped(invitations: QuerySet[Invitation], *, reason: str = "") -> QuerySet[Invitation]:
    rows = invitations.filter(status=Invitation.Status.SKIPPED).select_related("customer")
    return rows.filter(skip_reason=reason) if reason else rows
