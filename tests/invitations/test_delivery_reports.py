"""Bounces and complaints from the mail provider: `POST /hooks/invitations/reports/`, signed as
every webhook of ours (cxplatform/signatures.py). A refused request changes nothing; a hard bounce
or a complaint suppresses the address in the organization that wrote, and stops its reminders."""

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from cxplatform import signatures
from cxplatform.models import Organization
from invitations import sending, services
from invitations.models import Audience, AudienceMember, Campaign, Invitation, Suppression
from tests import factories

pytestmark = pytest.mark.django_db(transaction=False)

URL = "/hooks/invitations/reports/"
SECRET = "bounce-secret"


@pytest.fixture(autouse=True)
def secret(settings):
    settings.BOUNCE_WEBHOOK_SECRET = SECRET


def post(payload, *, secret=SECRET, timestamp=None, delivery="d-1", signature=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    headers = {"HTTP_X_CX_TIMESTAMP": timestamp, "HTTP_X_CX_DELIVERY": delivery}
    if signature is None:
        signature = signatures.sign(secret, body, timestamp=timestamp, delivery=delivery)
    if signature:
        headers["HTTP_X_CX_SIGNATURE"] = signature
    return Client(enforce_csrf_checks=True).post(URL, body, content_type="application/json", **headers)


def sent_campaign(org, people, **fields):
    """A campaign whose invitations went out (through the real sender, to locmem)."""
    audience = Audience.objects.create(organization=org, name="List", kind=Audience.Kind.LIST)
    AudienceMember.objects.bulk_create([AudienceMember(audience=audience, customer=c) for c in people])
    campaign = Campaign.objects.create(organization=org, name="NPS", distribution=factories.distribution(org),
                                       audience=audience, subject={"en": "Hi"}, body={"en": "Tell us"}, **fields)
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)
    sending.send_due(organization_id=org.pk)
    return campaign


def same_person(org, email):
    from cxplatform.models import Customer

    return Customer.objects.create(organization=org, name="Shared", email=email)


@pytest.fixture
def sent(org_a):
    person = factories.customer(org_a)
    campaign = sent_campaign(org_a, [person], reminder_days=[3])
    return Invitation.objects.get(campaign=campaign)


def snapshot():
    return (list(Suppression.objects.values_list("address", "reason")),
            list(Invitation.objects.order_by("pk").values_list("bounced_at", "next_reminder_at", "last_error")))


@pytest.mark.parametrize("case", ["missing", "wrong secret", "tampered", "stale", "future", "no delivery id"])
def test_an_unsigned_forged_or_stale_report_is_refused_and_changes_nothing(sent, case):
    report = {"type": "bounce", "address": sent.address, "permanent": True}
    before = snapshot()
    old = str(int(time.time()) - 3600)
    answer = {
        "missing": lambda: post(report, signature=""),
        "wrong secret": lambda: post(report, secret="guessed"),
        "tampered": lambda: post(report, signature=signatures.sign(SECRET, b"{}", timestamp=str(int(time.time())),
                                                                   delivery="d-1")),
        "stale": lambda: post(report, timestamp=old),  # a replay an hour later, signed right
        "future": lambda: post(report, timestamp=str(int(time.time()) + 3600)),
        "no delivery id": lambda: post(report, delivery=""),
    }[case]()
    assert answer.status_code == 403
    assert snapshot() == before


def test_without_a_configured_secret_the_endpoint_does_not_exist(sent, settings):
    settings.BOUNCE_WEBHOOK_SECRET = ""
    before = snapshot()
    answer = post({"type": "bounce", "address": sent.address}, secret="anything")
    assert answer.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", json.dumps({"type": "opened", "address": "a@b.c"}).encode(),
                                 json.dumps({"type": "bounce"}).encode(),
                                 json.dumps({"type": "bounce", "address": "x@y.z", "permanent": "no"}).encode(),
                                 json.dumps(["not an object"]).encode()])
def test_a_malformed_report_is_a_400_and_changes_nothing(sent, raw):
    before = snapshot()
    answer = post(None, raw=raw)
    assert answer.status_code == 400 and answer.json()["detail"]
    assert snapshot() == before


def test_one_bad_report_in_a_list_refuses_the_whole_list(sent):
    before = snapshot()
    answer = post([{"type": "bounce", "address": sent.address}, {"type": "delivered", "address": sent.address}])
    assert answer.status_code == 400 and "Report 1" in answer.json()["detail"]
    assert snapshot() == before


def test_a_hard_bounce_by_message_id_suppresses_in_that_organization_only_and_stops_reminders(org_a, org_b):
    shared = "shared@mail.example"
    ours = Invitation.objects.get(campaign=sent_campaign(org_a, [same_person(org_a, shared)], reminder_days=[3]))
    theirs = Invitation.objects.get(campaign=sent_campaign(org_b, [same_person(org_b, shared)], reminder_days=[3]))
    assert ours.next_reminder_at and theirs.next_reminder_at
    message_id = next(m for m in mail.outbox if m.to == [shared] and f"-{ours.pk}-" in m.extra_headers["Message-ID"]
                      ).extra_headers["Message-ID"]

    answer = post({"type": "bounce", "message_id": message_id, "address": shared.upper(), "permanent": True})

    assert answer.status_code == 200 and answer.json() == {"received": 1, "matched": 1}
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.bounced_at and ours.next_reminder_at is None and ours.last_error == "hard bounce"
    entry = Suppression.objects.get(address=shared)
    assert entry.organization_id == org_a.pk and entry.reason == "bounced" and entry.source == "webhook"
    assert entry.invitation_id == ours.pk
    assert theirs.bounced_at is None and theirs.next_reminder_at is not None  # org_b never heard of it
    mail.outbox.clear()
    assert sending.send_due(now=timezone.now() + timedelta(days=4)) == 1  # only org_b's reminder
    assert mail.outbox[0].extra_headers["Message-ID"].startswith(f"<invitation-{theirs.pk}-1@")


def test_a_repeated_report_changes_nothing_more(sent):
    report = {"type": "bounce", "address": sent.address, "permanent": True}
    assert post(report, delivery="d-1").status_code == 200
    first = snapshot()
    assert post(report, delivery="d-2").status_code == 200
    assert Suppression.objects.count() == 1 and snapshot()[0] == first[0]


def test_a_complaint_suppresses_with_its_reason(sent):
    answer = post({"type": "complaint", "message_id": f"<invitation-{sent.pk}-0@testserver>"})
    assert answer.status_code == 200 and answer.json()["matched"] == 1
    entry = Suppression.objects.get(organization=sent.organization)
    assert (entry.address, entry.reason) == (sent.address, "complained")
    sent.refresh_from_db()
    assert sent.next_reminder_at is None


def test_a_soft_bounce_marks_the_invitation_but_does_not_suppress(sent):
    answer = post({"type": "bounce", "address": sent.address, "permanent": False})
    assert answer.status_code == 200 and answer.json()["matched"] == 1
    sent.refresh_from_db()
    assert sent.bounced_at and sent.last_error == "soft bounce"
    assert not Suppression.objects.exists()


def test_a_report_by_address_reaches_only_the_organizations_that_wrote_to_it_lately(org_a, org_b):
    shared = "everyone@mail.example"
    org_c = Organization.objects.create(name="Gamma Cars", slug="gamma")
    org_d = Organization.objects.create(name="Delta Vans", slug="delta")
    lately = Invitation.objects.get(campaign=sent_campaign(org_a, [same_person(org_a, shared)]))
    long_ago = Invitation.objects.get(campaign=sent_campaign(org_b, [same_person(org_b, shared)]))
    Invitation.objects.filter(pk=long_ago.pk).update(last_sent_at=timezone.now() - timedelta(days=60))
    also_lately = Invitation.objects.get(campaign=sent_campaign(org_c, [same_person(org_c, shared)]))
    same_person(org_d, shared)  # a customer there, never written to

    answer = post({"type": "bounce", "address": shared})

    assert answer.status_code == 200 and answer.json()["matched"] == 2
    assert set(Suppression.objects.values_list("organization_id", flat=True)) == {org_a.pk, org_c.pk}
    assert Invitation.objects.filter(bounced_at__isnull=False).count() == 2
    assert {lately.pk, also_lately.pk} == set(Invitation.objects.filter(bounced_at__isnull=False)
                                              .values_list("pk", flat=True))


def test_a_report_for_someone_we_never_wrote_to_matches_nothing(sent):
    answer = post({"type": "bounce", "address": "stranger@mail.example", "message_id": "<abc@other.example>"})
    assert answer.status_code == 200 and answer.json() == {"received": 1, "matched": 0}
    assert not Suppression.objects.exists()
