"""/settings/: the organization-wide settings, and links to each app's own settings pages."""

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .models import Capability
from .permissions import capability_required

# (url name, title, what it is for, the capability that may open it). A section whose page is not
# installed (its url name does not resolve) is left out.
SECTIONS = [
    ("team:members", _("Members"), _("Invite colleagues, change roles, deactivate members."), Capability.ADMINISTER),
    ("signin:organization_security", _("Sign-in and security"),
     _("Two-factor sign-in for everyone, single sign-on domains and the role they get."), Capability.ADMINISTER),
    ("signin:two_factor", _("My two-factor sign-in"), _("Codes from an authenticator app on your phone."),
     Capability.VIEW),
    ("tokens:list", _("API tokens"), _("Tokens for the CRM, the shop or the helpdesk to call the API."),
     Capability.VIEW),
    ("integrations:webhook_list", _("Webhooks"), _("Push answers, cases and goals to other systems as they happen."),
     Capability.ADMINISTER),
    ("privacy:index", _("Personal data"), _("Export or erase what is held about a person; how long it is kept."),
     Capability.ADMINISTER),
    ("branding:settings", _("Branding"),
     _("Logo, colour and font of the survey pages, embeds and e-mails customers see."), Capability.ADMINISTER),
    ("audit:log", _("Audit log"), _("Who did what, when and from where."), Capability.ADMINISTER),
    ("feedback:settings", _("Inbox settings"), _("Routing rules, SLA policies, close-loop rules, teams and tags."),
     Capability.ADMINISTER),
    ("metrics:reread", _("Read all comments again"),
     _("After the sentiment model or the theme dictionary changed: every comment's sentiment and themes anew."),
     Capability.ADMINISTER),
    ("surveys:contact_policy", _("Contact policy"), _("How often one customer may be asked."), Capability.DESIGN),
    ("invitations:sending_settings", _("Sending"), _("Sender name, reply-to address and sending rate."),
     Capability.DESIGN),
    ("invitations:suppression_list", _("Suppression list"), _("Addresses that are never sent a survey."),
     Capability.DESIGN),
    ("notification_settings", _("My notifications"), _("What reaches you by e-mail, and in which language."),
     Capability.VIEW),
]


@capability_required(Capability.VIEW)
def settings_home(request):
    sections = []
    for name, title, purpose, capability in SECTIONS:
        if not request.membership.can(capability):
            continue
        try:
            sections.append({"url": reverse(name), "title": title, "purpose": purpose})
        except NoReverseMatch:
            continue
    return render(request, "settings/home.html", {"sections": sections})
