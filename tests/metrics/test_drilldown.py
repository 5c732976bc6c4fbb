"""Every chart and table of the dashboard drills down to the responses behind it: the link each
point carries lists exactly the answers its figure counts."""

import json
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from cxplatform.models import Role
from metrics.services import reconcile_recent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def answers(org_a):
    org_a.segment_attribute = "tier"
    org_a.save()
    survey = factories.survey(org_a, "nps")
    links = [factories.distribution(org_a, survey) for _ in range(2)]
    gold = factories.customer(org_a)
    gold.attributes = {"tier": "gold"}
    gold.save()
    now = timezone.now()
    scores = [10, 9, 9, 8, 7, 6, 4, 0, 10, 3, 9, 5]
    for i, score in enumerate(scores):
        moment = now - timedelta(days=i % 9)  # spread over days and (usually) two weeks
        factories.response(org_a, links[i % 2], score=score, started_at=moment, submitted_at=moment,
                           language=["en", "ru", "lv"][i % 3], customer=gold if i % 4 == 0 else None)
    factories.response(org_a, links[0], score=None, status="abandoned")  # skipped: not behind any figure
    csat = factories.distribution(org_a, factories.survey(org_a, "csat"))
    for score in (5, 2):
        factories.response(org_a, csat, score=score)
    reconcile_recent(days=30)
    return {"scores": scores, "links": links}


def _count(client, url) -> int:
    page = client.get(url)
    assert page.status_code == 200, page.content[:500]
    return page.context["page"].paginator.count


def _points(figure_json, trace=-1):
    data = json.loads(figure_json)["data"][trace]
    return data["customdata"]


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_every_trend_point_and_bar_lists_its_n(answers, org_a, make_member, client_for, grain):
    client = client_for(make_member(org_a, Role.VIEWER))
    page = client.get("/", {"grain": grain})
    trend = _points(page.context["trend_json"])
    assert sum(n for n, _url in trend) == len(answers["scores"])
    if grain == "day":
        assert len(trend) == 9  # one point per answered day
    for n, url in trend:
        assert urlparse(url).path == "/metrics/responses/"
        assert _count(client, url) == n
    for n, url in _points(page.context["distribution_json"]):
        assert _count(client, url) == n


def test_heatmap_cells_and_breakdown_rows_list_their_n(answers, org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    page = client.get("/")
    cells = [cell for row in _points(page.context["heatmap_json"]) for cell in row if cell[0]]
    assert sum(n for n, _url in cells) == len(answers["scores"])
    for n, url in cells:
        assert _count(client, url) == n
    breakdowns = page.context["breakdowns"]
    assert {r["name"] for r in breakdowns["segment"]} == {"gold", "—"}
    assert {r["key"] for r in breakdowns["language"]} == {"en", "ru", "lv"}
    assert breakdowns["stage"] == []  # no touchpoint is on a journey map yet
    for column, rows in breakdowns.items():
        if column == "stage":
            continue
        assert sum(r["n"] for r in rows) == len(answers["scores"]), column
        for row in rows:
            if row["drill_url"]:
                assert _count(client, row["drill_url"]) == row["n"], (column, row["name"])


def test_csat_charts_drill_to_csat_answers(answers, org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    page = client.get("/", {"metric": "csat"})
    assert page.context["metric_label"] == "CSAT"
    bars = _points(page.context["distribution_json"])
    assert [n for n, _url in bars] == [0, 1, 0, 0, 1]  # scores 1–5
    assert _count(client, bars[4][1]) == 1


def test_drill_down_keeps_the_dashboard_filters(answers, org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    touchpoint = answers["links"][0].touchpoint_id
    page = client.get("/", {"touchpoint": touchpoint, "language": "ru"})
    for n, url in _points(page.context["trend_json"]):
        assert f"touchpoint={touchpoint}" in url and "language=ru" in url
        assert _count(client, url) == n
    listed = client.get("/metrics/responses/", {"touchpoint": touchpoint, "language": "ru", "type": "nps"})
    rows = listed.context["page"].object_list
    assert rows and all(r.touchpoint_id == touchpoint and r.language == "ru" for r in rows)


def test_drill_down_rejects_bad_filters_clearly(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    page = client.get("/metrics/responses/", {"score": "11", "from": "2026-02-01", "to": "2026-01-01"})
    assert page.status_code == 400
    body = page.content.decode()
    assert "must not be after its end" in body and "Select a valid choice" in body


def test_drill_down_never_shows_another_organizations_responses(answers, org_b, make_member, client_for):
    client = client_for(make_member(org_b, Role.VIEWER))
    assert _count(client, "/metrics/responses/?type=nps") == 0
    foreign_touchpoint = answers["links"][0].touchpoint_id
    page = client.get("/metrics/responses/", {"touchpoint": foreign_touchpoint})
    assert page.status_code == 400  # not one of this organization's touchpoints


def test_like_groups_compare_with_a_significance_verdict(answers, org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    dashboard = client.get("/").content.decode()
    assert 'action="/metrics/compare/"' in dashboard and 'name="dimension" value="language"' in dashboard
    page = client.get("/metrics/compare/", {"dimension": "language", "a": "en", "b": "ru", "metric": "nps"})
    assert page.status_code == 200
    a, b = page.context["a"], page.context["b"]
    en = [s for i, s in enumerate(answers["scores"]) if i % 3 == 0]
    assert a["n"] == len(en) and b["n"] == len([s for i, s in enumerate(answers["scores"]) if i % 3 == 1])
    assert page.context["difference"]["change"] == pytest.approx(a["value"] - b["value"], abs=0.01)
    assert page.context["difference"]["significant"] is False  # four answers each: chance explains it
    assert a["name"] == "English" and "cannot tell them apart" in page.content.decode()


def test_compare_refuses_unlike_or_foreign_groups(answers, org_a, org_b, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    same = client.get("/metrics/compare/", {"dimension": "language", "a": "en", "b": "en"})
    assert same.status_code == 400 and "two different groups" in same.content.decode()
    foreign = factories.touchpoint(org_b)
    mine = answers["links"][0].touchpoint_id
    page = client.get("/metrics/compare/", {"dimension": "touchpoint", "a": mine, "b": foreign.pk})
    assert page.status_code == 400 and "is not a touchpoint of this organization" in page.content.decode()


def test_breakdown_by_journey_stage_folds_its_touchpoints(answers, org_a, make_member, client_for):
    from journeys.models import JourneyMap, Persona, Stage

    persona = Persona.objects.create(organization=org_a, name="Commuter")
    journey = JourneyMap.objects.create(organization=org_a, persona=persona, name="Purchase")
    purchase = Stage.objects.create(organization=org_a, journey_map=journey, name="Purchase", position=0)
    for link in answers["links"]:  # both touchpoints sit on one stage
        link.touchpoint.stage = purchase
        link.touchpoint.save()
    client = client_for(make_member(org_a, Role.VIEWER))
    rows = client.get("/").context["breakdowns"]["stage"]
    assert [r["name"] for r in rows] == ["Purchase · Purchase"]
    assert rows[0]["n"] == len(answers["scores"])
    assert _count(client, rows[0]["drill_url"]) == rows[0]["n"]
