"""Exactly once under a killed worker: a campaign of a few hundred goes through a real Celery
worker on Redis to a real SMTP server on loopback; the worker is SIGKILLed mid-send and another
takes over after the lease. Every address gets its message once, every row ends `sent`. And, in
process: an expired claim is taken over, and a sender whose lease ran out sends nothing more."""

import asyncio
import email
import threading
from collections import defaultdict
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import transaction
from django.utils import timezone

from cxplatform.models import Customer
from invitations import sending, services
from invitations.models import Audience, AudienceMember, Campaign, Invitation, SendingProfile
from tests import factories
from tests.workers import celery_worker, free_port, private_redis, using_broker, wait_until

CONTACTS = 300
LEASE_SECONDS = 10
HOLD_AT = 65  # the 5th message of the worker's 7th batch of 10


class SlowMailServer:
    """An SMTP server on loopback that records what it accepts — (recipient, Message-ID) — and
    takes a moment per recipient, as a real provider does. With `hold_at`, the server stops
    answering at that recipient (before accepting its message) and sets `holding`: a kill then
    lands mid-send, mid-batch, every time."""

    def __init__(self, delay=0.03, hold_at=None):
        self.delay = delay
        self.hold_at = hold_at
        self.holding = threading.Event()
        self.release = threading.Event()
        self.recipients_seen = 0
        self.received: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 — aiosmtpd's hook
        self.recipients_seen += 1
        if self.recipients_seen == self.hold_at:
            self.holding.set()
            while not self.release.is_set():  # until the client goes away (the worker is killed)
                await asyncio.sleep(0.05)
            return "421 Closing"
        await asyncio.sleep(self.delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message_id = email.message_from_bytes(envelope.content)["Message-ID"]
        with self.lock:
            self.received.extend((rcpt, message_id) for rcpt in envelope.rcpt_tos)
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *_exc):
        self.release.set()
        self.controller.stop()


def campaign_to(org, people):
    audience = Audience.objects.create(organization=org, name="Everyone", kind=Audience.Kind.LIST)
    AudienceMember.objects.bulk_create([AudienceMember(audience=audience, customer=c) for c in people])
    return Campaign.objects.create(organization=org, name="Relationship NPS", distribution=factories.distribution(org),
                                   audience=audience, subject={"en": "A quick question"},
                                   body={"en": "Hello {name}"})


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_leaves_nobody_sent_twice_and_nobody_skipped(tmp_path, org_a):
    SendingProfile.objects.create(organization=org_a, messages_per_minute=100_000)
    people = Customer.objects.bulk_create(
        Customer(organization=org_a, external_id=f"K{n}", name=f"Rider {n}", email=f"rider{n}@mail.example")
        for n in range(CONTACTS))
    campaign = campaign_to(org_a, people)
    with SlowMailServer(hold_at=HOLD_AT) as smtp, private_redis() as redis, using_broker(redis.url):
        worker_env = {"EMAIL_URL": f"smtp://127.0.0.1:{smtp.controller.port}",
                      "INVITATION_CLAIM_SECONDS": str(LEASE_SECONDS), "INVITATION_BATCH": "10"}
        with celery_worker(redis.url, tmp_path / "first.log", queues=["invitations"], name="first",
                           **worker_env) as first:
            with transaction.atomic():  # as the page does: the run starts on commit, in the worker
                services.schedule(campaign=campaign, send_at=None)
            assert wait_until(smtp.holding.is_set, timeout=120), (tmp_path / "first.log").read_text()[-3000:]
            first.kill()  # SIGKILL mid-send: no warm shutdown, the rest of its batch stays claimed
            first.wait()
            smtp.release.set()
        at_kill = smtp.count()
        assert at_kill == HOLD_AT - 1
        assert Invitation.objects.filter(campaign=campaign, status="sending").exists()  # claimed, unsent
        assert Invitation.objects.filter(campaign=campaign, status="queued").exists()

        with celery_worker(redis.url, tmp_path / "second.log", queues=["invitations"], name="second",
                           **worker_env):
            from invitations.tasks import send_due

            def all_sent():
                send_due.delay()  # what the beat does every 15 s: the lost claims are due after the lease
                return not Invitation.objects.filter(campaign=campaign).exclude(status="sent").exists()

            assert wait_until(all_sent, timeout=180, interval=1.0), (tmp_path / "second.log").read_text()[-3000:]
        received = list(smtp.received)

    by_address = defaultdict(list)
    for rcpt, message_id in received:
        by_address[rcpt].append(message_id)
    assert set(by_address) == {p.email for p in people}  # nobody skipped
    assert {rcpt: len(ids) for rcpt, ids in by_address.items() if len(ids) != 1} == {}  # nobody twice
    rows = Invitation.objects.filter(campaign=campaign)
    assert rows.count() == CONTACTS and set(rows.values_list("status", flat=True)) == {"sent"}
    assert rows.filter(attempts=2).count() >= 6  # the dead worker's claimed rows were taken over
    assert all(by_address[inv.address][0] == f"<invitation-{inv.pk}-0@{_host()}>" for inv in rows)


def _host():
    from urllib.parse import urlsplit

    from django.conf import settings

    return urlsplit(settings.SITE_URL).hostname or "localhost"


@pytest.mark.django_db(transaction=False)
def test_a_claim_of_a_sender_that_died_is_taken_over_after_the_lease(org_a, settings):
    settings.INVITATION_CLAIM_SECONDS = 60
    people = [factories.customer(org_a) for _ in range(5)]
    campaign = campaign_to(org_a, people)
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)
    now = timezone.now()
    dead = sending.claim(organization_id=org_a.pk, now=now)  # a worker claims, then dies: never delivers
    assert len(dead) == 5
    mail.outbox.clear()

    assert sending.send_due(now=now + timedelta(seconds=59)) == 0  # its lease still holds
    assert mail.outbox == []
    assert sending.send_due(now=now + timedelta(seconds=61)) == 5

    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    rows = Invitation.objects.filter(campaign=campaign)
    assert set(rows.values_list("status", "attempts")) == {("sent", 2)}


@pytest.mark.django_db(transaction=False)
def test_a_sender_whose_lease_ran_out_mid_batch_sends_nothing_the_next_one_took(org_a, settings):
    """A batch slower than the lease: its rows are claimed again by another sender. The first
    sender must not send them too (each row's claim is checked, and renewed, just before its send)."""
    settings.INVITATION_CLAIM_SECONDS = 60
    campaign = campaign_to(org_a, [factories.customer(org_a) for _ in range(4)])
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)
    now = timezone.now()
    slow = sending.claim(organization_id=org_a.pk, now=now)
    mail.outbox.clear()
    assert sending.deliver(slow[:1], now=now) == 1  # the first row went in time (and renewed nothing else)

    later = now + timedelta(seconds=61)
    taken_over = sending.claim(organization_id=org_a.pk, now=later)
    assert {inv.pk for inv in taken_over} == {inv.pk for inv in slow[1:]}

    assert sending.deliver(slow[1:], now=later) == 0  # too late: no longer its rows
    assert sending.deliver(taken_over, now=later) == 3
    assert len(mail.outbox) == 4 and len({m.to[0] for m in mail.outbox}) == 4
    assert set(Invitation.objects.filter(campaign=campaign).values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=False)
def test_a_mail_server_that_is_down_delays_the_invitations_and_loses_none(org_a, settings):
    """The SMTP server refuses connections: each row is put back with its error (the task does not
    crash and leave them claimed), and goes once the server is back."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    people = [factories.customer(org_a) for _ in range(3)]
    campaign = campaign_to(org_a, people)
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)

    assert sending.send_due() == 0

    rows = Invitation.objects.filter(campaign=campaign)
    assert set(rows.values_list("status", "attempts")) == {("sending", 1)}
    assert all(row.last_error and row.claimed_until > timezone.now() for row in rows)
    server = SlowMailServer(delay=0)
    server.controller.port = port
    with server:
        assert sending.send_due(now=timezone.now() + sending.RETRY_AFTER + timedelta(seconds=1)) == 3
    assert sorted(rcpt for rcpt, _id in server.received) == sorted(p.email for p in people)
    assert set(rows.values_list("status", flat=True)) == {"sent"}
