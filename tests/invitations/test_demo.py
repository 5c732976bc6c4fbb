"""The demo organization's invitations: a sent campaign with a full funnel whose answers are real
demo responses, a scheduled monthly campaign, trigger rules with history, a suppression list with
every reason — and loading the demo again changes nothing."""

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from cxplatform.demo import DEMO_SLUG, load_demo
from cxplatform.models import Organization
from invitations import demo, selectors
from invitations.models import Campaign, Invitation, SkipReason, Suppression, TriggerEvent, TriggerRule
from metrics.models import DailyRollup
from surveys.models import Response

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def voltride(django_db_setup, django_db_blocker):
    """The demo is loaded once for this module (it takes seconds) and removed after it."""
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            load_demo()
            org = Organization.objects.get(slug=DEMO_SLUG)
            counts = _counts(org)
            load_demo()
            yield org, counts
            transaction.set_rollback(True)


def _counts(org):
    return (Campaign.objects.for_org(org).count(), Invitation.objects.for_org(org).count(),
            TriggerEvent.objects.for_org(org).count(), Suppression.objects.for_org(org).count(),
            Response.objects.for_org(org).filter(hidden_fields__has_key="invitation").count())


def test_loading_the_demo_again_changes_nothing(voltride):
    org, counts = voltride
    assert _counts(org) == counts
    assert counts[1] > 500


def test_the_sent_campaign_has_every_step_of_the_funnel(voltride):
    org, _counts = voltride
    campaign = Campaign.objects.for_org(org).get(name=demo.CAMPAIGN_NAME)
    assert campaign.status == Campaign.Status.SENT
    funnel = selectors.funnel(campaign.invitations.all())
    assert funnel.sent >= 300  # several hundred
    for step in ("sent", "bounced", "opened", "started", "completed", "unsubscribed"):
        assert getattr(funnel, step) > 0, step
    assert funnel.sent > funnel.delivered > funnel.opened > funnel.started > funnel.completed
    assert funnel.queued == 0 and 0 < funnel.response_rate < 50
    # A campaign run skips for these reasons while its survey is open (duplicate: see the rules).
    assert {SkipReason.POLICY, SkipReason.CAP, SkipReason.SUPPRESSED, SkipReason.NO_ADDRESS} <= set(funnel.skipped)
    assert all(n > 0 for n in funnel.skipped.values())
    skipped = campaign.invitations.filter(status=Invitation.Status.SKIPPED)
    assert not skipped.filter(sent_at__isnull=False).exists()
    assert all(i.customer.email == "" for i in skipped.filter(skip_reason=SkipReason.NO_ADDRESS))
    suppressed = set(Suppression.objects.for_org(org).values_list("address", flat=True))
    assert set(skipped.filter(skip_reason=SkipReason.SUPPRESSED).values_list("address", flat=True)) <= suppressed
    # Nobody bounced, unsubscribed or answered is reminded; nothing is left to send.
    assert not campaign.invitations.filter(next_reminder_at__isnull=False).exists()
    assert campaign.invitations.filter(reminders_sent=1, completed_at__isnull=True).exists()
    assert not campaign.invitations.filter(reminders_sent=1, bounced_at__isnull=False).exists()


def test_completed_invitations_are_real_demo_responses_that_name_their_invitation(voltride):
    org, _counts = voltride
    answered = Invitation.objects.for_org(org).filter(started_at__isnull=False).select_related("response")
    assert answered.filter(completed_at__isnull=False).count() > 50
    for invitation in answered:
        response = invitation.response
        assert response is not None and response.organization_id == org.pk
        assert response.customer_id == invitation.customer_id
        assert response.distribution_id == invitation.distribution_id
        assert response.hidden_fields["invitation"] == str(invitation.pk)
        assert "order_id" in response.hidden_fields  # what the response carried stays
        assert invitation.sent_at < invitation.opened_at <= invitation.started_at == response.started_at
        assert (invitation.completed_at is not None) == (response.status == Response.Status.COMPLETED)
    # One invitation per response; the rollups still fold in every answer (none was written here).
    assert answered.values("response").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    folded = sum(r.responses + r.skipped for r in DailyRollup.objects.for_org(org))
    assert folded == Response.objects.for_org(org).count()


def test_a_monthly_relationship_campaign_is_scheduled(voltride):
    org, _counts = voltride
    campaign = Campaign.objects.for_org(org).get(name=demo.RELATIONSHIP_NAME)
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.recurrence == Campaign.Recurrence.MONTHLY and campaign.sample_size > 0
    assert campaign.send_at > timezone.now() and campaign.audience.criteria["segments"]
    assert set(campaign.languages) == {"en", "ru", "lv"}


def test_trigger_rules_have_a_history_of_events_and_invitations(voltride):
    org, _counts = voltride
    repair = TriggerRule.objects.for_org(org).get(event="repair_closed")
    assert repair.delay_minutes == 120 and repair.active
    events = TriggerEvent.objects.for_org(org).filter(event="repair_closed")
    assert events.count() > 100
    assert events.values("idempotency_key").distinct().count() == events.count()
    funnel = selectors.funnel(repair.invitations.all())
    assert funnel.sent > 100 and funnel.completed > 0 and funnel.queued == 1  # the latest waits its 2 hours
    assert SkipReason.DUPLICATE in funnel.skipped
    for invitation in repair.invitations.filter(sent_at__isnull=False).select_related("trigger_event")[:50]:
        assert invitation.send_after - invitation.trigger_event.received_at == timedelta(minutes=120)
        assert invitation.sent_at >= invitation.send_after
    resolved = TriggerRule.objects.for_org(org).get(event="inbox_item_resolved")
    assert resolved.medium == "sms"
    assert selectors.funnel(resolved.invitations.all()).completed > 0
    assert resolved.invitations.exclude(address="").filter(address__startswith="+").exists()


def test_the_suppression_list_has_every_reason(voltride):
    org, _counts = voltride
    entries = Suppression.objects.for_org(org)
    assert set(entries.values_list("reason", flat=True)) == set(Suppression.Reason.values)
    assert entries.filter(created_at__lt=timezone.now() - timedelta(days=30)).exists()
    assert entries.filter(reason="bounced", invitation__bounced_at__isnull=False).exists()
    assert entries.filter(reason="unsubscribed", invitation__unsubscribed_at__isnull=False).exists()


def test_the_dashboard_shows_the_demo_links_response_rates(voltride, client):
    from cxplatform.models import Membership, Role

    org, _counts = voltride
    client.force_login(Membership.objects.filter(organization=org, role=Role.CX_MANAGER).first().user)
    html = client.get("/metrics/response-rates/").content.decode()
    for rule_or_campaign in (Campaign.objects.for_org(org).get(name=demo.CAMPAIGN_NAME),
                             TriggerRule.objects.for_org(org).get(event="repair_closed"),
                             TriggerRule.objects.for_org(org).get(event="inbox_item_resolved")):
        row = html.split(f'id="response-rate-{rule_or_campaign.distribution_id}"')[1].split("</tr>")[0]
        assert "%" in row and rule_or_campaign.distribution.name in row
