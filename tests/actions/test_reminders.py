"""Daily reminders, with time frozen: owners hear of actions due within three days and of overdue
ones, in the app and by e-mail, once per action and kind a day — never for done or dropped
actions, and never with the e-mail sent inside a database transaction."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection

from actions import reminders, tasks
from actions.models import ActionItem, ReminderDelivery
from cxplatform.models import Notification
from tests import factories

MORNING = datetime(2027, 3, 10, 7, 0, tzinfo=UTC)
TODAY = MORNING.date()
Status = ActionItem.Status


@pytest.fixture
def owner(org_a, make_member):
    user = make_member(org_a)
    user.email = "owner@alpha.example"
    user.save()
    return user


def action(org, owner, due: date, status=Status.PLANNED, title=None):
    return factories.action_item(org, owner=owner, due_date=due, status=status, title=title or f"Due {due}")


@pytest.mark.django_db
def test_due_soon_and_overdue_actions_are_reminded_in_the_app_and_by_email(org_a, owner):
    soon = action(org_a, owner, TODAY + timedelta(days=3), title="Courier SMS")
    late = action(org_a, owner, TODAY - timedelta(days=1), Status.IN_PROGRESS, title="Weekly review")
    action(org_a, owner, TODAY + timedelta(days=4))  # not yet
    action(org_a, owner, TODAY - timedelta(days=5), Status.DONE)
    action(org_a, owner, TODAY - timedelta(days=5), Status.DROPPED)
    factories.action_item(org_a, owner=None, goal=None, due_date=TODAY)  # nobody to remind

    with time_machine.travel(MORNING, tick=False):
        assert tasks.send_action_reminders() == 2  # eager in tests: each reminder's task ran too

    kinds = dict(ReminderDelivery.objects.values_list("action_item__title", "kind"))
    assert kinds == {"Courier SMS": "due_soon", "Weekly review": "overdue"}
    assert sorted(m.subject for m in mail.outbox) == [
        "Due soon: “Courier SMS” is due March 13, 2027", "Overdue: “Weekly review” was due March 9, 2027"]
    assert all(m.to == ["owner@alpha.example"] for m in mail.outbox)
    overdue_mail = next(m for m in mail.outbox if m.subject.startswith("Overdue"))
    assert f"{settings.SITE_URL}/actions/items/{late.pk}/" in overdue_mail.body
    assert late.goal.title in overdue_mail.body
    notices = Notification.objects.filter(user=owner, organization=org_a)
    assert {n.link for n in notices} == {f"/actions/items/{soon.pk}/", f"/actions/items/{late.pk}/"}


@pytest.mark.django_db
def test_each_reminder_goes_once_a_day_however_often_the_beat_runs(org_a, owner):
    late = action(org_a, owner, TODAY - timedelta(days=1))
    with time_machine.travel(MORNING, tick=False):
        tasks.send_action_reminders()
        assert tasks.send_action_reminders() == 0  # nothing left due today
        assert reminders.send(late.pk, "overdue", TODAY) is False  # a duplicated task sends nothing
    assert len(mail.outbox) == 1 and Notification.objects.count() == 1
    with time_machine.travel(MORNING + timedelta(days=1), tick=False):  # still overdue the next day
        assert tasks.send_action_reminders() == 1
    assert len(mail.outbox) == 2 and ReminderDelivery.objects.count() == 2


@pytest.mark.django_db
def test_an_action_done_since_the_beat_listed_it_is_not_reminded(org_a, owner):
    late = action(org_a, owner, TODAY - timedelta(days=1))
    ActionItem.objects.filter(pk=late.pk).update(status=Status.DONE)
    assert reminders.send(late.pk, "overdue", TODAY) is False
    assert not mail.outbox and not ReminderDelivery.objects.exists() and not Notification.objects.exists()


@pytest.mark.django_db
def test_a_failed_email_is_sent_on_retry_and_the_app_notice_is_not_doubled(org_a, owner):
    soon = action(org_a, owner, TODAY + timedelta(days=1))
    down = mock.patch("actions.reminders.send_mail", side_effect=OSError("smtp down"))
    with down, pytest.raises(OSError):
        reminders.send(soon.pk, "due_soon", TODAY)
    claim = ReminderDelivery.objects.get()
    assert claim.mailed_at is None and Notification.objects.count() == 1
    assert reminders.send(soon.pk, "due_soon", TODAY) is True  # the retry
    assert len(mail.outbox) == 1 and Notification.objects.count() == 1
    assert reminders.send(soon.pk, "due_soon", TODAY) is False


@pytest.mark.django_db
def test_an_owner_without_an_email_address_is_reminded_in_the_app(org_a, owner):
    owner.email = ""
    owner.save()
    soon = action(org_a, owner, TODAY)
    assert reminders.send(soon.pk, "due_soon", TODAY) is True
    assert not mail.outbox and Notification.objects.get().user == owner


@pytest.mark.django_db(transaction=True)
def test_the_email_goes_out_after_the_claim_is_committed(org_a, owner):
    late = action(org_a, owner, TODAY - timedelta(days=2))
    seen = {}

    def record(*args, **kwargs):
        seen["in_transaction"] = connection.in_atomic_block
        seen["claimed"] = ReminderDelivery.objects.filter(action_item=late).exists()
        seen["notified"] = Notification.objects.filter(user=owner).exists()

    with mock.patch("actions.reminders.send_mail", side_effect=record):
        assert reminders.send(late.pk, "overdue", TODAY) is True
    assert seen == {"in_transaction": False, "claimed": True, "notified": True}


def test_the_reminders_are_on_the_daily_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["remind-action-owners"]
    assert entry["task"] == "actions.tasks.send_action_reminders"
    assert entry["schedule"].hour == {7} and entry["schedule"].day_of_week == set(range(7))
