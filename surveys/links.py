"""Survey links. A personal link carries the customer and hidden fields signed with Django's
signing, so a changed id is rejected rather than recorded against someone else."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.http import urlencode

from .models import LANGUAGE_CODES

HIDDEN_FIELD_MAX = 20


class LinkError(Exception):
    """The link is damaged (tampered, truncated) or expired; `expired` tells which."""

    def __init__(self, expired=False):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass
class LinkContext:
    customer_id: int | None = None
    hidden: dict = field(default_factory=dict)
    language: str = ""
    invitation: int | None = None  # the invitation the platform sent this link in


def _salt(distribution):
    return f"surveys.link.{distribution.public_id}"


def sign(distribution, customer=None, hidden=None, language="", invitation: int | None = None) -> str:
    payload = {}
    if invitation is not None:
        payload["i"] = int(invitation)
    if customer is not None:
        payload["c"] = customer.pk
    if hidden:
        payload["h"] = {str(k)[:50]: str(v)[:200] for k, v in list(hidden.items())[:HIDDEN_FIELD_MAX]}
    if language in LANGUAGE_CODES:
        payload["l"] = language
    return signing.dumps(payload, salt=_salt(distribution), compress=True)


def read(distribution, signed: str | None) -> LinkContext:
    """The link's context; an anonymous link (no signed part) has none. Raises LinkError."""
    if not signed:
        return LinkContext()
    try:
        payload = signing.loads(
            signed, salt=_salt(distribution), max_age=timedelta(days=settings.SURVEY_LINK_MAX_AGE_DAYS)
        )
    except signing.SignatureExpired as exc:
        raise LinkError(expired=True) from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkError() from exc
    if not isinstance(payload, dict):
        raise LinkError()
    invitation = payload.get("i")
    return LinkContext(customer_id=payload.get("c"), hidden=payload.get("h") or {}, language=payload.get("l", ""),
                       invitation=invitation if isinstance(invitation, int) else None)


def survey_url(distribution, signed: str = "", language: str = "") -> str:
    query = {k: v for k, v in (("c", signed), ("lang", language)) if v}
    path = reverse("respond:page", kwargs={"public_id": distribution.public_id})
    return f"{path}?{urlencode(query)}" if query else path


def one_click_url(distribution, score: int, signed: str = "") -> str:
    path = reverse("respond:one_click", kwargs={"public_id": distribution.public_id, "score": score})
    return f"{path}?{urlencode({'c': signed})}" if signed else path


def one_click_urls(distribution, scores, signed: str = "") -> list[tuple[int, str]]:
    """(score, its one-click link) for each score, reversed once (an e-mail carries up to eleven:
    a blast renders millions)."""
    path = reverse("respond:one_click", kwargs={"public_id": distribution.public_id, "score": 0})
    prefix = path[: -len("0/")]  # the pattern ends with <int:score>/
    query = f"?{urlencode({'c': signed})}" if signed else ""
    return [(score, f"{prefix}{score}/{query}") for score in scores]
