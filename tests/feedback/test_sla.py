"""SLA due times in business and calendar hours, and the check that flags items about to
breach and breached — notifying the assignee and escalating to the team lead once — with time
frozen."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail

from cxplatform.models import Role
from feedback import services, sla
from feedback.models import CloseLoopRule, FeedbackItem, SlaPolicy, Team

pytestmark = pytest.mark.django_db

# Friday 27 November 2026, 16:00 in Riga (UTC+2) = 14:00 UTC.
FRIDAY_4PM_RIGA = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def _policy(org, **fields):
    fields.setdefault("priority", FeedbackItem.Priority.NORMAL)
    fields.setdefault("first_response_hours", 4)
    fields.setdefault("resolution_hours", 16)
    return SlaPolicy.objects.create(organization=org, day_start=time(9), day_end=time(18), time_zone="Europe/Riga",
                                    **fields)


def test_business_hours_skip_the_night_and_the_weekend(org_a):
    policy = _policy(org_a)
    # 2 h left on Friday (16–18), 2 h on Monday from 9:00 → Monday 11:00 Riga = 09:00 UTC.
    assert sla.add_business_hours(FRIDAY_4PM_RIGA, 4, policy) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    # Arriving on Saturday starts the clock on Monday at 9:00.
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert sla.add_business_hours(saturday, 1, policy) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    # 16 h: Friday 2 h + Monday 9 h + Tuesday 5 h → Tuesday 14:00 Riga = 12:00 UTC.
    assert sla.add_business_hours(FRIDAY_4PM_RIGA, 16, policy) == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_calendar_hours_count_every_hour(org_a):
    _policy(org_a, business_hours=False)
    item, _ = services.ingest(org_a, services.Voice(source="email", text="x", received_at=FRIDAY_4PM_RIGA))
    item.refresh_from_db()
    assert item.first_response_due == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    assert item.resolution_due == datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def test_a_new_priority_sets_new_due_times(org_a, make_member):
    _policy(org_a, business_hours=False)
    _policy(org_a, priority=FeedbackItem.Priority.URGENT, business_hours=False, first_response_hours=1,
            resolution_hours=2)
    item, _ = services.ingest(org_a, services.Voice(source="email", text="x", received_at=FRIDAY_4PM_RIGA))
    item.refresh_from_db()
    services.triage(item, make_member(org_a, Role.AGENT), item.version, priority=FeedbackItem.Priority.URGENT)
    item.refresh_from_db()
    assert item.first_response_due == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def test_the_check_warns_then_escalates_once(org_a, make_member):
    _policy(org_a, business_hours=False, warn_before_minutes=30)
    agent, lead = make_member(org_a, Role.AGENT), make_member(org_a, Role.CX_MANAGER)
    agent.email, lead.email = "agent@example.com", "lead@example.com"
    agent.save(), lead.save()
    team = Team.objects.create(organization=org_a, name="Support", lead=lead)
    with time_machine.travel(FRIDAY_4PM_RIGA, tick=False):
        item, _ = services.ingest(org_a, services.Voice(source="email", text="Не работает приложение"))
    FeedbackItem.objects.filter(pk=item.pk).update(assignee=agent, team=team)

    with time_machine.travel(datetime(2026, 11, 27, 17, 0, tzinfo=UTC), tick=False):  # 1 h before due
        assert sla.check() == {"at_risk": 0, "breached": 0}
    with time_machine.travel(datetime(2026, 11, 27, 17, 40, tzinfo=UTC), tick=False):  # 20 min before
        assert sla.check() == {"at_risk": 1, "breached": 0}
        assert sla.check() == {"at_risk": 0, "breached": 0}  # once
    assert [m.to for m in mail.outbox] == [["agent@example.com"]]
    with time_machine.travel(datetime(2026, 11, 27, 18, 5, tzinfo=UTC), tick=False):
        assert sla.check() == {"at_risk": 0, "breached": 1}
        assert sla.check() == {"at_risk": 0, "breached": 0}
    assert mail.outbox[-1].to == ["agent@example.com", "lead@example.com"]  # escalated to the lead
    assert f"#{item.pk}" in mail.outbox[-1].subject
    assert FeedbackItem.objects.get(pk=item.pk).sla_state == "breached"
    assert list(item.events.filter(action__startswith="sla_").values_list("action", flat=True)) == [
        "sla_at_risk", "sla_breached"]


def test_a_resolved_item_is_never_flagged(org_a, make_member):
    _policy(org_a, business_hours=False)
    with time_machine.travel(FRIDAY_4PM_RIGA, tick=False):
        item, _ = services.ingest(org_a, services.Voice(source="email", text="x"))
        item.refresh_from_db()
        services.triage(item, make_member(org_a, Role.AGENT), item.version, status="resolved")
    with time_machine.travel(datetime(2026, 12, 5, tzinfo=UTC), tick=False):
        assert sla.check() == {"at_risk": 0, "breached": 0}
    item.refresh_from_db()
    assert item.resolved_at == FRIDAY_4PM_RIGA and item.first_responded_at == FRIDAY_4PM_RIGA


def test_the_escalation_reaches_each_person_in_their_own_language(org_a, make_member):
    from cxplatform.models import PersonalSettings

    org_a.default_language = "lv"
    org_a.save()
    _policy(org_a, business_hours=False, warn_before_minutes=30)
    agent, lead = make_member(org_a, Role.AGENT), make_member(org_a, Role.CX_MANAGER)
    agent.email, lead.email = "agent@example.com", "lead@example.com"
    agent.save(), lead.save()
    PersonalSettings.objects.create(user=lead, language="en")  # the agent reads the organization's Latvian
    team = Team.objects.create(organization=org_a, name="Support", lead=lead)
    with time_machine.travel(FRIDAY_4PM_RIGA, tick=False):
        item, _ = services.ingest(org_a, services.Voice(source="email", text="Lietotne nedarbojas"))
    FeedbackItem.objects.filter(pk=item.pk).update(assignee=agent, team=team)
    with time_machine.travel(datetime(2026, 11, 27, 18, 5, tzinfo=UTC), tick=False):
        assert sla.check() == {"at_risk": 0, "breached": 1}
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects["lead@example.com"] == f"Breached: item #{item.pk} is past its SLA"
    assert subjects["agent@example.com"] != subjects["lead@example.com"] and f"#{item.pk}" in subjects[
        "agent@example.com"]


def test_a_reopened_call_back_case_keeps_its_rules_clock(org_a):
    """A closed-loop case's clock is its rule's when the customer's reply reopens it too: the
    policy of its priority (business hours here) does not apply."""
    _policy(org_a, priority=FeedbackItem.Priority.HIGH)
    rule = CloseLoopRule.objects.create(organization=org_a, name="Call back", band="unhappy", close_within_hours=120)
    case = FeedbackItem.objects.create(organization=org_a, source="survey", kind=FeedbackItem.Kind.CASE,
                                       loop_rule=rule, priority=FeedbackItem.Priority.HIGH, text="Late",
                                       received_at=FRIDAY_4PM_RIGA)
    reopened = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)  # a Sunday: calendar hours, as its first clock
    sla.restart_resolution(case, reopened)
    case.refresh_from_db()
    assert case.resolution_due == reopened + timedelta(hours=120)
    comment = FeedbackItem.objects.create(organization=org_a, source="email", priority=FeedbackItem.Priority.HIGH,
                                          text="Late", received_at=FRIDAY_4PM_RIGA)
    sla.restart_resolution(comment, reopened)  # any other item: its priority's policy, in business hours
    comment.refresh_from_db()
    assert comment.resolution_due == sla.add_business_hours(reopened, 16, SlaPolicy.objects.get(
        organization=org_a, priority=FeedbackItem.Priority.HIGH))
