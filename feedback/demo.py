"""VoltRide's frontline teams (delivery and support agents, each with the touchpoints they own)
and the inbox: every demo survey comment as an item, as the live path would have made it."""

from surveys.models import Response

from .models import FeedbackItem, Team
from .services import ensure_default_tags

TEAMS = [
    ("Delivery team", "agent", ["agent"], ["Home delivery", "Online checkout"]),
    ("Support team", "agent2", ["agent2"], ["Support call", "Service repair", "App onboarding"]),
]


def load(demo):
    for name, lead, members, touchpoints in TEAMS:
        team, _ = Team.objects.get_or_create(organization=demo.organization, name=name,
                                             defaults={"lead": demo.users[lead]})
        team.members.add(*(demo.users[u] for u in members))
        team.touchpoints.add(*(demo.touchpoints[t] for t in touchpoints if t in demo.touchpoints))
    _survey_comments(demo.organization)


def _survey_comments(org):
    # The demo's answers are bulk-loaded without events: make their items the same way at once.
    FeedbackItem.objects.bulk_create([
        FeedbackItem(organization=org, source=FeedbackItem.Source.SURVEY, source_id=f"response:{r.pk}",
                     response_id=r.pk, text=r.comment, rating=r.score, language=r.language, sentiment=r.sentiment,
                     channel_id=r.channel_id, touchpoint_id=r.touchpoint_id, customer_id=r.customer_id,
                     received_at=r.submitted_at or r.started_at)
        for r in Response.objects.filter(organization=org).exclude(comment="")
    ], batch_size=1000, ignore_conflicts=True)
    ensure_default_tags(org)
