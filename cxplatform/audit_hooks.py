"""Sign-ins, failed sign-ins and sign-outs in the audit log, from Django's auth signals (connected
in `CxPlatformConfig.ready`), so every way in — the login page, an invitation, single sign-on —
is recorded the same way."""

from django.contrib.auth import get_user_model

from . import audit
from .tenancy import memberships_of, resolve_membership

USERNAME_CUT = 150  # what was typed is the attacker's text: kept, but not at any length


def signed_in(sender, request, user, **kwargs):
    # The organization the new session works in: the one the admin of which should see it.
    membership = resolve_membership(request, user) if request is not None else memberships_of(user).first()
    audit.record(action=audit.AuditAction.SIGNED_IN, organization=membership.organization if membership else None,
                 request=request, actor=user, target=user)


def signed_out(sender, request, user, **kwargs):
    if user is None:  # the session had already ended
        return
    membership = getattr(request, "membership", None) if request is not None else None
    if membership is None or membership.user_id != user.pk:
        membership = memberships_of(user).first()
    audit.record(action=audit.AuditAction.SIGNED_OUT, organization=membership.organization if membership else None,
                 request=request, actor=user, target=user)


def sign_in_failed(sender, credentials, request=None, **kwargs):
    """The name tried, without a password. A name of a member is recorded in each of their
    organizations (their admins see who is being attacked); an unknown name in none, so no
    organization learns what strangers typed — only the Django admin shows it."""
    model = get_user_model()
    tried = str(credentials.get(model.USERNAME_FIELD) or credentials.get("username") or "")[:USERNAME_CUT]
    person = model._default_manager.filter(**{f"{model.USERNAME_FIELD}__iexact": tried}).first() if tried else None
    organizations = [m.organization for m in memberships_of(person)] if person is not None else []
    for organization in organizations or [None]:
        audit.record(action=audit.AuditAction.SIGN_IN_FAILED, organization=organization, request=request,
                     actor_label=tried, target=person, target_label=tried)
