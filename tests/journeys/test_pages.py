"""The journeys pages as a reader sees them, and the demo's personas and maps."""

import json

import pytest

from cxplatform.models import Role
from journeys import exchange, services
from journeys.models import ActivityEntry, JourneyMap, PainPoint, Persona, Touchpoint
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(org_a, make_member, client_for):
    return client_for(make_member(org_a, Role.VIEWER))


def test_index_lists_personas_and_their_maps(viewer, journey_map, org_b):
    factories.journey_map(org_b)
    page = viewer.get("/journeys/").content.decode()
    assert "Urban commuter" in page and "Scooter purchase" in page and "UC" in page
    assert f"/journeys/maps/{journey_map.pk}/" in page
    assert "Persona " not in page  # the other organization's factory persona
    assert "support-request" in page  # the template library


def test_map_page_shows_stages_touchpoints_pain_points_and_escapes_text(viewer, journey_map, manager, org_a):
    stage = journey_map.stages.get(name="Purchase")
    tp = services.add_touchpoint(stage, "<script>alert(1)</script>", manager, customer_goal="Pay <b>fast</b>",
                                 expected_emotion=-1, channel=factories.channel(org_a))
    services.add_pain_point(journey_map, "Card <i>declined</i>", manager, severity=4, touchpoint=tp)
    services.add_opportunity(journey_map, "Bank & wallet", manager, impact="high")
    page = viewer.get(f"/journeys/maps/{journey_map.pk}/").content.decode()
    for stage_name in ("Awareness", "Consideration", "Purchase", "Use", "Loyalty"):
        assert f'<span class="stage-name">{stage_name}</span>' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Pay &lt;b&gt;fast&lt;/b&gt;" in page and "Card &lt;i&gt;declined&lt;/i&gt;" in page
    assert "-1 (Negative)" in page and "Bank &amp; wallet" in page
    assert "Critical" in page


def test_export_download(viewer, journey_map):
    response = viewer.get(f"/journeys/maps/{journey_map.pk}/export.json")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="scooter-purchase.json"'
    assert json.loads(response.content) == exchange.export_map(journey_map)


def test_pages_refuse_writes_and_other_organizations(client_for, make_member, org_b, journey_map, manager):
    intruder = client_for(make_member(org_b))
    assert intruder.get(f"/journeys/maps/{journey_map.pk}/").status_code == 404
    assert intruder.get(f"/journeys/maps/{journey_map.pk}/export.json").status_code == 404
    owner = client_for(manager)
    assert owner.post(f"/journeys/maps/{journey_map.pk}/").status_code == 405


def test_touchpoint_pages_still_work(viewer, journey_map, manager):
    tp = services.add_touchpoint(journey_map.stages.first(), "Instagram ad", manager, department="Marketing")
    assert "Instagram ad" in viewer.get("/journeys/touchpoints/").content.decode()
    page = viewer.get(f"/journeys/touchpoints/{tp.pk}/").content.decode()
    assert "Marketing" in page and "Scooter purchase" in page


def test_demo_has_two_personas_with_a_map_each_and_loads_twice():
    from cxplatform.demo import DEMO_SLUG, load_demo
    from cxplatform.models import Organization

    load_demo()
    org = Organization.objects.get(slug=DEMO_SLUG)
    counts = [m.objects.for_org(org).count() for m in (Persona, JourneyMap, Touchpoint, PainPoint, ActivityEntry)]
    load_demo()
    assert [m.objects.for_org(org).count() for m in (Persona, JourneyMap, Touchpoint, PainPoint,
                                                        ActivityEntry)] == counts
    commuter = Persona.objects.get(organization=org, name="Urban commuter")
    fleet = Persona.objects.get(organization=org, name="Fleet manager")
    assert fleet.segment_rule == {"attribute": "plan", "values": ["corporate fleet"]}
    scooter = commuter.maps.get()
    board = {s["name"]: [t["name"] for t in s["touchpoints"]] for s in exchange.export_map(scooter)["stages"]}
    assert board["Consideration"] == ["Product page", "Test ride"]
    assert board["Purchase"] == ["Online checkout", "Home delivery"]
    assert "App onboarding" in board["Use"] and "Service repair" in board["Use"] + board["Loyalty"]
    assert {p.touchpoint.name for p in scooter.pain_points.all()} == {"Home delivery", "App onboarding"}
    assert scooter.opportunities.count() >= 2
    fleet_map = fleet.maps.get()
    names = set(Touchpoint.objects.filter(stage__journey_map=fleet_map).values_list("name", flat=True))
    assert names == {"Fleet quote", "Fleet handover", "Fleet service contract"}
    # The demo's touchpoints still carry their survey answers.
    from surveys.models import Response

    assert Response.objects.filter(touchpoint__stage__journey_map=scooter).exists()
    manager = org.memberships.get(role=Role.CX_MANAGER).user
    assert scooter.activity.filter(actor=manager).exists()
