"""The one signature scheme of requests other systems send us (feedback webhooks, bounce
reports): `X-CX-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<delivery>.<raw body>">`,
with `X-CX-Timestamp` (Unix seconds, within TOLERANCE of ours) and `X-CX-Delivery` (an id)."""

import hashlib
import hmac
from datetime import timedelta

from django.utils import timezone

SIGNATURE_HEADER = "X-CX-Signature"
TIMESTAMP_HEADER = "X-CX-Timestamp"
DELIVERY_HEADER = "X-CX-Delivery"
# How far a sender's clock may be from ours.
TOLERANCE = timedelta(minutes=5)
MAX_DELIVERY_ID = 100


def sign(secret: str, body: bytes, *, timestamp: str, delivery: str) -> str:
    signed = f"{timestamp}.{delivery}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def matches(secret: str, body: bytes, *, signature: str, timestamp: str, delivery: str) -> bool:
    if not timestamp or not delivery:
        return False
    # Bytes, not str: compare_digest raises TypeError on a non-ASCII str, and a header can hold anything.
    expected = sign(secret, body, timestamp=timestamp, delivery=delivery).encode()
    return hmac.compare_digest(expected, (signature or "").strip().encode("utf-8", "replace"))


def fresh(timestamp: str, now=None) -> bool:
    """The sender's clock says it sent the request within TOLERANCE of now (either way)."""
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    now = now or timezone.now()
    return abs(now.timestamp() - int(timestamp)) <= TOLERANCE.total_seconds()


def delivery_id_ok(delivery: str) -> bool:
    return bool(delivery) and len(delivery) <= MAX_DELIVERY_ID and delivery.isprintable() and delivery.isascii()


def verified(request, secret: str) -> bool:
    """The request carries a fresh, well-formed, matching signature made with `secret`."""
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    delivery = request.headers.get(DELIVERY_HEADER, "")
    return bool(secret) and fresh(timestamp) and delivery_id_ok(delivery) and matches(
        secret, request.body, signature=request.headers.get(SIGNATURE_HEADER, ""), timestamp=timestamp,
        delivery=delivery)


# --- What we send: outgoing webhooks (integrations, docs/adr/0027) ---------------------------------
# One header carries both the time and the signature, so a receiver checks the age and the body
# together: `X-CX-Signature: t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.

def outgoing_signature(secret: str, body: bytes, *, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def outgoing_verified(secret: str, body: bytes, header: str, now=None) -> bool:
    """What a receiver of our webhooks does (the README's snippet): a fresh `t` and a matching `v1`."""
    parts = dict(part.split("=", 1) for part in (header or "").split(",") if "=" in part)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not fresh(timestamp, now):
        return False
    expected = outgoing_signature(secret, body, timestamp=int(timestamp)).encode()
    return hmac.compare_digest(expected, f"t={timestamp},v1={given}".encode("utf-8", "replace"))
