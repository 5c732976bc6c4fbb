"""Ordering, deletion rules and the activity history of journey maps."""

import pytest
from django.db import IntegrityError, transaction

from cxplatform.models import Customer
from journeys import services
from journeys.models import ActivityEntry, JourneyMap, PainPoint, Persona, Touchpoint
from tests import factories

pytestmark = pytest.mark.django_db


def stage_names(journey_map):
    return list(journey_map.stages.order_by("position").values_list("name", flat=True))


def positions(journey_map):
    return list(journey_map.stages.order_by("position").values_list("position", flat=True))


def column(stage):
    return list(Touchpoint.objects.filter(stage=stage).order_by("position").values_list("name", "position"))


def add(stage, *names, actor=None):
    return [services.add_touchpoint(stage, name, actor) for name in names]


def test_a_new_map_starts_from_the_five_classic_stages(journey_map, manager):
    assert stage_names(journey_map) == ["Awareness", "Consideration", "Purchase", "Use", "Loyalty"]
    assert positions(journey_map) == [0, 1, 2, 3, 4]
    entry = journey_map.activity.get()
    assert (entry.actor, entry.action, entry.subject) == (manager, ActivityEntry.Action.MAP_CREATED,
                                                          "Scooter purchase")


def test_default_stage_names_follow_the_language(persona, manager):
    from django.utils import translation

    with translation.override("ru"):
        journey_map = services.create_map(persona, "Карта", manager)
    assert stage_names(journey_map)[0] == "Осведомлённость"


def test_stages_add_rename_move_renumber_densely(journey_map, manager):
    services.add_stage(journey_map, "Advocacy", manager)
    services.add_stage(journey_map, "Research", manager, position=1)
    assert stage_names(journey_map) == ["Awareness", "Research", "Consideration", "Purchase", "Use", "Loyalty",
                                        "Advocacy"]
    loyalty = journey_map.stages.get(name="Loyalty")
    services.move_stage(loyalty, 0, manager)
    services.rename_stage(journey_map.stages.get(name="Use"), "Riding", manager)
    assert stage_names(journey_map) == ["Loyalty", "Awareness", "Research", "Consideration", "Purchase", "Riding",
                                        "Advocacy"]
    # Far past the end is the end; positions stay 0…n-1.
    services.move_stage(journey_map.stages.get(name="Awareness"), 99, manager)
    assert stage_names(journey_map)[-1] == "Awareness"
    assert positions(journey_map) == list(range(7))


def test_touchpoints_move_within_and_across_stages_densely(journey_map, manager):
    awareness, consideration = journey_map.stages.all()[:2]
    a, b, c = add(awareness, "Ad", "Blog", "Comparison site")
    d, = add(consideration, "Product page")
    assert column(awareness) == [("Ad", 0), ("Blog", 1), ("Comparison site", 2)]

    services.move_touchpoint(c, awareness, 0, manager)
    assert column(awareness) == [("Comparison site", 0), ("Ad", 1), ("Blog", 2)]

    services.move_touchpoint(a, consideration, 0, manager)
    assert column(awareness) == [("Comparison site", 0), ("Blog", 1)]
    assert column(consideration) == [("Ad", 0), ("Product page", 1)]

    services.move_touchpoint(b, consideration, None, manager)  # None: to the end
    assert column(awareness) == [("Comparison site", 0)]
    assert column(consideration) == [("Ad", 0), ("Product page", 1), ("Blog", 2)]

    services.move_touchpoint(d, None, None, manager)  # off the map
    assert column(consideration) == [("Ad", 0), ("Blog", 1)]
    assert Touchpoint.objects.get(pk=d.pk).stage is None


def test_an_existing_touchpoint_is_placed_on_a_stage(journey_map, manager, org_a):
    loose = factories.touchpoint(org_a)
    purchase = journey_map.stages.get(name="Purchase")
    add(purchase, "Checkout")
    services.move_touchpoint(loose, purchase, 0, manager)
    assert column(purchase) == [(loose.name, 0), ("Checkout", 1)]


def test_a_touchpoint_moves_to_another_map_and_both_maps_record_it(journey_map, persona, manager):
    other = services.create_map(persona, "Second map", manager)
    tp, = add(journey_map.stages.first(), "Ad")
    services.move_touchpoint(tp, other.stages.first(), 0, manager)
    assert journey_map.activity.filter(action=ActivityEntry.Action.TOUCHPOINT_MOVED).exists()
    assert other.activity.filter(action=ActivityEntry.Action.TOUCHPOINT_MOVED).exists()


def test_touchpoint_names_stay_unique_and_emotions_in_range(journey_map, manager):
    stage = journey_map.stages.first()
    add(stage, "Ad")
    with pytest.raises(services.JourneyError) as exc:
        add(stage, "Ad")
    assert exc.value.field == "name"
    with pytest.raises(services.JourneyError) as exc:
        services.add_touchpoint(stage, "Banner", manager, expected_emotion=3)
    assert exc.value.field == "expected_emotion"
    assert not Touchpoint.objects.filter(name="Banner").exists()


def test_the_database_refuses_an_emotion_out_of_range(org_a):
    tp = factories.touchpoint(org_a)
    tp.expected_emotion = -3
    with pytest.raises(IntegrityError), transaction.atomic():
        tp.save()


def test_the_database_refuses_a_severity_out_of_range(org_a):
    journey_map = factories.journey_map(org_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        PainPoint.objects.create(organization=org_a, journey_map=journey_map, description="x", severity=5)


def test_a_touchpoint_with_answers_is_archived_not_deleted(journey_map, manager, org_a):
    use = journey_map.stages.get(name="Use")
    answered, other, silent = add(use, "App onboarding", "Support call", "Forum")
    factories.response(org_a, factories.distribution(org_a, touchpoint=answered))

    assert services.has_answers(answered) and not services.has_answers(silent)
    assert services.delete_touchpoint(answered, manager) == "archived"
    assert services.delete_touchpoint(silent, manager) == "deleted"

    answered.refresh_from_db()
    assert answered.archived and answered.stage == use  # keeps its place on the map
    assert not Touchpoint.objects.filter(pk=silent.pk).exists()
    assert column(use) == [("App onboarding", 0), ("Support call", 1)]
    actions = list(journey_map.activity.values_list("action", "subject", "actor"))
    assert (ActivityEntry.Action.TOUCHPOINT_ARCHIVED, "App onboarding", manager.pk) in actions
    assert (ActivityEntry.Action.TOUCHPOINT_DELETED, "Forum", manager.pk) in actions


def test_protecting_relations_are_found_generically():
    found = {(rel.related_model._meta.label, rel.field.name) for rel in services.protecting_relations()}
    assert {("surveys.Response", "touchpoint"), ("surveys.Distribution", "touchpoint")} <= found


def test_deleting_a_stage_deletes_its_plain_touchpoints_and_keeps_answered_ones(journey_map, manager, org_a):
    consideration, purchase = journey_map.stages.get(name="Consideration"), journey_map.stages.get(name="Purchase")
    add(consideration, "Product page")
    answered, plain = add(purchase, "Checkout", "Gift wrap")
    factories.response(org_a, factories.distribution(org_a, touchpoint=answered))

    result = services.delete_stage(purchase, manager)

    assert result == {"deleted": ["Gift wrap"], "archived": ["Checkout"]}
    assert stage_names(journey_map) == ["Awareness", "Consideration", "Use", "Loyalty"]
    assert positions(journey_map) == [0, 1, 2, 3]
    answered.refresh_from_db()
    assert answered.archived and answered.stage == consideration
    assert column(consideration) == [("Product page", 0), ("Checkout", 1)]
    assert not Touchpoint.objects.filter(pk=plain.pk).exists()
    entry = journey_map.activity.filter(action=ActivityEntry.Action.STAGE_DELETED).get()
    assert entry.subject == "Purchase" and entry.details == result and entry.actor == manager


def test_deleting_the_first_stage_leaves_answered_touchpoints_off_the_map(journey_map, manager, org_a):
    awareness = journey_map.stages.get(name="Awareness")
    answered, = add(awareness, "Ad")
    factories.response(org_a, factories.distribution(org_a, touchpoint=answered))
    services.delete_stage(awareness, manager)
    answered.refresh_from_db()
    assert answered.archived and answered.stage is None


def test_deleting_a_map_keeps_answered_touchpoints(journey_map, manager, org_a):
    answered, plain = add(journey_map.stages.first(), "Ad", "Blog")
    factories.response(org_a, factories.distribution(org_a, touchpoint=answered))
    services.delete_map(journey_map, manager)
    assert not JourneyMap.objects.filter(pk=journey_map.pk).exists()
    assert Touchpoint.objects.get(pk=answered.pk).archived
    assert not Touchpoint.objects.filter(pk=plain.pk).exists()


def test_pain_points_and_opportunities(journey_map, manager, org_a):
    delivery, = add(journey_map.stages.get(name="Purchase"), "Home delivery")
    pain = services.add_pain_point(journey_map, "Late delivery", manager, severity=3, touchpoint=delivery)
    idea = services.add_opportunity(journey_map, "Delivery slots", manager, impact="high", pain_point=pain)
    services.update_pain_point(pain, manager, status=PainPoint.Status.RESOLVED)
    assert (pain.status, idea.pain_point) == (PainPoint.Status.RESOLVED, pain)
    with pytest.raises(services.JourneyError):
        services.add_pain_point(journey_map, "x", manager, severity=5)
    with pytest.raises(services.JourneyError):  # a touchpoint of another map
        services.add_pain_point(journey_map, "x", manager, touchpoint=factories.touchpoint_on_map(org_a))
    actions = set(journey_map.activity.values_list("action", flat=True))
    assert {ActivityEntry.Action.PAIN_POINT_ADDED, ActivityEntry.Action.PAIN_POINT_UPDATED,
            ActivityEntry.Action.OPPORTUNITY_ADDED} <= actions


def test_activity_records_who_changed_what(journey_map, manager, org_a, make_member):
    other = make_member(org_a)
    stage = journey_map.stages.get(name="Use")
    tp, = add(stage, "App onboarding", actor=manager)
    services.rename_stage(stage, "Riding", other)
    services.update_touchpoint(tp, other, customer_goal="Pair the phone", expected_emotion=-1)
    latest = list(journey_map.activity.all()[:2])
    assert [e.action for e in latest] == [ActivityEntry.Action.TOUCHPOINT_UPDATED, ActivityEntry.Action.STAGE_RENAMED]
    assert all(e.actor == other for e in latest)
    assert latest[0].details == {"changes": {"customer_goal": ["", "Pair the phone"], "expected_emotion": [None, -1]}}
    assert latest[1].details == {"old": "Use", "new": "Riding"}
    # Nothing changed, nothing recorded.
    count = journey_map.activity.count()
    services.rename_stage(stage, "Riding", other)
    assert journey_map.activity.count() == count


def test_another_organizations_rows_are_refused(journey_map, manager, org_b):
    stage = journey_map.stages.first()
    with pytest.raises(services.JourneyError):
        services.add_touchpoint(stage, "Ad", manager, channel=factories.channel(org_b))
    with pytest.raises(services.JourneyError):
        services.move_touchpoint(factories.touchpoint(org_b), stage, 0, manager)


def test_persona_initials_and_segment(org_a):
    persona = Persona(organization=org_a, name="fleet manager", segment_rule={"attribute": "plan",
                                                                            "values": ["corporate fleet"]})
    assert persona.initials == "FM"
    Customer.objects.create(organization=org_a, name="A", attributes={"plan": "corporate fleet"})
    Customer.objects.create(organization=org_a, name="B", attributes={"plan": "purchase"})
    assert list(Customer.objects.filter(persona.customer_filter()).values_list("name", flat=True)) == ["A"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_never_interleave(org_a, django_user_model):
    """Two people dragging cards at once: the map lock serializes the renumbering, so positions
    stay dense and no card is lost or doubled."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    user = django_user_model.objects.create_user(username="mover", password="x-pass-123456")
    persona = Persona.objects.create(organization=org_a, name="P")
    journey_map = services.create_map(persona, "Race", user, stages=["One", "Two"])
    one, two = journey_map.stages.all()
    cards = [services.add_touchpoint(one, f"Card {i}", user) for i in range(8)]
    errors = []

    def drag(worker):
        from django.db import connections

        try:
            for step in range(15):
                card = cards[(worker * 3 + step) % len(cards)]
                target = one if (step + worker) % 2 else two
                services.move_touchpoint(card, target, (step * 5 + worker) % 4, user)
        except Exception as exc:  # noqa: BLE001 — reported below, a thread must not die silently
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drag, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for stage in (one, two):
        assert [p for _n, p in column(stage)] == list(range(len(column(stage))))
    assert len(column(one)) + len(column(two)) == len(cards)
