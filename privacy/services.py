"""Data-subject requests (export, erasure) and retention: the rules of docs/adr/0028.

Erasure keeps every figure: rows stay, with what the figures read (scores, bands, sentiment,
language, dates, segment, themes, statuses); what identifies the person is blanked, replaced by
ERASED_TEXT or scrubbed, as `privacy.registry` lists place by place.
"""

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta

from django.apps import apps
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from cxplatform.audit import AuditAction, record
from cxplatform.models import Customer
from cxplatform.tenancy import scoped
from cxplatform.textinsight.tokens import search_text
from feedback.models import FeedbackItem, ItemEvent, Message, Note, PromoterThanks
from invitations.models import AudienceMember, Invitation, SkipReason, Suppression, TriggerEvent
from invitations.services import suppress
from surveys.exporting import neutralise
from surveys.models import Answer, ExportJob, Response

from . import selectors
from .models import RetentionPolicy
from .registry import ERASED_TEXT, NAMING_TEXTS
from .selectors import LOOKS_LIKE_EMAIL, Subject

# Hidden fields the platform itself writes (ids, not the person's): figures and the closed loop read them.
PLATFORM_HIDDEN_FIELDS = frozenset({"follow_up_case", "invitation"})
PERSONAL_KEYS = ("mail", "phone", "name", "address", "msisdn")
RETENTION_BATCH = 200


# --- Export ------------------------------------------------------------------------------------

def _when(value) -> str:
    return value.isoformat() if value else ""


def export_rows(subject: Subject) -> dict[str, list[dict]]:
    """Everything held about the person, by kind: the ZIP's JSON, and one CSV per kind."""
    held = selectors.holdings(subject)
    rows = {
        "customers": [
            {"id": c.pk, "external_id": c.external_id, "name": c.name, "email": c.email, "phone": c.phone,
             "language": c.language, "attributes": c.attributes, "customer_since": _when(c.active_since),
             "cancelled_on": _when(c.cancelled_on), "revenue": str(c.revenue), "created_at": _when(c.created_at)}
            for c in subject.customers],
        "responses": [
            {"id": r.pk, "survey": r.survey.name, "touchpoint": r.touchpoint.name if r.touchpoint else "",
             "channel": r.channel.name if r.channel else "", "customer_id": r.customer_id, "language": r.language,
             "score": r.score, "band": r.band, "comment": r.comment, "hidden_fields": r.hidden_fields,
             "status": r.status, "source": r.source, "started_at": _when(r.started_at),
             "submitted_at": _when(r.submitted_at)}
            for r in held["responses"].order_by("started_at", "id")],
        "answers": [
            {"response_id": a.response_id, "question": a.question.key, "number": a.number,
             "importance": a.importance, "text": a.text, "choices": a.choices}
            for a in held["answers"].order_by("response_id", "question__position", "id")],
    }
    rows["comments"] = [{"response_id": r["id"], "survey": r["survey"], "submitted_at": r["submitted_at"],
                         "comment": r["comment"]} for r in rows["responses"] if r["comment"]]
    rows["hidden_fields"] = [{"response_id": r["id"], "field": key, "value": value}
                             for r in rows["responses"] for key, value in sorted((r["hidden_fields"] or {}).items())]
    for kind in ("items", "cases"):
        rows[kind] = [
            {"id": i.pk, "source": i.source, "source_id": i.source_id, "customer_id": i.customer_id,
             "response_id": i.response_id, "text": i.text, "rating": i.rating, "language": i.language,
             "status": i.status, "received_at": _when(i.received_at), "resolved_at": _when(i.resolved_at),
             "resolution_note": i.resolution_note, "follow_up_score": i.follow_up_score}
            for i in held[kind].order_by("received_at", "id")]
    rows["messages"] = [
        {"id": m.pk, "item_id": m.item_id, "direction": m.direction, "via": m.via, "to_address": m.to_address,
         "text": m.text, "status": m.status, "created_at": _when(m.created_at), "sent_at": _when(m.sent_at)}
        for m in held["messages"].order_by("created_at", "id")]
    rows["notes"] = [{"id": n.pk, "item_id": n.item_id, "text": n.text, "created_at": _when(n.created_at)}
                     for n in held["notes"].order_by("created_at", "id")]
    rows["invitations"] = [
        {"id": v.pk, "customer_id": v.customer_id, "medium": v.medium, "address": v.address, "language": v.language,
         "status": v.status, "skip_reason": v.skip_reason, "sent_at": _when(v.sent_at),
         "opened_at": _when(v.opened_at), "completed_at": _when(v.completed_at), "created_at": _when(v.created_at)}
        for v in held["invitations"].order_by("created_at", "id")]
    rows["trigger_events"] = [
        {"id": e.pk, "event": e.event, "customer_id": e.customer_id, "payload": e.payload,
         "received_at": _when(e.received_at)}
        for e in held["trigger_events"].order_by("received_at", "id")]
    rows["suppressions"] = [
        {"address": s.address, "reason": s.reason, "since": _when(s.created_at)}
        for s in held["suppressions"].order_by("created_at", "id")]
    return rows


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    if not rows:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({key: neutralise(json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list)
                                         else value) for key, value in row.items()})
    return out.getvalue()


def export_subject(*, subject: Subject, request=None, actor=None) -> bytes:
    """The person's data as a ZIP: everything.json and one CSV per kind (spreadsheet-safe).
    Recorded in the audit log (what kinds and how many, never the data)."""
    rows = export_rows(subject)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("everything.json", json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        for kind, kind_rows in rows.items():
            archive.writestr(f"{kind}.csv", "\ufeff" + _csv(kind_rows))
    with transaction.atomic():
        record(action=AuditAction.SUBJECT_DATA_EXPORTED, organization=subject.organization, request=request,
               actor=actor, target_label=_label(subject),
               details={"searched_by": subject.kind, "customers": subject.customer_ids,
                        "counts": {kind: len(kind_rows) for kind, kind_rows in rows.items()}})
    return buffer.getvalue()


def _label(subject: Subject) -> str:
    """What the audit entry names: customer ids, never an identifier."""
    if subject.customers:
        return ", ".join(f"#{pk}" for pk in subject.customer_ids)
    return "—"


# --- Scrubbing ---------------------------------------------------------------------------------

def _scrub_text(text, pattern):
    if not isinstance(text, str) or pattern is None:
        return text
    return pattern.sub(ERASED_TEXT, text)


def _scrub_json(value, pattern, *, emails_too: bool = False):
    """`value` with every string naming the person scrubbed (and, if asked, any e-mail address)."""
    if isinstance(value, dict):
        return {k: _scrub_json(v, pattern, emails_too=emails_too) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json(v, pattern, emails_too=emails_too) for v in value]
    if isinstance(value, str):
        value = _scrub_text(value, pattern)
        return LOOKS_LIKE_EMAIL.sub(ERASED_TEXT, value) if emails_too else value
    return value


def _hidden_fields(fields, pattern) -> dict:
    """Hidden fields without those that hold the person: their identifiers, any e-mail address, or
    a key that says it is a name, e-mail or phone. The platform's own keys stay."""
    if not isinstance(fields, dict):
        return {}
    kept = {}
    for key, value in fields.items():
        if key in PLATFORM_HIDDEN_FIELDS:
            kept[key] = value
            continue
        text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
        if any(word in key.lower() for word in PERSONAL_KEYS) or LOOKS_LIKE_EMAIL.search(text) \
                or (pattern is not None and pattern.search(text)):
            continue
        kept[key] = value
    return kept


def _hashed(value: str, pattern) -> str:
    """A key that names the person becomes a hash of itself: still unique, no longer them."""
    if not value or pattern is None or not pattern.search(value):
        return value
    return "erased:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _scrub_naming(subject: Subject, pattern) -> int:
    """Free text anywhere in the organization that names the person: each mention scrubbed."""
    changed = 0
    for label, name, is_json in NAMING_TEXTS:
        model = apps.get_model(label)
        qs = model.objects.all()
        through = {"feedback.Note": "item__organization", "integrations.WebhookAttempt": "call__organization"}
        qs = qs.filter(**{through.get(label, "organization"): subject.organization})
        if is_json:
            qs = qs.annotate(_text=Cast(name, TextField()))
            lookup = "_text"
        else:
            lookup = name
        for row in qs.filter(subject.naming(lookup)).only("pk", name):
            before = getattr(row, name)
            after = _scrub_json(before, pattern) if is_json else _scrub_text(before, pattern)
            if after != before:
                model.objects.filter(pk=row.pk).update(**{name: after})
                changed += 1
    for delivery in apps.get_model("cxplatform.EventDelivery").objects.filter(
            event__organization=subject.organization).filter(subject.naming("last_error")):
        after = _scrub_text(delivery.last_error, pattern)
        if after != delivery.last_error:
            type(delivery).objects.filter(pk=delivery.pk).update(last_error=after)
            changed += 1
    return changed


# --- Erasure -----------------------------------------------------------------------------------

def _erase(subject: Subject, *, suppress_addresses: bool, user=None) -> dict[str, int]:
    """The erasure itself; the caller holds the transaction."""
    organization = subject.organization
    pattern = subject.pattern()
    held = selectors.holdings(subject)
    responses = list(held["responses"].select_related(None).only("pk", "comment", "hidden_fields", "client_key"))
    items = selectors.items_of(subject, held["responses"])
    item_ids = list(items.values_list("pk", flat=True))
    counts = {"customers": len(subject.customers), "responses": len(responses), "items": len(item_ids)}

    suppressed = 0
    if suppress_addresses:
        # First, while the invitations still carry the address: their queued ones are skipped.
        for address in subject.addresses:
            _entry, created = suppress(organization=organization, address=address, reason=Suppression.Reason.ERASED,
                                       source=Suppression.Source.ERASURE, user=user)
            suppressed += created
    counts["suppressed"] = suppressed
    # Unlinked, so the kept address cannot be joined back to the anonymous customer's answers.
    held["suppressions"].update(customer=None, invitation=None)

    changed_responses = []
    for response in responses:
        response.comment = ERASED_TEXT if response.comment else ""
        response.hidden_fields = _hidden_fields(response.hidden_fields, pattern)
        response.client_key = _hashed(response.client_key, pattern)
        changed_responses.append(response)
    Response.objects.bulk_update(changed_responses, ["comment", "hidden_fields", "client_key"], batch_size=500)
    counts["answers"] = Answer.objects.filter(response__in=[r.pk for r in responses]).exclude(text="").update(
        text=ERASED_TEXT)

    for item in FeedbackItem.objects.filter(pk__in=item_ids).only("pk", "text_message", "source_id",
                                                                   "resolution_note"):
        FeedbackItem.objects.filter(pk=item.pk).update(
            text=ERASED_TEXT, search_words=search_text(ERASED_TEXT),
            text_message=_scrub_json(item.text_message, pattern, emails_too=True),
            resolution_note=ERASED_TEXT if item.resolution_note else "",
            source_id=_hashed(item.source_id, pattern))
    for event in ItemEvent.objects.filter(item_id__in=item_ids):
        ItemEvent.objects.filter(pk=event.pk).update(details=_scrub_json(event.details, pattern, emails_too=True),
                                                     message=_scrub_json(event.message, pattern, emails_too=True))
    messages = held["messages"]
    counts["messages"] = 0
    for message in Message.objects.filter(pk__in=list(messages.values_list("pk", flat=True))):
        Message.objects.filter(pk=message.pk).update(text=ERASED_TEXT, to_address="",
                                                     error=_scrub_text(message.error, pattern),
                                                     source_id=_hashed(message.source_id, pattern))
        counts["messages"] += 1
    counts["notes"] = Note.objects.filter(item_id__in=item_ids).update(text=ERASED_TEXT)
    PromoterThanks.objects.filter(Q(response_id__in=[r.pk for r in responses]) | subject.addressed("to_address"),
                                  organization=organization).update(to_address="")

    invitations = list(held["invitations"].only("pk", "last_error", "status"))
    for invitation in invitations:
        fields = {"address": "", "last_error": _scrub_text(invitation.last_error, pattern)}
        if invitation.status == Invitation.Status.QUEUED:  # nobody to send it to now
            fields |= {"status": Invitation.Status.SKIPPED, "skip_reason": SkipReason.NO_ADDRESS}
        Invitation.objects.filter(pk=invitation.pk).update(next_reminder_at=None, **fields)
    counts["invitations"] = len(invitations)
    events = list(held["trigger_events"])
    for event in events:
        TriggerEvent.objects.filter(pk=event.pk).update(payload=_scrub_json(event.payload, pattern, emails_too=True),
                                                        idempotency_key=_hashed(event.idempotency_key, pattern))
    counts["trigger_events"] = len(events)
    AudienceMember.objects.filter(customer_id__in=subject.customer_ids).delete()

    segment = organization.segment_attribute or "segment"
    for customer in subject.customers:
        attributes = customer.attributes if isinstance(customer.attributes, dict) else {}
        kept = {segment: attributes[segment]} if segment in attributes else {}
        Customer.objects.filter(pk=customer.pk).update(name="", email="", phone="", external_id="", attributes=kept)

    counts["mentions"] = _scrub_naming(subject, pattern) if pattern is not None else 0
    # A file written before now may hold them: expired at once, housekeeping deletes it.
    scoped(ExportJob, organization).exclude(file="").update(expires_at=timezone.now())
    return counts


def erase_subject(*, subject: Subject, request=None, actor=None) -> dict[str, int]:
    """Erase the person in one transaction, put their addresses on the suppression list and record
    the erasure (counts and customer ids only)."""
    user = actor or (request.user if request is not None and request.user.is_authenticated else None)
    label = _label(subject)
    with transaction.atomic():
        counts = _erase(subject, suppress_addresses=True, user=user)
        record(action=AuditAction.SUBJECT_ERASED, organization=subject.organization, request=request, actor=actor,
               target_label=label,
               details={"searched_by": subject.kind, "customers": subject.customer_ids, "counts": counts})
    return counts


# --- Retention ---------------------------------------------------------------------------------

def set_retention(*, organization, months: int | None, request=None, actor=None) -> RetentionPolicy:
    """How many months personal data is kept (None: for as long as the organization keeps it)."""
    if months is not None and not 1 <= months <= 1200:
        raise ValueError("months out of range")
    with transaction.atomic():
        policy, _created = (RetentionPolicy.objects.select_for_update(no_key=True)
                             .get_or_create(organization=organization))
        before = policy.personal_data_months
        if before == months:
            return policy
        policy.personal_data_months = months
        policy.save(update_fields=["personal_data_months", "updated_at"])
        record(action=AuditAction.SETTINGS_CHANGED, organization=organization, request=request, actor=actor,
               target=policy, target_label="personal data retention",
               details={"setting": "privacy.personal_data_months", "before": before, "after": months})
    return policy


def retention_cutoff(*, policy: RetentionPolicy, now=None):
    if not policy.personal_data_months:
        return None
    # Months as 30.44 days: a cutoff a day early or late does not matter for a retention period.
    return (now or timezone.now()) - timedelta(days=round(policy.personal_data_months * 30.44))


def _identified() -> Q:
    return ~Q(name="") | ~Q(email="") | ~Q(phone="") | ~Q(external_id="")


def stale_customers(*, organization, cutoff):
    """Customers still identified with no sign of life (added, answered, wrote, invited, an event
    about them) since `cutoff`."""
    since = {"customer": OuterRef("pk")}
    return (scoped(Customer, organization).filter(_identified(), created_at__lt=cutoff)
            .exclude(Exists(Response.objects.filter(**since, started_at__gte=cutoff)))
            .exclude(Exists(FeedbackItem.objects.filter(**since, received_at__gte=cutoff)))
            .exclude(Exists(Invitation.objects.filter(**since, created_at__gte=cutoff)))
            .exclude(Exists(TriggerEvent.objects.filter(**since, received_at__gte=cutoff)))
            .order_by("id"))


def _erase_old_texts(*, organization, cutoff, batch_size: int) -> dict[str, int]:
    """Answers and inbox items older than `cutoff`, whoever gave them (a customer still active
    keeps who they are, not what they wrote years ago): their texts go."""
    counts = {"responses": 0, "items": 0}
    old_responses = (scoped(Response, organization).filter(started_at__lt=cutoff)
                     .exclude(comment="").exclude(comment=ERASED_TEXT).order_by("id"))
    batch = list(old_responses.only("pk", "comment", "hidden_fields")[:batch_size])
    for response in batch:
        Response.objects.filter(pk=response.pk).update(comment=ERASED_TEXT,
                                                       hidden_fields=_hidden_fields(response.hidden_fields, None))
        Answer.objects.filter(response_id=response.pk).exclude(text="").update(text=ERASED_TEXT)
    counts["responses"] = len(batch)
    old_items = (scoped(FeedbackItem, organization).filter(received_at__lt=cutoff)
                 .exclude(text=ERASED_TEXT).order_by("id"))
    item_ids = list(old_items.values_list("pk", flat=True)[:batch_size])
    for item in FeedbackItem.objects.filter(pk__in=item_ids).only("pk", "text_message", "resolution_note"):
        FeedbackItem.objects.filter(pk=item.pk).update(
            text=ERASED_TEXT, search_words=search_text(ERASED_TEXT),
            text_message=_scrub_json(item.text_message, None, emails_too=True),
            resolution_note=ERASED_TEXT if item.resolution_note else "")
    Message.objects.filter(item_id__in=item_ids).update(text=ERASED_TEXT, to_address="")
    Note.objects.filter(item_id__in=item_ids).update(text=ERASED_TEXT)
    counts["items"] = len(item_ids)
    return counts


def apply_retention(*, organization, now=None, batch_size: int = RETENTION_BATCH) -> dict[str, int]:
    """Erase, batch by batch, the personal data of the organization older than its retention
    period: customers not seen since, and the texts of every older answer and inbox item.
    Idempotent (what is erased is no longer found); one audit entry per run that erased anything.
    Addresses are not put on the suppression list: nobody asked, and keeping them is what
    retention is meant to stop."""
    policy = RetentionPolicy.objects.filter(organization=organization).first()
    cutoff = retention_cutoff(policy=policy, now=now) if policy else None
    if cutoff is None:
        return {}
    totals: dict[str, int] = {}

    def add(counts):
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value

    while True:
        batch = list(stale_customers(organization=organization, cutoff=cutoff)[:batch_size])
        if not batch:
            break
        with transaction.atomic():
            # Still stale once locked: a customer who answered since the batch was read is kept.
            for customer in (stale_customers(organization=organization, cutoff=cutoff)
                             .filter(pk__in=[c.pk for c in batch]).select_for_update(no_key=True)):
                add(_erase(selectors.subject_of_customer(customer), suppress_addresses=False))
    while True:
        with transaction.atomic():
            counts = _erase_old_texts(organization=organization, cutoff=cutoff, batch_size=batch_size)
        if not any(counts.values()):
            break
        add({f"old_{key}": value for key, value in counts.items()})
    if any(totals.values()):
        with transaction.atomic():
            RetentionPolicy.objects.filter(pk=policy.pk).update(last_erased_at=timezone.now())
            record(action=AuditAction.RETENTION_ERASED, organization=organization, actor_label="retention",
                   details={"months": policy.personal_data_months, "before": cutoff.isoformat(), "counts": totals})
    return totals


def apply_all_retention(*, now=None) -> dict[int, dict]:
    """Every organization with a retention period (the daily beat task)."""
    return {policy.organization_id: apply_retention(organization=policy.organization, now=now)
            for policy in RetentionPolicy.objects.filter(personal_data_months__isnull=False)
            .select_related("organization")}
