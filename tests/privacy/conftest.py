"""An organization with answers (NPS, CSAT, CES), comments, themes, segments, an inbox with a case,
messages and notes, invitations and trigger events — and one person, Anna Bērziņa, who is in all
of it, some of it without a customer link."""

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from cxplatform.models import Customer, CustomerImportJob, Notification, Role
from feedback.models import FeedbackItem, ItemEvent, Message, Note, PromoterThanks
from integrations.models import WebhookAttempt, WebhookCall, WebhookSubscription
from invitations.models import AudienceMember, Invitation, TriggerEvent
from metrics import invitation_rates, operations, rollups
from metrics import selectors as metric_selectors
from metrics.customer_value import customer_value
from metrics.models import DailyRollup
from surveys.models import Answer, ResponseTheme
from tests import factories

EMAIL = "Anna.Berzina@Example.lv"
PHONE = "+371 2912 3456"
PHONE_STORED = "+37129123456"
NAME = "Anna Berzina"
EXTERNAL_ID = "CRM-77123"
# What must be found nowhere after the erasure (in any case, in any text or JSON column).
NEEDLES = ("anna.berzina@example.lv", "37129123456", "2912 3456", "29123456", "Anna Berzina", "Berzina",
           EXTERNAL_ID)
TODAY = timezone.now().date()
START = TODAY - timedelta(days=20)
END = TODAY + timedelta(days=2)  # to the end of tomorrow: a run may cross midnight after TODAY was read


def at(days_ago: int, hour: int = 10) -> datetime:
    day = TODAY - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


@dataclasses.dataclass
class World:
    org: object
    admin: object
    anna: Customer
    nps_link: object
    others: list


def _response(org, link, *, score, customer=None, comment="", sentiment=None, days_ago=1, themes=(), **fields):
    response = factories.response(org, link, score=score, customer=customer, comment=comment, sentiment=sentiment,
                                  started_at=at(days_ago), submitted_at=at(days_ago, 11),
                                  language=customer.language if customer and customer.language else "en", **fields)
    for phrase in themes:
        ResponseTheme.objects.create(organization=org, response=response, phrase=phrase)
    return response


def build_world(org, make_member) -> World:
    org.segment_attribute = "plan"
    org.save(update_fields=["segment_attribute"])
    admin = make_member(org, Role.ADMIN)
    nps = factories.distribution(org, factories.survey(org, "nps"))
    csat = factories.distribution(org, factories.survey(org, "csat"))
    ces = factories.distribution(org, factories.survey(org, "ces"))
    text_q = factories.question(org, nps.survey, kind="text")
    anna = Customer.objects.create(
        organization=org, name=NAME, email=EMAIL, phone=PHONE_STORED, external_id=EXTERNAL_ID, language="lv",
        attributes={"plan": "gold", "city": "Riga", "nickname": "Anniņa"}, active_since=date(2024, 1, 10),
        revenue=Decimal("420.00"))
    others = []
    for n, plan in enumerate(["gold", "silver", "silver", "bronze", "bronze", "gold"]):
        others.append(Customer.objects.create(
            organization=org, name=f"Other Person {n}", email=f"other{n}@example.com", external_id=f"OTHER-{n}",
            attributes={"plan": plan}, active_since=date(2024, 3, 1), revenue=Decimal(100 + n),
            cancelled_on=TODAY - timedelta(days=3) if n == 1 else None))

    # Anna's answers: a detractor with a comment that quotes her address and phone, a low CSAT, a CES.
    detractor = _response(
        org, nps, score=3, customer=anna, sentiment=-1, days_ago=2, themes=("courier", "courier late"),
        comment=f"Call me at {PHONE} or {EMAIL.lower()}, the courier was late again",
        hidden_fields={"order_id": "A-1001", "email": EMAIL.lower(), "invitation": "17", "contact": NAME})
    Answer.objects.create(response=detractor, question=text_q, text=f"I am {NAME}, write to me")
    low = _response(org, csat, score=2, customer=anna, sentiment=-1, days_ago=5, themes=("refund",),
                    comment="Refund took weeks")
    easy = _response(org, ces, score=6, customer=anna, days_ago=3)
    # Everyone else's answers.
    scores = [10, 9, 9, 7, 4, 10, 8, 6, 2, 10, 9, 5]
    for n, score in enumerate(scores):
        person = others[n % len(others)]
        _response(org, nps, score=score, customer=person, days_ago=n % 9 + 1,
                  comment=("The courier was late" if n % 3 == 0 else "Fine") if n % 2 == 0 else "",
                  sentiment=(-1 if n % 3 == 0 else 1) if n % 2 == 0 else None,
                  themes=("courier", "courier late") if n % 3 == 0 and n % 2 == 0 else ())
    for n, score in enumerate([5, 4, 4, 3, 1]):
        _response(org, csat, score=score, customer=others[n], days_ago=n + 2, comment="ok" if n < 2 else "",
                  sentiment=1 if n < 2 else None, themes=("refund",) if n == 0 else ())
    for n, score in enumerate([7, 5, 2]):
        _response(org, ces, score=score, customer=others[n], days_ago=n + 1)
    # An anonymous answer (no customer) whose comment names her.
    _response(org, nps, score=8, comment=f"My neighbour {NAME} told me about you", sentiment=1, days_ago=4)

    # The inbox: the detractor's case with a conversation and notes; an e-mail from her address
    # without a customer; someone else's item with a note that names her.
    case = factories.feedback_item(
        org, kind=FeedbackItem.Kind.CASE, source=FeedbackItem.Source.SURVEY, customer=anna, response=detractor,
        text=detractor.comment, rating=3, sentiment=-1, received_at=at(2, 12), touchpoint=nps.touchpoint,
        status=FeedbackItem.Status.RESOLVED, first_responded_at=at(2, 14), resolved_at=at(1, 9),
        resolution_note=f"Called {NAME}, refunded the delivery", language="lv")
    Message.objects.create(organization=org, item=case, direction=Message.Direction.OUT, text=f"Dear {NAME}, sorry",
                           to_address=EMAIL, status=Message.Status.SENT, sent_at=at(2, 14))
    Message.objects.create(organization=org, item=case, direction=Message.Direction.IN, text="Thanks, Anna",
                           status=Message.Status.RECEIVED, source_id=f"<reply-1.{EMAIL.lower()}>")
    Note.objects.create(item=case, author=admin, text=f"She asked to be called on {PHONE}")
    ItemEvent.objects.create(item=case, actor=admin, action="replied", details={"to": EMAIL.lower()},
                             message={"id": "activity.replied", "params": {"to": EMAIL.lower()}})
    unlinked = factories.feedback_item(org, source=FeedbackItem.Source.EMAIL, text=f"From {EMAIL}: where is my refund?",
                                       source_id=f"<abc.{EMAIL.lower()}>", received_at=at(6), sentiment=-1)
    Message.objects.create(organization=org, item=unlinked, direction=Message.Direction.OUT, text="We are on it",
                           to_address=EMAIL.lower(), status=Message.Status.SENT, sent_at=at(6, 12))
    someone = factories.feedback_item(org, customer=others[0], text="Scooter battery died", received_at=at(3),
                                      status=FeedbackItem.Status.OPEN)
    Note.objects.create(item=someone, author=admin, text=f"Same as {EMAIL.lower()} last week; ask {NAME}?")
    PromoterThanks.objects.create(organization=org, response=easy, to_address=EMAIL.lower())

    # Invitations: hers (sent and answered) and the others'; a trigger event about her.
    campaign = factories.campaign(org, distribution=nps)
    Invitation.objects.create(organization=org, campaign=campaign, distribution=nps, customer=anna,
                              address=EMAIL.lower(), status=Invitation.Status.SENT, send_after=at(3), created_at=at(3),
                              sent_at=at(3), last_sent_at=at(3), completed_at=at(2, 11), response=detractor)
    for person in others[:4]:
        Invitation.objects.create(organization=org, campaign=campaign, distribution=nps, customer=person,
                                  address=person.email, status=Invitation.Status.SENT, send_after=at(3),
                                  created_at=at(3), sent_at=at(3), last_sent_at=at(3))
    AudienceMember.objects.create(audience=campaign.audience, customer=anna)
    rule = factories.trigger_rule(org, distribution=ces)
    TriggerEvent.objects.create(organization=org, event=rule.event, idempotency_key=f"order-1001-{EMAIL.lower()}",
                                customer=anna, payload={"email": EMAIL, "name": NAME, "phone": PHONE,
                                                        "order": "A-1001"})
    Notification.objects.create(organization=org, user=admin, text=f"{NAME} wrote again", message_id="",
                                params={"customer": NAME})
    CustomerImportJob.objects.create(organization=org, original_name="crm.csv",
                                     errors=[{"row": 3, "reason": f"{EMAIL.lower()} is taken"}])
    # Pushed to the team's CRM with personal data, and the CRM's answer echoing it.
    hook = WebhookSubscription.objects.create(organization=org, url="https://crm.example/hook", secret="s",
                                              events=["response.completed"], include_personal_data=True)
    call = WebhookCall.objects.create(organization=org, subscription=hook, event="response.completed",
                                      body=json.dumps({"data": {"customer": {"name": NAME, "email": EMAIL.lower(),
                                                                             "phone": PHONE_STORED}}}),
                                      response_excerpt=f"unknown contact {EMAIL.lower()}")
    WebhookAttempt.objects.create(call=call, attempted_at=timezone.now(), duration_ms=5,
                                  response_excerpt=f"unknown contact {NAME}")
    assert low and easy
    return World(org=org, admin=admin, anna=anna, nps_link=nps, others=others)


@pytest.fixture
def world(org_a, make_member) -> World:
    return build_world(org_a, make_member)


def rebuild_from_scratch(org) -> None:
    DailyRollup.objects.filter(organization=org).delete()
    rollups.rebuild(org, TODAY - timedelta(days=400), END)


def plain(value):
    """Figures as plain data, so two snapshots compare with ==."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(value.as_dict() if hasattr(value, "as_dict") else dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, date | Decimal | uuid.UUID):
        return str(value)
    if hasattr(value, "_meta"):  # a model instance: its id
        return value.pk
    return value


def figures(org, client=None, start=START) -> dict:
    """What the dashboard, the metrics selectors and the API show for the period."""
    scope = metric_selectors.Scope(org, start, END)
    gold = metric_selectors.Scope(org, start, END, segments=("gold",))
    now = datetime.combine(TODAY, datetime.min.time(), UTC) + timedelta(hours=23)
    shown = {
        "dashboards": {t: metric_selectors.dashboard(scope, t) for t in ("nps", "csat", "ces")},
        "gold": {t: metric_selectors.dashboard(gold, t)["summary"] for t in ("nps", "csat", "ces")},
        "themes": metric_selectors.top_themes(scope),
        "gold_themes": metric_selectors.top_themes(gold),
        "by_touchpoint": metric_selectors.by_touchpoint(scope),
        "segments": metric_selectors.segments(org),
        "response_rates": invitation_rates.response_rates(scope),
        "inbox": operations.inbox_figures(scope, now=now),
        "loop": operations.loop_figures(scope, now=now),
        "customer_value": customer_value(org, start, END, as_of=TODAY),
        "drill_down": metric_selectors.responses_behind(scope, "nps").count(),
        "negative_comments": metric_selectors.responses_behind(scope, sentiment=-1).count(),
        "rollups": sorted(DailyRollup.objects.filter(organization=org).values_list(
            "survey_id", "touchpoint_id", "channel_id", "segment", "language", "day", "responses", "skipped",
            "completed", "comments", "positive_comments", "neutral_comments", "negative_comments", "score_sum")),
    }
    if client is not None:
        api = client.get("/api/v1/metrics/summary/", {"from": start.isoformat(), "to": TODAY.isoformat()})
        assert api.status_code == 200, api.content
        shown["api"] = api.json()
    return plain(shown)


def text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("""SELECT table_name, column_name FROM information_schema.columns
                          WHERE table_schema = 'public'
                            AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'character')""")
        return cursor.fetchall()


def found_anywhere(needles, *, allowed=frozenset()) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every text or JSON column of every table that holds a needle."""
    hits = []
    with connection.cursor() as cursor:
        for table, column in text_columns():
            if (table, column) in allowed:
                continue
            for needle in needles:
                cursor.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',  # noqa: S608 — names from the catalogue
                               [f"%{needle}%"])
                if cursor.fetchone()[0]:
                    hits.append((table, column, needle))
    return hits
