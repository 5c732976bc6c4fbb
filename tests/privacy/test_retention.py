"""Retention: an organization's personal data older than N months is erased by the daily task,
the way an erasure request erases it; figures stay; a second run finds nothing more."""

from datetime import timedelta

import pytest

from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Customer, Role
from feedback.models import FeedbackItem
from invitations.models import Invitation, Suppression, TriggerEvent
from privacy import tasks
from privacy.models import RetentionPolicy
from privacy.registry import ERASED_TEXT
from privacy.services import apply_retention
from surveys.models import Response
from tests import factories

from .conftest import NEEDLES, TODAY, figures, found_anywhere, rebuild_from_scratch

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(days=500)
SINCE = TODAY - timedelta(days=700)


def age_the_person(world) -> None:
    """Everything of Anna happened 500 days earlier than it did."""
    anna = world.anna
    Customer.objects.filter(pk=anna.pk).update(created_at=anna.created_at - LONG_AGO)
    mine = Response.objects.filter(customer=anna) | Response.objects.filter(customer__isnull=True)
    for response in mine:
        Response.objects.filter(pk=response.pk).update(started_at=response.started_at - LONG_AGO,
                                                       submitted_at=response.submitted_at - LONG_AGO)
    for item in FeedbackItem.objects.filter(customer=anna) | FeedbackItem.objects.filter(customer__isnull=True):
        FeedbackItem.objects.filter(pk=item.pk).update(received_at=item.received_at - LONG_AGO)
    for invitation in Invitation.objects.filter(customer=anna):
        Invitation.objects.filter(pk=invitation.pk).update(created_at=invitation.created_at - LONG_AGO)
    TriggerEvent.objects.filter(customer=anna).update(received_at=TriggerEvent.objects.get(
        customer=anna).received_at - LONG_AGO)


def test_the_period_is_set_on_the_page_and_audited(world, client_for):
    client = client_for(world.admin)
    assert client.post("/settings/privacy/retention/", {"months": "18"}).status_code == 302
    assert RetentionPolicy.objects.get(organization=world.org).personal_data_months == 18
    entry = AuditEntry.objects.get(organization=world.org, action=AuditAction.SETTINGS_CHANGED)
    assert entry.details == {"setting": "privacy.personal_data_months", "before": None, "after": 18}
    assert client.post("/settings/privacy/retention/", {"months": ""}).status_code == 302
    assert RetentionPolicy.objects.get(organization=world.org).personal_data_months is None
    page = client.post("/settings/privacy/retention/", {"months": "0"})
    assert page.status_code == 400 and "greater than or equal to 1" in page.content.decode()
    page = client.post("/settings/privacy/retention/", {"months": "twelve"})
    assert page.status_code == 400 and "Enter a whole number." in page.content.decode()
    assert RetentionPolicy.objects.get(organization=world.org).personal_data_months is None
    assert AuditEntry.objects.filter(action=AuditAction.SETTINGS_CHANGED).count() == 2


def test_old_personal_data_is_erased_and_figures_stay(world, client_for):
    # Old answers and items of nobody known: their texts may name anyone, so they go too.
    stranger = factories.response(world.org, world.nps_link, score=9, comment="Ask Jurgis Kalnins, 555-0199",
                                  sentiment=1, hidden_fields={"mail": "jurgis@example.net", "order_id": "A-7"})
    review = factories.feedback_item(world.org, source=FeedbackItem.Source.REVIEW, text="Jurgis Kalnins loved it")
    # A customer still active: who they are stays, what they wrote long ago goes.
    regular = world.others[0]
    old_comment = Response.objects.filter(customer=regular).exclude(comment="").first()
    Response.objects.filter(pk=old_comment.pk).update(started_at=old_comment.started_at - LONG_AGO,
                                                      submitted_at=old_comment.submitted_at - LONG_AGO)
    age_the_person(world)
    RetentionPolicy.objects.create(organization=world.org, personal_data_months=12)
    rebuild_from_scratch(world.org)
    before = figures(world.org, client_for(world.admin), start=SINCE)
    assert before["dashboards"]["nps"]["trend"]

    outcome = tasks.apply_retention.apply().get()
    counts = outcome[str(world.org.pk)]
    assert counts["customers"] == 1 and counts["old_responses"] == 2 and counts["old_items"] == 1
    assert Response.objects.get(pk=old_comment.pk).comment == ERASED_TEXT
    assert Customer.objects.get(pk=regular.pk).email == regular.email
    stranger.refresh_from_db()
    assert stranger.comment == ERASED_TEXT and stranger.hidden_fields == {"order_id": "A-7"} and stranger.score == 9
    assert FeedbackItem.objects.get(pk=review.pk).text == ERASED_TEXT

    rebuild_from_scratch(world.org)
    assert figures(world.org, client_for(world.admin), start=SINCE) == before
    # Nobody asked: nothing is kept, not even on the suppression list.
    assert found_anywhere(NEEDLES + ("Jurgis", "Kalnins")) == []
    assert not Suppression.objects.exists()
    # Recent customers keep everything.
    assert Customer.objects.filter(organization=world.org).exclude(email="").count() == len(world.others)
    assert Response.objects.filter(customer=world.others[0]).exclude(comment="").exclude(
        comment=ERASED_TEXT).exists()
    entry = AuditEntry.objects.get(organization=world.org, action=AuditAction.RETENTION_ERASED)
    assert entry.details["months"] == 12 and entry.details["counts"]["customers"] == 1

    # Idempotent: a second run erases nothing and records nothing.
    assert apply_retention(organization=world.org) == {}
    assert AuditEntry.objects.filter(action=AuditAction.RETENTION_ERASED).count() == 1


def test_without_a_period_nothing_is_erased(world):
    age_the_person(world)
    RetentionPolicy.objects.create(organization=world.org, personal_data_months=None)
    assert tasks.apply_retention.apply().get() == {}
    assert Customer.objects.get(pk=world.anna.pk).email


def test_a_customer_seen_recently_is_kept_however_old(world):
    Customer.objects.filter(pk=world.anna.pk).update(created_at=world.anna.created_at - LONG_AGO)
    RetentionPolicy.objects.create(organization=world.org, personal_data_months=12)
    apply_retention(organization=world.org)
    assert Customer.objects.get(pk=world.anna.pk).email  # she answered last week


def test_batches_cover_every_stale_customer(world, org_b, make_member):
    old = [Customer.objects.create(organization=world.org, email=f"old{n}@example.org") for n in range(5)]
    Customer.objects.filter(pk__in=[c.pk for c in old]).update(created_at=world.anna.created_at - LONG_AGO)
    other_org_old = Customer.objects.create(organization=org_b, email="keep@example.org")
    Customer.objects.filter(pk=other_org_old.pk).update(created_at=world.anna.created_at - LONG_AGO)
    RetentionPolicy.objects.create(organization=world.org, personal_data_months=12)
    counts = apply_retention(organization=world.org, batch_size=2)
    assert counts["customers"] == 5
    assert not Customer.objects.filter(pk__in=[c.pk for c in old]).exclude(email="").exists()
    assert Customer.objects.get(pk=other_org_old.pk).email == "keep@example.org"  # its own organization's rule


def test_only_admins_set_the_period(world, make_member, client_for):
    manager = client_for(make_member(world.org, Role.CX_MANAGER))
    assert manager.post("/settings/privacy/retention/", {"months": "1"}).status_code == 403
    assert not RetentionPolicy.objects.exists()


def test_retention_is_on_the_daily_beat_schedule():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["apply-personal-data-retention"]
    assert entry["task"] == tasks.apply_retention.name == "privacy.tasks.apply_retention"
    assert entry["schedule"].hour == {3} and entry["schedule"].day_of_week == set(range(7))
