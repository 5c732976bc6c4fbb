"""Team administration's rules: invitations, roles, deactivation and the first sign-in link.

Every change is recorded in the audit log in its own transaction; e-mail goes out only after the
transaction commits (a rolled-back invitation mails nothing, a slow mail server holds no lock).
"""

import hashlib
import logging
import secrets
import smtplib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from cxplatform.audit import AuditAction, record
from cxplatform.models import Membership, Organization, Role

from .models import MemberInvitation, SessionGeneration

logger = logging.getLogger(__name__)

# The session remembers the sign-in generation it was made under (see SessionGeneration).
SESSION_GENERATION_KEY = "team_session_generation"
FIRST_SIGN_IN_SECONDS = 24 * 3600


class TeamRuleError(Exception):
    """A refused change, with the reason the admin reads (lazily translated)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def invitation_lifetime() -> timedelta:
    return timedelta(days=getattr(settings, "MEMBER_INVITATION_DAYS", 7))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    # Domains are case-insensitive; the local part is kept as typed but compared without case.
    return email.strip()


# --- Invitations ----------------------------------------------------------------------------------


def invite_member(*, organization: Organization, email: str, role: str, invited_by, request=None) -> bool:
    """Invite `email` with `role` and mail the link. False when the mail could not be sent (the
    invitation stands; the admin may resend it)."""
    email = normalise_email(email)
    role = Role(role)
    User = get_user_model()
    with transaction.atomic():
        member = (Membership.objects.for_org(organization).filter(user__email__iexact=email)
                  .select_related("user").first())
        if member is not None:
            if member.is_active:
                raise TeamRuleError(_("%(email)s is already a member of this organization.") % {"email": email})
            raise TeamRuleError(_("%(email)s is a deactivated member: reactivate them instead of inviting.")
                                % {"email": email})
        open_one = (MemberInvitation.objects.for_org(organization).select_for_update(no_key=True)
                    .filter(email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True).first())
        if open_one is not None:
            if not open_one.is_expired:
                raise TeamRuleError(_("%(email)s has already been invited: resend that invitation instead.")
                                    % {"email": email})
            # An expired invitation is history; the new one takes its place.
            open_one.revoked_at = timezone.now()
            open_one.save(update_fields=["revoked_at"])
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        try:
            with transaction.atomic():
                invitation = MemberInvitation.objects.create(
                    organization=organization, email=email, role=role, token_hash=hash_token(token),
                    invited_by=invited_by, created_at=now, sent_at=now, expires_at=now + invitation_lifetime())
        except IntegrityError:  # a concurrent invite of the same address won
            raise TeamRuleError(_("%(email)s has already been invited: resend that invitation instead.")
                                % {"email": email}) from None
        record(action=AuditAction.MEMBER_INVITED, organization=organization, request=request, actor=invited_by,
               target=invitation, details={"email": email, "role": role.value,
                                           "existing_account": User.objects.filter(email__iexact=email).exists()})
    return send_invitation(invitation=invitation, token=token)


def resend_invitation(*, organization: Organization, invitation_id: int, actor, request=None) -> bool:
    """A new link (the old one stops working) with a fresh expiry, mailed again."""
    with transaction.atomic():
        invitation = MemberInvitation.objects.for_org(organization).select_for_update(no_key=True).get(pk=invitation_id)
        if not invitation.is_open:
            raise TeamRuleError(_("This invitation was already accepted or withdrawn."))
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        invitation.token_hash, invitation.sent_at = hash_token(token), now
        invitation.expires_at = now + invitation_lifetime()
        invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
        record(action=AuditAction.MEMBER_INVITED, organization=organization, request=request, actor=actor,
               target=invitation, details={"email": invitation.email, "role": invitation.role, "resent": True})
    return send_invitation(invitation=invitation, token=token)


def revoke_invitation(*, organization: Organization, invitation_id: int, actor, request=None) -> None:
    with transaction.atomic():
        invitation = MemberInvitation.objects.for_org(organization).select_for_update(no_key=True).get(pk=invitation_id)
        if not invitation.is_open:
            raise TeamRuleError(_("This invitation was already accepted or withdrawn."))
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record(action=AuditAction.INVITATION_REVOKED, organization=organization, request=request, actor=actor,
               target=invitation, details={"email": invitation.email, "role": invitation.role})


def accept_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("invitation_accept", kwargs={"token": token})


def send_invitation(*, invitation: MemberInvitation, token: str) -> bool:
    """Mail the link, in the organization's language (the invitee has chosen none yet)."""
    organization = invitation.organization
    inviter = invitation.invited_by
    with translation.override(organization.default_language):
        context = {"organization": organization, "link": accept_url(token),
                   "inviter": (inviter.get_full_name() or inviter.get_username()) if inviter else "",
                   "role": invitation.get_role_display(), "expires_at": invitation.expires_at}
        subject = render_to_string("team/invitation_subject.txt", context).strip()
        body = render_to_string("team/invitation_email.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email])
    except (smtplib.SMTPException, OSError):
        logger.warning("invitation %s could not be mailed", invitation.pk, exc_info=True)
        return False
    return True


def open_invitation(token: str) -> MemberInvitation:
    """The invitation `token` opens, or TeamRuleError saying why it cannot be used."""
    invitation = (MemberInvitation.objects.select_related("organization", "invited_by")
                  .filter(token_hash=hash_token(token or "")).first())
    if invitation is None:
        raise TeamRuleError(_("This invitation link is not valid. It may have been replaced by a newer one: "
                              "use the link in the latest e-mail, or ask for a new invitation."))
    if invitation.revoked_at is not None:
        raise TeamRuleError(_("This invitation was withdrawn. Ask an administrator for a new one."))
    if invitation.accepted_at is not None:
        raise TeamRuleError(_("This invitation has already been used. Sign in to continue."))
    if invitation.is_expired:
        raise TeamRuleError(_("This invitation has expired. Ask an administrator to send it again."))
    return invitation


def email_matches(invitation: MemberInvitation, user) -> bool:
    return bool(user.email) and user.email.strip().lower() == invitation.email.lower()


def existing_account(invitation: MemberInvitation):
    return get_user_model().objects.filter(email__iexact=invitation.email).order_by("pk").first()


def _claim(token: str) -> MemberInvitation:
    """Lock the invitation and check it again: two tabs accepting at once make one membership."""
    open_invitation(token)
    invitation = MemberInvitation.objects.select_for_update(no_key=True).get(token_hash=hash_token(token))
    invitation.organization = Organization.objects.get(pk=invitation.organization_id)
    if not invitation.is_open or invitation.is_expired:
        raise TeamRuleError(_("This invitation has already been used. Sign in to continue."))
    return invitation


def _join(invitation: MemberInvitation, user, request, *, new_account: bool) -> Membership:
    membership = Membership.objects.filter(organization=invitation.organization, user=user).first()
    if membership is not None and not membership.is_active:
        raise TeamRuleError(_("Your membership of this organization is deactivated. Ask an administrator."))
    if membership is None:
        membership = Membership.objects.create(organization=invitation.organization, user=user,
                                               role=invitation.role)
    elif membership.role != invitation.role:
        # Joined meanwhile (single sign-on's default role): the role the admin chose wins.
        membership.role = invitation.role
        membership.save(update_fields=["role"])
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(action=AuditAction.INVITATION_ACCEPTED, organization=invitation.organization, request=request,
           actor=user, target=membership, target_label=invitation.email,
           details={"email": invitation.email, "role": invitation.role, "new_account": new_account})
    return membership


def accept_as_new_person(*, token: str, first_name: str, last_name: str, password: str, request=None):
    """Make the invitee's account with the password they chose and join; the new user."""
    User = get_user_model()
    with transaction.atomic():
        invitation = _claim(token)
        if existing_account(invitation) is not None:
            raise TeamRuleError(_("An account with this e-mail already exists: sign in to accept."))
        username = invitation.email.lower()[:150]
        if User.objects.filter(username__iexact=username).exists():
            username = f"{username[:140]}-{secrets.token_hex(4)}"
        user = User(username=username, email=invitation.email, first_name=first_name[:150], last_name=last_name[:150])
        user.set_password(password)
        user.save()
        _join(invitation, user, request, new_account=True)
    return user


def accept_as_user(*, token: str, user, request=None) -> Membership:
    """A signed-in person joins; only the one the invitation was sent to."""
    with transaction.atomic():
        invitation = _claim(token)
        if not email_matches(invitation, user):
            raise TeamRuleError(_("This invitation was sent to another e-mail address. Sign out and open the link "
                                  "again, or sign in as the person it was sent to."))
        return _join(invitation, user, request, new_account=False)


# --- Roles and deactivation -----------------------------------------------------------------------


def _lock_admins(organization: Organization) -> list[int]:
    """Lock the active admins' rows, so two admins demoting each other at once cannot leave none."""
    return list(Membership.objects.for_org(organization).select_for_update(no_key=True)
                .filter(role=Role.ADMIN, is_active=True).values_list("pk", flat=True))


def _member(organization: Organization, membership_id: int) -> Membership:
    return (Membership.objects.for_org(organization).select_for_update(no_key=True, of=("self",))
            .select_related("user").get(pk=membership_id))


def change_role(*, organization: Organization, membership_id: int, role: str, actor, request=None) -> Membership:
    role = Role(role)
    with transaction.atomic():
        admins = _lock_admins(organization)
        membership = _member(organization, membership_id)
        if membership.role == role:
            return membership
        if membership.pk in admins and len(admins) == 1:
            raise TeamRuleError(_("The organization needs at least one active administrator: make someone else "
                                  "an administrator first."))
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        record(action=AuditAction.ROLE_CHANGED, organization=organization, request=request, actor=actor,
               target=membership, target_label=_member_label(membership),
               details={"from": previous, "to": role.value})
    return membership


def deactivate_member(*, organization: Organization, membership_id: int, actor, request=None) -> Membership:
    """The member acts nowhere in this organization from now on, and is signed out at once."""
    with transaction.atomic():
        admins = _lock_admins(organization)
        membership = _member(organization, membership_id)
        if not membership.is_active:
            return membership
        if membership.pk in admins and len(admins) == 1:
            raise TeamRuleError(_("The organization needs at least one active administrator: make someone else "
                                  "an administrator first."))
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        sign_out_everywhere(user=membership.user)
        record(action=AuditAction.MEMBER_DEACTIVATED, organization=organization, request=request, actor=actor,
               target=membership, target_label=_member_label(membership), details={"role": membership.role})
    return membership


def reactivate_member(*, organization: Organization, membership_id: int, actor, request=None) -> Membership:
    with transaction.atomic():
        membership = _member(organization, membership_id)
        if membership.is_active:
            return membership
        membership.is_active = True
        membership.save(update_fields=["is_active"])
        record(action=AuditAction.MEMBER_REACTIVATED, organization=organization, request=request, actor=actor,
               target=membership, target_label=_member_label(membership), details={"role": membership.role})
    return membership


def _member_label(membership: Membership) -> str:
    user = membership.user
    name = user.get_full_name() or user.get_username()
    return f"{name} <{user.email}>" if user.email and user.email != name else name


def sign_out_everywhere(*, user) -> None:
    """End every session of `user` on its next request (the middleware compares generations)."""
    SessionGeneration.objects.get_or_create(user=user)
    SessionGeneration.objects.filter(user=user).update(generation=F("generation") + 1)


def current_generation(user_id: int) -> int:
    return SessionGeneration.objects.filter(user_id=user_id).values_list("generation", flat=True).first() or 0


# --- The first administrator of a fresh install ---------------------------------------------------


class FirstSignInTokenGenerator(PasswordResetTokenGenerator):
    """Like a password-reset token (it hashes the user's password and last sign-in, so setting the
    password or signing in once ends it), with its own salt and a day's validity."""

    key_salt = "cxplatform.team.FirstSignInTokenGenerator"

    def check_token(self, user, token):
        if not super().check_token(user, token):
            return False
        try:
            issued = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        return self._num_seconds(self._now()) - issued <= FIRST_SIGN_IN_SECONDS


first_sign_in_tokens = FirstSignInTokenGenerator()


def create_organization(*, name: str, admin_email: str, slug: str, language: str, base_url: str):
    """A new organization with `admin_email` as its administrator (an existing account is reused);
    (organization, user, one-time sign-in link)."""
    User = get_user_model()
    admin_email = normalise_email(admin_email)
    with transaction.atomic():
        if Organization.objects.filter(slug=slug).exists():
            raise TeamRuleError(_("An organization with the slug %(slug)s already exists.") % {"slug": slug})
        organization = Organization.objects.create(name=name, slug=slug, default_language=language)
        user = User.objects.filter(email__iexact=admin_email).order_by("pk").first()
        created = user is None
        if created:
            user = User(username=admin_email.lower()[:150], email=admin_email)
            if User.objects.filter(username__iexact=user.username).exists():
                user.username = f"{user.username[:140]}-{secrets.token_hex(4)}"
            user.set_unusable_password()
            user.save()
        Membership.objects.create(user=user, organization=organization, role=Role.ADMIN)
        record(action=AuditAction.ORGANIZATION_CREATED, organization=organization, target=organization,
               actor_label="manage.py create_organization",
               details={"admin": admin_email, "new_account": created, "language": language})
    path = reverse("first_sign_in", kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                                            "token": first_sign_in_tokens.make_token(user)})
    return organization, user, base_url.rstrip("/") + path


# --- Password changes ------------------------------------------------------------------------------


def record_for_each_organization(*, action: str, user, request=None, details: dict | None = None) -> None:
    """A person's own event (a password reset) in the log of every organization they work in."""
    for membership in Membership.objects.filter(user=user, is_active=True).select_related("organization"):
        record(action=action, organization=membership.organization, request=request, actor=user, target=user,
               details=details or {})
