from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CxPlatformConfig(AppConfig):
    name = "cxplatform"
    verbose_name = _("CX platform")

    def ready(self):
        from . import events, import_jobs  # noqa: F401  events registers the platform's own handlers
        from .customer_import import CustomerImporter
        from .models import CustomerImportJob

        import_jobs.register(CustomerImportJob, CustomerImporter)
