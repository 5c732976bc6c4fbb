"""The sign-in rules every request passes, whatever view it reaches (docs/adr/0026).

1. A signed-in session of a person with two-factor on that has not given its code (a session from
   before two-factor was required of it, or one made by a way that skipped the code) reaches only
   the code page: no page, no API call.
2. An organization that requires two-factor sends its members without an authenticator to the
   set-up page before any other page of it.
Sessions signed in by single sign-on are exempt from both: the provider checks the person.
"""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from . import services, sso

# Pages a person must still reach while they owe a code: signing in and out, the language.
ALWAYS_ALLOWED = {"login", "logout", "set_language", "csp_report", "healthz", "signin:two_factor_verify",
                  "oidc_authentication_init", "oidc_authentication_callback"}
# And, while their organization waits for them to set up two-factor: the set-up page, and moving to
# another organization that may not require it.
ALLOWED_DURING_SETUP = ALWAYS_ALLOWED | {"signin:two_factor", "switch_organization"}


class SignInRulesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or sso.signed_in_by_sso(request):
            return None
        name = request.resolver_match.view_name if request.resolver_match else ""
        verified = user.is_verified() if hasattr(user, "is_verified") else False
        if name in ALWAYS_ALLOWED:
            return None
        if not verified and services.has_two_factor(user):
            return _refuse(request, "signin:two_factor_verify",
                           _("Enter the code from your authenticator app to finish signing in."))
        organization = getattr(request, "organization", None)
        if organization is not None and organization.require_two_factor and not verified \
                and name not in ALLOWED_DURING_SETUP:
            # `verified` implies a device; an unverified person reaching here has none (rule 1).
            return _refuse(request, "signin:two_factor",
                           _("Your organization requires two-factor sign-in. Set it up to go on."))
        return None


def _refuse(request, url_name, message):
    if request.path_info.startswith("/api/"):
        return JsonResponse({"error": {"code": "two_factor_required", "message": message, "fields": {}}},
                            status=403)
    if getattr(request, "htmx", False):
        response = JsonResponse({"detail": message}, status=403)
        response["HX-Redirect"] = reverse(url_name)
        return response
    return redirect(url_name)
