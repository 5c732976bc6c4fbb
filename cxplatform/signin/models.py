"""The organization's single sign-on rule: which e-mail domains may join by SSO, with which role.

Imported at the end of cxplatform/models.py, so it is a model of the cxplatform app.
"""

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from cxplatform.models import OrgScopedModel, Role


class SSODomain(OrgScopedModel):
    """People whose verified e-mail is at `domain` join the organization with `role` on their first
    single sign-on. A domain belongs to one organization at most: otherwise any organization
    could list a company's domain and collect its staff."""

    domain = models.CharField(_("e-mail domain"), max_length=253)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "cxplatform"
        ordering = ["domain"]
        constraints = [models.UniqueConstraint(Lower("domain"), name="sso_domain_unique")]
        verbose_name = _("single sign-on domain")
        verbose_name_plural = _("single sign-on domains")

    def __str__(self):
        return self.domain
