from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = _("Metrics")

    def ready(self):
        from cxplatform import events
        from surveys.comments import COMMENT_READ
        from surveys.services import RESPONSE_RECORDED

        from . import handlers

        # A mark of the answer's day, a statement: in the loop lane, so the figures are fresh in a burst.
        events.subscribe(RESPONSE_RECORDED, "metrics.rollup", handlers.response_recorded, lane="loop")
        events.subscribe(COMMENT_READ, "metrics.comment_read", handlers.comment_read)
