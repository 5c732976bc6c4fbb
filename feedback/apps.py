from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback inbox")

    def ready(self):
        from cxplatform import events, import_jobs

        from . import handlers
        from .importing import InboxImporter
        from .models import FeedbackImportJob

        import_jobs.register(FeedbackImportJob, InboxImporter)
        events.register("response.recorded", handlers.response_recorded)
        events.register("response.recorded", handlers.close_loop)  # after the comment's item exists
        events.register("feedback.item_received", handlers.item_received)
        events.register("retention.offer_accepted", handlers.offer_accepted)
