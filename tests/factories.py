"""One way to make a row of every organization-scoped model, for tests that walk all of them.

A test that walks the URL conf asks here for an object of the model a URL argument names; a
new model with a URL gets a factory here, or that test fails and says so.
"""

import itertools
import uuid
from datetime import timedelta

from django.utils import timezone

from actions.models import ActionItem, Goal
from cxplatform.models import ApiToken, Customer, CustomerImportJob, Membership, Notification, Role
from feedback.models import (
    CannedReply,
    CloseLoopRule,
    FeedbackImportJob,
    FeedbackItem,
    PainPointEvidence,
    RootCause,
    RoutingRule,
    SavedView,
    SlaPolicy,
    Tag,
    Team,
    WebhookEndpoint,
)
from journeys.models import ActivityEntry, Channel, JourneyMap, Opportunity, PainPoint, Persona, Stage, Touchpoint
from surveys.models import Distribution, ExportJob, ImportJob, Question, Response, RetentionOffer, Survey
from surveys.services import band_for, save_survey

_seq = itertools.count(1)


def customer(org):
    n = next(_seq)
    return Customer.objects.create(organization=org, external_id=f"C{n}", name=f"Customer {n}", email=f"c{n}@x.example")


def channel(org):
    return Channel.objects.create(organization=org, name=f"Channel {next(_seq)}")


def touchpoint(org):
    return Touchpoint.objects.create(organization=org, name=f"Touchpoint {next(_seq)}", channel=channel(org))


def survey(org, survey_type="nps", **fields):
    obj = Survey(organization=org, name=f"Survey {next(_seq)}", survey_type=survey_type, status="active", **fields)
    return save_survey(obj, {}, fill_defaults=True)


def question(org, survey_obj=None, kind="text", **fields):
    survey_obj = survey_obj or survey(org)
    n = next(_seq)
    fields.setdefault("text", {"en": f"Question {n}?", "ru": f"Вопрос {n}?", "lv": f"Jautājums {n}?"})
    fields.setdefault("key", f"q{n}")
    fields.setdefault("position", n)
    return Question.objects.create(organization=org, survey=survey_obj, kind=kind, **fields)


def distribution(org, survey_obj=None, **fields):
    survey_obj = survey_obj or survey(org)
    fields.setdefault("touchpoint", touchpoint(org))
    return Distribution.objects.create(organization=org, survey=survey_obj, name=f"Link {next(_seq)}", **fields)


def response(org, distribution_obj=None, score=9, **fields):
    distribution_obj = distribution_obj or distribution(org)
    now = timezone.now()
    fields.setdefault("status", Response.Status.COMPLETED)
    fields.setdefault("started_at", now)
    fields.setdefault("submitted_at", now)
    fields.setdefault("language", "en")
    fields.setdefault("band", band_for(distribution_obj.survey.survey_type, score))
    return Response.objects.create(
        organization=org, survey=distribution_obj.survey, distribution=distribution_obj,
        touchpoint=distribution_obj.touchpoint, channel=distribution_obj.channel, token=uuid.uuid4(),
        score=score, **fields,
    )


def import_job(org, survey_obj=None, **fields):
    # The name only: pages that show a job never open its file.
    fields.setdefault("file", "imports/test/responses.csv")
    fields.setdefault("original_name", "responses.csv")
    return ImportJob.objects.create(organization=org, survey=survey_obj or survey(org), **fields)


def export_job(org, survey_obj=None, **fields):
    """A finished export with its file stored (a small CSV), so its download answers."""
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    fields.setdefault("format", ExportJob.Format.CSV)
    fields.setdefault("status", ExportJob.Status.DONE)
    fields.setdefault("expected_rows", 1)
    fields.setdefault("written_rows", 1)
    fields.setdefault("expires_at", timezone.now() + timedelta(days=1))
    if "file" not in fields:
        fields["file"] = default_storage.save(f"exports/test-{next(_seq)}.csv",
                                              ContentFile(b"\xef\xbb\xbfresponse_id\r\nx\r\n"))
    return ExportJob.objects.create(organization=org, survey=survey_obj or survey(org), **fields)


def customer_import_job(org, **fields):
    fields.setdefault("original_name", "customers.csv")
    return CustomerImportJob.objects.create(organization=org, **fields)


def retention_offer(org):
    q = question(org, kind="single_choice", choices=[{"value": "price", "label": {"en": "Price"}}])
    return RetentionOffer.objects.create(organization=org, question=q, reason="price", text={"en": "20% off"})


def persona(org):
    return Persona.objects.create(organization=org, name=f"Persona {next(_seq)}")


def journey_map(org):
    return JourneyMap.objects.create(organization=org, persona=persona(org), name=f"Journey {next(_seq)}")


def stage(org, journey_map_obj=None):
    journey_map_obj = journey_map_obj or journey_map(org)
    position = journey_map_obj.stages.count()
    return Stage.objects.create(organization=org, journey_map=journey_map_obj, name=f"Stage {next(_seq)}",
                                position=position)


def touchpoint_on_map(org, stage_obj=None):
    stage_obj = stage_obj or stage(org)
    return Touchpoint.objects.create(organization=org, name=f"Touchpoint {next(_seq)}", channel=channel(org),
                                     stage=stage_obj, position=stage_obj.touchpoints.count())


def pain_point(org):
    tp = touchpoint_on_map(org)
    return PainPoint.objects.create(organization=org, journey_map=tp.stage.journey_map, touchpoint=tp,
                                    description=f"Pain {next(_seq)}", severity=2)


def opportunity(org):
    pain = pain_point(org)
    return Opportunity.objects.create(organization=org, journey_map=pain.journey_map, pain_point=pain,
                                      idea=f"Idea {next(_seq)}")


def activity_entry(org):
    return ActivityEntry.objects.create(organization=org, journey_map=journey_map(org),
                                        action=ActivityEntry.Action.MAP_CREATED, subject="test")


FACTORIES = {
    Customer: customer,
    Channel: channel,
    Touchpoint: touchpoint,
    Survey: survey,
    Question: question,
    Distribution: distribution,
    Response: response,
    ImportJob: import_job,
    ExportJob: export_job,
    CustomerImportJob: customer_import_job,
    RetentionOffer: retention_offer,
    Persona: persona,
    JourneyMap: journey_map,
    Stage: stage,
    PainPoint: pain_point,
    Opportunity: opportunity,
    ActivityEntry: activity_entry,
}


def tag(org):
    return Tag.objects.create(organization=org, name=f"Tag {next(_seq)}")


def feedback_item(org, **fields):
    fields.setdefault("text", f"Feedback {next(_seq)}")
    fields.setdefault("received_at", timezone.now())
    fields.setdefault("source", FeedbackItem.Source.MANUAL)
    return FeedbackItem.objects.create(organization=org, **fields)


def team(org):
    return Team.objects.create(organization=org, name=f"Team {next(_seq)}")


def routing_rule(org):
    return RoutingRule.objects.create(organization=org, name=f"Rule {next(_seq)}", keywords="refund")


def sla_policy(org):
    taken = set(SlaPolicy.objects.filter(organization=org).values_list("priority", flat=True))
    priority = min({1, 2, 3, 4} - taken)
    return SlaPolicy.objects.create(organization=org, priority=priority, first_response_hours=4, resolution_hours=24)


def canned_reply(org):
    return CannedReply.objects.create(organization=org, title=f"Canned {next(_seq)}", text="Hello {customer}")


def webhook_endpoint(org):
    from feedback.webhooks import create_endpoint

    return create_endpoint(org, f"Hook {next(_seq)}", FeedbackItem.Source.REVIEW)


def saved_view(org):
    from django.contrib.auth import get_user_model

    n = next(_seq)
    owner = get_user_model().objects.create_user(username=f"view-owner-{n}")
    return SavedView.objects.create(organization=org, owner=owner, name=f"View {n}", query="view=urgent", shared=True)


def pain_point_evidence(org):
    return PainPointEvidence.objects.create(organization=org, pain_point=pain_point(org), item=feedback_item(org))


def root_cause(org):
    return RootCause.objects.create(organization=org, name=f"Cause {next(_seq)}")


def feedback_import_job(org, **fields):
    fields.setdefault("original_name", "reviews.csv")
    return FeedbackImportJob.objects.create(organization=org, **fields)


def close_loop_rule(org):
    return CloseLoopRule.objects.create(organization=org, name=f"Loop {next(_seq)}", band="unhappy")


def notification(org):
    return Notification.objects.create(organization=org, user=member(org), kind="other", text="Hello",
                                       link="/inbox/")


FACTORIES.update({
    Notification: notification,
    Tag: tag, FeedbackItem: feedback_item, Team: team, RoutingRule: routing_rule, SlaPolicy: sla_policy,
    CannedReply: canned_reply, WebhookEndpoint: webhook_endpoint, SavedView: saved_view,
    PainPointEvidence: pain_point_evidence, RootCause: root_cause, CloseLoopRule: close_loop_rule,
    FeedbackImportJob: feedback_import_job,
})


def make(model, org):
    try:
        factory = FACTORIES[model]
    except KeyError:
        raise LookupError(f"tests/factories.py has no factory for {model.__name__}: add one") from None
    return factory(org)


def root_cause(org):
    parent = RootCause.objects.create(organization=org, name=f"Cause {next(_seq)}")
    return RootCause.objects.create(organization=org, name=f"Detail {next(_seq)}", parent=parent)


def member(org, role=Role.CX_MANAGER):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username=f"member-{next(_seq)}")
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def goal(org, **fields):
    """A goal with a typed-in baseline (no data needed): NPS from 10 to 30 over 90 days."""
    today = timezone.now().date()
    fields.setdefault("owner", member(org))
    fields.setdefault("kpi", "nps")
    fields.setdefault("baseline", 10)
    fields.setdefault("target", 30)
    fields.setdefault("start_date", today)
    fields.setdefault("deadline", today + timedelta(days=90))
    fields.setdefault("title", f"Goal {next(_seq)}")
    return Goal.objects.create(organization=org, **fields)


def action_item(org, **fields):
    fields.setdefault("goal", goal(org))
    fields.setdefault("owner", fields["goal"].owner if fields["goal"] else member(org))
    fields.setdefault("title", f"Action {next(_seq)}")
    fields.setdefault("due_date", timezone.now().date() + timedelta(days=10))
    return ActionItem.objects.create(organization=org, **fields)


FACTORIES.update({RootCause: root_cause, Goal: goal, ActionItem: action_item})


# --- invitations ------------------------------------------------------------------------------

def audience(org, **fields):
    from invitations.models import Audience

    fields.setdefault("criteria", {})
    return Audience.objects.create(organization=org, name=f"Audience {next(_seq)}", **fields)


def campaign(org, **fields):
    from invitations.models import Campaign

    fields.setdefault("distribution", distribution(org))
    fields.setdefault("audience", audience(org))
    fields.setdefault("subject", {"en": "How did we do?"})
    fields.setdefault("body", {"en": "Tell us, {name}."})
    return Campaign.objects.create(organization=org, name=f"Campaign {next(_seq)}", **fields)


def trigger_rule(org, **fields):
    from invitations.models import TriggerRule

    fields.setdefault("distribution", distribution(org))
    fields.setdefault("subject", {"en": "Was it easy?"})
    fields.setdefault("body", {"en": "Tell us."})
    fields.setdefault("event", f"event_{next(_seq)}")
    return TriggerRule.objects.create(organization=org, name=f"Rule {next(_seq)}", **fields)


def suppression(org):
    from invitations.models import Suppression

    return Suppression.objects.create(organization=org, address=f"gone{next(_seq)}@x.example",
                                      reason=Suppression.Reason.ADDED, source="team")


def invitation(org, **fields):
    from invitations.models import Invitation

    fields.setdefault("campaign", campaign(org))
    fields.setdefault("distribution", fields["campaign"].distribution)
    person = fields.pop("customer", None) or customer(org)
    return Invitation.objects.create(organization=org, customer=person, address=person.email.lower(),
                                     language="en", send_after=timezone.now(), created_at=timezone.now(), **fields)


def _invitation_factories():
    from invitations.models import Audience, Campaign, Invitation, Suppression, TriggerRule

    return {Audience: audience, Campaign: campaign, TriggerRule: trigger_rule, Suppression: suppression,
            Invitation: invitation}


FACTORIES.update(_invitation_factories())


def trigger_event(org):
    from invitations.models import TriggerEvent

    n = next(_seq)
    return TriggerEvent.objects.create(organization=org, event=f"event_{n}", idempotency_key=f"key-{n}",
                                       customer=customer(org), payload={"order": f"A-{n}"})


def _trigger_event_factory():
    from invitations.models import TriggerEvent

    return {TriggerEvent: trigger_event}


FACTORIES.update(_trigger_event_factory())


# --- integrations (outgoing webhooks) ---------------------------------------------------------

def webhook_subscription(org):
    from integrations.models import WebhookSubscription

    return WebhookSubscription.objects.create(organization=org, url=f"https://hooks.example.com/{next(_seq)}",
                                              events=["response.completed"], secret=f"whsec_{uuid.uuid4().hex}")


def webhook_call(org):
    from integrations.models import WebhookCall

    return WebhookCall.objects.create(organization=org, subscription=webhook_subscription(org), event="ping",
                                      body='{"event":"ping"}', status=WebhookCall.Status.FAILED)


def _webhook_factories():
    from integrations.models import WebhookCall, WebhookSubscription

    return {WebhookSubscription: webhook_subscription, WebhookCall: webhook_call}


FACTORIES.update(_webhook_factories())


# --- team administration ------------------------------------------------------------------------

def membership(org):
    return Membership.objects.get(user=member(org), organization=org)


def member_invitation(org, **fields):
    from cxplatform.team.models import MemberInvitation
    from cxplatform.team.services import hash_token

    n = next(_seq)
    fields.setdefault("role", Role.AGENT)
    fields.setdefault("expires_at", timezone.now() + timedelta(days=7))
    fields.setdefault("email", f"invitee{n}@x.example")
    return MemberInvitation.objects.create(organization=org, token_hash=hash_token(f"token-{n}-{uuid.uuid4()}"),
                                           **fields)


def _team_factories():
    from cxplatform.team.models import MemberInvitation

    return {Membership: membership, MemberInvitation: member_invitation}


FACTORIES.update(_team_factories())


def sso_domain(org):
    from cxplatform.signin.models import SSODomain

    return SSODomain.objects.create(organization=org, domain=f"d{next(_seq)}.{org.slug}.example")


def _signin_factories():
    from cxplatform.signin.models import SSODomain

    return {SSODomain: sso_domain}


FACTORIES.update(_signin_factories())


def api_token(org):
    from cxplatform.tokens.services import create_token

    return create_token(user=member(org), organization=org, name=f"Token {next(_seq)}", scopes=["read"])[0]


FACTORIES[ApiToken] = api_token


def reread_job(org, **fields):
    """A finished "read all comments again" job (metrics.reread)."""
    from metrics.models import RereadJob

    fields.setdefault("status", RereadJob.Status.DONE)
    fields.setdefault("total", 3)
    fields.setdefault("done", 3)
    return RereadJob.objects.create(organization=org, **fields)


def _reread_factories():
    from metrics.models import RereadJob

    return {RereadJob: reread_job}


FACTORIES.update(_reread_factories())
