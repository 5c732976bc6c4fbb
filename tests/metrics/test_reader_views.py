"""The three readers' views: the executive summary in plain words, the CX manager's dashboard
(elsewhere) and the frontline view of the agent's own team and touchpoints."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cxplatform.models import Role
from feedback.models import Team
from metrics.services import reconcile_recent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def week(org_a):
    survey = factories.survey(org_a, "nps")
    delivery, showroom = factories.distribution(org_a, survey), factories.distribution(org_a, survey)
    now = timezone.now()
    for i in range(40):  # delivery: many detractors; showroom: promoters
        factories.response(org_a, delivery, score=2 if i % 4 else 9, comment="Курьер опоздал, ужасно" if i < 3 else "")
        factories.response(org_a, showroom, score=10 if i % 5 else 7)
    earlier = now - timedelta(days=40)
    for _ in range(40):
        factories.response(org_a, delivery, score=9, started_at=earlier, submitted_at=earlier)
    reconcile_recent(days=60)
    return {"delivery": delivery, "showroom": showroom}


def test_executive_summary_speaks_plain_words(week, org_a, make_member, client_for):
    page = client_for(make_member(org_a, Role.VIEWER)).get("/metrics/executive/")
    assert page.status_code == 200
    summary = page.context["summary"]
    nps = next(line for line in summary["lines"] if line.metric == "nps")
    assert nps.value == "15"  # (42 promoters − 30 detractors) / 80 answers, in whole points as everywhere
    assert "How many customers would recommend us" in nps.sentence
    assert "Worse than in the period before, by 85 —" in nps.sentence and nps.tone == "worse"
    assert summary["touchpoints"]["worst"]["name"] == week["delivery"].touchpoint.name
    assert summary["touchpoints"]["best"]["name"] == week["showroom"].touchpoint.name
    assert "NPS" not in nps.sentence.split(".")[0]  # the first sentence explains, it does not abbreviate


def test_executive_summary_in_russian(week, org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    body = client.get("/metrics/executive/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Сводка для руководства" in body and "Хуже, чем в предыдущем периоде" in body


def test_frontline_view_shows_the_agents_touchpoints_only(week, org_a, make_member, client_for):
    agent = make_member(org_a, Role.AGENT)
    team = Team.objects.create(organization=org_a, name="Delivery")
    team.members.add(agent)
    team.touchpoints.add(week["delivery"].touchpoint)
    page = client_for(agent).get("/metrics/frontline/")
    assert page.status_code == 200
    names = [row["name"] for row in page.context["rows"]]
    assert names == [week["delivery"].touchpoint.name]
    assert page.context["rows"][0]["figures"]["nps"]["n"] == 40
    call_backs = list(page.context["call_backs"])
    assert call_backs and all(r.touchpoint_id == week["delivery"].touchpoint_id for r in call_backs)
    assert all(r.comment for r in call_backs)  # anonymous answers without a comment give nobody to call


def test_frontline_view_without_a_team_says_what_to_do(org_a, make_member, client_for):
    page = client_for(make_member(org_a, Role.AGENT)).get("/metrics/frontline/")
    assert "You are not in a team yet" in page.content.decode()


def test_frontline_view_never_offers_another_organizations_team(org_a, org_b, make_member, client_for):
    foreign = Team.objects.create(organization=org_b, name="Their team")
    page = client_for(make_member(org_a, Role.AGENT)).get("/metrics/frontline/", {"team": foreign.pk})
    assert "Their team" not in page.content.decode() and page.context["chosen"] == []
