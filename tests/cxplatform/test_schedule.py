"""The beat's schedule run in-process for the embedded default (`make run`): each entry runs in
this process when Celery's own schedule says it is due — not before, once per interval — a failing
task does not stop the others, and with a broker configured the command refuses (beat's job)."""

from datetime import UTC, datetime, time, timedelta
from unittest import mock

import pytest
import time_machine
from celery.schedules import crontab
from django.core.management import call_command
from django.core.management.base import CommandError

from cxplatform import schedule
from feedback import services
from feedback.models import FeedbackItem, SlaPolicy

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
BEAT = {
    "check-sla": {"task": "feedback.tasks.check_sla", "schedule": 300.0},
    "nightly": {"task": "metrics.tasks.reconcile_recent_days", "schedule": crontab(hour=2, minute=30)},
}


def test_a_due_entry_runs_in_this_process_once_per_interval(org_a):
    SlaPolicy.objects.create(organization=org_a, priority=FeedbackItem.Priority.NORMAL, first_response_hours=1,
                             resolution_hours=2, day_start=time(9), day_end=time(18), time_zone="Europe/Riga",
                             business_hours=False)
    with time_machine.travel(START - timedelta(hours=3), tick=False):
        item, _ = services.ingest(org_a, services.Voice(source="email", text="Где мой заказ?"))
    with time_machine.travel(START, tick=False):
        entries = schedule.entries(BEAT)
        assert schedule.tick(entries)[0] == []  # nothing is due at the start
    assert FeedbackItem.objects.get(pk=item.pk).sla_state == ""
    with time_machine.travel(START + timedelta(seconds=301), tick=False):
        ran, wait = schedule.tick(entries)
        assert ran == ["check-sla"] and 1 <= wait <= 300
        assert schedule.tick(entries)[0] == []  # not twice in one interval
    assert FeedbackItem.objects.get(pk=item.pk).sla_state == "breached"  # the real task ran
    with time_machine.travel(datetime(2026, 11, 28, 2, 30, 5, tzinfo=UTC), tick=False):
        assert sorted(schedule.tick(entries)[0]) == ["check-sla", "nightly"]


def test_a_failing_task_is_logged_and_the_others_still_run(org_a):
    with time_machine.travel(START, tick=False):
        entries = schedule.entries({"first": {"task": "feedback.tasks.check_sla", "schedule": 60.0},
                                    "second": {"task": "metrics.tasks.rebuild_dirty_days", "schedule": 60.0}})
    from feedback import sla

    with time_machine.travel(START + timedelta(seconds=61), tick=False), \
            mock.patch.object(sla, "check", side_effect=RuntimeError("boom")), \
            mock.patch.object(schedule.logger, "exception") as logged:
        assert schedule.tick(entries)[0] == ["first", "second"]
    assert logged.call_count == 1 and logged.call_args.args[1:] == ("first", "feedback.tasks.check_sla")


def test_the_command_refuses_when_a_broker_runs_beat(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with pytest.raises(CommandError, match="make beat"):
        call_command("run_schedule")
