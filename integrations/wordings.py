"""What integrations tell people, stored as message ids (docs/adr/0015)."""

from django.utils.translation import gettext_lazy as _

from cxplatform.wording import define

WEBHOOK_DISABLED = define(
    "integrations.webhook_disabled",
    _("The webhook to %(url)s has failed for %(days)s days and is turned off. Check the receiver, then turn it on "
      "again."))
