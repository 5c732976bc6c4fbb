"""The journeys API: CRUD through the services, tenancy and roles."""

import pytest

from cxplatform.models import Role
from journeys import exchange, services
from journeys.models import ActivityEntry, JourneyMap, Opportunity, PainPoint, Persona, Stage, Touchpoint
from tests import factories
from tests.apierrors import error_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(manager, client_for):
    return client_for(manager)


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def test_build_a_map_through_the_api(api, manager, org_a):
    persona = post(api, "/api/v1/personas/", {
        "name": "Urban commuter", "segment_rule": {"attribute": "plan", "values": ["purchase"]},
        "goals": "Get to work fast",
    })
    assert persona.status_code == 201, persona.json()
    assert persona.json()["initials"] == "UC"
    created = post(api, "/api/v1/journey-maps/", {"persona": persona.json()["id"], "name": "Scooter purchase"})
    assert created.status_code == 201, created.json()
    map_id = created.json()["id"]
    detail = api.get(f"/api/v1/journey-maps/{map_id}/").json()
    assert [s["name"] for s in detail["stages"]] == ["Awareness", "Consideration", "Purchase", "Use", "Loyalty"]
    purchase = detail["stages"][2]["id"]

    stage = post(api, "/api/v1/stages/", {"journey_map": map_id, "name": "Research", "position": 1})
    assert stage.status_code == 201 and stage.json()["position"] == 1
    moved = patch(api, f"/api/v1/stages/{stage.json()['id']}/", {"position": 0, "name": "Search"})
    assert moved.status_code == 200 and moved.json() == {**stage.json(), "name": "Search", "position": 0}

    channel = factories.channel(org_a)
    tp = post(api, "/api/v1/touchpoints/", {"name": "Checkout", "stage": purchase, "channel": channel.pk,
                                            "customer_goal": "Pay fast", "department": "E-commerce",
                                            "expected_emotion": 1})
    assert tp.status_code == 201, tp.json()
    assert tp.json()["journey_map"] == map_id and tp.json()["position"] == 0
    second = post(api, "/api/v1/touchpoints/", {"name": "Delivery", "stage": purchase, "position": 0})
    assert second.status_code == 201
    assert list(Touchpoint.objects.filter(stage_id=purchase).order_by("position").values_list("name", flat=True)) \
        == ["Delivery", "Checkout"]
    use = detail["stages"][3]["id"]
    assert patch(api, f"/api/v1/touchpoints/{second.json()['id']}/", {"stage": use}).json()["stage"] == use
    assert patch(api, f"/api/v1/touchpoints/{tp.json()['id']}/", {"expected_emotion": -2}).json()[
        "expected_emotion"] == -2

    pain = post(api, "/api/v1/pain-points/", {"journey_map": map_id, "touchpoint": tp.json()["id"],
                                              "description": "Card declined", "severity": 4})
    assert pain.status_code == 201, pain.json()
    idea = post(api, "/api/v1/opportunities/", {"journey_map": map_id, "idea": "Bank link",
                                                "impact": "high", "pain_point": pain.json()["id"]})
    assert idea.status_code == 201, idea.json()
    assert patch(api, f"/api/v1/pain-points/{pain.json()['id']}/", {"status": "resolved"}).json()["status"] \
        == "resolved"

    detail = api.get(f"/api/v1/journey-maps/{map_id}/").json()
    assert [s["name"] for s in detail["stages"]][:2] == ["Search", "Awareness"]
    assert detail["pain_points"][0]["description"] == "Card declined"
    assert detail["opportunities"][0]["pain_point"] == pain.json()["id"]

    activity = api.get(f"/api/v1/journey-maps/{map_id}/activity/").json()
    assert activity[0]["actor"] == manager.username
    assert {"stage_added", "stage_moved", "touchpoint_added", "touchpoint_moved", "pain_point_added",
            "opportunity_added", "pain_point_updated"} <= {a["action"] for a in activity}


def test_bad_values_are_400_naming_the_field(api, journey_map):
    stage = journey_map.stages.first()
    r = post(api, "/api/v1/touchpoints/", {"name": "A", "stage": stage.pk, "expected_emotion": 3})
    assert r.status_code == 400 and "expected_emotion" in error_fields(r)
    post(api, "/api/v1/touchpoints/", {"name": "A", "stage": stage.pk})
    r = post(api, "/api/v1/touchpoints/", {"name": "A", "stage": stage.pk})
    assert r.status_code == 400 and "name" in error_fields(r)
    r = post(api, "/api/v1/pain-points/", {"journey_map": journey_map.pk, "description": "x", "severity": 7})
    assert r.status_code == 400 and "severity" in error_fields(r)
    r = post(api, "/api/v1/personas/", {"name": "Urban commuter"})
    assert r.status_code == 400 and "name" in error_fields(r)
    r = post(api, "/api/v1/personas/", {"name": "X", "segment_rule": {"attribute": "plan"}})
    assert r.status_code == 400 and "segment_rule" in error_fields(r)


def test_touchpoint_delete_archives_when_answered(api, journey_map, manager, org_a):
    stage = journey_map.stages.first()
    answered = services.add_touchpoint(stage, "Answered", manager)
    plain = services.add_touchpoint(stage, "Plain", manager)
    factories.response(org_a, factories.distribution(org_a, touchpoint=answered))

    r = api.delete(f"/api/v1/touchpoints/{answered.pk}/")
    assert r.status_code == 200 and r.json()["archived"] is True and r.json()["stage"] == stage.pk
    assert api.delete(f"/api/v1/touchpoints/{plain.pk}/").status_code == 204
    assert not Touchpoint.objects.filter(pk=plain.pk).exists()


def test_stage_delete_follows_the_rule(api, journey_map, manager, org_a):
    stages = list(journey_map.stages.all())
    answered = services.add_touchpoint(stages[2], "Answered", manager)
    factories.response(org_a, factories.distribution(org_a, touchpoint=answered))
    assert api.delete(f"/api/v1/stages/{stages[2].pk}/").status_code == 204
    answered.refresh_from_db()
    assert answered.archived and answered.stage == stages[1]


def test_persona_with_maps_cannot_be_deleted(api, journey_map):
    r = api.delete(f"/api/v1/personas/{journey_map.persona_id}/")
    assert r.status_code == 409
    assert Persona.objects.filter(pk=journey_map.persona_id).exists()


def test_export_and_import_through_the_api(api, journey_map, manager, org_a):
    services.add_touchpoint(journey_map.stages.first(), "Ad", manager, expected_emotion=1)
    data = api.get(f"/api/v1/journey-maps/{journey_map.pk}/export/").json()
    assert data == exchange.export_map(journey_map)
    r = post(api, "/api/v1/journey-maps/import/", data)
    assert r.status_code == 201, r.json()
    assert r.json()["stages"][0]["touchpoints"][0]["name"] == "Ad (2)"

    other = Persona.objects.create(organization=org_a, name="Other")
    r = post(api, f"/api/v1/journey-maps/import/?persona={other.pk}", {"template": "support-request"})
    assert r.status_code == 201 and r.json()["persona"] == other.pk
    assert {t["slug"] for t in api.get("/api/v1/journey-maps/templates/").json()} >= {"support-request"}


def test_bad_import_is_400_with_every_error_and_creates_nothing(api, journey_map):
    data = exchange.export_map(journey_map)
    data["name"] = ""
    data["stages"][0]["touchpoints"] = [{"name": "A", "expected_emotion": 9}]
    before = JourneyMap.objects.count(), Stage.objects.count(), Touchpoint.objects.count()
    r = post(api, "/api/v1/journey-maps/import/", data)
    assert r.status_code == 400
    assert len(error_fields(r)["errors"]) == 2
    assert (JourneyMap.objects.count(), Stage.objects.count(), Touchpoint.objects.count()) == before
    assert post(api, "/api/v1/journey-maps/import/", {"template": "nope"}).status_code == 400


def test_another_organizations_ids_are_404_or_refused(api, org_b, journey_map):
    theirs = factories.opportunity(org_b)
    pain, their_map = theirs.pain_point, theirs.journey_map
    tp, stage = pain.touchpoint, pain.touchpoint.stage
    for url in (f"/api/v1/journey-maps/{their_map.pk}/", f"/api/v1/journey-maps/{their_map.pk}/export/",
                f"/api/v1/stages/{stage.pk}/", f"/api/v1/touchpoints/{tp.pk}/", f"/api/v1/pain-points/{pain.pk}/",
                f"/api/v1/opportunities/{theirs.pk}/", f"/api/v1/personas/{their_map.persona_id}/"):
        assert api.get(url).status_code == 404, url
        assert api.delete(url).status_code in (404, 405), url
    # Pointing a new row of ours at their rows: "does not exist", as for a missing id.
    r = post(api, "/api/v1/stages/", {"journey_map": their_map.pk, "name": "X"})
    assert r.status_code == 400 and "journey_map" in error_fields(r)
    r = post(api, "/api/v1/touchpoints/", {"name": "X", "stage": stage.pk})
    assert r.status_code == 400 and "stage" in error_fields(r)
    r = post(api, "/api/v1/opportunities/", {"journey_map": journey_map.pk, "idea": "X", "pain_point": pain.pk})
    assert r.status_code == 400 and "pain_point" in error_fields(r)
    r = post(api, f"/api/v1/journey-maps/import/?persona={their_map.persona_id}", {"template": "support-request"})
    assert r.status_code == 404
    # Lists hold only our rows, even filtered by their ids.
    assert api.get(f"/api/v1/stages/?journey_map={their_map.pk}").json()["results"] == []
    ours = {row["id"] for row in api.get("/api/v1/journey-maps/").json()["results"]}
    assert ours == {journey_map.pk}
    assert stage.journey_map_id == their_map.pk and Stage.objects.filter(pk=stage.pk).exists()
    assert PainPoint.objects.filter(pk=pain.pk).exists() and Opportunity.objects.filter(pk=theirs.pk).exists()


def test_viewer_reads_but_cannot_write(org_a, make_member, client_for, journey_map):
    viewer = client_for(make_member(org_a, Role.VIEWER))
    agent = client_for(make_member(org_a, Role.AGENT))
    assert viewer.get(f"/api/v1/journey-maps/{journey_map.pk}/").status_code == 200
    assert viewer.get(f"/api/v1/journey-maps/{journey_map.pk}/export/").status_code == 200
    stage = journey_map.stages.first()
    for client in (viewer, agent):  # designing maps needs the DESIGN capability
        assert post(client, "/api/v1/stages/", {"journey_map": journey_map.pk, "name": "X"}).status_code == 403
        assert patch(client, f"/api/v1/stages/{stage.pk}/", {"name": "X"}).status_code == 403
        assert client.delete(f"/api/v1/stages/{stage.pk}/").status_code == 403
        assert post(client, "/api/v1/journey-maps/import/", {"template": "support-request"}).status_code == 403
    assert Stage.objects.get(pk=stage.pk).name == "Awareness"
    assert not ActivityEntry.objects.exclude(action="map_created").exists()
