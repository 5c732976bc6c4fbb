"""The rules of survey invitations: starting a campaign's run (one INSERT … SELECT, the skips
decided in the database), receiving a trigger once per idempotency key, the suppression list
(unsubscribe, bounce, complaint, erasure) and the funnel marks. Sending is in `sending.py`."""

import calendar
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cxplatform import events
from cxplatform.services import match_or_create_customer, normalise_phone
from surveys.models import ContactPolicy, Response, Survey
from surveys.services import contact_policy

from . import audiences
from .models import (
    Campaign,
    Invitation,
    Medium,
    SkipReason,
    Suppression,
    TriggerEvent,
    TriggerRule,
)

UNSUBSCRIBE_SALT = "invitations.unsubscribe"
BUILT_IN_EVENTS = {"inbox_item_resolved"}  # sent by the platform itself (an inbox item resolved)
# Public event (outgoing webhooks subscribe): a one-off campaign has sent everything it queued.
# A run of a campaign sent everything it queued: a one-off campaign once, a recurring one after
# each run. Version 1 (before recurring runs were told) named no run: it was the campaign's last.
CAMPAIGN_FINISHED = events.declare("campaign.finished", fields={"campaign_id", "run"}, version=2,
                                   upgrades={1: lambda payload: {**payload, "run": None}})


class CampaignError(ValueError):
    """The campaign cannot do that now; the message is for the manager."""


# --- Addresses and the suppression list -----------------------------------------------------

def address_of(customer, medium: str) -> str:
    if medium == Medium.SMS:
        return normalise_phone(customer.phone or "")
    return (customer.email or "").strip().lower()


def normalise_address(address: str) -> str:
    address = (address or "").strip()
    return address.lower() if "@" in address else normalise_phone(address)


def suppress(*, organization, address: str, reason: str, source: str, customer=None, invitation=None,
             user=None) -> tuple[Suppression, bool]:
    """Add `address` to the organization's suppression list (once; the first reason stays).
    Its invitations still queued are skipped, and reminders stop."""
    address = normalise_address(address)
    if not address:
        raise ValueError("no address to suppress")
    with transaction.atomic():
        try:
            with transaction.atomic():
                entry = Suppression.objects.create(
                    organization=organization, address=address, reason=reason, source=source[:40],
                    customer=customer, invitation=invitation, created_by=user)
            created = True
        except IntegrityError:
            entry, created = Suppression.objects.get(organization=organization, address=address), False
        Invitation.objects.filter(organization=organization, address=address, status=Invitation.Status.QUEUED).update(
            status=Invitation.Status.SKIPPED, skip_reason=SkipReason.SUPPRESSED)
        Invitation.objects.filter(organization=organization, address=address, next_reminder_at__isnull=False).update(
            next_reminder_at=None)
    return entry, created


def lift_suppression(*, organization, address: str) -> bool:
    """The team removes an address (the customer asked to hear from them again)."""
    return Suppression.objects.filter(organization=organization, address=normalise_address(address)).delete()[0] > 0


def unsubscribe_token(invitation: Invitation) -> str:
    return signing.dumps(invitation.pk, salt=UNSUBSCRIBE_SALT)


def invitation_from_token(token: str) -> Invitation | None:
    try:
        invitation_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(invitation_id, int):
        return None
    return (Invitation.objects.select_related("organization__branding", "customer")
            .filter(pk=invitation_id).first())


def unsubscribe(*, invitation: Invitation, source: str) -> bool:
    """The person asked to hear no more (the link in the e-mail, or their mail client's one-click
    `List-Unsubscribe-Post`). No login: the signed token is the proof. True when newly done."""
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(pk=invitation.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now, next_reminder_at=None)
        if not invitation.address:
            return False
        _entry, created = suppress(organization=invitation.organization, address=invitation.address,
                                   reason=Suppression.Reason.UNSUBSCRIBED, source=source,
                                   customer=invitation.customer, invitation=invitation)
    return created


@dataclass
class ReportedEvent:
    kind: str  # bounce | complaint
    address: str = ""
    message_id: str = ""
    permanent: bool = True


def invitation_id_from_message_id(message_id: str) -> int | None:
    # Our Message-IDs are <invitation-{id}-{n}@host> (messages.message_id).
    local = message_id.strip().strip("<>").split("@")[0]
    parts = local.split("-")
    if len(parts) == 3 and parts[0] == "invitation" and parts[1].isdigit():
        return int(parts[1])
    return None


def record_delivery_report(event: ReportedEvent) -> int:
    """A bounce or a complaint from the mail provider: the invitation is marked and a hard
    bounce or a complaint suppresses the address. Returns how many invitations it matched."""
    now = timezone.now()
    invitations = Invitation.objects.select_related("organization", "customer")
    invitation_id = invitation_id_from_message_id(event.message_id) if event.message_id else None
    address = normalise_address(event.address)
    if invitation_id is not None:
        matched = list(invitations.filter(pk=invitation_id))
        if address:
            matched = [inv for inv in matched if inv.address == address]
    elif address:
        # No message id: every organization that wrote to the address lately hears of it.
        recent = now - timedelta(days=30)
        matched = list(invitations.filter(address=address, last_sent_at__gte=recent).order_by("organization_id",
                                                                                             "-last_sent_at"))
        seen = set()
        matched = [inv for inv in matched if not (inv.organization_id in seen or seen.add(inv.organization_id))]
    else:
        matched = []
    for invitation in matched:
        with transaction.atomic():
            if event.kind == "bounce":
                Invitation.objects.filter(pk=invitation.pk).update(
                    bounced_at=now, next_reminder_at=None,
                    last_error=("hard bounce" if event.permanent else "soft bounce"))
            if event.kind == "complaint" or event.permanent:
                reason = Suppression.Reason.COMPLAINED if event.kind == "complaint" else Suppression.Reason.BOUNCED
                suppress(organization=invitation.organization, address=invitation.address, reason=reason,
                         source=Suppression.Source.WEBHOOK, customer=invitation.customer, invitation=invitation)
    return len(matched)


# --- The funnel marks (from the survey page, through events) --------------------------------

def mark_opened(*, invitation_id: int) -> None:
    Invitation.objects.filter(pk=invitation_id, opened_at__isnull=True).update(opened_at=timezone.now())


def mark_answered(*, invitation_id: int, response_id: int) -> None:
    """The invited person answered (in part or whole): the funnel moves on, reminders stop."""
    response = Response.objects.filter(pk=response_id).values(
        "organization_id", "customer_id", "status", "started_at", "submitted_at").first()
    if response is None:
        return
    invitation = Invitation.objects.filter(pk=invitation_id, organization_id=response["organization_id"])
    if response["customer_id"] is not None:
        invitation = invitation.filter(customer_id=response["customer_id"])
    changes = {
        "response_id": response_id, "next_reminder_at": None,
        "opened_at": Coalesce(F("opened_at"), response["started_at"]),
        "started_at": Coalesce(F("started_at"), response["started_at"]),
    }
    if response["status"] == Response.Status.COMPLETED:
        changes["completed_at"] = Coalesce(F("completed_at"), response["submitted_at"] or response["started_at"])
    invitation.update(**changes)


# --- Campaigns ------------------------------------------------------------------------------

@dataclass
class RunCounts:
    queued: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.queued + sum(self.skipped.values())


def check_ready(campaign: Campaign) -> None:
    """What must hold before a campaign may be scheduled or sent (CampaignError says what not)."""
    survey = campaign.distribution.survey
    if not campaign.languages:
        raise CampaignError(_("Write the message in at least one language."))
    if campaign.medium == Medium.EMAIL:
        missing = [code for code in campaign.languages if not (campaign.subject or {}).get(code)]
        if missing:
            raise CampaignError(_("Write the subject in every language of the message: %(languages)s.")
                                % {"languages": ", ".join(missing)})
    if survey.status != Survey.Status.ACTIVE or not campaign.distribution.active:
        raise CampaignError(_("The survey and its link must be active before invitations go out."))
    if campaign.recurrence != Campaign.Recurrence.ONCE and campaign.send_at is None:
        raise CampaignError(_("A repeating campaign needs its first date and time."))


def schedule(*, campaign: Campaign, send_at: datetime | None, user=None) -> Campaign:
    """Send now (send_at None) or at `send_at`; the beat starts it when due."""
    with transaction.atomic():
        campaign = (Campaign.objects.select_for_update(no_key=True).select_related("distribution__survey")
                    .get(pk=campaign.pk))
        if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            raise CampaignError(_("This campaign is already under way."))
        campaign.send_at = send_at
        check_ready(campaign)
        campaign.status = Campaign.Status.SCHEDULED
        campaign.version = F("version") + 1
        campaign.save(update_fields=["status", "send_at", "version"])
        campaign.refresh_from_db()
    if send_at is None or send_at <= timezone.now():
        from .tasks import start_due_campaigns

        transaction.on_commit(start_due_campaigns.delay)
    return campaign


def cancel(*, campaign: Campaign) -> int:
    """Stop a campaign: what is still queued is not sent. Returns how many were held back."""
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CANCELLED, version=F("version") + 1)
        held = Invitation.objects.filter(campaign=campaign, status=Invitation.Status.QUEUED).update(
            status=Invitation.Status.SKIPPED, skip_reason=SkipReason.CLOSED)
        Invitation.objects.filter(campaign=campaign, next_reminder_at__isnull=False).update(next_reminder_at=None)
    return held


def start_due(*, now=None) -> list[RunCounts]:
    """Start each campaign whose time has come (the beat, and "send now")."""
    now = now or timezone.now()
    due = Campaign.objects.filter(status=Campaign.Status.SCHEDULED).filter(
        Q(send_at__isnull=True) | Q(send_at__lte=now)).values_list("pk", flat=True)
    return [counts for pk in list(due) if (counts := start_run(campaign_id=pk, now=now)) is not None]


def start_run(*, campaign_id: int, now=None) -> RunCounts | None:
    """Prepare one run of a campaign: one invitation row per person of the audience, queued or
    skipped with its reason, written by a single INSERT … SELECT (constant memory at any size).
    The campaign row's lock makes a run start once, however many beats ask."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = (Campaign.objects.select_for_update(no_key=True, of=("self",))
                    .select_related("organization", "audience", "distribution__survey")
                    .filter(pk=campaign_id, status=Campaign.Status.SCHEDULED).first())
        if campaign is None or (campaign.send_at and campaign.send_at > now):
            return None
        run = campaign.runs + 1
        counts = _insert_run(campaign, run=run, now=now)
        campaign.runs = run
        campaign.last_run_at = now
        if campaign.recurrence == Campaign.Recurrence.ONCE:
            campaign.status = Campaign.Status.SENDING
        else:
            campaign.send_at = next_run_at(campaign, campaign.send_at or now)
        campaign.save(update_fields=["runs", "last_run_at", "status", "send_at"])
    from .tasks import send_due

    transaction.on_commit(send_due.delay)
    return counts


def next_run_at(campaign: Campaign, previous: datetime) -> datetime:
    """The next run of a recurring campaign at the same wall-clock time in the organization's zone."""
    zone = zoneinfo.ZoneInfo(campaign.organization.time_zone or "UTC")
    local = previous.astimezone(zone).replace(tzinfo=None)
    if campaign.recurrence == Campaign.Recurrence.WEEKLY:
        local = local + timedelta(days=7)
    else:
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        local = local.replace(year=year, month=month, day=min(local.day, calendar.monthrange(year, month)[1]))
    return local.replace(tzinfo=zone).astimezone(zoneinfo.ZoneInfo("UTC"))


def _insert_run(campaign: Campaign, *, run: int, now) -> RunCounts:
    organization = campaign.organization
    policy = contact_policy(organization)
    base = audiences.customers(campaign.audience, now=now).order_by()
    if campaign.sample_size:
        base = base.order_by("?")[:campaign.sample_size]
    base_sql, base_params = base.values("id", "email", "phone", "language").query.sql_with_params()
    languages = campaign.languages
    fallback = organization.default_language if organization.default_language in languages else languages[0]
    lang_marks = ", ".join(["%s"] * len(languages))
    # Phones are stored normalised (cxplatform.services.normalise_phone); e-mails in any case.
    address_sql = "COALESCE(b.phone, '')" if campaign.medium == Medium.SMS else "LOWER(TRIM(COALESCE(b.email, '')))"
    policy_on = bool(policy.enabled and policy.min_days_between_surveys)
    since = now - timedelta(days=policy.min_days_between_surveys or 0)
    cap_since = now - timedelta(days=policy.cap_days or 0)
    table = Invitation._meta.db_table
    suppressions = Suppression._meta.db_table
    responses = Response._meta.db_table
    # Table names from the models; every value a parameter.
    sql = f"""
        INSERT INTO {table} (organization_id, campaign_id, run, distribution_id, customer_id, medium, address,
                             language, status, skip_reason, send_after, attempts, last_error, reminders_sent,
                             created_at)
        SELECT %s, %s, %s, %s, c.id, %s, c.address, c.language,
               CASE WHEN c.skip = '' THEN 'queued' ELSE 'skipped' END, c.skip, %s, 0, '', 0, %s
        FROM (
            SELECT a.id, a.address, a.language,
                   CASE WHEN a.address = '' THEN 'no_address'
                        WHEN EXISTS (SELECT 1 FROM {suppressions} s
                                     WHERE s.organization_id = %s AND s.address = a.address) THEN 'suppressed'
                        WHEN %s AND (EXISTS (SELECT 1 FROM {table} i WHERE i.customer_id = a.id
                                             AND (i.sent_at >= %s OR i.status = 'sending'))
                                     OR EXISTS (SELECT 1 FROM {responses} r WHERE r.customer_id = a.id
                                                AND r.started_at >= %s)) THEN 'policy'
                        WHEN %s AND (SELECT COUNT(*) FROM {table} i WHERE i.customer_id = a.id
                                     AND i.sent_at >= %s) >= %s THEN 'cap'
                        ELSE '' END AS skip
            FROM (
                SELECT b.id, {address_sql} AS address,
                       CASE WHEN b.language IN ({lang_marks}) THEN b.language ELSE %s END AS language
                FROM ({base_sql}) b
            ) a
        ) c
        WHERE 1 = 1  -- SQLite reads "c ON" as a join without a WHERE before ON CONFLICT
        ON CONFLICT DO NOTHING
    """  # noqa: S608  # nosec B608
    params = [
        organization.pk, campaign.pk, run, campaign.distribution_id, campaign.medium, now, now,
        organization.pk,
        policy_on, since, since,
        bool(policy.max_invitations), cap_since, policy.max_invitations,
        *languages, fallback,
        *base_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return run_counts(campaign, run=run)


def run_counts(campaign: Campaign, *, run: int | None = None) -> RunCounts:
    rows = Invitation.objects.filter(campaign=campaign)
    if run is not None:
        rows = rows.filter(run=run)
    counts = RunCounts()
    for row in rows.values("status", "skip_reason").annotate(n=Count("id")).order_by():
        if row["status"] == Invitation.Status.SKIPPED:
            counts.skipped[row["skip_reason"]] = counts.skipped.get(row["skip_reason"], 0) + row["n"]
        else:
            counts.queued += row["n"]
    return counts


def in_flight(invitations):
    """Invitations of a run still to go out: queued, or being sent for the first time (a reminder
    being sent goes back to "sending" after the run itself was over)."""
    return invitations.filter(Q(status=Invitation.Status.QUEUED)
                              | Q(status=Invitation.Status.SENDING, sent_at__isnull=True))


def finish_sent_campaigns() -> int:
    """Each run with nothing left to send is finished, and told once (campaign.finished), in run
    order: a one-off campaign becomes sent; a recurring one keeps its status (scheduled, or a draft
    being edited). A run still sending holds back only itself and the runs after it. Returns how
    many runs finished."""
    candidates = (Campaign.objects.filter(runs__gt=F("runs_finished"))
                  .exclude(status=Campaign.Status.CANCELLED).select_related("organization"))
    done = 0
    for campaign in candidates:
        if campaign.recurrence == Campaign.Recurrence.ONCE and campaign.status != Campaign.Status.SENDING:
            continue
        waiting = in_flight(Invitation.objects.filter(campaign=campaign, run__gt=campaign.runs_finished))
        first_waiting = waiting.aggregate(run=Min("run"))["run"]
        through = campaign.runs if first_waiting is None else first_waiting - 1
        if through <= campaign.runs_finished:
            continue
        with transaction.atomic():  # the conditional update makes each run finish, and tell, once
            changes = {"runs_finished": through}
            if campaign.status == Campaign.Status.SENDING and through == campaign.runs:
                changes["status"] = Campaign.Status.SENT
            finished = Campaign.objects.filter(pk=campaign.pk, status=campaign.status, runs=campaign.runs,
                                               runs_finished=campaign.runs_finished).update(**changes)
            if finished:
                for run in range(campaign.runs_finished + 1, through + 1):
                    events.emit(CAMPAIGN_FINISHED, organization=campaign.organization, campaign_id=campaign.pk,
                                run=run)
                    done += 1
    return done


# --- Triggers -------------------------------------------------------------------------------

class TriggerError(ValueError):
    """A trigger that cannot be taken: the message is for the calling system's developer."""


@dataclass
class TriggerResult:
    event: TriggerEvent
    created: bool
    invitations: list[Invitation]


def receive_trigger(*, organization, event: str, idempotency_key: str, external_id: str = "", email: str = "",
                    phone: str = "", name: str = "", language: str = "", attributes: dict | None = None,
                    touchpoint_id: int | None = None, payload: dict | None = None, now=None) -> TriggerResult:
    """Something happened to a customer in another system. Each active rule for the event queues
    an invitation after its delay; the same idempotency key again changes nothing and answers
    with what the first call did."""
    now = now or timezone.now()
    idempotency_key = idempotency_key.strip()[:200]
    if not idempotency_key:
        raise TriggerError(_("An idempotency key is required."))
    existing = TriggerEvent.objects.filter(organization=organization, idempotency_key=idempotency_key).first()
    if existing is not None:
        return TriggerResult(existing, False, list(existing.invitations.all()))
    if not (external_id or email or phone):
        raise TriggerError(_("Name the customer: an external id, an e-mail or a phone."))
    try:
        with transaction.atomic():
            customer = match_or_create_customer(organization, external_id=external_id, email=email, phone=phone,
                                                name=name, language=language)
            if attributes:
                customer.attributes = {**customer.attributes, **{str(k)[:50]: v for k, v in attributes.items()}}
                customer.save(update_fields=["attributes"])
            rules = list(TriggerRule.objects.filter(organization=organization, event=event, active=True)
                         .select_related("distribution"))
            trigger = TriggerEvent.objects.create(
                organization=organization, event=event, idempotency_key=idempotency_key, customer=customer,
                touchpoint_id=touchpoint_id, payload=payload or {}, rules_matched=len(rules))
            invitations = [_trigger_invitation(rule, trigger, customer, now=now) for rule in rules]
            Invitation.objects.bulk_create(invitations)
    except IntegrityError:  # the same key, at the same moment, from a retrying caller
        existing = TriggerEvent.objects.get(organization=organization, idempotency_key=idempotency_key)
        return TriggerResult(existing, False, list(existing.invitations.all()))
    if any(inv.status == Invitation.Status.QUEUED and inv.send_after <= now for inv in invitations):
        from .tasks import send_due

        transaction.on_commit(send_due.delay)
    return TriggerResult(trigger, True, invitations)


def _trigger_invitation(rule: TriggerRule, trigger: TriggerEvent, customer, *, now) -> Invitation:
    address = address_of(customer, rule.medium)
    languages = rule.languages or [customer.organization.default_language]
    language = customer.language if customer.language in languages else (
        customer.organization.default_language if customer.organization.default_language in languages
        else languages[0])
    skip = ""
    if not address:
        skip = SkipReason.NO_ADDRESS
    elif Suppression.objects.filter(organization=rule.organization_id, address=address).exists():
        skip = SkipReason.SUPPRESSED
    elif Invitation.objects.filter(trigger_rule=rule, customer=customer, status=Invitation.Status.QUEUED).exists():
        skip = SkipReason.DUPLICATE  # already waiting to be asked the same thing
    return Invitation(
        organization_id=rule.organization_id, trigger_rule=rule, trigger_event=trigger,
        distribution=rule.distribution, customer=customer, medium=rule.medium, address=address, language=language,
        status=Invitation.Status.SKIPPED if skip else Invitation.Status.QUEUED, skip_reason=skip,
        send_after=now + timedelta(minutes=rule.delay_minutes), created_at=now,
    )


def reminder_schedule(reminder_days: list, *, sent_at: datetime, reminders_sent: int) -> datetime | None:
    """When the next reminder is due (None: no more)."""
    days = sorted(int(d) for d in reminder_days or [] if str(d).isdigit() and int(d) > 0)
    if reminders_sent >= len(days):
        return None
    return sent_at + timedelta(days=days[reminders_sent])


def policy_for(organization) -> ContactPolicy:
    return contact_policy(organization)

