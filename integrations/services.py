"""The rules of outgoing webhooks (docs/adr/0027): subscriptions, the fan-out of outbox events into
calls, and what happens to a subscription that keeps failing. Sending is in `delivery.py`."""

import ipaddress
import json
import logging
import secrets
import socket
import uuid
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cxplatform import events, wording
from cxplatform.audit import AuditAction, record
from cxplatform.models import Membership, NotificationKind, Organization, Role
from cxplatform.services import notify

from . import payloads
from . import wordings as w
from .models import PING, WebhookCall, WebhookEvent, WebhookSubscription

logger = logging.getLogger(__name__)


class WebhookError(ValueError):
    """What the admin asked cannot be done; the message is for them."""


# --- Where we may send -------------------------------------------------------------------------

def url_problem(url: str) -> str | None:
    """Why the platform will not call `url` (None when it will): only http(s), and never an address
    inside a private network (SSRF) unless WEBHOOKS_ALLOW_PRIVATE (development, tests)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("This is not a web address.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Use an http:// or https:// address.")
    if parts.username or parts.password:
        return _("Leave the user name and password out of the address; the signature proves who sends.")
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return None
    try:
        found = socket.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return _("The address's host name is not found.")
    for *_rest, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        mapped = getattr(address, "ipv4_mapped", None)
        if not (mapped or address).is_global:
            return _("The address leads into a private network; webhooks go to public addresses only.")
    return None


# --- Subscriptions -----------------------------------------------------------------------------

def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _clean(*, url: str, events_wanted: list[str]) -> tuple[str, list[str]]:
    url = (url or "").strip()
    problem = url_problem(url)
    if problem:
        raise WebhookError(problem)
    unknown = set(events_wanted) - set(WebhookEvent.values)
    if unknown or not events_wanted:
        raise WebhookError(_("Choose at least one event to send."))
    return url, [name for name in WebhookEvent.values if name in events_wanted]


@transaction.atomic
def create_subscription(*, organization: Organization, request, url: str, events_wanted: list[str],
                        description: str = "", include_personal_data: bool = False,
                        active: bool = True) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (returned once: the page shows it one time)."""
    url, events_wanted = _clean(url=url, events_wanted=events_wanted)
    secret = new_secret()
    subscription = WebhookSubscription.objects.create(
        organization=organization, url=url, events=events_wanted, description=(description or "").strip()[:200],
        include_personal_data=include_personal_data, active=active, secret=secret,
        created_by=request.user if request and request.user.is_authenticated else None)
    record(action=AuditAction.WEBHOOK_CREATED, organization=organization, request=request, target=subscription,
           details={"url": url, "events": events_wanted, "include_personal_data": include_personal_data})
    return subscription, secret


EDITABLE = ("url", "description", "events", "include_personal_data", "active")


@transaction.atomic
def update_subscription(*, subscription: WebhookSubscription, request, url: str, events_wanted: list[str],
                        description: str = "", include_personal_data: bool = False,
                        active: bool = True) -> WebhookSubscription:
    url, events_wanted = _clean(url=url, events_wanted=events_wanted)
    subscription = WebhookSubscription.objects.select_for_update(no_key=True).get(pk=subscription.pk)
    before = {name: getattr(subscription, name) for name in EDITABLE}
    after = {"url": url, "description": (description or "").strip()[:200], "events": events_wanted,
             "include_personal_data": include_personal_data, "active": active}
    changes = {name: [before[name], after[name]] for name in EDITABLE if before[name] != after[name]}
    if not changes:
        return subscription
    for name, value in after.items():
        setattr(subscription, name, value)
    if active and not before["active"]:  # turned on again: its failing streak starts afresh
        subscription.disabled_at = subscription.failing_since = None
    subscription.save()
    record(action=AuditAction.WEBHOOK_CHANGED, organization=subscription.organization, request=request,
           target=subscription, details={"changes": changes})
    return subscription


@transaction.atomic
def rotate_secret(*, subscription: WebhookSubscription, request) -> str:
    """A new secret at once (the old one stops signing now); returned once, for the page."""
    secret = new_secret()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(secret=secret, updated_at=timezone.now())
    record(action=AuditAction.WEBHOOK_CHANGED, organization=subscription.organization, request=request,
           target=subscription, details={"secret": "rotated"})  # nosec B105: what happened, not a secret
    return secret


@transaction.atomic
def delete_subscription(*, subscription: WebhookSubscription, request) -> None:
    record(action=AuditAction.WEBHOOK_DELETED, organization=subscription.organization, request=request,
           target=subscription, details={"url": subscription.url, "events": subscription.events})
    subscription.delete()


# --- Calls -------------------------------------------------------------------------------------

def body_of(*, delivery_id, event: str, occurred_at, organization: Organization, data: dict) -> str:
    """The JSON sent (documented in the README): the envelope, then the event's `data`."""
    return json.dumps({
        "id": str(delivery_id), "event": event, "version": payloads.PAYLOAD_VERSION,
        "occurred_at": occurred_at.isoformat(), "organization": organization.slug, "data": data,
    }, ensure_ascii=False, separators=(",", ":"), default=str)


def enqueue(call_id: int) -> bool:
    """Hand one call to the workers. Never raises: the row is the durable copy, and the beat
    (`delivery.enqueue_due`) sends one the broker did not take."""
    from .tasks import deliver_webhook

    try:
        deliver_webhook.apply_async(args=[call_id])
    except Exception:  # a broker outage only delays the call
        logger.warning("could not enqueue webhook call %s; the beat sends it", call_id, exc_info=True)
        WebhookCall.objects.filter(pk=call_id, status=WebhookCall.Status.PENDING).update(queued_at=None)
        return False
    return True


def _queue_after_commit(call: WebhookCall) -> None:
    transaction.on_commit(lambda: enqueue(call.pk))


def fan_out(webhook_event: str, ids: dict) -> int:
    """The outbox handler: one call per enabled subscription of the event's organization that wants
    `webhook_event`, at most once per (subscription, outbox event) however often it runs. Returns
    how many calls it made."""
    event = events.current_event()
    if event is None or event.organization_id is None:
        return 0
    subscriptions = [s for s in WebhookSubscription.objects.filter(organization_id=event.organization_id, active=True)
                     if webhook_event in s.events]
    if not subscriptions:
        return 0
    organization = Organization.objects.get(pk=event.organization_id)
    _source, build = payloads.BUILDERS[webhook_event]
    data = {}
    made = 0
    for subscription in subscriptions:
        personal = subscription.include_personal_data
        if personal not in data:
            data[personal] = build(ids, personal)
        if data[personal] is None:  # the row is gone (deleted meanwhile): nothing to tell
            continue
        delivery_id = uuid.uuid4()
        try:
            with transaction.atomic():
                call = WebhookCall.objects.create(
                    organization=organization, subscription=subscription, outbox_event_id=event.pk,
                    delivery_id=delivery_id, event=webhook_event, queued_at=timezone.now(),
                    body=body_of(delivery_id=delivery_id, event=webhook_event, occurred_at=event.created_at,
                                 organization=organization, data=data[personal]))
        except IntegrityError:
            continue  # made by an earlier run of this handler
        _queue_after_commit(call)
        made += 1
    return made


@cache
def handler_for(webhook_event: str):
    """The outbox subscriber of one webhook event (one object per event, however often asked)."""

    def fan_out_event(**ids):
        fan_out(webhook_event, ids)

    fan_out_event.__name__ = f"fan_out_{webhook_event.replace('.', '_')}"
    return fan_out_event


@cache
def wanted_by(webhook_event: str):
    """Whether an organization has an enabled subscription to `webhook_event`, asked as its source
    event is written: most organizations have no webhook, and their answers, items and cases then
    leave no delivery for a worker to claim, run and settle (the fan-out still checks each
    subscription when it runs). A subscription hears of what happens after it is saved."""

    def wanted(organization_id: int | None) -> bool:
        if organization_id is None:
            return False
        # Plain SQL (it runs in the customer's answer request, where building the query cost more
        # than running it); the events filtered here: the embedded SQLite has no JSON containment.
        events_field = WebhookSubscription._meta.get_field("events")
        column, table = (connection.ops.quote_name(name) for name in (events_field.column,
                                                                       WebhookSubscription._meta.db_table))
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table} WHERE organization_id = %s AND active = %s",  # noqa: S608  # nosec B608 — names from _meta, values bound
                           [organization_id, True])
            rows = cursor.fetchall()
        return any(webhook_event in (events_field.from_db_value(value, None, connection) or []) for (value,) in rows)

    wanted.__name__ = f"wants_{webhook_event.replace('.', '_')}"
    return wanted


@transaction.atomic
def send_test(*, subscription: WebhookSubscription) -> WebhookCall:
    """A `ping` call, sent even while the subscription is off (to check a receiver first)."""
    delivery_id = uuid.uuid4()
    call = WebhookCall.objects.create(
        organization=subscription.organization, subscription=subscription, delivery_id=delivery_id, event=PING,
        queued_at=timezone.now(),
        body=body_of(delivery_id=delivery_id, event=PING, occurred_at=timezone.now(),
                     organization=subscription.organization, data=payloads.ping()))
    _queue_after_commit(call)
    return call


@transaction.atomic
def resend(*, call: WebhookCall) -> bool:
    """Send a call again — a new attempt with the same delivery id and body, so receivers dedupe —
    with a fresh retry window. False while an attempt is under way."""
    now = timezone.now()
    idle = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    restarted = WebhookCall.objects.filter(idle, pk=call.pk).update(
        status=WebhookCall.Status.PENDING, next_attempt_at=now, window_started_at=None, claimed_until=None,
        queued_at=now, delivered_at=None)
    if restarted:
        _queue_after_commit(call)
    return bool(restarted)


# --- A subscription that keeps failing ---------------------------------------------------------

def disable_if_failing_for_days(*, subscription_id: int, now=None) -> bool:
    """The rule (docs/adr/0027): a subscription whose attempts have all failed for
    WEBHOOKS_DISABLE_AFTER_DAYS days — its first failure since the last delivered call is that old,
    and an attempt just failed — is turned off, its admins told and the audit log says so. The
    conditional update makes it happen once. Runs in the caller's transaction."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOKS_DISABLE_AFTER_DAYS)
    turned_off = WebhookSubscription.objects.filter(pk=subscription_id, active=True, failing_since__lte=cutoff) \
        .update(active=False, disabled_at=now, updated_at=now)
    if not turned_off:
        return False
    subscription = WebhookSubscription.objects.select_related("organization").get(pk=subscription_id)
    record(action=AuditAction.WEBHOOK_DISABLED, organization=subscription.organization, target=subscription,
           actor_label=_("the platform"),
           details={"url": subscription.url, "failing_since": subscription.failing_since.isoformat(),
                    "days": settings.WEBHOOKS_DISABLE_AFTER_DAYS})
    message = wording.message(w.WEBHOOK_DISABLED, url=subscription.url, days=settings.WEBHOOKS_DISABLE_AFTER_DAYS)
    link = reverse("integrations:webhook_detail", kwargs={"webhooksubscription_id": subscription.pk})
    admins = Membership.objects.filter(organization=subscription.organization, role=Role.ADMIN, is_active=True) \
        .select_related("user")
    for membership in admins:
        notify(user=membership.user, organization=subscription.organization, kind=NotificationKind.WEBHOOK_FAILING,
               message=message, link=link, key=f"webhook-off:{subscription.pk}:{int(now.timestamp())}")
    return True
