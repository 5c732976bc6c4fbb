"""JSON export → import round trip, clear errors on bad input, and the template library."""

import copy
import json

import pytest

from journeys import exchange, services
from journeys.models import ActivityEntry, Channel, JourneyMap, Opportunity, PainPoint, Persona, Stage, Touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_map(journey_map, manager, org_a):
    stages = {s.name: s for s in journey_map.stages.all()}
    web = Channel.objects.create(organization=org_a, name="Website", kind=Channel.Kind.WEB)
    courier = Channel.objects.create(organization=org_a, name="Courier", kind=Channel.Kind.DELIVERY)
    page = services.add_touchpoint(stages["Consideration"], "Product page", manager, channel=web,
                                   customer_goal="Compare the range", department="E-commerce", expected_emotion=1,
                                   description="Models & <prices>")
    services.add_touchpoint(stages["Consideration"], "Test ride", manager, expected_emotion=2)
    delivery = services.add_touchpoint(stages["Purchase"], "Home delivery", manager, channel=courier,
                                       expected_emotion=-1, department="Logistics")
    late = services.add_pain_point(journey_map, "Late delivery", manager, severity=3, touchpoint=delivery)
    services.add_pain_point(journey_map, "Prices unclear", manager, severity=1, touchpoint=page,
                            status=PainPoint.Status.RESOLVED)
    services.add_opportunity(journey_map, "Delivery slots", manager, impact="high", pain_point=late)
    services.add_opportunity(journey_map, "Home test rides", manager, impact="low")
    return journey_map


def test_export_has_the_documented_shape(full_map):
    data = exchange.export_map(full_map)
    assert (data["format"], data["version"]) == ("cx-journey-map", 1)
    assert data["persona"]["segment_rule"] == {"attribute": "plan", "values": ["purchase"]}
    assert [s["name"] for s in data["stages"]] == ["Awareness", "Consideration", "Purchase", "Use", "Loyalty"]
    page = data["stages"][1]["touchpoints"][0]
    assert page == {"name": "Product page", "channel": {"name": "Website", "kind": "web"},
                    "customer_goal": "Compare the range", "department": "E-commerce", "expected_emotion": 1,
                    "description": "Models & <prices>"}
    assert data["pain_points"][0] == {"description": "Late delivery", "severity": 3, "status": "open",
                                      "touchpoint": "Home delivery"}
    assert data["opportunities"] == [{"idea": "Delivery slots", "impact": "high", "pain_point": 0},
                                     {"idea": "Home test rides", "impact": "low", "pain_point": None}]
    json.dumps(data)  # plain JSON, no ids, no dates


def test_round_trip_into_another_organization_is_equal(full_map, org_b, make_member):
    data = exchange.export_map(full_map)
    actor = make_member(org_b)
    copy_ = exchange.import_map(org_b, json.loads(json.dumps(data)), actor)
    assert copy_.organization == org_b and copy_.pk != full_map.pk
    assert exchange.export_map(copy_) == data
    assert Channel.objects.get(organization=org_b, name="Courier").kind == Channel.Kind.DELIVERY
    entry = copy_.activity.get()
    assert (entry.action, entry.actor) == (ActivityEntry.Action.MAP_IMPORTED, actor)


def test_import_into_the_same_organization_renames_touchpoints_and_reuses_channels(full_map, org_a, manager):
    data = exchange.export_map(full_map)
    channels = Channel.objects.for_org(org_a).count()
    copy_ = exchange.import_map(org_a, data, manager)
    again = exchange.import_map(org_a, data, manager)
    assert Channel.objects.for_org(org_a).count() == channels
    assert copy_.persona == full_map.persona  # matched by name
    names = [t["name"] for s in exchange.export_map(copy_)["stages"] for t in s["touchpoints"]]
    assert names == ["Product page (2)", "Test ride (2)", "Home delivery (2)"]
    assert exchange.export_map(again)["pain_points"][0]["touchpoint"] == "Home delivery (3)"
    # Apart from the names, the copy is the same map.
    exported = exchange.export_map(copy_)
    for stage in exported["stages"]:
        for tp in stage["touchpoints"]:
            tp["name"] = tp["name"].removesuffix(" (2)")
    for pain in exported["pain_points"]:
        pain["touchpoint"] = pain["touchpoint"].removesuffix(" (2)")
    assert exported == data


def test_import_onto_a_given_persona(full_map, org_a, manager):
    other = Persona.objects.create(organization=org_a, name="Fleet manager")
    data = exchange.export_map(full_map)
    del data["persona"]  # not needed when the persona is chosen
    assert exchange.import_map(org_a, data, manager, persona=other).persona == other


def _counts():
    return tuple(m.objects.count() for m in (Persona, JourneyMap, Stage, Touchpoint, Channel, PainPoint, Opportunity,
                                             ActivityEntry))


def _broken(data, change):
    data = copy.deepcopy(data)
    change(data)
    return data


BAD = [
    ([], "expected a JSON object"),
    ({"format": "something"}, '"format" must be "cx-journey-map"'),
    ({"format": "cx-journey-map", "version": 7}, "Unsupported version 7"),
]
BROKEN = [
    (lambda d: d.update(name=""), "name: is required."),
    (lambda d: d.update(stages=[]), "stages: must not be empty."),
    (lambda d: d.update(stages="x"), "stages: must be a list."),
    (lambda d: d["stages"][1]["touchpoints"][0].update(expected_emotion=5),
     "stages[1].touchpoints[0].expected_emotion: must be a whole number from -2 to 2."),
    (lambda d: d["stages"][1]["touchpoints"][0].update(channel={"name": "X", "kind": "pigeon"}),
     "stages[1].touchpoints[0].channel.kind: must be one of"),
    (lambda d: d["stages"][2]["touchpoints"].append({"name": "Test ride"}),
     'stages[2].touchpoints[1].name: the touchpoint name "Test ride" appears twice.'),
    (lambda d: d["pain_points"][0].update(severity=9), "pain_points[0].severity: must be a whole number from 1 to 4."),
    (lambda d: d["pain_points"][0].update(touchpoint="Nowhere"),
     'pain_points[0].touchpoint: names a touchpoint that is not on the map: "Nowhere".'),
    (lambda d: d["opportunities"][0].update(pain_point=5), "opportunities[0].pain_point: must be the index"),
    (lambda d: d["persona"].update(photo_url="javascript:alert(1)"), "persona.photo_url: must be an http(s) address."),
    (lambda d: d["persona"].update(segment_rule={"attribute": 1}), "persona.segment_rule: must be"),
    (lambda d: d.pop("persona"), "persona: must be an object."),
]


@pytest.mark.parametrize(("data", "message"), BAD)
def test_not_a_map_is_refused_with_one_clear_error(data, message, org_a, manager):
    before = _counts()
    with pytest.raises(exchange.MapImportError) as exc:
        exchange.import_map(org_a, data, manager)
    assert len(exc.value.errors) == 1 and message in exc.value.errors[0]
    assert _counts() == before


@pytest.mark.parametrize(("change", "message"), BROKEN)
def test_bad_content_says_where_and_creates_nothing(full_map, change, message, org_a, manager):
    data = _broken(exchange.export_map(full_map), change)
    before = _counts()
    with pytest.raises(exchange.MapImportError) as exc:
        exchange.import_map(org_a, data, manager)
    assert any(message in error for error in exc.value.errors), exc.value.errors
    assert _counts() == before


def test_every_error_is_reported_at_once(full_map, org_a, manager):
    data = exchange.export_map(full_map)
    data["name"] = ""
    data["pain_points"][0]["severity"] = 0
    data["opportunities"][1]["impact"] = "huge"
    with pytest.raises(exchange.MapImportError) as exc:
        exchange.import_map(org_a, data, manager)
    assert len(exc.value.errors) == 3


def test_errors_speak_the_language(org_a, manager):
    from django.utils import translation

    with translation.override("lv"), pytest.raises(exchange.MapImportError) as exc:
        exchange.import_map(org_a, {"format": "cx-journey-map", "version": 1, "name": "", "stages": []}, manager)
    assert "name" in exc.value.errors[0] and "is required" not in exc.value.errors[0]


@pytest.mark.parametrize("slug", ["ecommerce-purchase", "subscription-onboarding", "support-request"])
def test_template_library_imports(slug, org_a, manager):
    assert slug in {t["slug"] for t in exchange.library()}
    data = exchange.load_template(slug)
    assert exchange.validate(data) == []
    journey_map = exchange.import_template(org_a, slug, manager)
    exported = exchange.export_map(journey_map)
    assert exported == data  # a fresh organization: nothing renamed
    assert journey_map.stages.count() >= 4 and journey_map.pain_points.exists() and journey_map.opportunities.exists()


def test_an_unknown_template_is_an_error(org_a, manager):
    with pytest.raises(exchange.MapImportError):
        exchange.import_template(org_a, "../settings", manager)
