"""The response rate of the invitations the platform sent, per survey link: the dashboard's
"Response rate by survey link" fragment. Counted from the invitation rows (one grouped query, then
the links' names);
what a step means is the invitations funnel's (invitations.selectors.Funnel), so the dashboard
and a campaign's page never disagree."""

from dataclasses import dataclass
from datetime import UTC, datetime, time

from invitations.models import Invitation
from invitations.selectors import Funnel, funnel_counts, funnel_of
from surveys.models import Distribution

from .definitions import SMALL_SAMPLE
from .selectors import Scope


@dataclass
class LinkRate:
    distribution_id: int
    survey: str
    link: str
    funnel: Funnel

    @property
    def sent(self) -> int:
        return self.funnel.sent

    @property
    def delivered(self) -> int:
        return self.funnel.delivered

    @property
    def completed(self) -> int:
        return self.funnel.completed

    @property
    def rate(self) -> float | None:
        return self.funnel.response_rate

    @property
    def small_sample(self) -> bool:
        return self.funnel.delivered < SMALL_SAMPLE


def _moment(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def response_rates(scope: Scope) -> list[LinkRate]:
    """Each survey link with invitations sent in the scope's period [start, end): sent, completed
    and the response rate (completed per delivered), most sent first. Only the scope's
    organization; its survey, touchpoint, channel, language and segment filters apply."""
    organization = scope.organization
    rows = Invitation.objects.filter(organization=organization, sent_at__gte=_moment(scope.start),
                                     sent_at__lt=_moment(scope.end))
    if scope.surveys:
        rows = rows.filter(distribution__survey_id__in=scope.surveys)
    if scope.touchpoints:
        rows = rows.filter(distribution__touchpoint_id__in=scope.touchpoints)
    if scope.channels:
        rows = rows.filter(distribution__channel_id__in=scope.channels)
    if scope.languages:
        rows = rows.filter(language__in=scope.languages)
    if scope.segments:
        attribute = organization.segment_attribute or "segment"
        rows = rows.filter(**{f"customer__attributes__{attribute}__in": scope.segments})
    # Counted per link id alone (grouping by the names too made PostgreSQL sort every invitation
    # row by them), then the few links named.
    grouped = list(rows.values("distribution_id").annotate(**funnel_counts()).order_by())
    names = {link.pk: (link.survey.name, link.name) for link in
             Distribution.objects.filter(pk__in=[row["distribution_id"] for row in grouped]).select_related("survey")}
    rates = [LinkRate(row["distribution_id"], *names[row["distribution_id"]], funnel_of(row)) for row in grouped]
    return sorted(rates, key=lambda rate: (-rate.sent, rate.survey, rate.link))
