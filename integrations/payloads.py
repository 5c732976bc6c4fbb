"""The `data` of each webhook event: a stable, documented shape (README "Webhooks", docs/adr/0027).

Built once, when the event is fanned out to the subscriptions, and stored with the call: a retry
or a resend sends the same bytes. Fields are only ever added, never renamed, within version 1.
Personal data (a customer's name, e-mail, phone, a response's hidden fields) goes only to a
subscription that says "include personal data"; otherwise a customer is its ids alone.
"""

from django.conf import settings
from django.db.models import Count
from django.urls import reverse

from actions.models import Goal
from cxplatform.models import Customer
from feedback.models import FeedbackItem
from invitations.models import Campaign, Invitation
from surveys.models import Response

from .models import WebhookEvent

PAYLOAD_VERSION = 1


def _time(value):
    return value.isoformat() if value else None


def _link(name: str, **kwargs) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, kwargs=kwargs)


def _named(obj):
    return {"id": obj.pk, "name": obj.name} if obj is not None else None


def customer(obj: Customer | None, *, personal: bool) -> dict | None:
    if obj is None:
        return None
    data = {"id": obj.pk, "external_id": obj.external_id or None}
    if personal:
        data.update(name=obj.name, email=obj.email, phone=obj.phone)
    return data


def response(response_id: int, *, personal: bool) -> dict | None:
    obj = (Response.objects.select_related("survey", "touchpoint", "channel", "customer", "distribution")
           .filter(pk=response_id).first())
    if obj is None:
        return None
    data = {
        "response": {
            "id": obj.pk, "status": obj.status, "source": obj.source, "language": obj.language,
            "survey": {"id": obj.survey_id, "name": obj.survey.name, "type": obj.survey.survey_type},
            "score": obj.score, "band": obj.band or None, "comment": obj.comment,
            "touchpoint": _named(obj.touchpoint), "channel": _named(obj.channel),
            "distribution_id": obj.distribution_id,
            "started_at": _time(obj.started_at), "submitted_at": _time(obj.submitted_at),
        },
        "customer": customer(obj.customer, personal=personal),
    }
    if personal:
        data["response"]["hidden_fields"] = obj.hidden_fields or {}
    return data


def _item(obj: FeedbackItem) -> dict:
    return {
        "id": obj.pk, "kind": obj.kind, "source": obj.source, "status": obj.status,
        "priority": obj.priority, "text": obj.text, "rating": obj.rating,
        "sentiment": obj.sentiment, "language": obj.language or None,
        "touchpoint": _named(obj.touchpoint), "channel": _named(obj.channel), "team": _named(obj.team),
        "assignee": obj.assignee.get_username() if obj.assignee_id else None,
        "response_id": obj.response_id, "received_at": _time(obj.received_at),
        "url": _link("feedback:item_detail", feedback_item_id=obj.pk),
    }


def feedback_item(item_id: int, *, personal: bool) -> dict | None:
    obj = (FeedbackItem.objects.select_related("touchpoint", "channel", "team", "assignee", "customer")
           .filter(pk=item_id).first())
    if obj is None:
        return None
    return {"item": _item(obj), "customer": customer(obj.customer, personal=personal)}


def case(item_id: int, *, personal: bool) -> dict | None:
    obj = (FeedbackItem.objects.select_related("touchpoint", "channel", "team", "assignee", "customer",
                                               "loop_rule", "root_cause").filter(pk=item_id).first())
    if obj is None:
        return None
    data = _item(obj)
    data.update({
        "rule": obj.loop_rule.name if obj.loop_rule_id else None,
        "first_response_due": _time(obj.first_response_due), "resolution_due": _time(obj.resolution_due),
        "first_responded_at": _time(obj.first_responded_at), "resolved_at": _time(obj.resolved_at),
        "root_cause": str(obj.root_cause) if obj.root_cause_id else None,
        "resolution_note": obj.resolution_note,
    })
    return {"case": data, "customer": customer(obj.customer, personal=personal)}


def goal(goal_id: int, changed: list, *, personal: bool) -> dict | None:
    obj = Goal.objects.select_related("owner").filter(pk=goal_id).first()
    if obj is None:
        return None
    return {
        "goal": {
            "id": obj.pk, "title": obj.title, "kpi": obj.kpi, "baseline": str(obj.baseline),
            "target": str(obj.target), "start_date": obj.start_date.isoformat(),
            "deadline": obj.deadline.isoformat(),
            "owner": obj.owner.get_username() if obj.owner_id else None,
            "url": _link("actions:goal_detail", goal_id=obj.pk),
        },
        "changed": list(changed),
    }


def _invitation_counts(invitations) -> dict:
    counts = dict.fromkeys(Invitation.Status.values, 0)
    for row in invitations.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def campaign(campaign_id: int, *, personal: bool, run: int | None = None) -> dict | None:
    """The campaign, and the run that finished (`run`; an event of the previous release names
    none: its campaign's last)."""
    obj = Campaign.objects.select_related("distribution__survey").filter(pk=campaign_id).first()
    if obj is None:
        return None
    invitations = Invitation.objects.filter(campaign=obj)
    run = run or obj.runs
    return {
        "campaign": {
            "id": obj.pk, "name": obj.name, "medium": obj.medium, "status": obj.status, "runs": obj.runs,
            "recurrence": obj.recurrence,
            "survey": {"id": obj.distribution.survey_id, "name": obj.distribution.survey.name},
            "invitations": _invitation_counts(invitations), "last_run_at": _time(obj.last_run_at),
            "run": {"number": run, "invitations": _invitation_counts(invitations.filter(run=run))},
            "url": _link("invitations:campaign_detail", campaign_id=obj.pk),
        },
    }


def ping() -> dict:
    return {"message": "A test from the CX platform: this webhook is set up."}


# Webhook event → (source event of the outbox, how its ids become `data`).
BUILDERS = {
    WebhookEvent.RESPONSE_COMPLETED: ("response.recorded", lambda p, personal: response(p["response_id"],
                                                                                       personal=personal)),
    WebhookEvent.FEEDBACK_CREATED: ("feedback.item_received", lambda p, personal: feedback_item(
        p["item_id"], personal=personal)),
    WebhookEvent.CASE_OPENED: ("case.opened", lambda p, personal: case(p["item_id"], personal=personal)),
    WebhookEvent.CASE_RESOLVED: ("case.resolved", lambda p, personal: case(p["item_id"], personal=personal)),
    WebhookEvent.GOAL_UPDATED: ("goal.updated", lambda p, personal: goal(p["goal_id"], p["changed"],
                                                                         personal=personal)),
    WebhookEvent.CAMPAIGN_FINISHED: ("campaign.finished", lambda p, personal: campaign(
        p["campaign_id"], personal=personal, run=p.get("run"))),
}
