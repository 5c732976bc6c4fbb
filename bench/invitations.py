"""A survey campaign to 100,000 contacts (issue 15): preparing it, sending it, and the web meanwhile.

(a) Preparing: `invitations.services.start_run` — one INSERT … SELECT writing an invitation per
    contact, queued or skipped with its reason (no address, suppressed, asked lately, over the
    cap) — timed in a fresh process per size (10,000 and 100,000 contacts), whose resident
    high-water mark (`VmHWM` after minus before) is that run's own: the same at both sizes means
    memory does not grow with the audience. The reference, in the same run: PostgreSQL inserting
    the same number of plain rows into a scratch table by one INSERT … SELECT (no index; and a
    copy of the invitation table's indexes and constraints, to show what they cost). Target:
    ≥ 5,000 invitations per second.
(b) Sending: `invitations.sending.send_due` (in its own process, as a worker runs it) through
    Django's SMTP backend to an aiosmtpd sink on loopback (another process), the organization's
    throttle set out of the way; the reference is the sink's own rate: smtplib sending the same
    rendered messages (a sample, cycled) straight to it, a connection per 200 as the sender does.
(c) The web meanwhile: p50/p95 of /healthz, the dashboard and its response-rate fragment (the
    test client, in this process) while idle and while a sender works through the big campaign.

Knobs: BENCH_INVITATIONS_SMALL / BENCH_INVITATIONS_CONTACTS (the two audience sizes),
BENCH_INVITATIONS_SEND_SECONDS (how long the sender runs beside the web), BENCH_INVITATIONS_PAGES
(idle requests per page).
"""

import json
import os
import smtplib
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from .common import peak_mb, size, summary

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"small": int(os.environ.get("BENCH_INVITATIONS_SMALL", size(10_000, 200))),
         "large": int(os.environ.get("BENCH_INVITATIONS_CONTACTS", size(100_000, 1_000)))}
SEND_SECONDS = float(os.environ.get("BENCH_INVITATIONS_SEND_SECONDS", size(30, 3)))
PAGE_REQUESTS = int(os.environ.get("BENCH_INVITATIONS_PAGES", size(40, 3)))
SMTP_SAMPLE = 500  # rendered messages the raw SMTP reference cycles through
SMTP_BATCH = 200  # messages per SMTP connection: the sender's batch (settings.INVITATION_BATCH)
HOST = "127.0.0.1"
MiB = 1 << 20
PAGES = {"healthz": "/healthz", "dashboard": "/", "response_rates": "/metrics/response-rates/"}


# --- Fixtures --------------------------------------------------------------------------------

def _fixtures(contacts: int):
    """An organization of `contacts` customers written by PostgreSQL itself: 1% without an e-mail,
    1% suppressed, 3% invited ten days ago (the contact policy holds them back)."""
    from django.contrib.auth import get_user_model

    from cxplatform.models import Customer, Membership, Organization
    from invitations.models import Audience, Campaign, Invitation, SendingProfile, Suppression
    from surveys.models import ContactPolicy, Distribution, Survey
    from surveys.services import save_survey

    org, _ = Organization.objects.get_or_create(slug=f"bench-invitations-{contacts}",
                                                defaults={"name": f"Bench invitations {contacts}",
                                                          "default_language": "en"})
    survey = Survey.objects.filter(organization=org).first() or save_survey(
        Survey(organization=org, name="Delivery NPS", survey_type="nps", status="active"), {}, fill_defaults=True)
    link, _ = Distribution.objects.get_or_create(organization=org, survey=survey, name="Delivery e-mail")
    ContactPolicy.objects.update_or_create(organization=org, defaults={
        "enabled": True, "min_days_between_surveys": 30, "max_invitations": 4, "cap_days": 90})
    SendingProfile.objects.update_or_create(organization=org, defaults={"messages_per_minute": 10**9})
    audience, _ = Audience.objects.get_or_create(organization=org, name="Everyone", defaults={"criteria": {}})
    user, _ = get_user_model().objects.get_or_create(username=f"bench-invitations-{contacts}")
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": "cx_manager"})
    history, created = Campaign.objects.get_or_create(
        organization=org, name="Last month", defaults={"distribution": link, "audience": audience, "status": "sent",
                                                        "subject": {"en": "x"}, "body": {"en": "x"}, "runs": 1,
                                                        "runs_finished": 1})
    if Customer.objects.filter(organization=org).count() != contacts:
        customers, invitations, suppressions = (Customer._meta.db_table, Invitation._meta.db_table,
                                                Suppression._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {invitations} WHERE organization_id = %s", [org.pk])  # noqa: S608
            cursor.execute(f"DELETE FROM {suppressions} WHERE organization_id = %s", [org.pk])  # noqa: S608
            cursor.execute(f"DELETE FROM {customers} WHERE organization_id = %s", [org.pk])  # noqa: S608
            cursor.execute(
                f"""
                INSERT INTO {customers} (organization_id, external_id, name, email, phone, language, attributes,
                                         revenue, created_at)
                SELECT %(org)s, 'B' || g, 'Contact ' || g,
                       CASE WHEN g %% 100 = 0 THEN '' ELSE 'contact' || g || '@example.com' END, '',
                       (ARRAY['ru','en','lv'])[1 + (g %% 3)], '{{}}', 0, now()
                FROM generate_series(1, %(n)s) AS g
                """,  # noqa: S608 — our own table and integers
                {"org": org.pk, "n": contacts})
            cursor.execute(
                f"""
                INSERT INTO {suppressions} (organization_id, address, reason, source, created_at)
                SELECT organization_id, email, 'unsubscribed', 'bench', now() FROM {customers}
                WHERE organization_id = %s AND email <> '' AND id %% 97 = 0
                """, [org.pk])  # noqa: S608 — our own tables
            cursor.execute(
                f"""
                INSERT INTO {invitations} (organization_id, campaign_id, run, distribution_id, customer_id, medium,
                    address, language, status, skip_reason, send_after, attempts, last_error, reminders_sent,
                    sent_at, last_sent_at, created_at)
                SELECT organization_id, %s, 1, %s, id, 'email', email, language, 'sent', '',
                       now() - interval '10 days', 1, '', 0, now() - interval '10 days', now() - interval '10 days',
                       now() - interval '10 days'
                FROM {customers} WHERE organization_id = %s AND email <> '' AND id %% 33 = 0
                """, [history.pk, link.pk, org.pk])  # noqa: S608 — our own tables
            cursor.execute(f"ANALYZE {customers}")
            cursor.execute(f"ANALYZE {suppressions}")
    return org, link, audience, user, history


def _clear_runs(org, history) -> None:
    """Only the history stays: every benchmark run starts from the same table."""
    from invitations.models import Campaign, Invitation

    table = Invitation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s AND campaign_id <> %s",  # noqa: S608
                       [org.pk, history.pk])
    Campaign.objects.filter(organization=org).exclude(pk=history.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")


# --- (a) Preparing ---------------------------------------------------------------------------

def _prepare(organization_id: int) -> dict:
    """In a fresh process: one campaign run over the organization's whole audience."""
    from invitations import services, tasks, texts
    from invitations.models import Audience, Campaign
    from surveys.models import Distribution

    tasks.send_due.delay = lambda *args, **kwargs: None  # preparing is measured, not sending
    subject, body = texts.defaults()
    campaign = Campaign.objects.create(
        organization_id=organization_id, name="Bench campaign", status=Campaign.Status.SCHEDULED,
        distribution=Distribution.objects.get(organization_id=organization_id, name="Delivery e-mail"),
        audience=Audience.objects.get(organization_id=organization_id, name="Everyone"),
        subject=subject, body=body)
    before = peak_mb()
    started, cpu = time.perf_counter(), time.process_time()
    counts = services.start_run(campaign_id=campaign.pk)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"campaign": campaign.pk, "invitations": counts.total, "queued": counts.queued,
            "skipped": dict(sorted(counts.skipped.items())), "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2), "invitations_per_s": round(counts.total / seconds),
            "process_before_mb": round(before, 1), "peak_above_before_mb": round(peak_mb() - before, 1)}


def _child(*args) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.invitations", *map(str, args)], cwd=ROOT,
                          env=os.environ.copy(), capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _raw_inserts(org, link, rows: int) -> dict:
    """PostgreSQL writing the same number of rows by one INSERT … SELECT over the customers: into
    a plain table, and into one with the invitation table's indexes and constraints."""
    from cxplatform.models import Customer
    from invitations.models import Invitation

    table, customers = Invitation._meta.db_table, Customer._meta.db_table
    figures = {}
    for name, like in (("plain", "INCLUDING DEFAULTS INCLUDING IDENTITY"), ("with_indexes", "INCLUDING ALL")):
        scratch = f"bench_invitation_{name}"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
            cursor.execute(f"CREATE TABLE {scratch} (LIKE {table} {like})")
            started = time.perf_counter()
            cursor.execute(
                f"""
                INSERT INTO {scratch} (organization_id, campaign_id, run, distribution_id, customer_id, medium,
                    address, language, status, skip_reason, send_after, attempts, last_error, reminders_sent,
                    created_at)
                SELECT organization_id, 1, 1, %s, id, 'email', LOWER(TRIM(email)), language, 'queued', '', now(),
                       0, '', 0, now()
                FROM {customers} WHERE organization_id = %s
                """, [link.pk, org.pk])  # noqa: S608 — our own tables
            written = cursor.rowcount
            seconds = time.perf_counter() - started
            cursor.execute(f"DROP TABLE {scratch}")
        assert written == rows, (written, rows)
        figures[name] = {"rows": written, "seconds": round(seconds, 3), "rows_per_s": round(written / seconds)}
    return figures


# --- (b) Sending -----------------------------------------------------------------------------

def _sink(port: int) -> None:
    """In its own process: an SMTP server on loopback that takes every message and counts it.
    Each line read on stdin is answered with the count so far."""
    from aiosmtpd.controller import Controller

    class Count:
        received = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
            self.received += 1
            return "250 OK"

    handler = Count()
    controller = Controller(handler, hostname=HOST, port=port)
    controller.start()
    print("ready", flush=True)
    try:
        for _line in sys.stdin:
            print(handler.received, flush=True)
    finally:
        controller.stop()


@contextmanager
def smtp_sink():
    from .load import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.invitations", "sink", str(port)], cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ready"

        def received() -> int:
            process.stdin.write("\n")
            process.stdin.flush()
            return int(process.stdout.readline())

        yield port, received
    finally:
        process.stdin.close()
        process.wait(30)


def _send(organization_id: int, port: int, seconds: float) -> dict:
    """In its own process, as a worker: send what is due through Django's SMTP backend, batch
    after batch, until nothing is left or `seconds` have passed."""
    from django.conf import settings

    from invitations import sending

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = HOST, port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    # Warm, as a running worker is: the first message of a process imports the URLconf and templates.
    from django.template.loader import get_template
    from django.urls import reverse

    reverse("healthz"), get_template("invitations/email.html"), get_template("invitations/email.txt")
    sent, started, cpu, began_at = 0, time.perf_counter(), time.process_time(), time.time()
    while time.perf_counter() - started < seconds:
        batch = sending.send_due(organization_id=organization_id, max_batches=1)
        sent += batch
        if not batch:
            break
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"sent": sent, "seconds": round(elapsed, 2), "cpu_seconds": round(cpu, 2),
            "cpu_ms_per_message": round(cpu * 1000 / sent, 2) if sent else None,
            "messages_per_s": round(sent / elapsed) if elapsed else 0, "began_at": began_at, "ended_at": time.time()}


def _send_in_parallel(organization_id: int, port: int, processes: int) -> dict:
    """`processes` senders working through one organization's queue at once (claims are disjoint
    under the sending profile's lock): the rate is the queue over the time from the first start
    to the last end."""
    children = [subprocess.Popen([sys.executable, "-m", "bench.invitations", "send", str(organization_id), str(port),
                                  "3600"], cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, text=True)
                for _n in range(processes)]
    results = [json.loads(child.communicate(timeout=3600)[0].strip().splitlines()[-1]) for child in children]
    seconds = max(r["ended_at"] for r in results) - min(r["began_at"] for r in results)
    sent = sum(r["sent"] for r in results)
    return {"processes": processes, "sent": sent, "per_process": [r["sent"] for r in results],
            "seconds": round(seconds, 2), "messages_per_s": round(sent / seconds) if seconds else 0}


def _rendered_sample(org) -> list[tuple[str, str, bytes]]:
    """The sender's own messages (as its SMTP backend would put them on the wire), for the raw run."""
    from invitations import messages
    from invitations.models import Invitation

    sample = []
    rows = (Invitation.objects.filter(organization=org, status=Invitation.Status.QUEUED)
            .select_related("campaign", "distribution__survey", "customer", "organization")[:SMTP_SAMPLE])
    for invitation in rows:
        rendered = messages.render(source=invitation.campaign, distribution=invitation.distribution,
                                   customer=invitation.customer, organization=org, language=invitation.language,
                                   invitation=invitation)
        message = messages.email(rendered, to=invitation.address, organization=org, invitation=invitation)
        sample.append((message.from_email, invitation.address, message.message().as_bytes(linesep="\r\n")))
    return sample


def _raw_smtp(port: int, sample, count: int) -> dict:
    started = time.perf_counter()
    sent = 0
    while sent < count:
        with smtplib.SMTP(HOST, port) as smtp:
            for _n in range(min(SMTP_BATCH, count - sent)):
                sender, to, data = sample[sent % len(sample)]
                smtp.sendmail(sender, [to], data)
                sent += 1
    seconds = time.perf_counter() - started
    return {"sent": sent, "seconds": round(seconds, 2), "messages_per_s": round(sent / seconds)}


# --- (c) The web meanwhile -------------------------------------------------------------------

def _pages(client, rounds: int | None = None, *, while_alive=None) -> dict:
    """Each page in turn, `rounds` times (or for as long as `while_alive` is running)."""
    durations = {name: [] for name in PAGES}
    done = 0
    while (done < rounds) if rounds is not None else (done == 0 or while_alive.poll() is None):
        for name, path in PAGES.items():
            started = time.perf_counter()
            response = client.get(path)
            durations[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        done += 1
    return {name: summary(values) for name, values in durations.items()}


def run():
    from django.test import Client

    from invitations.models import Invitation

    figures = {"contacts": SIZES, "prepare": {}, "raw_insert": {}}
    fixtures = {name: _fixtures(contacts) for name, contacts in SIZES.items()}
    for name, contacts in SIZES.items():
        org, link, _audience, _user, history = fixtures[name]
        _clear_runs(org, history)
        prepared = _child("prepare", org.pk)
        raw = _raw_inserts(org, link, contacts)
        assert prepared["invitations"] == contacts, prepared
        figures["prepare"][str(contacts)] = prepared
        figures["raw_insert"][str(contacts)] = raw
        figures["prepare"][str(contacts)]["ratio_to_raw_plain"] = round(
            prepared["invitations_per_s"] / raw["plain"]["rows_per_s"], 2)
        figures["prepare"][str(contacts)]["ratio_to_raw_with_indexes"] = round(
            prepared["invitations_per_s"] / raw["with_indexes"]["rows_per_s"], 2)
    small, large = (figures["prepare"][str(SIZES[n])] for n in ("small", "large"))
    figures["prepare_memory_large_over_small"] = round(
        large["peak_above_before_mb"] / max(small["peak_above_before_mb"], 0.1), 2)

    small_org = fixtures["small"][0]
    with smtp_sink() as (port, received):
        sample = _rendered_sample(small_org)
        queued = Invitation.objects.filter(organization=small_org, status=Invitation.Status.QUEUED).count()
        before = received()
        sent = _child("send", small_org.pk, port, 3600)
        arrived = received() - before
        assert sent["sent"] == queued == arrived, (sent, queued, arrived)
        raw = _raw_smtp(port, sample, sent["sent"])
        figures["send"] = {"django_smtp_backend": sent, "raw_smtplib": raw, "arrived_at_sink": arrived,
                           "ratio_to_raw": round(sent["messages_per_s"] / raw["messages_per_s"], 2)}
        # The same campaign again, sent by two processes at once.
        _clear_runs(small_org, fixtures["small"][4])
        queued = _child("prepare", small_org.pk)["queued"]
        before = received()
        parallel = _send_in_parallel(small_org.pk, port, 2)
        parallel["arrived_at_sink"] = received() - before
        assert parallel["sent"] == queued == parallel["arrived_at_sink"], (parallel, queued)
        parallel["ratio_to_raw"] = round(parallel["messages_per_s"] / raw["messages_per_s"], 2)
        figures["send"]["two_senders"] = parallel

        large_org, _link, _audience, user, _history = fixtures["large"]
        client = Client()
        client.force_login(user)
        _pages(client, 1)  # warm: the first request of a process imports and compiles templates
        idle = _pages(client, PAGE_REQUESTS)
        before = received()
        sender = subprocess.Popen([sys.executable, "-m", "bench.invitations", "send", str(large_org.pk), str(port),
                                   str(SEND_SECONDS)], cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE,
                                  text=True)
        sending = _pages(client, while_alive=sender)
        out, _err = sender.communicate(timeout=SEND_SECONDS + 120)
        beside = json.loads(out.strip().splitlines()[-1])
        beside["arrived_at_sink"] = received() - before
        figures["web"] = {
            "idle": idle, "while_sending": sending, "sender_beside_the_web": beside,
            "p95_while_sending_over_idle": {name: round(sending[name]["p95_ms"] / idle[name]["p95_ms"], 2)
                                            for name in PAGES},
        }
    return figures


if __name__ == "__main__" and sys.argv[1:2] == ["sink"]:
    _sink(int(sys.argv[2]))
elif __name__ == "__main__" and sys.argv[1:2] in (["prepare"], ["send"]):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxplatform.settings")
    import django

    django.setup()
    if sys.argv[1] == "prepare":
        print(json.dumps(_prepare(int(sys.argv[2]))))
    else:
        print(json.dumps(_send(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))))
