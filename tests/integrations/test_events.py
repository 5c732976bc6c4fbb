"""Each public event, raised by the service where it happens, reaches a subscribed receiver with
the documented payload (README "Webhooks")."""

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from actions import services as actions
from cxplatform import events
from cxplatform.models import Customer, EventDelivery, Role
from feedback import loop
from feedback.models import FeedbackItem
from feedback.services import Voice, ingest
from integrations.models import WebhookCall, WebhookEvent
from invitations import services as invitations
from invitations.models import Campaign, Invitation
from tests import factories

pytestmark = pytest.mark.django_db


def received(receiver, event: str) -> list[dict]:
    bodies = [json.loads(r.body) for r in receiver.accepted if r.headers["X-CX-Event"] == event]
    for body in bodies:
        assert set(body) == {"id", "event", "version", "occurred_at", "organization", "data"}
        assert body["event"] == event and body["organization"] == "alpha" and body["version"] == 1
    return bodies


@pytest.fixture
def customer(org_a):
    return Customer.objects.create(organization=org_a, external_id="C-7", name="Anna Berzina",
                                   email="anna@example.com", phone="+37120000000")


def test_response_completed(org_a, subscribe, receiver, answer_recorded, customer):
    subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED], include_personal_data=True)
    response, _event = answer_recorded(org_a, score=4, comment="Late again", customer=customer,
                                       hidden_fields={"order": "A-1"})
    (body,) = received(receiver, "response.completed")
    data = body["data"]
    assert data["response"] == {
        "id": response.pk, "status": "completed", "source": response.source, "language": "en",
        "survey": {"id": response.survey_id, "name": response.survey.name, "type": "nps"},
        "score": 4, "band": "detractor", "comment": "Late again",
        "touchpoint": {"id": response.touchpoint_id, "name": response.touchpoint.name}, "channel": None,
        "distribution_id": response.distribution_id, "started_at": response.started_at.isoformat(),
        "submitted_at": response.submitted_at.isoformat(), "hidden_fields": {"order": "A-1"},
    }
    assert data["customer"] == {"id": customer.pk, "external_id": "C-7", "name": "Anna Berzina",
                                "email": "anna@example.com", "phone": "+37120000000"}


def test_personal_data_goes_only_where_it_is_asked_for(org_a, subscribe, receiver, answer_recorded, customer):
    plain = subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED])
    personal = subscribe(org_a, events=[WebhookEvent.RESPONSE_COMPLETED], include_personal_data=True)
    answer_recorded(org_a, customer=customer, hidden_fields={"email": "anna@example.com"})
    without = json.loads(WebhookCall.objects.get(subscription=plain).body)["data"]
    with_it = json.loads(WebhookCall.objects.get(subscription=personal).body)["data"]
    assert without["customer"] == {"id": customer.pk, "external_id": "C-7"}
    assert "hidden_fields" not in without["response"]
    assert "anna@example.com" not in WebhookCall.objects.get(subscription=plain).body
    assert with_it["customer"]["email"] == "anna@example.com" and with_it["response"]["hidden_fields"]


def test_feedback_created(org_a, subscribe, receiver, django_capture_on_commit_callbacks):
    subscribe(org_a, events=[WebhookEvent.FEEDBACK_CREATED])
    with django_capture_on_commit_callbacks(execute=True):
        item, created = ingest(org_a, Voice(source=FeedbackItem.Source.API, text="The app keeps logging me out",
                                            source_id="ticket-1", customer_ref={"external_id": "C-9"}))
    assert created
    (body,) = received(receiver, "feedback.created")
    data = body["data"]
    assert data["item"]["id"] == item.pk and data["item"]["text"] == "The app keeps logging me out"
    assert data["item"]["source"] == "api" and data["item"]["kind"] == "voice"
    assert data["item"]["url"].endswith(f"/inbox/items/{item.pk}/")
    assert data["customer"] == {"id": item.customer_id, "external_id": "C-9"}
    # The same source id again is the same item: no second event.
    with django_capture_on_commit_callbacks(execute=True):
        ingest(org_a, Voice(source=FeedbackItem.Source.API, text="The app keeps logging me out", source_id="ticket-1"))
    assert len(received(receiver, "feedback.created")) == 1


def test_case_opened_and_resolved(org_a, subscribe, receiver, make_member, django_capture_on_commit_callbacks,
                                  customer):
    subscribe(org_a, events=[WebhookEvent.CASE_OPENED, WebhookEvent.CASE_RESOLVED])
    agent = make_member(org_a, Role.AGENT)
    rule = factories.close_loop_rule(org_a)
    response = factories.response(org_a, score=2, comment="Never again", customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        case = loop.open_case(response, rule)
    with django_capture_on_commit_callbacks(execute=True):
        loop.open_case(response, rule)  # a redelivered answer: already a case, no second event
    (opened,) = received(receiver, "case.opened")
    assert opened["data"]["case"]["id"] == case.pk and opened["data"]["case"]["kind"] == "case"
    assert opened["data"]["case"]["rule"] == rule.name and opened["data"]["case"]["rating"] == 2
    assert opened["data"]["case"]["response_id"] == response.pk
    assert opened["data"]["customer"] == {"id": customer.pk, "external_id": "C-7"}

    cause = factories.root_cause(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        loop.resolve_case(case, agent, case.version, root_cause=cause, note="Called, refunded the delivery")
    (resolved,) = received(receiver, "case.resolved")
    assert resolved["data"]["case"]["status"] == "resolved"
    assert resolved["data"]["case"]["root_cause"] == str(cause)
    assert resolved["data"]["case"]["resolution_note"] == "Called, refunded the delivery"
    assert resolved["data"]["case"]["resolved_at"]


def test_goal_updated(org_a, subscribe, receiver, make_member, django_capture_on_commit_callbacks):
    subscribe(org_a, events=[WebhookEvent.GOAL_UPDATED])
    manager = make_member(org_a, Role.CX_MANAGER)
    goal = factories.goal(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        actions.update_goal(goal, manager, version=goal.version, target=Decimal("40"))
    with django_capture_on_commit_callbacks(execute=True):
        goal.refresh_from_db()
        actions.update_goal(goal, manager, version=goal.version, target=Decimal("40"))  # no change, no event
    (body,) = received(receiver, "goal.updated")
    assert body["data"]["changed"] == ["target"]
    assert body["data"]["goal"]["id"] == goal.pk and Decimal(body["data"]["goal"]["target"]) == 40
    assert body["data"]["goal"]["kpi"] == "nps" and body["data"]["goal"]["url"].endswith(f"/actions/goals/{goal.pk}/")


def test_campaign_finished(org_a, subscribe, receiver, django_capture_on_commit_callbacks):
    subscribe(org_a, events=[WebhookEvent.CAMPAIGN_FINISHED])
    campaign = factories.campaign(org_a, status=Campaign.Status.SENDING, runs=1)
    waiting = factories.campaign(org_a, status=Campaign.Status.SENDING, runs=1)
    factories.invitation(org_a, campaign=waiting)  # still queued: not finished
    factories.invitation(org_a, campaign=campaign, status="sent")
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations.finish_sent_campaigns() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations.finish_sent_campaigns() == 0  # the beat again: finished once
    (body,) = received(receiver, "campaign.finished")
    data = body["data"]["campaign"]
    assert data["id"] == campaign.pk and data["status"] == "sent" and data["runs"] == 1
    assert data["invitations"] == {"queued": 0, "sending": 0, "sent": 1, "skipped": 0, "failed": 0}
    assert data["run"] == {"number": 1, "invitations": data["invitations"]}
    assert data["survey"]["id"] == campaign.distribution.survey_id


def test_each_run_of_a_recurring_campaign_is_told_once(org_a, subscribe, receiver,
                                                       django_capture_on_commit_callbacks):
    subscribe(org_a, events=[WebhookEvent.CAMPAIGN_FINISHED])
    weekly = factories.campaign(org_a, status=Campaign.Status.SCHEDULED, recurrence=Campaign.Recurrence.WEEKLY,
                                runs=1)
    first = factories.invitation(org_a, campaign=weekly, run=1)  # queued: the run is not over
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations.finish_sent_campaigns() == 0
    Invitation.objects.filter(pk=first.pk).update(status=Invitation.Status.SENT)
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations.finish_sent_campaigns() == 1
        assert invitations.finish_sent_campaigns() == 0  # the beat again: run 1 told once
    # The second week's run: two invitations, one skipped by the contact policy.
    Campaign.objects.filter(pk=weekly.pk).update(runs=2)
    factories.invitation(org_a, campaign=weekly, run=2, status=Invitation.Status.SENT)
    factories.invitation(org_a, campaign=weekly, run=2, status=Invitation.Status.SKIPPED)
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations.finish_sent_campaigns() == 1
    weekly.refresh_from_db()
    assert weekly.status == Campaign.Status.SCHEDULED and weekly.runs_finished == 2  # waits for week 3
    # Week 3 still sending holds back only itself: week 4's run, done, waits to be told in order.
    Campaign.objects.filter(pk=weekly.pk).update(runs=4)
    factories.invitation(org_a, campaign=weekly, run=3)
    factories.invitation(org_a, campaign=weekly, run=4, status=Invitation.Status.SENT)
    # A reminder being sent (after the run was over) holds back nothing.
    Invitation.objects.filter(pk=first.pk).update(status=Invitation.Status.SENDING, sent_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations.finish_sent_campaigns() == 0
    Invitation.objects.filter(campaign=weekly, run=3).update(status=Invitation.Status.SENT)
    # Being edited (a draft again) does not keep a finished run from being told.
    Campaign.objects.filter(pk=weekly.pk).update(status=Campaign.Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations.finish_sent_campaigns() == 2
    told = [body["data"]["campaign"] for body in received(receiver, "campaign.finished")]
    assert [c["run"]["number"] for c in told] == [1, 2, 3, 4]
    assert told[1]["run"]["invitations"] == {"queued": 0, "sending": 0, "sent": 1, "skipped": 1, "failed": 0}
    assert told[1]["invitations"]["sent"] == 2 and told[1]["recurrence"] == "weekly"


def test_a_finished_campaign_event_of_the_previous_release_is_still_told(org_a, subscribe, receiver,
                                                                          django_capture_on_commit_callbacks):
    """A v1 event (no run: before recurring runs were told) written by the previous release during
    a rolling deploy is upgraded and told as the campaign's last run."""
    from cxplatform.models import EventDelivery, OutboxEvent

    subscribe(org_a, events=[WebhookEvent.CAMPAIGN_FINISHED])
    campaign = factories.campaign(org_a, status=Campaign.Status.SENT, runs=1, runs_finished=1)
    factories.invitation(org_a, campaign=campaign, status="sent")
    with django_capture_on_commit_callbacks(execute=True):
        event = OutboxEvent.objects.create(organization=org_a, name="campaign.finished", version=1,
                                           payload={"campaign_id": campaign.pk})
        EventDelivery.objects.create(event=event, subscriber="integrations.webhooks.campaign.finished",
                                     next_attempt_at=timezone.now())
        assert events.deliver(event.pk) == 1
    (body,) = received(receiver, "campaign.finished")
    assert body["data"]["campaign"]["run"]["number"] == 1


def test_a_case_resolved_from_the_inbox_triage_is_told_too(org_a, subscribe, receiver, make_member,
                                                           django_capture_on_commit_callbacks):
    from feedback import services as inbox

    subscribe(org_a, events=[WebhookEvent.CASE_RESOLVED])
    agent = make_member(org_a, Role.AGENT)
    case = loop.open_case(factories.response(org_a, score=1), factories.close_loop_rule(org_a))
    FeedbackItem.objects.filter(pk=case.pk).update(root_cause=factories.root_cause(org_a))
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        inbox.triage(case, agent, case.version, status=FeedbackItem.Status.RESOLVED)
    (body,) = received(receiver, "case.resolved")
    assert body["data"]["case"]["id"] == case.pk and body["data"]["case"]["status"] == "resolved"
    # A plain inbox item resolved is no case: nothing is sent.
    item = factories.feedback_item(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        inbox.triage(item, agent, item.version, status=FeedbackItem.Status.RESOLVED)
    assert len(received(receiver, "case.resolved")) == 1


def test_an_organization_without_the_webhook_leaves_no_delivery_for_it(org_a, org_b, subscribe, receiver,
                                                                      answer_recorded, customer):
    """The webhook subscribers of an event are asked when it is written: only an organization with
    an enabled subscription to that webhook gets a delivery to fan out (most have none)."""
    def webhook_deliveries(org):
        return set(EventDelivery.objects.filter(event__organization=org, subscriber__startswith="integrations.")
                   .values_list("subscriber", flat=True))

    subscribe(org_a, events=[WebhookEvent.FEEDBACK_CREATED])
    answer_recorded(org_a, score=9, comment="Quick and kind")
    answer_recorded(org_b, score=9, comment="Quick and kind")
    assert webhook_deliveries(org_a) == {"integrations.webhooks.feedback.created"}  # not response.completed
    assert webhook_deliveries(org_b) == set()
    assert len(received(receiver, "feedback.created")) == 1

    switched_off = subscribe(org_b, events=[WebhookEvent.RESPONSE_COMPLETED], active=False)
    answer_recorded(org_b, score=3)
    assert webhook_deliveries(org_b) == set()
    switched_off.active = True
    switched_off.save()
    answer_recorded(org_b, score=3)
    assert webhook_deliveries(org_b) == {"integrations.webhooks.response.completed"}
    assert [r.headers["X-CX-Event"] for r in receiver.accepted].count("response.completed") == 1
