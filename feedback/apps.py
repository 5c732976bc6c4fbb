from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback inbox")

    def ready(self):
        from cxplatform import events, import_jobs
        from surveys.comments import COMMENT_READ
        from surveys.retention import OFFER_ACCEPTED
        from surveys.services import RESPONSE_RECORDED

        from . import handlers
        from .importing import InboxImporter
        from .models import FeedbackImportJob
        from .services import ITEM_RECEIVED, ITEM_TEXT_CHANGED

        import_jobs.register(FeedbackImportJob, InboxImporter)
        events.subscribe(RESPONSE_RECORDED, "feedback.inbox_item", handlers.response_recorded)
        # The loop lane: the case and the thank-you, which a customer waits for (docs/adr/0034).
        events.subscribe(RESPONSE_RECORDED, "feedback.close_loop", handlers.close_loop, lane="loop")
        # A comment's reading is in the events lane: the settlement it allows (rules that read the
        # sentiment) follows there at once, in the same worker (the outbox's chain), not through
        # the loop queue after it.
        events.subscribe(COMMENT_READ, "feedback.comment_read", handlers.comment_read)
        events.subscribe(ITEM_RECEIVED, "feedback.routing", handlers.item_received)
        events.subscribe(ITEM_TEXT_CHANGED, "feedback.read_text", handlers.item_text_changed)
        events.subscribe(OFFER_ACCEPTED, "feedback.offer_accepted", handlers.offer_accepted)
