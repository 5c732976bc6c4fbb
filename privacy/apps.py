from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Data-subject requests and retention: it reads and erases a person across every app."""

    name = "privacy"
    verbose_name = _("Personal data")
