from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CxPlatformConfig(AppConfig):
    name = "cxplatform"
    verbose_name = _("CX platform")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import post_save

        from . import audit_hooks, events, import_jobs, naming  # noqa: F401  events registers the platform's own handlers
        from .customer_import import CustomerImporter
        from .models import CustomerImportJob, Organization
        from .team import signals  # noqa: F401  sessions remember their sign-in generation

        import_jobs.register(CustomerImportJob, CustomerImporter)
        # A changed default language changes which name a reader without their own sees.
        post_save.connect(naming.forget_language, sender=Organization, dispatch_uid="naming.forget_language")
        # Every sign-in, failure and sign-out in the audit log, whichever page or backend did it.
        user_logged_in.connect(audit_hooks.signed_in, dispatch_uid="audit.signed_in")
        user_logged_out.connect(audit_hooks.signed_out, dispatch_uid="audit.signed_out")
        user_login_failed.connect(audit_hooks.sign_in_failed, dispatch_uid="audit.sign_in_failed")
