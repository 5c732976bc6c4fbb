"""Making, checking and revoking API tokens: the one place their rules live."""

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cxplatform.audit import AuditAction, record
from cxplatform.models import Capability, Membership, Organization

from .models import ApiToken, Scope

TOKEN_PREFIX = "cxp"  # noqa: S105  # nosec B105 — the marker every token string starts with, not a secret
# last_used_at is written at most this often per token: a busy integration would otherwise turn
# every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token that cannot be made as asked; the message is for the person who asked."""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, user, organization: Organization, name: str, scopes: Iterable[str],
                 expires_at: datetime | None = None, request=None) -> tuple[ApiToken, str]:
    """A new token of `user` for `organization`, and its string: the only time it exists whole."""
    name = (name or "").strip()
    scopes = set(scopes)
    if not name:
        raise TokenError(_("Give the token a name, so you can tell it from the others."))
    if not scopes or not scopes <= set(Scope.values):
        raise TokenError(_("Choose what the token may do: read, or read and write."))
    if expires_at is not None and expires_at <= timezone.now():
        raise TokenError(_("The expiry date must be in the future."))
    if not Membership.objects.filter(user=user, organization=organization, is_active=True).exists():
        raise TokenError(_("Only an active member of the organization can have its tokens."))
    scope = Scope.WRITE if Scope.WRITE in scopes else Scope.READ
    for _attempt in range(5):
        prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(user=user, organization=organization, name=name[:100], scope=scope,
                                                prefix=prefix, hash=hash_secret(secret), expires_at=expires_at)
                record(action=AuditAction.TOKEN_CREATED, organization=organization, request=request, actor=user,
                       target=token, details={"name": token.name, "scope": scope, "prefix": prefix,
                                              "expires_at": expires_at.isoformat() if expires_at else None})
        except IntegrityError:
            continue  # a prefix drawn twice (one in four billion): draw again
        return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"
    raise RuntimeError("could not draw a unique token prefix")


def find_token(raw: str) -> ApiToken | None:
    """The token a string names, whatever its state (the caller says why it cannot be used)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    token = (ApiToken.objects.select_related("user", "organization")
             .filter(hash=hash_secret(parts[2])).first())
    # The hash names the token; the prefix must agree with it (constant-time, as for any secret).
    if token is None or not hmac.compare_digest(token.prefix, parts[1]):
        return None
    return token


def note_use(token: ApiToken, now: datetime | None = None) -> None:
    """Mark the token used, once a minute at most: a conditional update that writes nothing when
    the last mark is recent."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    token.last_used_at = now


def token_membership(token: ApiToken) -> Membership | None:
    """The active membership the token acts through; none when its owner was deactivated."""
    return (Membership.objects.select_related("organization")
            .filter(user_id=token.user_id, organization_id=token.organization_id, is_active=True).first())


def may_revoke(*, membership: Membership, token: ApiToken) -> bool:
    if membership.organization_id != token.organization_id or not membership.is_active:
        return False
    return token.user_id == membership.user_id or membership.can(Capability.ADMINISTER)


@transaction.atomic
def revoke_as_operator(*, tokens: Iterable[ApiToken], operator, request=None) -> int:
    """The operator's revocation from the admin (a token leaked, whoever's it is): each token not
    yet revoked stops working at once, and its organization's audit log says who did it. Returns
    how many were revoked."""
    revoked = 0
    for token in tokens:
        if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            continue
        revoked += 1
        record(action=AuditAction.TOKEN_REVOKED, organization=token.organization, request=request, actor=operator,
               target=token, details={"name": token.name, "prefix": token.prefix, "owner": token.user.get_username(),
                                      "by_operator": True})
    return revoked


def revoke_token(*, token: ApiToken, by: Membership, request=None) -> bool:
    """Revoke `token` (it stops working at once); False when it already was. Its owner may, and
    an admin of its organization; anyone else is refused (PermissionDenied)."""
    if not may_revoke(membership=by, token=token):
        raise PermissionDenied
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not revoked:
        return False
    token.refresh_from_db(fields=["revoked_at"])
    record(action=AuditAction.TOKEN_REVOKED, organization=token.organization, request=request, actor=by.user,
           target=token, details={"name": token.name, "prefix": token.prefix, "owner": token.user.get_username()})
    return True
