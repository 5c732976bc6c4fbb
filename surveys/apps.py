from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self):
        from cxplatform import import_jobs

        from .importing import Importer
        from .models import ImportJob

        import_jobs.register(ImportJob, Importer)

        from django.db.models.signals import post_delete, post_save

        from cxplatform.models import Organization
        from journeys.models import Channel, Touchpoint

        from .models import ContactPolicy, Distribution, Question, Survey
        from .respondent import forget_links

        for model in (Distribution, Survey, Question, Organization, ContactPolicy, Touchpoint, Channel):
            post_save.connect(forget_links, sender=model, dispatch_uid=f"forget-links-{model.__name__}")
            post_delete.connect(forget_links, sender=model, dispatch_uid=f"forget-links-deleted-{model.__name__}")
