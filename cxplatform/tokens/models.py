"""API tokens: one person's key to the API of one organization (issue 16).

The token string (`cxp_<prefix>_<secret>`) is shown once, when it is made, and never stored: the
row keeps the prefix (so a person recognises the token in a list) and the SHA-256 of the secret.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cxplatform.models import OrgScopedModel


class Scope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


class ApiToken(OrgScopedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    # A `write` token may also read; a `read` token may only use safe methods (GET, HEAD, OPTIONS).
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    # SHA-256, not a slow password hash: the secret is 256 random bits, not a person's password, so
    # nobody can guess it from its hash however fast the hash, and each API call checks it.
    hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "user"], name="apitoken_org_user")]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} (cxp_{self.prefix}_…)"

    @property
    def scopes(self) -> list[str]:
        return [Scope.READ, Scope.WRITE] if self.scope == Scope.WRITE else [Scope.READ]

    @property
    def may_write(self) -> bool:
        return self.scope == Scope.WRITE

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if self.is_expired() else "active"
