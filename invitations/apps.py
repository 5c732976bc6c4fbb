from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvitationsConfig(AppConfig):
    name = "invitations"
    verbose_name = _("Survey invitations")

    def ready(self):
        from cxplatform import events
        from surveys.services import INVITATION_ANSWERED, INVITATION_OPENED

        from . import handlers

        events.subscribe(INVITATION_OPENED, "invitations.opened", handlers.invitation_opened)
        events.subscribe(INVITATION_ANSWERED, "invitations.answered", handlers.invitation_answered)
