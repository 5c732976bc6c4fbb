"""The people who act on feedback. The inbox (items, tags, routing, SLAs) builds on these."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cxplatform.models import OrgScopedModel
from journeys.models import Touchpoint


class Team(OrgScopedModel):
    """A frontline team: its agents, its lead (who gets escalations) and the touchpoints it
    answers for — its members' frontline view shows those touchpoints' figures."""

    name = models.CharField(_("name"), max_length=120)
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("team lead"))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="cx_teams",
                                     verbose_name=_("members"))
    touchpoints = models.ManyToManyField(Touchpoint, blank=True, related_name="teams", verbose_name=_("touchpoints"))

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="team_name_unique_per_org")]

    def __str__(self):
        return self.name
