"""Editing a map in place through its pages: what each post saves, what it refuses, who may."""

import pytest

from cxplatform.models import Role
from journeys import services
from journeys.models import ActivityEntry, JourneyMap, Opportunity, PainPoint, Persona, Stage, Touchpoint
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def designer(manager, client_for):
    return client_for(manager)


def stage_names(journey_map):
    return list(journey_map.stages.order_by("position").values_list("name", flat=True))


def column(stage):
    return list(Touchpoint.objects.filter(stage=stage).order_by("position").values_list("name", flat=True))


def positions(stage):
    return list(Touchpoint.objects.filter(stage=stage).order_by("position").values_list("position", flat=True))


def stage(journey_map, name):
    return journey_map.stages.get(name=name)


def test_stage_arrows_and_drop_reorder_the_map_and_log_who_did_it(designer, journey_map, manager):
    purchase = stage(journey_map, "Purchase")
    response = designer.post(f"/journeys/stages/{purchase.pk}/move/", {"direction": "left"}, **HTMX)
    assert response.status_code == 200
    assert stage_names(journey_map) == ["Awareness", "Purchase", "Consideration", "Use", "Loyalty"]
    # Only the board comes back (no page around it), and the live figures are told to reload.
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="board-fragment"') and "<html" not in body
    assert response["HX-Trigger"] == '{"journey-map-changed": {}}'
    assert body.index("Purchase</span>") < body.index("Consideration</span>")
    # A drop gives the position among the other stages.
    designer.post(f"/journeys/stages/{purchase.pk}/move/", {"position": 4}, **HTMX)
    assert stage_names(journey_map) == ["Awareness", "Consideration", "Use", "Loyalty", "Purchase"]
    designer.post(f"/journeys/stages/{purchase.pk}/move/", {"direction": "right"}, **HTMX)  # already last
    assert stage_names(journey_map) == ["Awareness", "Consideration", "Use", "Loyalty", "Purchase"]
    assert list(journey_map.stages.order_by("position").values_list("position", flat=True)) == [0, 1, 2, 3, 4]
    moves = journey_map.activity.filter(action=ActivityEntry.Action.STAGE_MOVED)
    assert moves.count() == 2 and {m.actor for m in moves} == {manager}


def test_touchpoint_steps_and_a_drag_to_another_stage_keep_positions_dense(designer, journey_map, manager):
    consideration, purchase = stage(journey_map, "Consideration"), stage(journey_map, "Purchase")
    page_tp, ride, _chat = (services.add_touchpoint(consideration, n, manager) for n in ("Page", "Ride", "Chat"))
    checkout, delivery = (services.add_touchpoint(purchase, n, manager) for n in ("Checkout", "Delivery"))

    designer.post(f"/journeys/touchpoints/{ride.pk}/move/", {"direction": "up"}, **HTMX)
    assert column(consideration) == ["Ride", "Page", "Chat"]
    designer.post(f"/journeys/touchpoints/{ride.pk}/move/", {"direction": "down"}, **HTMX)
    designer.post(f"/journeys/touchpoints/{ride.pk}/move/", {"direction": "down"}, **HTMX)
    assert column(consideration) == ["Page", "Chat", "Ride"]
    # Right: to the end of the next stage.
    designer.post(f"/journeys/touchpoints/{page_tp.pk}/move/", {"direction": "right"}, **HTMX)
    assert column(consideration) == ["Chat", "Ride"] and column(purchase) == ["Checkout", "Delivery", "Page"]
    # A drop: Ride into Purchase, between Checkout and Delivery.
    response = designer.post(f"/journeys/touchpoints/{ride.pk}/move/", {"stage": purchase.pk, "position": 1}, **HTMX)
    assert response.status_code == 200
    assert column(purchase) == ["Checkout", "Ride", "Delivery", "Page"] and column(consideration) == ["Chat"]
    assert positions(purchase) == [0, 1, 2, 3] and positions(consideration) == [0]
    # Dropping within the same stage reorders it.
    designer.post(f"/journeys/touchpoints/{delivery.pk}/move/", {"stage": purchase.pk, "position": 0}, **HTMX)
    assert column(purchase) == ["Delivery", "Checkout", "Ride", "Page"]
    entry = journey_map.activity.filter(action=ActivityEntry.Action.TOUCHPOINT_MOVED, subject="Ride").first()
    assert entry.actor == manager and entry.details["new"] == {"stage": "Purchase", "position": 1}
    assert checkout.pk  # untouched, still there


def test_add_rename_and_edit_through_the_board(designer, journey_map, org_a):
    use = stage(journey_map, "Use")
    channel = factories.channel(org_a)
    response = designer.post(f"/journeys/maps/{journey_map.pk}/stages/add/", {"name": " Advocacy "}, **HTMX)
    assert response.status_code == 200 and stage_names(journey_map)[-1] == "Advocacy"
    designer.post(f"/journeys/stages/{use.pk}/rename/", {"name": "Ownership"}, **HTMX)
    assert "Ownership" in stage_names(journey_map) and "Use" not in stage_names(journey_map)

    designer.post(f"/journeys/stages/{use.pk}/touchpoints/add/", {
        "name": "App onboarding", "channel": channel.pk, "customer_goal": "Ride today", "department": "Product",
        "expected_emotion": "-1"}, **HTMX)
    tp = Touchpoint.objects.get(name="App onboarding")
    assert (tp.stage, tp.channel, tp.expected_emotion, tp.department) == (use, channel, -1, "Product")
    # A rename posts only the name: the other fields stay as they were.
    designer.post(f"/journeys/touchpoints/{tp.pk}/edit/", {"name": "First ride"}, **HTMX)
    tp.refresh_from_db()
    assert (tp.name, tp.channel, tp.expected_emotion, tp.customer_goal) == ("First ride", channel, -1, "Ride today")
    designer.post(f"/journeys/touchpoints/{tp.pk}/edit/", {"expected_emotion": "", "channel": ""}, **HTMX)
    tp.refresh_from_db()
    assert (tp.expected_emotion, tp.channel) == (None, None)
    actions = set(journey_map.activity.values_list("action", flat=True))
    assert {"stage_added", "stage_renamed", "touchpoint_added", "touchpoint_updated"} <= actions


def test_pain_points_and_opportunities_are_added_edited_and_deleted(designer, journey_map, manager):
    tp = services.add_touchpoint(stage(journey_map, "Purchase"), "Delivery", manager)
    designer.post(f"/journeys/maps/{journey_map.pk}/pain-points/add/",
                  {"description": "Courier <b>late</b>", "severity": "4", "touchpoint": tp.pk}, **HTMX)
    pain = PainPoint.objects.get(journey_map=journey_map)
    assert (pain.severity, pain.touchpoint, pain.status) == (4, tp, "open")
    page = designer.get(f"/journeys/maps/{journey_map.pk}/").content.decode()
    assert "Courier &lt;b&gt;late&lt;/b&gt;" in page and "Courier <b>late</b>" not in page

    designer.post(f"/journeys/pain-points/{pain.pk}/edit/", {"description": "Courier late", "severity": "3",
                                                            "status": "resolved", "touchpoint": ""}, **HTMX)
    pain.refresh_from_db()
    assert (pain.description, pain.severity, pain.status, pain.touchpoint) == ("Courier late", 3, "resolved", None)

    designer.post(f"/journeys/maps/{journey_map.pk}/opportunities/add/",
                  {"idea": "SMS tracking", "impact": "high", "pain_point": pain.pk}, **HTMX)
    idea = Opportunity.objects.get(journey_map=journey_map)
    assert (idea.impact, idea.pain_point) == ("high", pain)
    designer.post(f"/journeys/opportunities/{idea.pk}/edit/", {"idea": "Live tracking", "impact": "low",
                                                              "pain_point": ""}, **HTMX)
    idea.refresh_from_db()
    assert (idea.idea, idea.impact, idea.pain_point) == ("Live tracking", "low", None)
    designer.post(f"/journeys/opportunities/{idea.pk}/delete/", **HTMX)
    designer.post(f"/journeys/pain-points/{pain.pk}/delete/", **HTMX)
    assert not Opportunity.objects.exists() and not PainPoint.objects.exists()
    actions = list(journey_map.activity.filter(actor=manager).values_list("action", flat=True))
    for action in ("pain_point_added", "pain_point_updated", "pain_point_deleted", "opportunity_added",
                   "opportunity_updated", "opportunity_deleted"):
        assert action in actions


def test_a_touchpoint_with_answers_is_archived_not_deleted_and_the_page_says_so(designer, journey_map, manager,
                                                                                org_a):
    purchase = stage(journey_map, "Purchase")
    answered = services.add_touchpoint(purchase, "Checkout", manager)
    plain = services.add_touchpoint(purchase, "Brochure", manager)
    factories.response(org_a, factories.distribution(org_a, touchpoint=answered), score=3)

    response = designer.post(f"/journeys/touchpoints/{answered.pk}/delete/", **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="board-notice"' in body
    assert "“Checkout”: survey answers point here, so archived instead of deleted" in body
    answered.refresh_from_db()
    assert answered.archived and answered.stage == purchase
    assert journey_map.activity.filter(action="touchpoint_archived", subject="Checkout", actor=manager).exists()

    response = designer.post(f"/journeys/touchpoints/{plain.pk}/delete/", **HTMX)
    assert 'id="board-notice"' not in response.content.decode()
    assert not Touchpoint.objects.filter(pk=plain.pk).exists()
    assert column(purchase) == ["Checkout"] and positions(purchase) == [0]


def test_deleting_a_stage_archives_its_answered_touchpoints_into_the_previous_one(designer, journey_map, manager,
                                                                                  org_a):
    consideration, purchase = stage(journey_map, "Consideration"), stage(journey_map, "Purchase")
    services.add_touchpoint(consideration, "Product page", manager)
    answered = services.add_touchpoint(purchase, "Checkout", manager)
    gone = services.add_touchpoint(purchase, "Flyer", manager)
    factories.response(org_a, factories.distribution(org_a, touchpoint=answered))

    body = designer.post(f"/journeys/stages/{purchase.pk}/delete/", **HTMX).content.decode()
    assert "“Checkout”: survey answers point here, so archived instead of deleted. It stays on the map" in body
    assert stage_names(journey_map) == ["Awareness", "Consideration", "Use", "Loyalty"]
    assert column(consideration) == ["Product page", "Checkout"]
    assert not Touchpoint.objects.filter(pk=gone.pk).exists()


@pytest.mark.parametrize(("url", "data", "message"), [
    ("/journeys/maps/{map}/stages/add/", {"name": "   "}, "A name is required."),
    ("/journeys/stages/{stage}/rename/", {"name": ""}, "A name is required."),
    ("/journeys/stages/{stage}/touchpoints/add/", {"name": "Checkout"},
     "A touchpoint with this name already exists."),
    ("/journeys/touchpoints/{tp}/edit/", {"name": "Checkout"}, "A touchpoint with this name already exists."),
    ("/journeys/touchpoints/{tp}/move/", {"stage": "{foreign_stage}", "position": 0},
     "Stage: Choose a stage of this map."),
    ("/journeys/touchpoints/{tp}/move/", {}, "Say where to move it: a direction or a position."),
    ("/journeys/stages/{stage}/touchpoints/add/", {"name": "New", "channel": "{foreign_channel}"},
     "Channel: Choose one of your channels."),
    ("/journeys/maps/{map}/pain-points/add/", {"description": "Slow", "severity": "2", "touchpoint": "{foreign_tp}"},
     "Touchpoint: Choose a touchpoint of this map."),
    ("/journeys/maps/{map}/pain-points/add/", {"description": " ", "severity": "2"}, "A description is required."),
    ("/journeys/maps/{map}/pain-points/add/", {"description": "Slow", "severity": "9"}, "Severity: Select a valid"),
    ("/journeys/maps/{map}/opportunities/add/", {"idea": "", "impact": "high"}, "An idea is required."),
    ("/journeys/maps/{map}/opportunities/add/", {"idea": "x", "impact": "high", "pain_point": "{foreign_pain}"},
     "Pain point: Choose a pain point of this map."),
])
def test_bad_input_is_refused_with_its_reason_and_changes_nothing(designer, journey_map, manager, org_a, org_b,
                                                                  url, data, message):
    purchase = stage(journey_map, "Purchase")
    services.add_touchpoint(purchase, "Checkout", manager)
    tp = services.add_touchpoint(purchase, "Delivery", manager)
    other_map = factories.journey_map(org_a)  # the same organization, but another map
    ids = {"map": journey_map.pk, "stage": purchase.pk, "tp": tp.pk,
           "foreign_stage": factories.stage(org_a, other_map).pk, "foreign_channel": factories.channel(org_b).pk,
           "foreign_tp": factories.touchpoint_on_map(org_a).pk, "foreign_pain": factories.pain_point(org_b).pk}
    data = {k: str(v).format(**ids) for k, v in data.items()}
    before = snapshot(org_a)

    response = designer.post(url.format(**ids), data, **HTMX)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'role="alert" id="board-error">' in body and message in body
    assert snapshot(org_a) == before


def snapshot(org):
    return {model.__name__: sorted(map(repr, model.objects.filter(organization=org).values()))
            for model in (JourneyMap, Stage, Touchpoint, PainPoint, Opportunity, ActivityEntry)}


def test_refusals_speak_the_users_language(designer, journey_map):
    response = designer.post(f"/journeys/maps/{journey_map.pk}/stages/add/", {"name": ""},
                             HTTP_ACCEPT_LANGUAGE="ru", **HTMX)
    assert response.status_code == 422 and "Нужно название." in response.content.decode()
    tp = services.add_touchpoint(journey_map.stages.first(), "A", None)
    response = designer.post(f"/journeys/touchpoints/{tp.pk}/move/", {}, HTTP_ACCEPT_LANGUAGE="lv", **HTMX)
    assert "Norādiet, kurp to pārvietot: virzienu vai vietu." in response.content.decode()


def test_without_javascript_an_edit_redirects_back_and_a_refusal_shows_the_page(designer, journey_map):
    response = designer.post(f"/journeys/maps/{journey_map.pk}/stages/add/", {"name": "Advocacy"})
    assert response.status_code == 302 and response["Location"] == f"/journeys/maps/{journey_map.pk}/"
    response = designer.post(f"/journeys/maps/{journey_map.pk}/stages/add/", {"name": ""})
    assert response.status_code == 422
    body = response.content.decode()
    assert "<html" in body and "A name is required." in body and 'id="live-figures"' in body


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_members_who_may_not_design_see_no_controls_and_are_refused(role, journey_map, manager, org_a, make_member,
                                                                    client_for):
    tp = services.add_touchpoint(stage(journey_map, "Purchase"), "Checkout", manager)
    pain = services.add_pain_point(journey_map, "Slow", manager, touchpoint=tp)
    idea = services.add_opportunity(journey_map, "Faster", manager)
    reader = client_for(make_member(org_a, role))
    page = reader.get(f"/journeys/maps/{journey_map.pk}/").content.decode()
    assert "Checkout" in page and "Slow" in page
    assert 'draggable="true"' not in page and "/move/" not in page and "/delete/" not in page
    assert 'id="add-stage"' not in page
    s = stage(journey_map, "Purchase")
    before = snapshot(org_a)
    for url in (f"/journeys/maps/{journey_map.pk}/stages/add/", f"/journeys/stages/{s.pk}/rename/",
                f"/journeys/stages/{s.pk}/move/", f"/journeys/stages/{s.pk}/delete/",
                f"/journeys/stages/{s.pk}/touchpoints/add/", f"/journeys/touchpoints/{tp.pk}/edit/",
                f"/journeys/touchpoints/{tp.pk}/move/", f"/journeys/touchpoints/{tp.pk}/delete/",
                f"/journeys/maps/{journey_map.pk}/pain-points/add/", f"/journeys/pain-points/{pain.pk}/edit/",
                f"/journeys/pain-points/{pain.pk}/delete/", f"/journeys/maps/{journey_map.pk}/opportunities/add/",
                f"/journeys/opportunities/{idea.pk}/edit/", f"/journeys/opportunities/{idea.pk}/delete/",
                "/journeys/personas/new/", "/journeys/maps/new/"):
        assert reader.post(url, {"name": "changed", "direction": "left"}, **HTMX).status_code == 403, url
    assert snapshot(org_a) == before
    designer_page = client_for(manager).get(f"/journeys/maps/{journey_map.pk}/").content.decode()
    assert 'draggable="true"' in designer_page and 'id="add-stage"' in designer_page


def test_another_organizations_ids_are_404_like_missing_ones(journey_map, manager, org_b, make_member, client_for):
    tp = services.add_touchpoint(stage(journey_map, "Purchase"), "Checkout", manager)
    intruder = client_for(make_member(org_b, Role.CX_MANAGER))
    foreign = intruder.post(f"/journeys/touchpoints/{tp.pk}/move/", {"direction": "up"}, **HTMX)
    missing = intruder.post(f"/journeys/touchpoints/{tp.pk + 10_000}/move/", {"direction": "up"}, **HTMX)
    assert foreign.status_code == missing.status_code == 404 and foreign.content == missing.content
    s = stage(journey_map, "Purchase")
    assert intruder.post(f"/journeys/stages/{s.pk}/rename/", {"name": "Mine"}, **HTMX).status_code == 404
    assert stage(journey_map, "Purchase").name == "Purchase"


# ---------------------------------------------------------------------------------------------
# Personas and maps from the index page


def test_create_a_persona_and_a_map_with_the_default_stages(designer, manager, org_a):
    response = designer.post("/journeys/personas/new/", {"name": "Student rider", "goals": "Cheap and <safe>"})
    assert response.status_code == 302
    persona = Persona.objects.get(organization=org_a, name="Student rider")
    response = designer.post("/journeys/maps/new/", {"persona": persona.pk, "name": "First scooter"})
    journey_map = JourneyMap.objects.get(persona=persona)
    assert response["Location"] == f"/journeys/maps/{journey_map.pk}/"
    assert stage_names(journey_map) == ["Awareness", "Consideration", "Purchase", "Use", "Loyalty"]
    assert journey_map.activity.get().actor == manager
    page = designer.get("/journeys/").content.decode()
    assert "Student rider" in page and "Cheap and &lt;safe&gt;" in page


def test_create_a_map_from_a_library_template(designer, persona):
    response = designer.post("/journeys/maps/new/", {"persona": persona.pk, "template": "support-request",
                                                     "name": "Our support"})
    journey_map = JourneyMap.objects.get(name="Our support")
    assert response.status_code == 302 and journey_map.persona == persona
    assert journey_map.stages.count() >= 3 and Touchpoint.objects.filter(stage__journey_map=journey_map).exists()
    assert journey_map.activity.get().action == "map_imported"


@pytest.mark.parametrize(("url", "data", "message"), [
    ("/journeys/personas/new/", {"name": "Urban commuter"}, "A persona with this name already exists."),
    ("/journeys/personas/new/", {"name": "  "}, "A name is required."),
    ("/journeys/maps/new/", {"persona": "{foreign}", "name": "X"}, "Choose one of your personas."),
    ("/journeys/maps/new/", {"persona": "{mine}", "name": ""}, "A name is required."),
    ("/journeys/maps/new/", {"persona": "{mine}", "template": "nope"}, "Select a valid choice."),
])
def test_index_forms_refuse_bad_input(designer, persona, org_b, url, data, message):
    ids = {"mine": persona.pk, "foreign": factories.persona(org_b).pk}
    counts = (Persona.objects.count(), JourneyMap.objects.count())
    response = designer.post(url, {k: v.format(**ids) for k, v in data.items()})
    assert response.status_code == 400 and message in response.content.decode()
    assert (Persona.objects.count(), JourneyMap.objects.count()) == counts
