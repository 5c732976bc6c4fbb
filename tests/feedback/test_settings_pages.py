"""The inbox's settings page: teams, routing rules, SLA policies, canned replies and webhooks are
edited by the roles allowed to, with the same rules as the API, and bad input changes nothing."""

import pytest

from cxplatform.models import Role
from feedback.models import CannedReply, RoutingRule, SlaPolicy, Team, WebhookEndpoint
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org_a, make_member, client_for):
    return client_for(make_member(org_a, Role.ADMIN))


def test_the_page_lists_every_section(org_a, org_b, admin):
    Team.objects.create(organization=org_a, name="Delivery team")
    Team.objects.create(organization=org_b, name="Their team")
    body = admin.get("/inbox/settings/").content.decode()
    for title in ("Teams", "Routing rules", "SLA policies", "Canned replies", "Webhooks"):
        assert title in body
    assert "Delivery team" in body and "Their team" not in body


def test_a_team_with_its_agents_and_touchpoints(org_a, org_b, admin, make_member):
    agent = make_member(org_a, Role.AGENT)
    outsider = make_member(org_b, Role.AGENT)
    tp = factories.touchpoint(org_a)
    answer = admin.post("/inbox/settings/teams/new/", {"name": "Delivery team", "lead": agent.pk,
                                                        "members": [agent.pk], "touchpoints": [tp.pk]})
    assert answer.status_code == 302
    team = Team.objects.get(organization=org_a)
    assert team.lead == agent and list(team.members.all()) == [agent] and list(team.touchpoints.all()) == [tp]
    again = admin.post("/inbox/settings/teams/new/", {"name": "Delivery team"})  # the name is taken
    assert again.status_code == 400 and Team.objects.count() == 1
    foreign = admin.post("/inbox/settings/teams/new/", {"name": "Other", "members": [outsider.pk]})
    assert foreign.status_code == 400 and Team.objects.count() == 1
    admin.post(f"/inbox/settings/teams/{team.pk}/", {"name": "Couriers", "members": [agent.pk],
                                                      "version": team.version})
    team.refresh_from_db()
    assert team.name == "Couriers" and team.lead is None and not team.touchpoints.exists()
    # People are named by their names, on the page and in the form (their login when nameless).
    agent.first_name, agent.last_name = "Laura", "Kalniņa"
    agent.save()
    row = admin.get("/inbox/settings/").content.decode().split("<table")[1].split("Couriers")[1].split("</tr>")[0]
    assert "Laura Kalniņa" in row and agent.username not in row
    assert "Laura Kalniņa" in admin.get(f"/inbox/settings/teams/{team.pk}/").content.decode()


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"rating_min": 7, "rating_max": 3}, "rating_max", "is below"),
    ({"assign": "round_robin"}, "assign", "Choose the team"),
])
def test_a_rule_that_cannot_work_is_refused(org_a, admin, data, field, message):
    answer = admin.post("/inbox/settings/rules/new/", {"name": "Rule", "position": 0, "active": "on", **data})
    assert answer.status_code == 400 and message in answer.content.decode()
    assert not RoutingRule.objects.exists()


def test_sla_policies_one_per_priority_a_real_zone_and_a_real_day(org_a, admin):
    base = {"priority": 1, "first_response_hours": 1, "resolution_hours": 8, "day_start": "09:00",
            "day_end": "18:00", "time_zone": "Europe/Riga", "warn_before_minutes": 30}
    assert admin.post("/inbox/settings/sla/new/", base).status_code == 302
    for changes, message in (({}, "already has an SLA policy"), ({"priority": 2, "time_zone": "Mars/Olympus"},
                             "is not a time zone"), ({"priority": 2, "day_end": "08:00"}, "must end after")):
        answer = admin.post("/inbox/settings/sla/new/", {**base, **changes})
        assert answer.status_code == 400 and message in answer.content.decode(), changes
    assert SlaPolicy.objects.count() == 1
    policy = SlaPolicy.objects.get()
    assert admin.post(f"/inbox/settings/sla/{policy.pk}/", {**base, "resolution_hours": 6,
                                                            "version": policy.version}).status_code == 302
    policy.refresh_from_db()
    assert policy.resolution_hours == 6  # editing a policy does not clash with itself


def test_a_webhook_endpoint_gets_its_address_and_secret(org_a, admin):
    answer = admin.post("/inbox/settings/webhooks/new/", {"name": "Trustpilot", "source": "review", "active": "on",
                                                           "signed": "on"})
    assert answer.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.source == "review" and len(endpoint.key) > 30 and endpoint.secret
    body = admin.get("/inbox/settings/").content.decode()
    assert f"/hooks/feedback/{endpoint.key}/" in body and endpoint.secret in body


def test_roles(org_a, make_member, client_for):
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    agent = client_for(make_member(org_a, Role.AGENT))
    assert manager.post("/inbox/settings/canned/new/", {"title": "Hi", "text": "Hello {customer}"}).status_code == 302
    assert manager.post("/inbox/settings/rules/new/", {"name": "x", "position": 0}).status_code == 403
    assert manager.get("/inbox/settings/webhooks/new/").status_code == 403
    body = manager.get("/inbox/settings/").content.decode()
    assert "Canned replies" in body and "Routing rules" not in body and "Webhooks" not in body
    assert agent.get("/inbox/settings/").status_code == 403
    canned = CannedReply.objects.get()
    assert agent.post(f"/inbox/settings/canned/{canned.pk}/delete/").status_code == 403
    assert manager.post(f"/inbox/settings/canned/{canned.pk}/delete/").status_code == 302
    assert not CannedReply.objects.exists()
