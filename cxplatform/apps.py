from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CxPlatformConfig(AppConfig):
    name = "cxplatform"
    verbose_name = _("CX platform")

    def ready(self):
        from . import events  # noqa: F401  registers the platform's own handlers
