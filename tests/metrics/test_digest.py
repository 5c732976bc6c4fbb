"""The weekly digest: a member switches it on, Monday's task mails last week's summary once,
however often the task runs, and a failed e-mail is sent again on retry."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from cxplatform.models import Role
from metrics import digest, tasks
from metrics.models import DigestDelivery, DigestSubscription
from metrics.services import reconcile_recent
from tests import factories

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # the digest of the week from Monday 16 November


@pytest.fixture
def last_week_answers(org_a):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    moment = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    for score in (10, 9, 3):
        factories.response(org_a, link, score=score, started_at=moment, submitted_at=moment)
    with time_machine.travel(moment + timedelta(hours=1), tick=False):
        reconcile_recent(days=2)


def test_a_viewer_switches_the_digest_on_and_off(org_a, make_member, client_for):
    viewer = make_member(org_a, Role.VIEWER)
    client = client_for(viewer)
    assert client.post("/metrics/digest/", {"on": "1"}).status_code == 302
    assert DigestSubscription.objects.filter(organization=org_a, user=viewer).count() == 1
    client.post("/metrics/digest/", {"on": "1"})  # twice on is still one subscription
    assert DigestSubscription.objects.filter(organization=org_a, user=viewer).count() == 1
    assert "every Monday" in client.get("/metrics/executive/").content.decode()
    client.post("/metrics/digest/", {"on": "0"})
    assert not DigestSubscription.objects.filter(user=viewer).exists()


def test_mondays_task_mails_last_weeks_summary_once(org_a, make_member, last_week_answers):
    manager = make_member(org_a, Role.CX_MANAGER)
    manager.email = "manager@example.com"
    manager.save()
    digest.subscribe(org_a, manager, True)
    with time_machine.travel(MONDAY, tick=False):
        assert tasks.send_weekly_digests() == 1  # eager in tests: the per-subscriber task ran too
        assert tasks.send_weekly_digests() == 0  # nothing left due this week
        subscription = DigestSubscription.objects.get(user=manager)
        assert digest.send(subscription.pk, date(2026, 11, 16)) is False  # a duplicated task sends nothing
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["manager@example.com"] and org_a.name in message.subject
    assert "33" in message.body and "33.3" not in message.body  # NPS of (2 promoters − 1 detractor) / 3
    assert "2026" in message.body and settings.SITE_URL in message.body
    html = message.alternatives[0][0]
    assert "How many customers would recommend us" in html
    assert DigestDelivery.objects.get().week == date(2026, 11, 16)


def test_a_failed_email_is_sent_on_retry(org_a, make_member):
    member = make_member(org_a, Role.VIEWER)
    member.email = "exec@example.com"
    member.save()
    digest.subscribe(org_a, member, True)
    subscription = DigestSubscription.objects.get()
    down = mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("smtp down"))
    with down, pytest.raises(OSError):
        digest.send(subscription.pk, date(2026, 11, 16))
    assert not DigestDelivery.objects.exists()  # the claim was released
    assert digest.send(subscription.pk, date(2026, 11, 16)) is True
    assert len(mail.outbox) == 1


def test_the_digest_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-digest"]
    assert entry["task"] == "metrics.tasks.send_weekly_digests"
    assert entry["schedule"].day_of_week == {1}  # Monday
