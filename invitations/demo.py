"""VoltRide's survey invitations: a post-purchase NPS campaign sent three weeks ago with its whole
funnel (bounces, opens, answers, unsubscribes, the people the contact policy held back), a monthly
relationship survey waiting for its first run, "CES 2 hours after a repair is closed" with eight
weeks of repair events behind it, a CSAT text message when an inbox item is resolved, and the
suppression list those left behind.

Every answer in the funnel is a real demo response (the surveys demo's, already in the metrics
rollups): the invitation points at it and the response carries `hidden_fields["invitation"]`, as
an answer through an invitation's link does. Nothing here writes a response, so the figures on
the dashboard stay the raw answers' figures. Its own random stream (seeded): the demos of other
apps draw what they drew before. Simulated once; loading the demo again changes nothing."""

import random
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from cxplatform.models import Customer, Membership, Role
from surveys.models import Distribution, Response

from . import texts
from .models import (
    Audience,
    Campaign,
    Invitation,
    Medium,
    SendingProfile,
    SkipReason,
    Suppression,
    TriggerEvent,
    TriggerRule,
)

CAMPAIGN_NAME = "Post-purchase NPS — spring customers"
RELATIONSHIP_NAME = "Relationship NPS — monthly sample"
REPAIR_RULE = "CES 2 hours after a repair is closed"
INBOX_RULE = "CSAT text when an inbox item is resolved"
REPAIR_EVENT = "repair_closed"
INBOX_EVENT = "inbox_item_resolved"  # built in: the platform sends it itself (invitations.services)

CAMPAIGN_DAYS_AGO = 24
TRIGGER_WEEKS = 8
NO_EMAIL = 9  # showroom buyers who left only a phone number
SHARES = {"policy": 0.08, "cap": 0.015, "bounced": 0.03, "unsubscribed": 0.02, "opened": 0.38}


@dataclass
class Answer:
    """A demo response an invitation leads to (one per customer: their first in the window)."""

    id: int
    customer_id: int
    started_at: datetime
    submitted_at: datetime | None
    hidden_fields: dict


def load(demo):
    org = demo.organization
    if Campaign.objects.filter(organization=org, name=CAMPAIGN_NAME).exists():
        return
    rng = random.Random(f"{org.slug}:invitations")  # noqa: S311 — demo data, its own stream  # nosec B311
    now = timezone.now()
    links = {d.name: d for d in Distribution.objects.filter(organization=org).select_related("survey")}
    manager = (Membership.objects.filter(organization=org, role=Role.CX_MANAGER, is_active=True).select_related("user")
               .order_by("pk").first())
    manager = manager.user if manager else None
    SendingProfile.objects.get_or_create(organization=org, defaults={"messages_per_minute": 300,
                                                                     "from_name": org.name})
    customers = _customers_without_email(org, rng)
    linked: list[tuple[Answer, Invitation]] = []
    suppressions: list[Suppression] = _earlier_suppressions(org, customers, rng, now, manager)
    held = {s.address for s in suppressions}
    linked += _sent_campaign(org, links["Home delivery e-mail"], customers, held, suppressions, rng, now, manager)
    _relationship_campaign(org, demo, now, manager)
    linked += _repair_rule(org, links["Repair pick-up e-mail"], customers, held, rng, now)
    linked += _inbox_rule(org, links["After support call SMS"], customers, held, rng, now)
    _save_suppressions(suppressions)
    _link_answers(linked)


def _customers_without_email(org, rng) -> list[Customer]:
    """A few customers bought in the showroom and gave only a phone: an e-mail campaign skips them."""
    customers = list(Customer.objects.for_org(org).order_by("pk"))
    phone_only = rng.sample(customers, NO_EMAIL)
    Customer.objects.filter(pk__in=[c.pk for c in phone_only]).update(email="")
    for customer in phone_only:
        customer.email = ""
    return customers


def _message(medium=Medium.EMAIL, reminder_days=None) -> dict:
    subject, body = texts.defaults(medium=medium)
    return {"medium": medium, "subject": subject, "body": body, "reminder_days": reminder_days or []}


def _language(customer, languages=("en", "ru", "lv")) -> str:
    return customer.language if customer.language in languages else "lv"


def _answers(link, *, since, until, exclude=()) -> list[Answer]:
    """The link's answers by known customers in [since, until), the first of each customer."""
    rows = (Response.objects.filter(distribution=link, customer__isnull=False, started_at__gte=since,
                                    started_at__lt=until)
            .exclude(customer_id__in=list(exclude)).order_by("started_at", "pk")
            .values_list("pk", "customer_id", "started_at", "submitted_at", "status", "hidden_fields"))
    first: dict[int, Answer] = {}
    for pk, customer_id, started_at, submitted_at, status, hidden in rows:
        if customer_id not in first:
            done = submitted_at if status == Response.Status.COMPLETED else None
            first[customer_id] = Answer(pk, customer_id, started_at, done, hidden or {})
    return list(first.values())


def _mark_answer(invitation: Invitation, answer: Answer, rng) -> None:
    """The funnel marks `invitations.services.mark_answered` would have written."""
    invitation.opened_at = answer.started_at - timedelta(seconds=rng.randint(5, 90))
    invitation.started_at = answer.started_at
    invitation.completed_at = answer.submitted_at
    invitation.response_id = answer.id


def _mark_silence(invitation: Invitation, rng, now, *, reminder_days: int | None = None) -> None:
    """A delivered invitation nobody answered: opened or not, a reminder after `reminder_days`."""
    if rng.random() < SHARES["opened"]:
        invitation.opened_at = min(now, invitation.sent_at + timedelta(hours=rng.expovariate(1 / 20)))
    if reminder_days and invitation.sent_at + timedelta(days=reminder_days) < now:
        invitation.reminders_sent = 1
        invitation.last_sent_at = invitation.sent_at + timedelta(days=reminder_days)


def _suppress(org, invitation, reason, source, at, suppressions, held) -> None:
    suppressions.append(Suppression(organization=org, address=invitation.address, reason=reason, source=source,
                                    customer_id=invitation.customer_id, invitation=invitation, created_at=at))
    held.add(invitation.address)


def _earlier_suppressions(org, customers, rng, now, manager) -> list[Suppression]:
    """The list as it stood before the campaign: every reason, months old."""
    reachable = [c for c in customers if c.email]
    picked = rng.sample(reachable, 14)
    reasons = ([Suppression.Reason.UNSUBSCRIBED] * 4 + [Suppression.Reason.BOUNCED] * 3
               + [Suppression.Reason.COMPLAINED] * 2 + [Suppression.Reason.ERASED] * 2
               + [Suppression.Reason.ADDED] * 3)
    sources = {Suppression.Reason.UNSUBSCRIBED: Suppression.Source.LINK,
               Suppression.Reason.BOUNCED: Suppression.Source.WEBHOOK,
               Suppression.Reason.COMPLAINED: Suppression.Source.WEBHOOK,
               Suppression.Reason.ERASED: Suppression.Source.ERASURE, Suppression.Reason.ADDED: Suppression.Source.TEAM}
    entries = []
    for customer, reason in zip(picked, reasons, strict=True):
        entries.append(Suppression(
            organization=org, address=customer.email.strip().lower(), reason=reason, source=sources[reason],
            customer=None if reason == Suppression.Reason.ERASED else customer,
            created_by=manager if reason == Suppression.Reason.ADDED else None,
            created_at=now - timedelta(days=rng.randint(40, 300), minutes=rng.randint(0, 600))))
    return entries


def _sent_campaign(org, link, customers, held, suppressions, rng, now, manager):
    """Sent to every customer 24 days ago at the throttle's pace, with one reminder after 4 days."""
    audience, _created = Audience.objects.get_or_create(
        organization=org, name="All customers", defaults={"kind": Audience.Kind.FILTER, "criteria": {},
                                                          "created_by": manager})
    sent_on = (now - timedelta(days=CAMPAIGN_DAYS_AGO)).replace(hour=7, minute=0, second=0, microsecond=0)
    campaign = Campaign.objects.create(
        organization=org, name=CAMPAIGN_NAME, distribution=link, audience=audience, status=Campaign.Status.SENT,
        send_at=sent_on, runs=1, runs_finished=1, last_run_at=sent_on, created_by=manager,
        **_message(reminder_days=[4]))
    Campaign.objects.filter(pk=campaign.pk).update(created_at=sent_on - timedelta(days=2))
    answers = {a.customer_id: a for a in _answers(link, since=sent_on + timedelta(minutes=10), until=now)}
    pace = timedelta(seconds=60 / 300)
    rows = []
    for number, customer in enumerate(customers):
        address = customer.email.strip().lower()
        invitation = Invitation(
            organization=org, campaign=campaign, run=1, distribution=link, customer=customer, medium=Medium.EMAIL,
            address=address, language=_language(customer), status=Invitation.Status.SENT, send_after=sent_on,
            created_at=sent_on, attempts=1)
        answer = answers.get(customer.pk)
        if not address:
            invitation.status, invitation.skip_reason = Invitation.Status.SKIPPED, SkipReason.NO_ADDRESS
        elif address in held:
            invitation.status, invitation.skip_reason = Invitation.Status.SKIPPED, SkipReason.SUPPRESSED
        elif answer is None and rng.random() < SHARES["policy"]:
            invitation.status, invitation.skip_reason = Invitation.Status.SKIPPED, SkipReason.POLICY
        elif answer is None and rng.random() < SHARES["cap"]:
            invitation.status, invitation.skip_reason = Invitation.Status.SKIPPED, SkipReason.CAP
        if invitation.status == Invitation.Status.SKIPPED:
            invitation.attempts = 0
            rows.append((invitation, None))
            continue
        invitation.sent_at = invitation.last_sent_at = sent_on + pace * number
        if answer is not None:
            _mark_answer(invitation, answer, rng)
            if invitation.started_at > invitation.sent_at + timedelta(days=4):
                invitation.reminders_sent, invitation.last_sent_at = 1, invitation.sent_at + timedelta(days=4)
        elif rng.random() < SHARES["bounced"]:
            invitation.bounced_at = invitation.sent_at + timedelta(seconds=rng.randint(20, 600))
            invitation.last_error = "hard bounce"
        elif rng.random() < SHARES["unsubscribed"] / (1 - SHARES["bounced"]):
            invitation.opened_at = invitation.sent_at + timedelta(hours=rng.expovariate(1 / 10))
            invitation.unsubscribed_at = invitation.opened_at + timedelta(seconds=rng.randint(10, 120))
        else:
            _mark_silence(invitation, rng, now, reminder_days=4)
        rows.append((invitation, answer))
    Invitation.objects.bulk_create([invitation for invitation, _answer in rows], batch_size=500)
    for invitation, _answer in rows:
        if invitation.bounced_at:
            _suppress(org, invitation, Suppression.Reason.BOUNCED, "webhook", invitation.bounced_at, suppressions,
                      held)
        elif invitation.unsubscribed_at:
            source = rng.choice(["link", "one-click header"])
            _suppress(org, invitation, Suppression.Reason.UNSUBSCRIBED, source, invitation.unsubscribed_at,
                      suppressions, held)
    return [(answer, invitation) for invitation, answer in rows if answer is not None]


def _relationship_campaign(org, demo, now, manager) -> None:
    """A rolling sample of subscribers and fleet customers, on the first of each month at 10:00 Riga time."""
    survey = next((s for s in getattr(demo, "surveys", []) if s.name == "Post-purchase NPS"), None)
    if survey is None:
        return
    link, _created = Distribution.objects.get_or_create(
        organization=org, survey=survey, name="Relationship e-mail",
        defaults={"channel": getattr(demo, "channels", {}).get("E-mail")})
    audience, _created = Audience.objects.get_or_create(
        organization=org, name="Subscribers and fleets",
        defaults={"kind": Audience.Kind.FILTER, "criteria": {"segments": ["subscription", "corporate fleet"]},
                  "created_by": manager})
    riga = zoneinfo.ZoneInfo("Europe/Riga")
    local = now.astimezone(riga)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    first_run = datetime(year, month, 1, 10, 0, tzinfo=riga).astimezone(zoneinfo.ZoneInfo("UTC"))
    Campaign.objects.create(
        organization=org, name=RELATIONSHIP_NAME, distribution=link, audience=audience,
        status=Campaign.Status.SCHEDULED, send_at=first_run, recurrence=Campaign.Recurrence.MONTHLY,
        sample_size=60, created_by=manager, **_message(reminder_days=[5]))


def _trigger_history(org, rule, events, rng, now, held, *, key, payload):
    """TriggerEvents and their invitations: `events` is [(customer, received_at, answer or None)]."""
    rows = []
    for number, (customer, received_at, _answer) in enumerate(events, 1):
        rows.append(TriggerEvent(
            organization=org, event=rule.event, idempotency_key=key(number), customer=customer,
            touchpoint_id=rule.distribution.touchpoint_id, payload=payload(number, customer), rules_matched=1,
            received_at=received_at))
    _bulk_create_dated(TriggerEvent, rows, "received_at")
    invitations = []
    waiting: dict[int, datetime] = {}  # customer → until when their invitation waits unsent
    for trigger, (customer, received_at, answer) in zip(rows, events, strict=True):
        send_after = received_at + timedelta(minutes=rule.delay_minutes)
        address = (customer.phone or "") if rule.medium == Medium.SMS else customer.email.strip().lower()
        invitation = Invitation(
            organization=org, trigger_rule=rule, trigger_event=trigger, distribution=rule.distribution,
            customer=customer, medium=rule.medium, address=address, language=_language(customer),
            status=Invitation.Status.SENT, send_after=send_after, created_at=received_at, attempts=1)
        if not address:
            invitation.status, invitation.skip_reason = Invitation.Status.SKIPPED, SkipReason.NO_ADDRESS
        elif address in held:
            invitation.status, invitation.skip_reason = Invitation.Status.SKIPPED, SkipReason.SUPPRESSED
        elif waiting.get(customer.pk, received_at) > received_at:
            invitation.status, invitation.skip_reason = Invitation.Status.SKIPPED, SkipReason.DUPLICATE
        elif answer is None and rng.random() < SHARES["policy"]:
            invitation.status, invitation.skip_reason = Invitation.Status.SKIPPED, SkipReason.POLICY
        elif send_after > now:
            invitation.status, invitation.attempts = Invitation.Status.QUEUED, 0
            waiting[customer.pk] = send_after
        else:
            waiting[customer.pk] = send_after
            invitation.sent_at = invitation.last_sent_at = send_after + timedelta(seconds=rng.randint(2, 40))
            if answer is not None:
                _mark_answer(invitation, answer, rng)
            else:
                _mark_silence(invitation, rng, now, reminder_days=(rule.reminder_days or [None])[0])
        if invitation.status == Invitation.Status.SKIPPED:
            invitation.attempts = 0
        invitations.append((invitation, answer))
    Invitation.objects.bulk_create([invitation for invitation, _answer in invitations], batch_size=500)
    return [(answer, invitation) for invitation, answer in invitations
            if answer is not None and invitation.sent_at is not None]


def _trigger_events(customers, answers, rng, now, *, per_day, weeks, delay, reachable):
    """Each answer preceded by the event that asked it; events nobody answered in between; a few
    customers with a second event while their first invitation still waited (a duplicate)."""
    answered = {a.customer_id for a in answers}
    by_pk = {c.pk: c for c in customers}
    events = [(by_pk[a.customer_id], a.started_at - delay - timedelta(minutes=rng.randint(3, 36 * 60)), a)
              for a in answers]
    quiet = [c for c in customers if c.pk not in answered and reachable(c)]
    start = now - timedelta(weeks=weeks)
    for _i in range(int(per_day * weeks * 7) - len(events)):
        events.append((rng.choice(quiet), start + timedelta(minutes=rng.randint(0, weeks * 7 * 24 * 60)), None))
    for customer, received_at, _answer in rng.sample(events, 4):
        events.append((customer, received_at + timedelta(minutes=rng.randint(5, 50)), None))
    events.append((rng.choice(quiet), now - delay / 3, None))  # just received: its invitation waits
    events = [e for e in events if e[1] < now]
    events.sort(key=lambda e: e[1])
    return events


def _repair_rule(org, link, customers, held, rng, now):
    rule = TriggerRule.objects.create(
        organization=org, name=REPAIR_RULE, event=REPAIR_EVENT, distribution=link, delay_minutes=120,
        **_message(reminder_days=[2]))
    TriggerRule.objects.filter(pk=rule.pk).update(created_at=now - timedelta(weeks=TRIGGER_WEEKS, days=3))
    delay = timedelta(minutes=rule.delay_minutes)
    answers = _answers(link, since=now - timedelta(weeks=TRIGGER_WEEKS) + delay + timedelta(hours=1), until=now)
    answers = [a for a in answers if a.customer_id in {c.pk for c in customers if c.email}]
    events = _trigger_events(customers, answers, rng, now, per_day=3, weeks=TRIGGER_WEEKS, delay=delay,
                             reachable=lambda c: bool(c.email))
    models = ["VR City", "VR Pro", "VR Cargo"]
    return _trigger_history(
        org, rule, events, rng, now, held, key=lambda n: f"repair-R-{40000 + n}-closed",
        payload=lambda n, c: {"repair_id": f"R-{40000 + n}",
                              "model": (c.attributes or {}).get("model") or rng.choice(models)})


def _inbox_rule(org, link, customers, held, rng, now):
    rule = TriggerRule.objects.create(
        organization=org, name=INBOX_RULE, event=INBOX_EVENT, distribution=link, delay_minutes=60,
        **_message(medium=Medium.SMS))
    weeks = 4
    TriggerRule.objects.filter(pk=rule.pk).update(created_at=now - timedelta(weeks=weeks, days=1))
    delay = timedelta(minutes=rule.delay_minutes)
    answers = _answers(link, since=now - timedelta(weeks=weeks) + delay + timedelta(hours=1), until=now)
    events = _trigger_events(customers, answers, rng, now, per_day=4, weeks=weeks, delay=delay,
                             reachable=lambda c: bool(c.phone))
    return _trigger_history(org, rule, events, rng, now, held, key=lambda n: f"inbox-item-{n}-resolved",
                            payload=lambda n, c: {"resolved_by": rng.choice(["agent", "agent2"])})


def _save_suppressions(suppressions) -> None:
    first: dict[str, Suppression] = {}
    for entry in sorted(suppressions, key=lambda s: s.created_at):
        first.setdefault(entry.address, entry)  # the first reason stays, as services.suppress keeps it
    entries = list(first.values())
    _bulk_create_dated(Suppression, entries, "created_at")


def _bulk_create_dated(model, rows, field) -> None:
    """bulk_create with a past date in an `auto_now_add` field (which overwrites it with now)."""
    dates = [getattr(row, field) for row in rows]
    model.objects.bulk_create(rows, batch_size=500)
    for row, date in zip(rows, dates, strict=True):
        setattr(row, field, date)
    model.objects.bulk_update(rows, [field], batch_size=500)


def _link_answers(linked) -> None:
    """Each answer carries its invitation, as one through the invitation's link does."""
    Response.objects.bulk_update(
        [Response(pk=answer.id, hidden_fields={**answer.hidden_fields, "invitation": str(invitation.pk)})
         for answer, invitation in linked], ["hidden_fields"], batch_size=500)
