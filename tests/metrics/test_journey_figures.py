"""Live figures on a journey map: each touchpoint's scores with n, margin and threshold colour,
and the measured emotion beside the designed one."""

import pytest

from cxplatform.models import Role
from journeys.models import JourneyMap, Persona, Stage
from metrics import definitions
from metrics.journey_figures import measured_emotion, tone
from metrics.services import reconcile_recent
from tests import factories

pytestmark = pytest.mark.django_db


def test_measured_emotion_blends_scores_and_comment_sentiment():
    nps_minus_50 = {"nps": {"value": -50.0}}
    assert measured_emotion(nps_minus_50, definitions.net_sentiment(0, 0, 0)) == -1.0  # −50 → 0.25 → −1
    assert measured_emotion(nps_minus_50, definitions.net_sentiment(0, 0, 10)) == -1.5  # with −100 sentiment → −2
    assert measured_emotion({}, definitions.net_sentiment(0, 0, 0)) is None
    assert measured_emotion({"csat": {"value": 100.0}, "ces": {"value": 7.0}}, definitions.net_sentiment(1, 0, 0)) == 2


def test_thresholds_colour_the_figures():
    assert [tone("nps", v) for v in (-5, 10, 45)] == ["bad", "warn", "good"]
    assert tone("csat", 85) == "good" and tone("ces", 3.2) == "bad" and tone("nps", None) == ""


def test_map_page_loads_live_figures_of_its_touchpoints(org_a, org_b, make_member, client_for):
    persona = Persona.objects.create(organization=org_a, name="Commuter")
    journey = JourneyMap.objects.create(organization=org_a, persona=persona, name="Scooter purchase")
    stage = Stage.objects.create(organization=org_a, journey_map=journey, name="Purchase", position=0)
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    link.touchpoint.stage, link.touchpoint.expected_emotion = stage, 1
    link.touchpoint.save()
    for score in (0, 2, 3, 9):
        factories.response(org_a, link, score=score, comment="ужасно" if score < 5 else "")
    factories.response(org_a, factories.distribution(org_a), score=10)  # a touchpoint off the map
    reconcile_recent(days=2)

    client = client_for(make_member(org_a, Role.VIEWER))
    page = client.get(f"/journeys/maps/{journey.pk}/").content.decode()
    assert f'hx-get="/metrics/journey-maps/{journey.pk}/figures/' in page
    fragment = client.get(f"/metrics/journey-maps/{journey.pk}/figures/")
    lane = fragment.context["touchpoints"]
    assert [e["touchpoint"].pk for e in lane] == [link.touchpoint_id]
    nps = lane[0]["figures"]["nps"]
    assert nps["value"] == -50.0 and nps["n"] == 4 and nps["small_sample"] and nps["tone"] == "bad"
    assert lane[0]["designed"] == 1 and lane[0]["measured"] < 0  # the gap the map should show
    body = fragment.content.decode()
    assert 'id="chart-emotion"' in body and "small sample" in body

    foreign = client_for(make_member(org_b, Role.VIEWER)).get(f"/metrics/journey-maps/{journey.pk}/figures/")
    assert foreign.status_code == 404
