from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """Outgoing webhooks: what happens in any app, pushed to the team's other systems."""

    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self):
        # The apps that declare the source events, imported so their declarations exist.
        import actions.services  # noqa: F401
        import feedback.services  # noqa: F401
        import invitations.services  # noqa: F401
        import surveys.services  # noqa: F401
        from cxplatform import events

        from . import payloads, services, wordings  # noqa: F401

        for webhook_event, (source_event, _build) in payloads.BUILDERS.items():
            events.subscribe(source_event, f"integrations.webhooks.{webhook_event}",
                             services.handler_for(webhook_event), wanted=services.wanted_by(webhook_event))
