"""How long an organization keeps customers' personal data (docs/adr/0028)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RetentionPolicy(models.Model):
    """Personal data older than `personal_data_months` is erased by the daily retention task, the
    way an erasure request erases it (figures stay). Empty: kept until someone erases it."""

    organization = models.OneToOneField("cxplatform.Organization", on_delete=models.CASCADE,
                                        related_name="retention_policy")
    personal_data_months = models.PositiveSmallIntegerField(_("erase personal data after (months)"), null=True,
                                                            blank=True)
    last_erased_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("personal data retention")
        constraints = [models.CheckConstraint(
            condition=models.Q(personal_data_months__isnull=True) | models.Q(personal_data_months__gte=1),
            name="retention_at_least_a_month")]

    def __str__(self):
        return f"{self.organization_id}: {self.personal_data_months or '∞'}"
