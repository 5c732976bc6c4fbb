"""Journeys: where the customer meets the company. Surveys are sent at touchpoints."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from cxplatform.models import OrgScopedModel


class Channel(OrgScopedModel):
    """The medium a touchpoint or a survey reaches the customer through."""

    class Kind(models.TextChoices):
        WEB = "web", _("Web")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        MESSENGER = "messenger", _("Messenger")
        STORE = "store", _("Store")
        QR = "qr", _("In-store QR")
        APP = "app", _("In-app")
        CALL_CENTRE = "call_centre", _("Call centre")
        SOCIAL = "social", _("Social media")
        DELIVERY = "delivery", _("Delivery")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.WEB)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="channel_name_unique")]

    def __str__(self):
        return self.name


class Touchpoint(OrgScopedModel):
    """A moment of the customer's journey (e.g. "Delivery of the scooter")."""

    name = models.CharField(_("name"), max_length=200)
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("channel")
    )
    description = models.TextField(_("description"), blank=True)
    archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="touchpoint_name_unique")]

    def __str__(self):
        return self.name
