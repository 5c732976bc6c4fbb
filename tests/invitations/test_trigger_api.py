"""`POST /api/v1/triggers/`: another system says what happened to a customer; each active rule for
the event queues a survey after its delay, once per idempotency key — also when the same key
arrives twice at the same moment — with clear errors in the caller's language and nothing
written for bad input; `GET` lists what was received, of the caller's organization only."""

import threading
from datetime import timedelta
from email import message_from_bytes

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from cxplatform.models import Customer, Role
from cxplatform.tokens.services import create_token
from invitations import sending
from invitations.models import Invitation, TriggerEvent, TriggerRule
from tests import factories
from tests.apierrors import error_fields
from tests.workers import free_port

URL = "/api/v1/triggers/"


@pytest.fixture
def link(org_a):
    return factories.distribution(org_a)


def make_rule(org, link, **fields):
    fields.setdefault("event", "order_delivered")
    fields.setdefault("subject", {"en": "How was your delivery, {name}?", "ru": "Как прошла доставка?"})
    fields.setdefault("body", {"en": "Tell {organization} how it went.", "ru": "Расскажите, как всё прошло."})
    return TriggerRule.objects.create(organization=org, name="CSAT after delivery", distribution=link, **fields)


def bearer(user) -> str:
    """An Authorization header with a new read-and-write token of `user` for their organization."""
    _token, raw = create_token(user=user, organization=user.memberships.get().organization, name="Shop",
                               scopes=["read", "write"])
    return f"Bearer {raw}"


def token_client(user, **headers) -> Client:
    return Client(HTTP_AUTHORIZATION=bearer(user), **headers)


@pytest.fixture
def manager(org_a, make_member):
    return token_client(make_member(org_a, Role.CX_MANAGER))


def body(**fields):
    data = {"event": "order_delivered",
            "customer": {"external_id": "SHOP-1", "email": "Anna@Example.com", "name": "Anna", "language": "ru",
                         "attributes": {"plan": "pro"}},
            "payload": {"order": "A-1001"}}
    data.update(fields)
    return data


def post(client, data, key="order-A-1001", **headers):
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(URL, data, content_type="application/json", **headers)


# --- Once per key -------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_same_key_twice_is_one_event_one_invitation_one_email(manager, org_a, link):
    make_rule(org_a, link)
    first = post(manager, body())
    again = post(manager, body())

    assert (first.status_code, again.status_code) == (201, 200), first.json()
    assert first.json() == again.json()
    answer = first.json()
    assert answer["event"] == "order_delivered" and answer["rules_matched"] == 1
    [invitation] = answer["invitations"]
    assert invitation["status"] == "queued" and invitation["skip_reason"] == "" and invitation["send_after"]
    assert TriggerEvent.objects.count() == 1 and Invitation.objects.count() == 1
    customer = Customer.objects.get(organization=org_a)
    assert (customer.external_id, customer.email, customer.language, customer.attributes) == (
        "SHOP-1", "Anna@Example.com", "ru", {"plan": "pro"})

    mail.outbox.clear()
    assert sending.send_due() == 1
    assert sending.send_due() == 0
    post(manager, body())  # a third retry after the send
    assert sending.send_due() == 0
    assert [m.to for m in mail.outbox] == [["anna@example.com"]]
    assert mail.outbox[0].subject == "Как прошла доставка?"  # the customer's language


@pytest.mark.django_db
@pytest.mark.django_db
def test_a_line_break_in_the_name_never_reaches_the_subject(manager, org_a, link):
    make_rule(org_a, link, subject={"en": "How was it, {name}?"}, body={"en": "Tell us."})
    person = {"external_id": "SHOP-2", "email": "b@x.example", "name": "Eve\r\nBcc: all@x.example"}
    assert post(manager, body(customer=person)).status_code == 201
    mail.outbox.clear()
    assert sending.send_due() == 1
    assert mail.outbox[0].subject == "How was it, Eve Bcc: all@x.example?"


@pytest.mark.django_db
def test_the_key_may_come_in_the_body_and_the_header_wins(manager, org_a, link):
    make_rule(org_a, link)
    assert post(manager, body(idempotency_key="in-body"), key=None).status_code == 201
    assert post(manager, body(idempotency_key="in-body"), key=None).status_code == 200
    assert post(manager, body(idempotency_key="in-body"), key="in-header").status_code == 201
    assert sorted(TriggerEvent.objects.values_list("idempotency_key", flat=True)) == ["in-body", "in-header"]


@pytest.mark.django_db
def test_an_event_no_rule_listens_to_is_kept_and_sends_nothing(manager, org_a, link):
    make_rule(org_a, link, active=False)
    answer = post(manager, body())
    assert answer.status_code == 201
    assert answer.json()["rules_matched"] == 0 and answer.json()["invitations"] == []
    assert TriggerEvent.objects.count() == 1 and not Invitation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_key_from_two_threads_at_once_sends_one_email(org_a, link, make_member, settings):
    """Two deliveries of one event race (a caller that retried on a timeout): PostgreSQL's unique
    key lets one in; the other answers with its result. The mail goes to a real SMTP server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    make_rule(org_a, link, delay_minutes=0)
    user = make_member(org_a, Role.CX_MANAGER)
    received = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            received.append(envelope)
            return "250 OK"

    smtp = Controller(Sink(), hostname="127.0.0.1", port=settings.EMAIL_PORT)
    smtp.start()
    try:
        auth = bearer(user)
        start = threading.Barrier(2)
        answers = []

        def deliver():
            try:
                start.wait()
                answers.append(post(Client(HTTP_AUTHORIZATION=auth), body(), key="race-1"))
            finally:
                connection.close()

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # In-process tasks (no broker in tests) sent the due invitation after the commit; a
        # sender after that finds nothing left.
        sending.send_due()
    finally:
        smtp.stop()

    assert sorted(a.status_code for a in answers) == [200, 201]
    # Both answers name the one event and its one invitation (one may have seen it sent already).
    assert len({a.json()["id"] for a in answers}) == 1
    assert len({inv["id"] for a in answers for inv in a.json()["invitations"]}) == 1
    assert TriggerEvent.objects.count() == 1 and Invitation.objects.count() == 1
    assert Invitation.objects.get().status == "sent"
    assert len(received) == 1 and received[0].rcpt_tos == ["anna@example.com"]
    assert message_from_bytes(received[0].content)["Subject"]


@time_machine.travel("2026-06-01 10:00:00+00:00", tick=False)
@pytest.mark.django_db
def test_nothing_is_sent_before_the_rules_delay_and_it_is_sent_after(manager, org_a, link):
    make_rule(org_a, link, delay_minutes=120)
    answer = post(manager, body())
    send_after = answer.json()["invitations"][0]["send_after"]
    assert send_after.startswith("2026-06-01T12:00:00")
    mail.outbox.clear()
    now = timezone.now()

    assert sending.send_due(now=now) == 0
    assert sending.send_due(now=now + timedelta(minutes=119)) == 0
    assert not mail.outbox and Invitation.objects.get().status == "queued"
    assert sending.send_due(now=now + timedelta(minutes=120)) == 1
    assert [m.to for m in mail.outbox] == [["anna@example.com"]]


# --- Who may call it --------------------------------------------------------------------------

@pytest.mark.django_db
def test_no_token_is_401_a_viewer_or_an_agent_403_and_nothing_is_written(org_a, link, make_member):
    make_rule(org_a, link)
    assert post(Client(), body()).status_code == 401
    assert post(Client(HTTP_AUTHORIZATION="Bearer not-a-token"), body()).status_code == 401
    viewer = token_client(make_member(org_a, Role.VIEWER))
    agent = token_client(make_member(org_a, Role.AGENT))
    assert post(viewer, body()).status_code == 403
    assert post(agent, body()).status_code == 403
    assert not TriggerEvent.objects.exists() and not Customer.objects.exists()
    assert viewer.get(URL).status_code == 200  # reading is for every member


@pytest.mark.django_db
def test_the_list_shows_the_callers_organization_only_newest_first_and_filters_by_event(
        manager, org_a, org_b, link, make_member):
    make_rule(org_a, link)
    post(manager, body(), key="a-1")
    post(manager, body(event="repair_closed"), key="a-2")
    theirs = token_client(make_member(org_b, Role.CX_MANAGER))
    post(theirs, body(), key="b-1")

    listed = manager.get(URL).json()["results"]
    assert [row["idempotency_key"] for row in listed] == ["a-2", "a-1"]
    assert listed[1]["invitations"][0]["status"] == "queued"
    assert [row["idempotency_key"] for row in manager.get(URL, {"event": "order_delivered"}).json()["results"]] \
        == ["a-1"]
    assert [row["idempotency_key"] for row in theirs.get(URL).json()["results"]] == ["b-1"]
    # A key is the organization's own: B's "a-1" is a new event of B's, not A's answer.
    assert post(theirs, body(), key="a-1").status_code == 201


@pytest.mark.django_db
def test_a_viewer_reads_pseudonyms_not_personal_data(manager, org_a, link, make_member):
    post(manager, body())
    viewer = token_client(make_member(org_a, Role.VIEWER))
    [row] = viewer.get(URL).json()["results"]
    assert row["customer_external_id"].startswith("C-") and row["payload"] is None
    [row] = manager.get(URL).json()["results"]
    assert row["customer_external_id"] == "SHOP-1" and row["payload"] == {"order": "A-1001"}


@pytest.mark.django_db
def test_a_foreign_touchpoint_is_refused_exactly_like_a_missing_one(manager, org_a, org_b, link):
    make_rule(org_a, link)
    ours, foreign = factories.touchpoint(org_a), factories.touchpoint(org_b)
    missing = foreign.pk + 10_000
    a = post(manager, body(touchpoint=foreign.pk), key="tp-1")
    b = post(manager, body(touchpoint=missing), key="tp-2")
    assert (a.status_code, a.json()) == (b.status_code, b.json())
    assert a.status_code == 400 and error_fields(a) == {"touchpoint": [error_fields(a)["touchpoint"][0]]}
    assert not TriggerEvent.objects.exists()
    good = post(manager, body(touchpoint=ours.pk), key="tp-3")
    assert good.status_code == 201 and TriggerEvent.objects.get().touchpoint_id == ours.pk


# --- Bad input: a clear 400, nothing written ---------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("change", "field"), [
    ({"event": ""}, "event"),
    ({"event": "order delivered!"}, "event"),
    ({"event": "inbox_item_resolved"}, "event"),  # the inbox's own event
    ({"customer": {"name": "Nobody"}}, "customer"),
    ({"customer": {"email": "not-an-address"}}, "customer"),
    ({"customer": {"external_id": "X", "language": "de"}}, "customer"),
    ({"customer": {"external_id": "X", "phone": "call me"}}, "customer"),
    ({"customer": {"external_id": "X", "attributes": {"nested": {"a": 1}}}}, "customer"),
    ({"customer": {"external_id": "X", "attributes": ["plan"]}}, "customer"),
    ({"touchpoint": "first"}, "touchpoint"),
    ({"payload": ["not", "an", "object"]}, "payload"),
    ({"payload": {"text": "x" * 20_000}}, "payload"),
])
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(manager, org_a, link, change, field):
    make_rule(org_a, link)
    answer = post(manager, body(**change))
    assert answer.status_code == 400 and field in error_fields(answer), answer.content
    assert not TriggerEvent.objects.exists() and not Customer.objects.exists() and not Invitation.objects.exists()


@pytest.mark.django_db
def test_a_missing_key_is_a_400(manager, org_a, link):
    make_rule(org_a, link)
    answer = post(manager, body(), key=None)
    assert answer.status_code == 400 and "idempotency_key" in error_fields(answer)
    assert post(manager, body(), key="x" * 201).status_code == 400
    assert not TriggerEvent.objects.exists()


@pytest.mark.django_db
def test_errors_speak_the_callers_language(manager, org_a, link):
    make_rule(org_a, link)
    answer = post(manager, {"customer": {"email": "nope"}}, HTTP_ACCEPT_LANGUAGE="ru")
    assert answer.status_code == 400
    with translation.override("ru"):
        required, bad_email = gettext("This field is required."), gettext("Enter a valid email address.")
    assert required != "This field is required." and bad_email != "Enter a valid email address."
    errors = error_fields(answer)
    assert errors["event"] == [required]
    assert errors["customer"]["email"] == [bad_email]
    english = error_fields(post(manager, {"customer": {"email": "nope"}}, HTTP_ACCEPT_LANGUAGE="en"))
    assert english["event"] == ["This field is required."]
    assert not TriggerEvent.objects.exists() and not Customer.objects.exists()


@pytest.mark.django_db
def test_the_schema_describes_the_trigger_call():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/triggers/"]["post"]
    assert {"201", "200"} <= set(operation["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])
    assert "event" in schema["components"]["schemas"]["Trigger"]["properties"]
