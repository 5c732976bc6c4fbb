"""Sign-in rules: two-factor devices and recovery codes, the organization's security settings, and
who single sign-on lets in (docs/adr/0026). Every change is audited in its own transaction."""

import re
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cxplatform import ratelimit
from cxplatform.audit import AuditAction, record
from cxplatform.models import Membership, Organization
from cxplatform.tenancy import memberships_of, resolve_membership

from .models import SSODomain

RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"
# A recovery code: 10 characters from an alphabet without look-alikes (no 0/o, 1/l/i).
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TOTP_CODE = re.compile(r"^\d{6}$")


class SignInError(Exception):
    """A sign-in setting or code refused; `message` says why, in the reader's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SSORefused(Exception):
    """Single sign-on answered for someone this platform does not let in; `message` tells them why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- Two-factor devices -------------------------------------------------------------------------

def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_two_factor(user) -> bool:
    """One query: recovery codes are only ever made beside a confirmed authenticator."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_device(*, user) -> TOTPDevice:
    """The authenticator being set up (not yet confirmed): the same secret until it is confirmed,
    so reloading the page does not invalidate what the person has just scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=DEVICE_NAME).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, confirmed=False, name=DEVICE_NAME)


def normalized_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _organizations_of(user) -> list[Organization | None]:
    return [m.organization for m in memberships_of(user)] or [None]


def _record_for_person(*, action: str, user, request, details: dict | None = None) -> None:
    """A person's own security event goes into the log of every organization they belong to:
    each one's admins answer for who can sign in there."""
    for organization in _organizations_of(user):
        record(action=action, organization=organization, request=request, actor=user, target=user,
               details=details)


def new_recovery_codes() -> list[str]:
    return ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODE_COUNT)]


def enable_two_factor(*, user, device: TOTPDevice, code: str, request) -> list[str]:
    """Confirm the authenticator with a code it shows; returns the recovery codes (shown once)."""
    if device.user_id != user.pk or device.confirmed:
        raise SignInError(_("Start setting up two-factor sign-in again."))
    if not TOTP_CODE.match(normalized_code(code)) or not device.verify_token(normalized_code(code)):
        raise SignInError(_("That code is not right. Enter the 6 digits your app shows now."))
    codes = new_recovery_codes()
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        StaticDevice.objects.filter(user=user).delete()
        recovery = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
        StaticToken.objects.bulk_create([StaticToken(device=recovery, token=c) for c in codes])
        _record_for_person(action=AuditAction.TWO_FACTOR_ENABLED, user=user, request=request)
    return codes


def verify_second_factor(*, user, code: str):
    """The device that accepts `code` (6 digits from the app, or an unused recovery code), or None.

    Raises SignInError while the device still makes the person wait after wrong codes."""
    token = normalized_code(code)
    if TOTP_CODE.match(token):
        device = confirmed_device(user)
    else:
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if device is None or not token:
        return None
    allowed, _detail = device.verify_is_allowed()
    if not allowed:
        raise SignInError(_("Too many wrong codes. Wait a minute and try again."))
    with transaction.atomic():
        return device if device.verify_token(token) else None


def disable_two_factor(*, user, code: str, request) -> None:
    """Turn two-factor sign-in off; a current code (or a recovery code) proves it is the person."""
    if verify_second_factor(user=user, code=code) is None:
        raise SignInError(_("That code is not right. Enter the 6 digits your app shows now, or a recovery code."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _record_for_person(action=AuditAction.TWO_FACTOR_DISABLED, user=user, request=request)


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _failures_key(user) -> str:
    return f"signin:two-factor-failures:{user.pk}"


def failures_exhausted(*, user) -> bool:
    """True while the person's wrong codes have used up the window: checked before a code is tried,
    so after the limit not even a right guess gets through."""
    try:
        return int(caches[ratelimit.CACHE].get(_failures_key(user)) or 0) >= settings.TWO_FACTOR_MAX_FAILURES
    except Exception:  # the counter store is down: as every rate limit here, fail open (cxplatform.ratelimit)
        return False


def count_failed_code(*, user, request) -> bool:
    """Record a wrong code (audit and counter); False once the failures the window allows are used up.
    The window runs from the first failure, so waiting it out is the only way past the limit."""
    _record_for_person(action=AuditAction.TWO_FACTOR_FAILED, user=user, request=request)
    store = caches[ratelimit.CACHE]
    try:
        store.add(_failures_key(user), 0, timeout=settings.TWO_FACTOR_FAILURE_WINDOW_SECONDS)
        count = store.incr(_failures_key(user))
    except Exception:
        return True
    return count < settings.TWO_FACTOR_MAX_FAILURES


# --- The organization's rules -------------------------------------------------------------------

def set_require_two_factor(*, organization: Organization, required: bool, request) -> None:
    if organization.require_two_factor == required:
        return
    # As on GitHub: whoever requires it of everyone uses it first (and learns what members will see).
    if required and not has_two_factor(request.user):
        raise SignInError(_("Turn on two-factor sign-in for yourself first; then you can require it of everyone."))
    with transaction.atomic():
        organization.require_two_factor = required
        organization.save(update_fields=["require_two_factor"])
        record(action=AuditAction.SETTINGS_CHANGED, organization=organization, request=request,
               target=organization, details={"section": "security", "require_two_factor": required})


DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def add_sso_domain(*, organization: Organization, domain: str, role: str, request) -> SSODomain:
    domain = domain.strip().lower().lstrip("@")
    if not DOMAIN_PATTERN.match(domain):
        raise SignInError(_("Enter an e-mail domain such as example.com."))
    if SSODomain.objects.filter(domain__iexact=domain).exists():
        raise SignInError(_("This domain is already listed by an organization."))
    try:
        with transaction.atomic():
            rule = SSODomain.objects.create(organization=organization, domain=domain, role=role)
            record(action=AuditAction.SETTINGS_CHANGED, organization=organization, request=request, target=rule,
                   details={"section": "security", "sso_domain_added": domain, "role": role})
    except IntegrityError as exc:  # listed at the same moment by someone else
        raise SignInError(_("This domain is already listed by an organization.")) from exc
    return rule


def remove_sso_domain(*, rule: SSODomain, request) -> None:
    with transaction.atomic():
        record(action=AuditAction.SETTINGS_CHANGED, organization=rule.organization, request=request,
               target=rule, details={"section": "security", "sso_domain_removed": rule.domain})
        rule.delete()


# --- Single sign-on -----------------------------------------------------------------------------

def _username_for(email: str) -> str:
    User = get_user_model()
    base = email[:140]
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def admit_by_sso(*, email: str, email_verified: bool, first_name: str, last_name: str, request):
    """The person the provider vouches for: the account with this verified e-mail, made on the
    first sign-in when the e-mail's domain is listed by an organization (which the person then
    joins with the domain's role). Anyone else is refused with the reason."""
    email = email.strip().lower()
    if not email or "@" not in email or not email_verified:
        raise SSORefused(_("Your single sign-on provider did not confirm your e-mail address, so it cannot "
                           "sign you in here."))
    domain = email.rsplit("@", 1)[1]
    User = get_user_model()
    with transaction.atomic():
        users = list(User.objects.select_for_update(no_key=True).filter(email__iexact=email)[:2])
        if len(users) > 1:
            raise SSORefused(_("More than one account uses %(email)s. Ask an administrator to sort it out.")
                             % {"email": email})
        rule = SSODomain.objects.select_related("organization").filter(domain__iexact=domain).first()
        user = users[0] if users else None
        if user is None:
            # An open invitation to this address also lets the account be made: the person then
            # joins on the invitation's page, with the role the admin chose.
            if rule is None and not _invited(email):
                raise SSORefused(_("No organization here lets people from %(domain)s join by single sign-on, "
                                   "and no account uses %(email)s. Ask an administrator to invite you.")
                                 % {"domain": domain, "email": email})
            user = User.objects.create_user(username=_username_for(email), email=email, first_name=first_name,
                                            last_name=last_name)
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if not user.is_active:
            raise SSORefused(_("This account is switched off. Ask an administrator."))
        # A deactivated membership stays deactivated: SSO only adds what is missing.
        if rule is not None and not Membership.objects.filter(user=user, organization=rule.organization).exists():
            membership = Membership.objects.create(user=user, organization=rule.organization, role=rule.role)
            record(action=AuditAction.MEMBER_JOINED_BY_SSO, organization=rule.organization, request=request,
                   actor=user, target=membership, target_label=email,
                   details={"domain": domain, "role": rule.role})
    return user


def _invited(email: str) -> bool:
    from django.utils import timezone

    from cxplatform.team.models import MemberInvitation

    return MemberInvitation.objects.filter(email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True,
                                           expires_at__gt=timezone.now()).exists()


def record_sso_sign_in(*, request, user) -> None:
    membership = resolve_membership(request, user)
    record(action=AuditAction.SSO_SIGNED_IN, organization=membership.organization if membership else None,
           request=request, actor=user, target=user)
