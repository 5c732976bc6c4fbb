from django.http import HttpResponseForbidden
from django.utils.translation import gettext as _

from .models import Capability
from .tenancy import resolve_membership

# Views a read-only member may still POST to: they change the member's own session, not data.
# Personal settings and marking one's own notifications read change no organization data: a
# viewer may do them. A viewer's browser reports policy violations like anyone's (csp_report).
READ_ONLY_ALLOWED_URL_NAMES = {"logout", "set_language", "switch_organization", "login", "digest_subscription",
                               "notifications_read", "notification_read", "notification_settings", "csp_report"}


class CurrentOrganizationMiddleware:
    """Sets `request.membership` and `request.organization` for a logged-in user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = resolve_membership(request, request.user) if request.user.is_authenticated else None
        request.membership = membership
        request.organization = membership.organization if membership else None
        return self.get_response(request)


class ReadOnlyRoleMiddleware:
    """A member without any write capability (a viewer) can change nothing, whatever view
    forgets to check. Views still check their own capability; this is the safety net."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return None
        if not request.user.is_authenticated:
            return None
        match = request.resolver_match
        if match and match.url_name in READ_ONLY_ALLOWED_URL_NAMES:
            return None
        membership = request.membership
        if membership and not any(
            membership.can(c) for c in (Capability.WORK_INBOX, Capability.DESIGN, Capability.ADMINISTER)
        ):
            return HttpResponseForbidden(_("Your role can view but not change anything."))
        return None
