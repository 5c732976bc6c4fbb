"""Sending invitations exactly once, at the organization's pace (docs/adr/0024).

A sender claims a batch under the organization's `SendingProfile` row lock: the throttle's
budget (messages per minute) and the contact policy are decided there, across every worker.
Each claimed row is marked `sending` with a lease, sent on its own, and marked `sent` at once,
so a worker killed mid-batch leaves only its unsent rows (and at most the one in flight) for
the next sender after the lease; nobody else is sent twice, nobody is skipped. A send repeated
after such a death carries the same Message-ID (messages.message_id). Just before its send each
row's lease is renewed if the claim is still this sender's, so a batch slower than the lease
loses its remaining rows to the next sender instead of sending them twice."""

import logging
import smtplib
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from cxplatform import sms
from surveys.models import Response, Survey

from . import messages, services
from .models import Invitation, Medium, SendingProfile, SkipReason, Suppression

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=5)
THROTTLE_WINDOW = timedelta(minutes=1)


def _due(now) -> Q:
    first = Q(status=Invitation.Status.QUEUED, send_after__lte=now)
    lost = Q(status=Invitation.Status.SENDING, claimed_until__lt=now)
    reminder = Q(status=Invitation.Status.SENT, next_reminder_at__lte=now)
    return first | lost | reminder


def due_organizations(*, now=None) -> list[int]:
    now = now or timezone.now()
    ids = set(Invitation.objects.filter(status=Invitation.Status.QUEUED, send_after__lte=now)
              .values_list("organization_id", flat=True).distinct()[:100])
    ids |= set(Invitation.objects.filter(status=Invitation.Status.SENDING, claimed_until__lt=now)
               .values_list("organization_id", flat=True).distinct()[:100])
    ids |= set(Invitation.objects.filter(next_reminder_at__lte=now, status=Invitation.Status.SENT)
               .values_list("organization_id", flat=True).distinct()[:100])
    return sorted(ids)


def send_due(*, now=None, organization_id: int | None = None, max_batches: int = 50) -> int:
    """Claim and send what is due, batch after batch, until nothing is claimable (all sent, or
    each organization at its throttle). Returns how many messages went out."""
    sent = 0
    for _batch in range(max_batches):
        organizations = [organization_id] if organization_id else due_organizations(now=now)
        progress = False
        for org_id in organizations:
            batch = claim(organization_id=org_id, now=now)
            if batch:
                progress = True
                sent += deliver(batch, now=now)
        if not progress:
            break
    return sent


def claim(*, organization_id: int, now=None, limit: int | None = None) -> list[Invitation]:
    """Take up to the throttle's budget of due invitations; skip, with their reason, those the
    contact policy or the suppression list holds back now. Returns the rows to send."""
    now = now or timezone.now()
    limit = limit or settings.INVITATION_BATCH
    with transaction.atomic():
        profile, _created = SendingProfile.objects.get_or_create(organization_id=organization_id)
        profile = SendingProfile.objects.select_for_update(no_key=True).get(pk=profile.pk)
        in_window = Invitation.objects.filter(organization_id=organization_id, last_sent_at__gte=now - THROTTLE_WINDOW)
        in_flight = Invitation.objects.filter(organization_id=organization_id, status=Invitation.Status.SENDING,
                                              claimed_until__gte=now)
        budget = profile.messages_per_minute - in_window.count() - in_flight.count()
        if budget <= 0:
            return []
        rows = list(
            Invitation.objects.select_for_update(no_key=True, skip_locked=True, of=("self",))
            .select_related("distribution__survey", "customer", "campaign", "trigger_rule", "organization")
            .filter(organization_id=organization_id).filter(_due(now))
            .order_by("send_after", "id")[:min(budget, limit)]
        )
        if not rows:
            return []
        skips, done = _hold_back(rows, organization_id=organization_id, now=now)
        for reason, ids in skips.items():
            Invitation.objects.filter(pk__in=ids).update(status=Invitation.Status.SKIPPED, skip_reason=reason,
                                                          claimed_until=None)
        if done:  # answered, unsubscribed or bounced since: no more reminders
            Invitation.objects.filter(pk__in=done).update(next_reminder_at=None)
        held = {pk for ids in skips.values() for pk in ids} | set(done)
        failed = [row.pk for row in rows if row.pk not in held and row.attempts >= MAX_ATTEMPTS]
        if failed:
            Invitation.objects.filter(pk__in=failed).update(status=Invitation.Status.FAILED, claimed_until=None)
        held |= set(failed)
        claimed = [row for row in rows if row.pk not in held]
        lease = now + timedelta(seconds=settings.INVITATION_CLAIM_SECONDS)
        Invitation.objects.filter(pk__in=[row.pk for row in claimed]).update(
            status=Invitation.Status.SENDING, claimed_until=lease, attempts=F("attempts") + 1)
        for row in claimed:
            row.attempts += 1
    return claimed


def _hold_back(rows: list[Invitation], *, organization_id: int, now) -> tuple[dict, list]:
    """Decided at the moment of sending (not when the invitation was made): the suppression
    list, the contact policy (asked or answered lately, any survey, any channel), the cap, the
    survey still open. Reminders stop once the person answered or left."""
    skips: dict[str, list[int]] = defaultdict(list)
    done: list[int] = []
    firsts = [row for row in rows if row.sent_at is None]
    reminders = [row for row in rows if row.sent_at is not None]
    addresses = {row.address for row in rows if row.address}
    suppressed = set(Suppression.objects.filter(organization_id=organization_id, address__in=addresses)
                     .values_list("address", flat=True))
    if reminders:
        answered = set(
            Response.objects.filter(customer_id__in=[r.customer_id for r in reminders])
            .filter(survey_id__in={r.distribution.survey_id for r in reminders})
            .values_list("customer_id", "survey_id"))
        for row in reminders:
            if (row.address in suppressed or row.unsubscribed_at or row.bounced_at or row.response_id
                    or (row.customer_id, row.distribution.survey_id) in answered
                    or not _open(row.distribution, now)):
                done.append(row.pk)
    if not firsts:
        return skips, done
    policy = services.policy_for(firsts[0].organization)
    customer_ids = {row.customer_id for row in firsts}
    first_ids = [row.pk for row in firsts]
    recently_asked: set[int] = set()
    if policy.enabled and policy.min_days_between_surveys:
        since = now - timedelta(days=policy.min_days_between_surveys)
        recently_asked |= set(
            Invitation.objects.filter(customer_id__in=customer_ids).exclude(pk__in=first_ids)
            .filter(Q(sent_at__gte=since) | Q(status=Invitation.Status.SENDING)).values_list("customer_id", flat=True))
        recently_asked |= set(Response.objects.filter(customer_id__in=customer_ids, started_at__gte=since)
                              .values_list("customer_id", flat=True))
    over_cap: set[int] = set()
    if policy.max_invitations:
        cap_since = now - timedelta(days=policy.cap_days)
        over_cap = {
            row["customer_id"] for row in
            Invitation.objects.filter(customer_id__in=customer_ids, sent_at__gte=cap_since)
            .values("customer_id").annotate(n=Count("id")).filter(n__gte=policy.max_invitations)
        }
    seen: set[int] = set()
    for row in firsts:
        if not row.address:
            reason = SkipReason.NO_ADDRESS
        elif row.address in suppressed:
            reason = SkipReason.SUPPRESSED
        elif not _open(row.distribution, now):
            reason = SkipReason.CLOSED
        elif row.customer_id in recently_asked:
            reason = SkipReason.POLICY
        elif row.customer_id in over_cap:
            reason = SkipReason.CAP
        elif row.customer_id in seen:  # two invitations for one person in one batch: the first goes
            reason = SkipReason.POLICY if policy.enabled and policy.min_days_between_surveys else SkipReason.DUPLICATE
        else:
            seen.add(row.customer_id)
            continue
        skips[reason].append(row.pk)
    return skips, done


def _open(distribution, now) -> bool:
    survey = distribution.survey
    return (distribution.active and survey.status == Survey.Status.ACTIVE
            and not (survey.ends_at and now >= survey.ends_at))


def deliver(batch: list[Invitation], *, now=None) -> int:
    """Send each claimed invitation and mark it at once (never inside a transaction)."""
    sent = 0
    connection = None
    lease = _Lease(batch, now=now)
    profiles = {}
    renderer = messages.Renderer()
    try:
        for invitation in batch:
            if not lease.holds(invitation):
                continue  # the lease ran out while earlier rows of the batch went: another sender has it
            if invitation.organization_id not in profiles:
                profiles[invitation.organization_id] = messages.profile_of(invitation.organization)
            try:
                if invitation.medium == Medium.EMAIL and connection is None:
                    connection = get_connection()
                    connection.open()  # inside the try: a mail server that is down fails this row, retried later
                _send_one(invitation, connection, now=now, profile=profiles[invitation.organization_id],
                          renderer=renderer)
            except (smtplib.SMTPRecipientsRefused, sms.SmsError) as exc:
                permanent = isinstance(exc, smtplib.SMTPRecipientsRefused) or exc.permanent
                _failed(invitation, exc, permanent=permanent)
            except ValueError as exc:  # a message that cannot be written (a bad address or header)
                _failed(invitation, exc, permanent=True)
            except (TimeoutError, smtplib.SMTPException, OSError) as exc:
                _failed(invitation, exc, permanent=False)
                if connection is not None:
                    connection.close()
                    connection = None
            else:
                sent += 1
    finally:
        if connection is not None:
            connection.close()
    return sent


class _Lease:
    """A sender's hold on its batch. Renewed for the rows still its own (the attempt it claimed)
    before the first send and again whenever a third of the lease has gone by, so a batch slower
    than the lease keeps its rows, and a row another sender took over after a stall is dropped,
    never sent twice. One locked read and one UPDATE per renewal, not per message."""

    def __init__(self, batch: list[Invitation], *, now=None):
        self.claimed = {invitation.pk: invitation.attempts for invitation in batch}
        self.ours: set[int] = set()
        self.fixed_now = now  # tests pass the sender's clock
        self.renewed_at: float | None = None

    def holds(self, invitation: Invitation) -> bool:
        seconds = settings.INVITATION_CLAIM_SECONDS
        if self.renewed_at is None or time.monotonic() - self.renewed_at > seconds / 3:
            self._renew(seconds)
        return invitation.pk in self.ours

    def _renew(self, seconds: int) -> None:
        pending = self.claimed  # rows already sent are no longer `sending`: the renewal leaves them
        until = (self.fixed_now or timezone.now()) + timedelta(seconds=seconds)
        with transaction.atomic():
            rows = (Invitation.objects.select_for_update(no_key=True).filter(pk__in=list(pending),
                                                                  status=Invitation.Status.SENDING)
                    .values_list("pk", "attempts"))
            self.ours = {pk for pk, attempts in rows if pending[pk] == attempts}
            Invitation.objects.filter(pk__in=self.ours).update(claimed_until=until)
        self.renewed_at = time.monotonic()


def _send_one(invitation: Invitation, connection, *, now=None, profile=None, renderer: messages.Renderer) -> None:
    source = invitation.campaign or invitation.trigger_rule
    reminder = invitation.sent_at is not None
    number = invitation.reminders_sent + 1 if reminder else 0
    rendered = renderer.render(source=source, distribution=invitation.distribution, customer=invitation.customer,
                               organization=invitation.organization, language=invitation.language,
                               invitation=invitation, reminder=reminder)
    if invitation.medium == Medium.SMS:
        sms.send(messages.text_message(rendered, to=invitation.address, invitation=invitation, number=number))
    else:
        message = messages.email(rendered, to=invitation.address, organization=invitation.organization,
                                 invitation=invitation, number=number, profile=profile)
        connection.send_messages([message])
    _mark_sent(invitation, source=source, reminder=reminder, now=now)


def _mark_sent(invitation: Invitation, *, source, reminder: bool, now=None) -> None:
    now = now or timezone.now()  # the sender's clock: the throttle's window counts from it
    sent_at = invitation.sent_at or now
    reminders_sent = invitation.reminders_sent + (1 if reminder else 0)
    Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.SENDING,
                              attempts=invitation.attempts).update(
        status=Invitation.Status.SENT, sent_at=sent_at, last_sent_at=now, reminders_sent=reminders_sent,
        claimed_until=None, last_error="",
        next_reminder_at=services.reminder_schedule(source.reminder_days, sent_at=sent_at,
                                                    reminders_sent=reminders_sent),
    )


def _failed(invitation: Invitation, exc: Exception, *, permanent: bool) -> None:
    logger.warning("invitation %s not sent: %s", invitation.pk, exc)
    reminder = invitation.sent_at is not None
    if permanent or invitation.attempts >= MAX_ATTEMPTS:
        changes = ({"status": Invitation.Status.SENT, "next_reminder_at": None} if reminder
                   else {"status": Invitation.Status.FAILED})
    else:  # try again after a while: the lease runs out then
        changes = {"claimed_until": timezone.now() + RETRY_AFTER}
    Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.SENDING).update(
        last_error=str(exc)[:500], **changes)


def send_test(*, source, to: str, language: str, user_name: str = "") -> None:
    """A test send of a campaign or rule to the manager themself, through the real backend."""
    from cxplatform.models import Customer

    example = Customer(organization=source.organization, name=user_name, language=language)
    rendered = messages.render(source=source, distribution=source.distribution, customer=example,
                               organization=source.organization, language=language, invitation=None)
    if source.medium == Medium.SMS:
        sms.send(messages.text_message(rendered, to=to, invitation=None))
    else:
        messages.email(rendered, to=to, organization=source.organization, invitation=None).send()
