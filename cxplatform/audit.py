"""The audit log: who did what that matters, when and from where (docs/adr/0025).

Every app records through `record()`, in the transaction of the change it records, so an entry
exists exactly when the change does. Entries are append-only (the model, its queryset and a
PostgreSQL trigger refuse to change or delete one); only `purge_expired` removes entries older
than the retention period.
"""

import ipaddress
from datetime import timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry
from .ratelimit import client_ip


class AuditAction(models.TextChoices):
    """Every action the log knows; the label is what the admin reads, in their language."""

    SIGNED_IN = "auth.signed_in", _("Signed in")
    SIGN_IN_FAILED = "auth.sign_in_failed", _("Sign-in failed")
    SIGNED_OUT = "auth.signed_out", _("Signed out")
    SSO_SIGNED_IN = "auth.sso_signed_in", _("Signed in through single sign-on")
    PASSWORD_RESET_REQUESTED = "auth.password_reset_requested", _("Password reset requested")
    PASSWORD_CHANGED = "auth.password_changed", _("Password changed")
    TWO_FACTOR_ENABLED = "auth.two_factor_enabled", _("Two-factor sign-in turned on")
    TWO_FACTOR_DISABLED = "auth.two_factor_disabled", _("Two-factor sign-in turned off")
    TWO_FACTOR_FAILED = "auth.two_factor_failed", _("Two-factor code refused")
    ORGANIZATION_CREATED = "organization.created", _("Organization created")
    MEMBER_INVITED = "member.invited", _("Member invited")
    INVITATION_REVOKED = "member.invitation_revoked", _("Invitation withdrawn")
    INVITATION_ACCEPTED = "member.invitation_accepted", _("Invitation accepted")
    MEMBER_JOINED_BY_SSO = "member.joined_by_sso", _("Joined through single sign-on")
    ROLE_CHANGED = "member.role_changed", _("Role changed")
    MEMBER_DEACTIVATED = "member.deactivated", _("Member deactivated")
    MEMBER_REACTIVATED = "member.reactivated", _("Member reactivated")
    TOKEN_CREATED = "token.created", _("API token created")
    TOKEN_REVOKED = "token.revoked", _("API token revoked")
    SETTINGS_CHANGED = "settings.changed", _("Settings changed")
    PERSONAL_DATA_EXPORTED = "personal_data.exported", _("Personal data exported")
    PERSONAL_DATA_DOWNLOADED = "personal_data.downloaded", _("Personal data downloaded")
    SUBJECT_DATA_EXPORTED = "privacy.subject_exported", _("A person's data exported")
    SUBJECT_ERASED = "privacy.subject_erased", _("A person's data erased")
    RETENTION_ERASED = "privacy.retention_erased", _("Old personal data erased")
    WEBHOOK_CREATED = "webhook.created", _("Webhook added")
    WEBHOOK_CHANGED = "webhook.changed", _("Webhook changed")
    WEBHOOK_DELETED = "webhook.deleted", _("Webhook removed")
    WEBHOOK_DISABLED = "webhook.disabled", _("Webhook disabled after failing")
    AUDIT_EXPORTED = "audit.exported", _("Audit log exported")


def record(*, action: str, organization=None, request=None, actor=None, token=None, target=None,
           target_label: str = "", details: dict | None = None, actor_label: str = "") -> AuditEntry:
    """Append one entry. `actor` defaults to the request's signed-in person and `token` to the API
    token the request came with (DRF's `request.auth`); `target` is any model instance."""
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    if request is not None:
        user = getattr(request, "user", None)
        if actor is None and user is not None and user.is_authenticated:
            actor = user
        if token is None:
            auth = getattr(request, "auth", None)
            token = auth if hasattr(auth, "pk") and hasattr(auth, "name") else None
    if not actor_label:
        actor_label = _person_label(actor) if actor is not None else ""
        if token is not None:
            actor_label = f"{actor_label} · {token.name}" if actor_label else token.name
    entry = AuditEntry(
        organization=organization, actor=actor, actor_label=actor_label[:200],
        token_id=getattr(token, "pk", None), action=action, details=details or {},
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=(target_label or (str(target) if target is not None else ""))[:200],
        ip_address=_address(request), user_agent=(request.headers.get("User-Agent", "") if request else "")[:300],
    )
    entry.save()
    return entry


def _person_label(user) -> str:
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    name = user.get_username()
    email = getattr(user, "email", "")
    label = full or name
    return f"{label} <{email}>" if email and email != label else label


def _address(request) -> str | None:
    if request is None:
        return None
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def retention_cutoff(now=None):
    return (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)


def purge_expired(now=None) -> int:
    """Delete entries older than AUDIT_RETENTION_DAYS: the one deletion the log allows."""
    cutoff = retention_cutoff(now)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL cxplatform.audit_purge = 'on'")
        cursor.execute("DELETE FROM cxplatform_auditentry WHERE created_at < %s", [cutoff])
        purged = cursor.rowcount
        if connection.vendor == "postgresql":
            # Called inside a larger transaction, the permission must not outlive the purge.
            cursor.execute("SET LOCAL cxplatform.audit_purge = 'off'")
        return purged


# --- Settings changes: what changed, field by field -----------------------------------------

# Never copied into the log: a secret in an entry would outlive its rotation.
UNLOGGED_FIELDS = {"id", "organization", "version", "key", "secret", "password", "token_hash"}


def snapshot(instance) -> dict:
    """A setting's editable fields as JSON values (related rows by name), to compare before and
    after a change."""
    values = {}
    for field in instance._meta.concrete_fields:
        if not field.editable or field.primary_key or field.name in UNLOGGED_FIELDS:
            continue
        value = getattr(instance, field.name)
        values[field.name] = value if value is None or isinstance(value, bool | int | str) else str(value)
    if instance.pk:
        for field in instance._meta.many_to_many:
            values[field.name] = sorted(str(related) for related in getattr(instance, field.name).all())
    return values


def record_setting(*, request, organization, instance, change: str, before: dict | None = None,
                   extra: dict | None = None) -> AuditEntry | None:
    """SETTINGS_CHANGED for `instance` ("created", "changed" or "deleted"); for a change, each
    field that moved as [old, new] (`extra` adds changes made beside the row). An edit that
    changed nothing records nothing. Call before a deletion (the row still has its id)."""
    changes = {}
    if change == "changed":
        after = snapshot(instance)
        changes = {name: [(before or {}).get(name), value] for name, value in after.items()
                   if (before or {}).get(name) != value}
        changes.update(extra or {})
        if not changes:
            return None
    return record(action=AuditAction.SETTINGS_CHANGED, organization=organization, request=request, target=instance,
                  details={"setting": instance._meta.label_lower, "change": change, "changes": changes})


class AuditedSettingsMixin:
    """For an API viewset of an organization's settings (before `OrgScopedViewSetMixin`): each
    create, update and delete is recorded as SETTINGS_CHANGED in the change's transaction, as the
    settings pages record theirs."""

    def perform_create(self, serializer):
        with transaction.atomic():
            super().perform_create(serializer)
            record_setting(request=self.request, organization=self.organization, instance=serializer.instance,
                           change="created")

    def perform_update(self, serializer):
        with transaction.atomic():
            instance = serializer.instance
            before = snapshot(type(instance)._default_manager.get(pk=instance.pk))
            super().perform_update(serializer)
            record_setting(request=self.request, organization=self.organization, instance=serializer.instance,
                           change="changed", before=before)

    def perform_destroy(self, instance):
        with transaction.atomic():
            record_setting(request=self.request, organization=self.organization, instance=instance, change="deleted")
            super().perform_destroy(instance)


# --- Reading an entry ------------------------------------------------------------------------

# What an admin calls each setting (several models have no translated verbose name of their own).
SETTING_NAMES = {
    "feedback.team": _("Team"), "feedback.routingrule": _("Routing rule"), "feedback.slapolicy": _("SLA policy"),
    "feedback.closelooprule": _("Close-loop rule"), "feedback.tag": _("Tag"), "feedback.rootcause": _("Root cause"),
    "feedback.cannedreply": _("Canned reply"), "feedback.webhookendpoint": _("Incoming webhook"),
    "surveys.contactpolicy": _("Contact policy"), "invitations.sendingprofile": _("Sending settings"),
    "invitations.suppression": _("Suppression list"), "cxplatform.branding": _("Branding"),
    "cxplatform.themesetting": _("Comment theme"),
}
CHANGE_LABELS = {"created": _("created"), "changed": _("changed"), "deleted": _("deleted")}


def describe(entry: AuditEntry) -> list[str]:
    """The entry's details as lines a person reads, in the active language: "role: Support agent
    → Administrator", "Routing rule: created"."""
    details = entry.details if isinstance(entry.details, dict) else {}
    model = _model(details.get("setting")) if entry.action == AuditAction.SETTINGS_CHANGED else None
    lines = []
    if model is not None:
        name = SETTING_NAMES.get(model._meta.label_lower) or capfirst(model._meta.verbose_name)
        lines.append(f"{name}: {CHANGE_LABELS.get(details.get('change'), '')}")
    if "from" in details and "to" in details:
        lines.append(f"{_shown(details['from'])} → {_shown(details['to'])}")
    changes = details.get("changes") if isinstance(details.get("changes"), dict) else {}
    for name, pair in changes.items():
        old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        field = _field(model, name)
        label = capfirst(field.verbose_name) if field is not None else name
        lines.append(f"{label}: {_shown(old, field)} → {_shown(new, field)}")
    for name, value in details.items():
        if name not in ("setting", "change", "changes", "from", "to"):
            lines.append(f"{name}: {_shown(value)}")
    return lines


def _model(label):
    from django.apps import apps

    try:
        return apps.get_model(label) if isinstance(label, str) and "." in label else None
    except LookupError:
        return None


def _field(model, name):
    from django.core.exceptions import FieldDoesNotExist

    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _shown(value, field=None) -> str:
    from .models import Role

    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_shown(item)}" for key, item in value.items())
    choices = dict(field.flatchoices) if field is not None and field.choices else dict(Role.choices)
    return str(choices.get(value, value))
