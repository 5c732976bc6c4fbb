"""Webhook endpoints: addresses other tools post feedback to, one per integration.

The unguessable key in the URL says which organization and source an item belongs to; when the
endpoint has a signing secret, the request must also carry `X-CX-Signature: sha256=<hex>`, the
HMAC-SHA256 of the raw body with that secret (GitHub's scheme), so a leaked URL alone cannot
post. Items are idempotent on their `source_id` like every other source.
"""

import hashlib
import hmac
import secrets

from django.db.models import F
from django.utils import timezone

from .models import WebhookEndpoint

SIGNATURE_HEADER = "X-CX-Signature"
MAX_ITEMS_PER_REQUEST = 100


def create_endpoint(organization, name: str, source: str, *, signed: bool = True) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(organization=organization, name=name.strip()[:120], source=source,
                                          key=secrets.token_urlsafe(32),
                                          secret=secrets.token_urlsafe(32) if signed else "")


def endpoint_for(key: str) -> WebhookEndpoint | None:
    if not key or len(key) > 64:
        return None
    return WebhookEndpoint.objects.select_related("organization").filter(key=key, active=True).first()


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(endpoint: WebhookEndpoint, body: bytes, signature: str) -> bool:
    if not endpoint.secret:
        return True
    # Bytes, not str: compare_digest raises TypeError on a non-ASCII str, and a header can hold anything.
    return hmac.compare_digest(sign(endpoint.secret, body).encode(), (signature or "").strip().encode())


def count_delivery(endpoint: WebhookEndpoint, items: int) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(received=F("received") + items,
                                                          last_received_at=timezone.now())
