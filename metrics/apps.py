from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = _("Metrics")

    def ready(self):
        from cxplatform import events

        from . import handlers

        events.register("response.recorded", handlers.response_recorded)
