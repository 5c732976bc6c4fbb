"""Two-factor set-up and the second sign-in step (/account/…), and the organization's sign-in rules
(/settings/security/). Thin: the rules are in services.py."""

from base64 import b32encode

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from cxplatform.models import Capability
from cxplatform.permissions import capability_required, member_required
from cxplatform.tenancy import get_for_org_or_404

from . import pending, services, sso
from .forms import CodeForm, RequireTwoFactorForm, SSODomainForm
from .models import SSODomain


def _setup_context(request, device, form):
    secret = b32encode(device.bin_key).decode()
    return {
        "state": "setup", "form": form,
        "qr_code": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2),
        "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        # SSO sessions are exempt from the organization's rule (the provider checks the person).
        "required": bool(request.organization and request.organization.require_two_factor
                         and not sso.signed_in_by_sso(request)),
    }


@never_cache
@member_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Turn two-factor sign-in on (scan, confirm with a code, keep the recovery codes) or off."""
    user = request.user
    enabled = services.has_two_factor(user)
    action = request.POST.get("action")
    if request.method == "POST":
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                if action == "disable" and enabled:
                    services.disable_two_factor(user=user, code=form.cleaned_data["code"], request=request)
                    return redirect("signin:two_factor")
                if action == "enable" and not enabled:
                    device = services.pending_device(user=user)
                    codes = services.enable_two_factor(user=user, device=device, code=form.cleaned_data["code"],
                                                       request=request)
                    pending.finish_setup(request, device=device)
                    # Shown in this answer only: nothing keeps them in a readable form.
                    return render(request, "signin/two_factor.html", {"state": "codes", "codes": codes})
                form.add_error(None, _("The page was out of date. Please try again."))
            except services.SignInError as error:
                form.add_error("code", error.message)
        enabled = services.has_two_factor(user)
        if enabled:
            context = {"state": "enabled", "form": form, "codes_left": services.recovery_codes_left(user)}
        else:
            context = _setup_context(request, services.pending_device(user=user), form)
        return render(request, "signin/two_factor.html", context, status=400)
    if enabled:
        context = {"state": "enabled", "form": CodeForm(), "codes_left": services.recovery_codes_left(user)}
    else:
        context = _setup_context(request, services.pending_device(user=user), CodeForm())
    return render(request, "signin/two_factor.html", context)


@never_cache
@login_not_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step of signing in: a code from the app, or a recovery code."""
    user = pending.pending_user(request)
    signed_in = request.user.is_authenticated
    if user is None and signed_in and not request.user.is_verified() and services.has_two_factor(request.user):
        user = request.user  # signed in by some other way (e.g. an old session): still owes the code
    if user is None:
        if signed_in:
            return redirect(settings.LOGIN_REDIRECT_URL)
        return redirect("login")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if services.failures_exhausted(user=user):
            return _locked_out(request)
        if form.is_valid():
            try:
                device = services.verify_second_factor(user=user, code=form.cleaned_data["code"])
            except services.SignInError as error:
                form.add_error("code", error.message)
            else:
                if device is not None:
                    target = _safe_next(request, pending.next_url(request))
                    if signed_in:
                        pending.finish_setup(request, device=device)
                    else:
                        pending.finish(request, user=user, device=device)
                    return redirect(target)
                if not services.count_failed_code(user=user, request=request):
                    return _locked_out(request)
                form.add_error("code", _("That code is not right."))
    return render(request, "signin/verify.html", {"form": form}, status=status)


def _locked_out(request):
    pending.forget(request)
    return render(request, "signin/verify.html", {"locked": True}, status=429)


def _safe_next(request, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@never_cache
@capability_required(Capability.ADMINISTER)
@require_http_methods(["GET", "POST"])
def organization_security(request):
    """The organization's sign-in rules: two-factor for everyone, and the SSO domains."""
    organization = request.organization
    rule_form = RequireTwoFactorForm(initial={"require_two_factor": organization.require_two_factor})
    domain_form = SSODomainForm()
    status, page_error = 200, None
    if request.method == "POST":
        status = 400
        if request.POST.get("action") == "add_domain":
            domain_form = SSODomainForm(request.POST)
            if domain_form.is_valid():
                try:
                    services.add_sso_domain(organization=organization, request=request, **domain_form.cleaned_data)
                    return redirect("signin:organization_security")
                except services.SignInError as error:
                    domain_form.add_error("domain", error.message)
        elif request.POST.get("action") == "two_factor":
            rule_form = RequireTwoFactorForm(request.POST)
            if rule_form.is_valid():
                try:
                    services.set_require_two_factor(organization=organization, request=request,
                                                    required=rule_form.cleaned_data["require_two_factor"])
                    return redirect("signin:organization_security")
                except services.SignInError as error:
                    rule_form.add_error("require_two_factor", error.message)
        else:
            page_error = _("The page was out of date. Please try again.")
    return render(request, "signin/security.html", {
        "rule_form": rule_form, "domain_form": domain_form, "page_error": page_error,
        "domains": SSODomain.objects.for_org(organization),
        "sso_enabled": sso.enabled(), "has_two_factor": services.has_two_factor(request.user),
    }, status=status)


@capability_required(Capability.ADMINISTER)
@require_POST
def remove_sso_domain(request, ssodomain_id):
    rule = get_for_org_or_404(SSODomain, request.organization, pk=ssodomain_id)
    services.remove_sso_domain(rule=rule, request=request)
    return redirect("signin:organization_security")

