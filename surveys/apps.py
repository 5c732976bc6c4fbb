from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self):
        from cxplatform import events, import_jobs

        from . import handlers
        from .comments import COMMENT_WRITTEN
        from .importing import Importer
        from .models import ImportJob

        import_jobs.register(ImportJob, Importer)
        events.subscribe(COMMENT_WRITTEN, "surveys.read_comment", handlers.comment_written)
