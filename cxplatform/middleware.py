from django.http import HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .api_errors import error_response, is_api_path
from .input_checks import first_text_problem, text_problem
from .models import Capability
from .tenancy import resolve_membership

# Views a read-only member may still POST to: they change the member's own session, not data.
# Personal settings and marking one's own notifications read change no organization data: a
# viewer may do them. A viewer's browser reports policy violations like anyone's (csp_report).
READ_ONLY_ALLOWED_URL_NAMES = {"logout", "set_language", "switch_organization", "login", "digest_subscription",
                               "notifications_read", "notification_read", "notification_settings", "csp_report",
                               # Joining another organization creates the person's own membership.
                               "invitation_accept",
                               # One's own second factor (cxplatform/signin).
                               "two_factor", "two_factor_verify"}

# A viewer's own API tokens (read-only ones are what a viewer's integrations need) are theirs to
# make and revoke; named with their namespace, since "list" alone is every app's list.
READ_ONLY_ALLOWED_VIEW_NAMES = {"tokens:list", "tokens:revoke",
                                # An export a viewer asks for is a file of what they may read.
                                "surveys:response_export_csv", "surveys:response_export_xlsx"}


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
        if match and (match.url_name in READ_ONLY_ALLOWED_URL_NAMES or match.view_name in READ_ONLY_ALLOWED_VIEW_NAMES):
            return None
        membership = request.membership
        if membership and not any(
            membership.can(c) for c in (Capability.WORK_INBOX, Capability.DESIGN, Capability.ADMINISTER)
        ):
            message = _("Your role can view but not change anything.")
            if is_api_path(request.path_info):
                return error_response(status_code=403, code="permission_denied", message=message)
            return HttpResponseForbidden(message)
        return None


# Answered in JSON rather than with the site's HTML page: the REST API and the webhooks.
JSON_PATH_PREFIXES = ("/api/", "/hooks/")


class RefuseUnstorableTextMiddleware:
    """A request whose path or query string holds a NUL character (or a lone surrogate) is
    answered 400 with the reason in the reader's language, before any view runs: no view has to
    remember that PostgreSQL refuses NUL in text (a 500), and no page echoes such text back.
    Bodies are left to what reads them, which says which field is wrong: Django's form fields
    refuse NUL, the survey page's clean_text too, and the API's parsers check every body
    (api_access.SafeJSONParser and the others)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = text_problem(request.path_info) or _query_problem(request.GET)
        if problem is not None:
            return _bad_request(request, problem)
        return self.get_response(request)


def _query_problem(query):
    return first_text_problem([[key, *query.getlist(key)] for key in query])


def _bad_request(request, reason):
    if is_api_path(request.path_info):
        return error_response(status_code=400, code="invalid", message=reason)
    if request.path_info.startswith(JSON_PATH_PREFIXES):
        return JsonResponse({"detail": reason}, status=400)
    # Like Django's own 400 page, rendered without the request (no CSRF token, no forms on it).
    user = getattr(request, "user", None)
    return HttpResponseBadRequest(render_to_string("400.html", {"reason": reason, "user": user}))
