from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """Outgoing webhooks: what happens in any app, pushed to the team's other systems."""

    name = "integrations"
    verbose_name = _("Integrations")
