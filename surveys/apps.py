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
