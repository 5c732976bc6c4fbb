"""Webhook endpoints: addresses other tools post feedback to, one per integration.

The unguessable key in the URL says which organization and source an item belongs to. When the
endpoint has a signing secret, a request must also carry

    X-CX-Delivery: <an id unique to this delivery, up to 100 characters>
    X-CX-Timestamp: <Unix time in seconds when it was sent>
    X-CX-Signature: sha256=<hex HMAC-SHA256, with the secret, of "<timestamp>.<delivery>.<raw body>">

so a leaked URL alone cannot post, a captured request cannot be replayed later (the timestamp
must be within five minutes of ours) nor within those minutes (each delivery id is taken once).
Items are idempotent on their `source_id` like every other source.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import WebhookDelivery, WebhookEndpoint

SIGNATURE_HEADER = "X-CX-Signature"
TIMESTAMP_HEADER = "X-CX-Timestamp"
DELIVERY_HEADER = "X-CX-Delivery"
MAX_ITEMS_PER_REQUEST = 100
# How far a sender's clock may be from ours; a delivery id is remembered for twice as long.
TOLERANCE = timedelta(minutes=5)
MAX_DELIVERY_ID = 100


def create_endpoint(organization, name: str, source: str, *, signed: bool = True) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(organization=organization, name=name.strip()[:120], source=source,
                                          key=secrets.token_urlsafe(32),
                                          secret=secrets.token_urlsafe(32) if signed else "")


def endpoint_for(key: str) -> WebhookEndpoint | None:
    if not key or len(key) > 64:
        return None
    return WebhookEndpoint.objects.select_related("organization").filter(key=key, active=True).first()


def sign(secret: str, body: bytes, *, timestamp: str, delivery: str) -> str:
    signed = f"{timestamp}.{delivery}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_ok(endpoint: WebhookEndpoint, body: bytes, *, signature: str, timestamp: str, delivery: str) -> bool:
    if not endpoint.secret:
        return True
    if not timestamp or not delivery:
        return False
    # Bytes, not str: compare_digest raises TypeError on a non-ASCII str, and a header can hold anything.
    expected = sign(endpoint.secret, body, timestamp=timestamp, delivery=delivery).encode()
    return hmac.compare_digest(expected, (signature or "").strip().encode("utf-8", "replace"))


def fresh(timestamp: str, now=None) -> bool:
    """The sender's clock says it sent the request within TOLERANCE of now (either way)."""
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    now = now or timezone.now()
    return abs(now.timestamp() - int(timestamp)) <= TOLERANCE.total_seconds()


def delivery_id_ok(delivery: str) -> bool:
    return bool(delivery) and len(delivery) <= MAX_DELIVERY_ID and delivery.isprintable() and delivery.isascii()


def take_delivery(endpoint: WebhookEndpoint, delivery: str) -> bool:
    """Remember `delivery` for this endpoint; False when it was taken before (a replay or a
    sender's retry of what already arrived). Call it inside the transaction that keeps the items,
    so a delivery whose items were refused can be sent again."""
    WebhookDelivery.objects.filter(endpoint=endpoint, received_at__lt=timezone.now() - 2 * TOLERANCE).delete()
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(endpoint=endpoint, delivery_id=delivery)
    except IntegrityError:
        return False
    return True


def count_delivery(endpoint: WebhookEndpoint, items: int) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(received=F("received") + items,
                                                          last_received_at=timezone.now())
