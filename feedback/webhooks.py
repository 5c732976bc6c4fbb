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

import secrets

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cxplatform.signatures import (  # noqa: F401  (the scheme's names, as callers know them)
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TOLERANCE,
    delivery_id_ok,
    fresh,
    matches,
    sign,
)

from .models import WebhookDelivery, WebhookEndpoint

MAX_ITEMS_PER_REQUEST = 100


def create_endpoint(organization, name: str, source: str, *, signed: bool = True) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(organization=organization, name=name.strip()[:120], source=source,
                                          key=secrets.token_urlsafe(32),
                                          secret=secrets.token_urlsafe(32) if signed else "")


def endpoint_for(key: str) -> WebhookEndpoint | None:
    if not key or len(key) > 64:
        return None
    return WebhookEndpoint.objects.select_related("organization").filter(key=key, active=True).first()


def signature_ok(endpoint: WebhookEndpoint, body: bytes, *, signature: str, timestamp: str, delivery: str) -> bool:
    if not endpoint.secret:
        return True
    return matches(endpoint.secret, body, signature=signature, timestamp=timestamp, delivery=delivery)


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
