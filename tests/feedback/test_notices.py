"""The inbox tells its people as each chose per kind: an item given to them by a colleague or by a
rule (a call-back case too), and an item of theirs near or past its SLA — in the bell, by e-mail,
both or not at all; never someone of their own doing, never twice for one rule's assignment."""

import uuid
from datetime import UTC, datetime, time

import pytest
import time_machine
from django.core import mail

from cxplatform.models import Notification, NotificationPreference, Role
from feedback import loop, routing, services, sla
from feedback.models import CloseLoopRule, FeedbackItem, RoutingRule, SlaPolicy, Team
from surveys import services as survey_services
from tests import factories

pytestmark = pytest.mark.django_db


def _agent(org, make_member, email, **preferences):
    agent = make_member(org, Role.AGENT)
    agent.email = email
    agent.save()
    for kind, delivery in preferences.items():
        NotificationPreference.objects.create(user=agent, kind=kind, delivery=delivery)
    return agent


def _item(org, text="Где мой заказ?", **fields):
    item, _ = services.ingest(org, services.Voice(source="email", text=text, **fields))
    return item


def _told(user, kind):
    return list(Notification.objects.filter(user=user, kind=kind).values_list("in_bell", "mail_wanted"))


def test_a_rule_that_gives_an_item_tells_the_agent_once(org_a, make_member, django_capture_on_commit_callbacks):
    agent = _agent(org_a, make_member, "agent@example.com")
    team = Team.objects.create(organization=org_a, name="Support")
    team.members.add(agent)
    RoutingRule.objects.create(organization=org_a, name="Everything to support", team=team,
                               assign=RoutingRule.Assign.ROUND_ROBIN)
    item = _item(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        routing.route(item.pk)
    assert _told(agent, "item_assigned") == [(True, True)]  # bell and e-mail by default
    notice = Notification.objects.get(user=agent)
    assert notice.link == f"/inbox/items/{item.pk}/" and f"#{item.pk}" in notice.rendered("en")
    assert "Everything to support" in notice.rendered("en")
    assert [m.to for m in mail.outbox] == [["agent@example.com"]]
    FeedbackItem.objects.filter(pk=item.pk).update(routed_at=None)  # the rule runs again on this item
    with django_capture_on_commit_callbacks(execute=True):
        routing.route(item.pk)
    assert Notification.objects.filter(user=agent).count() == 1 and len(mail.outbox) == 1


def test_a_colleague_giving_an_item_tells_the_new_assignee_not_the_giver(org_a, make_member,
                                                                          django_capture_on_commit_callbacks):
    giver = _agent(org_a, make_member, "giver@example.com")
    taker = _agent(org_a, make_member, "taker@example.com", item_assigned="bell")
    item = _item(org_a)
    item.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        item = services.triage(item, giver, item.version, assignee=giver)  # takes it themselves: nobody told
    assert not Notification.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        item = services.triage(item, giver, item.version, assignee=taker)
    assert _told(taker, "item_assigned") == [(True, False)]  # bell only, as chosen
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        services.triage(item, giver, item.version, priority=FeedbackItem.Priority.HIGH)  # same assignee
    assert Notification.objects.filter(user=taker).count() == 1


def test_a_call_back_case_given_by_its_rule_says_so(org_a, make_member, django_capture_on_commit_callbacks):
    agent = _agent(org_a, make_member, "agent@example.com")
    team = Team.objects.create(organization=org_a, name="Call-backs")
    team.members.add(agent)
    CloseLoopRule.objects.create(organization=org_a, name="Call back detractors", band="unhappy", team=team,
                                 assign=RoutingRule.Assign.ROUND_ROBIN)
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    sub = survey_services.clean_submission(link.survey, {"score": 2, "comment": "Late"}, complete=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = survey_services.record_response(survey=link.survey, submission=sub, complete=True, language="en",
                                                   distribution=link, token=uuid.uuid4(),
                                                   customer=factories.customer(org_a))[0]
    loop.on_response(response.pk)  # a redelivered event: still one notice
    case = FeedbackItem.objects.get(response=response, kind=FeedbackItem.Kind.CASE)
    assert case.assignee == agent
    notice = Notification.objects.get(user=agent, kind="item_assigned")
    assert notice.rendered("en") == f"Call-back case #{case.pk} was given to you by the rule “Call back detractors”."
    assert "#" in notice.rendered("ru") and notice.rendered("ru") != notice.rendered("en")


def test_sla_notices_follow_each_persons_choice(org_a, make_member):
    SlaPolicy.objects.create(organization=org_a, priority=FeedbackItem.Priority.NORMAL, first_response_hours=4,
                             resolution_hours=16, day_start=time(9), day_end=time(18), time_zone="Europe/Riga",
                             business_hours=False, warn_before_minutes=30)
    agent = _agent(org_a, make_member, "agent@example.com", sla="bell")
    lead = _agent(org_a, make_member, "lead@example.com")
    quiet = _agent(org_a, make_member, "quiet@example.com", sla="none")
    team = Team.objects.create(organization=org_a, name="Support", lead=lead)
    with time_machine.travel(datetime(2026, 11, 27, 14, 0, tzinfo=UTC), tick=False):
        item = _item(org_a, "Не работает приложение")
    FeedbackItem.objects.filter(pk=item.pk).update(assignee=agent, team=team)
    with time_machine.travel(datetime(2026, 11, 27, 18, 5, tzinfo=UTC), tick=False):
        assert sla.check() == {"at_risk": 0, "breached": 1}
    # Both in the bell; the SLA check writes its own e-mail (with the item's text), only to those who
    # want one: the lead (by default), not the agent (bell only).
    assert _told(agent, "sla") == [(True, False)] and _told(lead, "sla") == [(True, False)]
    assert [m.to for m in mail.outbox] == [["lead@example.com"]]
    assert f"#{item.pk}" in Notification.objects.get(user=lead).rendered("en")

    # Someone who chose "nothing" for SLA notices hears nothing, bell or mail.
    Team.objects.filter(pk=team.pk).update(lead=quiet)
    with time_machine.travel(datetime(2026, 11, 27, 14, 0, tzinfo=UTC), tick=False):
        other = _item(org_a, "Где заказ?")
    FeedbackItem.objects.filter(pk=other.pk).update(assignee=None, team=team)
    mail.outbox.clear()
    with time_machine.travel(datetime(2026, 11, 27, 18, 5, tzinfo=UTC), tick=False):
        assert sla.check() == {"at_risk": 0, "breached": 1}
    assert _told(quiet, "sla") == [] and mail.outbox == []


def test_only_the_agent_the_last_assigning_rule_chose_is_told(org_a, make_member):
    first, last = _agent(org_a, make_member, "first@example.com"), _agent(org_a, make_member, "last@example.com")
    support, billing = (Team.objects.create(organization=org_a, name=name) for name in ("Support", "Billing"))
    support.members.add(first)
    billing.members.add(last)
    RoutingRule.objects.create(organization=org_a, name="Support", position=1, team=support,
                               assign=RoutingRule.Assign.ROUND_ROBIN)
    RoutingRule.objects.create(organization=org_a, name="Billing", position=2, team=billing,
                               assign=RoutingRule.Assign.ROUND_ROBIN)
    item = _item(org_a)
    routing.route(item.pk)
    assert FeedbackItem.objects.get(pk=item.pk).assignee == last
    assert _told(first, "item_assigned") == [] and len(_told(last, "item_assigned")) == 1


def test_a_bulk_assignment_is_one_notice_and_one_e_mail(org_a, make_member, django_capture_on_commit_callbacks):
    giver = _agent(org_a, make_member, "giver@example.com")
    taker = _agent(org_a, make_member, "taker@example.com")
    items = [_item(org_a, f"Вопрос {n}") for n in range(3)]
    for item in items:
        item.refresh_from_db()
    FeedbackItem.objects.filter(pk=items[0].pk).update(assignee=taker)  # already theirs: not "given"
    versions = {item.pk: FeedbackItem.objects.get(pk=item.pk).version for item in items}
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.bulk_triage(org_a, giver, versions, assignee=taker)
    assert sorted(outcome.updated) == sorted(versions)
    notice = Notification.objects.get(user=taker)
    assert notice.rendered("en") == f"{giver.username} gave you items #{items[1].pk}, #{items[2].pk}."
    assert notice.link == "/inbox/?view=mine"
    assert [m.to for m in mail.outbox] == [["taker@example.com"]]
