"""Routing rules, run in order by the worker as items arrive: keywords in any word form,
rating, sentiment; round robin is fair; each applied rule is logged; a redelivered event does
not route twice."""

import pytest

from cxplatform.models import Role
from feedback import routing, services
from feedback.models import FeedbackItem, RoutingRule, Tag, Team

pytestmark = pytest.mark.django_db


def _item(org, text, **fields):
    item, _ = services.ingest(org, services.Voice(source=fields.pop("source", "email"), text=text, **fields))
    return item


@pytest.mark.parametrize(("keywords", "text", "hit"), [
    ("задержка", "Доставка пришла с задержкой в три дня", True),  # instrumental case
    ("курьер опоздать", "Курьеры опоздали опять", True),  # both words, any form
    ("возврат", "Самокат отличный", False),
    ("refund", "Where are my refunds?", True),
    ("kurjers", "Kurjers kavēja", True),
    ("", "anything", True),
])
def test_keywords_match_every_word_form(keywords, text, hit):
    assert routing.keyword_match(keywords, text) is hit


def test_rules_run_in_order_and_are_logged(org_a, django_capture_on_commit_callbacks):
    team = Team.objects.create(organization=org_a, name="Logistics")
    services.ensure_default_tags(org_a)
    complaint = Tag.objects.get(organization=org_a, name="complaint")
    late = RoutingRule.objects.create(organization=org_a, name="Late delivery", position=1, keywords="задержка",
                                      set_priority=FeedbackItem.Priority.HIGH, team=team)
    late.add_tags.add(complaint)
    angry = RoutingRule.objects.create(organization=org_a, name="Angry low rating", position=2, rating_max=3,
                                       sentiment=-1, set_priority=FeedbackItem.Priority.URGENT, stop=True)
    RoutingRule.objects.create(organization=org_a, name="Never reached", position=3, set_priority=4)
    with django_capture_on_commit_callbacks(execute=True):
        item = _item(org_a, "Ужасно! Доставка с задержкой на неделю", rating=1)
    item.refresh_from_db()
    assert item.team == team and list(item.tags.all()) == [complaint]
    assert item.priority == FeedbackItem.Priority.URGENT  # the later rule overrides, then stops the rest
    logged = [e.details["rule"] for e in item.events.filter(action="routed")]
    assert logged == [late.name, angry.name]
    assert routing.route(item.pk) == []  # a redelivered event does nothing
    assert item.events.filter(action="routed").count() == 2


def test_a_rating_outside_the_rule_or_another_sentiment_does_not_match(org_a):
    RoutingRule.objects.create(organization=org_a, name="Detractors", rating_max=6, set_priority=1)
    happy = _item(org_a, "Great service, thank you", rating=10)
    routing.route(happy.pk)
    happy.refresh_from_db()
    assert happy.priority == FeedbackItem.Priority.NORMAL and not happy.events.filter(action="routed").exists()


def test_round_robin_is_fair_and_least_open_balances(org_a, make_member):
    agents = [make_member(org_a, Role.AGENT) for _ in range(3)]
    team = Team.objects.create(organization=org_a, name="Support")
    team.members.add(*agents)
    RoutingRule.objects.create(organization=org_a, name="Everything to support", team=team,
                               assign=RoutingRule.Assign.ROUND_ROBIN)
    items = [_item(org_a, f"Question {i}") for i in range(9)]
    for item in items:
        routing.route(item.pk)
    counts = {a.pk: FeedbackItem.objects.filter(assignee=a).count() for a in agents}
    assert sorted(counts.values()) == [3, 3, 3]
    order = [FeedbackItem.objects.get(pk=i.pk).assignee_id for i in items[:3]]
    assert len(set(order)) == 3  # in turn, not twice the same

    RoutingRule.objects.all().update(assign=RoutingRule.Assign.LEAST_OPEN)
    FeedbackItem.objects.filter(assignee=agents[0]).update(status="resolved")  # agent 0 has nothing open
    newcomer = _item(org_a, "One more")
    routing.route(newcomer.pk)
    assert FeedbackItem.objects.get(pk=newcomer.pk).assignee == agents[0]


def test_rules_of_another_organization_never_apply(org_a, org_b):
    RoutingRule.objects.create(organization=org_b, name="Theirs", set_priority=1)
    item = _item(org_a, "Hello")
    routing.route(item.pk)
    assert FeedbackItem.objects.get(pk=item.pk).priority == FeedbackItem.Priority.NORMAL
