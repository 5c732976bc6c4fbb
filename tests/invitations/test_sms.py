"""SMS invitations through the pluggable backend: the generic HTTP backend against a real HTTP
server on loopback (signed JSON; 4xx is final, 5xx and an unreachable provider are retried), a
whole SMS campaign through the sender, and the file backend for development."""

import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from cxplatform import sms
from cxplatform.models import Customer
from invitations import sending, services
from invitations.models import Audience, AudienceMember, Campaign, Invitation, Medium
from tests import factories
from tests.workers import free_port

pytestmark = pytest.mark.django_db(transaction=False)

SECRET = "sms-provider-secret"


class Provider:
    """An SMS provider on loopback: records each request and answers with `status`."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 202
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                provider.requests.append({"path": self.path, "headers": self.headers, "body": body})
                self.send_response(provider.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id": "provider-1"}')

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider(settings):
    with Provider() as running:
        settings.SMS_BACKEND = "cxplatform.sms.HttpBackend"
        settings.SMS_HTTP_URL = running.url
        settings.SMS_HTTP_SECRET = SECRET
        settings.SMS_SENDER = "Alpha"
        yield running


def sms_campaign(org, people):
    link = factories.distribution(org)
    audience = Audience.objects.create(organization=org, name="Riders", kind=Audience.Kind.LIST)
    AudienceMember.objects.bulk_create([AudienceMember(audience=audience, customer=c) for c in people])
    campaign = Campaign.objects.create(organization=org, name="SMS pulse", distribution=link, audience=audience,
                                       medium=Medium.SMS, body={"en": "{organization}: how was your ride?"})
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)
    return campaign


def rider(org, phone):
    return Customer.objects.create(organization=org, name="Rider", phone=phone)


def test_the_http_backend_posts_signed_json_the_provider_can_verify(provider):
    sms.send(sms.TextMessage(to="+37120000001", text="Hello, Rīga", reference="invitation-7-0"))

    [request] = provider.requests
    assert request["path"] == "/sms" and request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {"to": "+37120000001", "text": "Hello, Rīga", "sender": "Alpha",
                                           "reference": "invitation-7-0"}
    # What the provider (or its adapter) does: HMAC-SHA256 of the raw body with the shared secret.
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], "sha256").hexdigest()
    assert hmac.compare_digest(request["headers"]["X-CX-Signature"], expected)
    forged = "sha256=" + hmac.new(b"another secret", request["body"], "sha256").hexdigest()
    assert request["headers"]["X-CX-Signature"] != forged


def test_a_whole_sms_campaign_goes_out_through_the_http_backend(org_a, provider):
    people = [rider(org_a, f"+3712000000{n}") for n in range(3)]  # stored normalised
    nobody = Customer.objects.create(organization=org_a, name="No phone", email="only@mail.example")
    campaign = sms_campaign(org_a, [*people, nobody])

    assert sending.send_due() == 3

    bodies = [json.loads(r["body"]) for r in provider.requests]
    assert sorted(b["to"] for b in bodies) == [f"+3712000000{n}" for n in range(3)]
    rows = {inv.customer_id: inv for inv in Invitation.objects.filter(campaign=campaign)}
    assert rows[nobody.pk].status == "skipped" and rows[nobody.pk].skip_reason == "no_address"
    for person in people:
        invitation = rows[person.pk]
        assert invitation.status == "sent" and invitation.sent_at and invitation.medium == "sms"
        body = next(b for b in bodies if b["to"] == invitation.address)
        assert body["reference"] == f"invitation-{invitation.pk}-0"
        assert body["text"].startswith("Alpha Scooters: how was your ride? http")  # the personal link follows
    assert sending.send_due() == 0 and len(provider.requests) == 3  # nobody twice


def test_a_4xx_answer_fails_the_invitation_for_good(org_a, provider):
    provider.status = 400  # the provider refuses the number
    campaign = sms_campaign(org_a, [rider(org_a, "+37120000009")])

    assert sending.send_due() == 0

    invitation = Invitation.objects.get(campaign=campaign)
    assert invitation.status == "failed" and "400" in invitation.last_error and invitation.sent_at is None
    provider.status = 202
    assert sending.send_due(now=timezone.now() + timedelta(hours=1)) == 0  # never retried
    assert len(provider.requests) == 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_5xx_or_429_answer_is_retried_later(org_a, provider, status):
    provider.status = status
    campaign = sms_campaign(org_a, [rider(org_a, "+37120000010")])
    before = timezone.now()

    assert sending.send_due() == 0

    invitation = Invitation.objects.get(campaign=campaign)
    assert invitation.status == "sending" and invitation.attempts == 1 and str(status) in invitation.last_error
    assert invitation.claimed_until >= before + sending.RETRY_AFTER  # the lease pushed: a later try
    assert sending.send_due() == 0 and len(provider.requests) == 1  # not before then

    provider.status = 202
    assert sending.send_due(now=invitation.claimed_until + timedelta(seconds=1)) == 1
    invitation.refresh_from_db()
    assert invitation.status == "sent" and invitation.attempts == 2 and invitation.last_error == ""
    assert len(provider.requests) == 2


def test_an_unreachable_provider_is_retried_and_gives_up_after_the_last_attempt(org_a, settings):
    settings.SMS_BACKEND = "cxplatform.sms.HttpBackend"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{free_port()}/sms"  # nobody listens there
    settings.SMS_HTTP_SECRET = SECRET
    campaign = sms_campaign(org_a, [rider(org_a, "+37120000011")])

    assert sending.send_due() == 0
    invitation = Invitation.objects.get(campaign=campaign)
    assert invitation.status == "sending" and invitation.attempts == 1
    assert "unreachable" in invitation.last_error

    later = timezone.now()
    for _attempt in range(sending.MAX_ATTEMPTS - 1):
        later += sending.RETRY_AFTER + timedelta(minutes=1)
        sending.send_due(now=later)
    invitation.refresh_from_db()
    assert invitation.status == "failed" and invitation.attempts == sending.MAX_ATTEMPTS


def test_the_file_backend_writes_each_message_as_a_json_line(org_a, settings, tmp_path):
    settings.SMS_BACKEND = "cxplatform.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    campaign = sms_campaign(org_a, [rider(org_a, "+37120000012"), rider(org_a, "+37120000013")])

    assert sending.send_due() == 2

    lines = [json.loads(line) for line in (tmp_path / "sms" / "messages.jsonl").read_text().splitlines()]
    ids = {inv.address: inv.pk for inv in Invitation.objects.filter(campaign=campaign)}
    assert sorted(line["to"] for line in lines) == ["+37120000012", "+37120000013"]
    assert all(line["reference"] == f"invitation-{ids[line['to']]}-0" and "http" in line["text"] for line in lines)
