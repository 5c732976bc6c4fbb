"""VoltRide's frontline teams: delivery and support agents, each with the touchpoints they own."""

from .models import Team

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
