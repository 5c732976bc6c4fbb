from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from cxplatform import events, import_jobs
        from cxplatform.models import Branding, Organization
        from journeys.models import Channel, Touchpoint

        from . import handlers
        from .comments import COMMENT_WRITTEN
        from .importing import Importer
        from .models import ContactPolicy, Distribution, ImportJob, Question, Survey
        from .respondent import forget_links

        import_jobs.register(ImportJob, Importer)
        events.subscribe(COMMENT_WRITTEN, "surveys.read_comment", handlers.comment_written)
        # A survey link kept by this process is read again after any edit of what it carries.
        for model in (Distribution, Survey, Question, Organization, Branding, ContactPolicy, Touchpoint, Channel):
            post_save.connect(forget_links, sender=model, dispatch_uid=f"forget-links-{model.__name__}")
            post_delete.connect(forget_links, sender=model, dispatch_uid=f"forget-links-deleted-{model.__name__}")
