"""Invitations into an organization, and the marker that signs a person out everywhere.

Imported at the bottom of cxplatform/models.py, so the models belong to the cxplatform app.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cxplatform.models import OrgScopedModel, Role


class MemberInvitation(OrgScopedModel):
    """An e-mail invitation to join with a role. The link carries a random secret; only its SHA-256
    is stored, so a copy of the database cannot be used to join. Single use: accepting, revoking
    or resending (a new secret) ends the link."""

    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)  # the last (re)send: the link is as old as this
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open invitation per address and organization: concurrent invites cannot make two.
            models.UniqueConstraint(Lower("email"), "organization",
                                    condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                                    name="one_open_invitation_per_address"),
        ]

    def __str__(self):
        return self.email

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


class SessionGeneration(models.Model):
    """A person's sign-in generation. Each session remembers the generation it was signed in under;
    raising it (deactivation) makes every older session sign out on its next request. Django's
    sessions are not indexed by user, so this is how all of them end at once, whatever the
    session engine."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="session_generation")
    generation = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.user_id}: {self.generation}"
