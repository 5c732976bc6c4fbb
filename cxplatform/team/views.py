"""The members page (/settings/members/), accepting an invitation and the password pages (/account/)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cxplatform import ratelimit
from cxplatform.audit import AuditAction
from cxplatform.models import Capability, Membership
from cxplatform.permissions import capability_required
from cxplatform.tenancy import SESSION_KEY, get_for_org_or_404

from . import selectors, services
from .forms import InviteForm, NewPersonForm, ResetRequestForm, RoleForm
from .models import MemberInvitation

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _members_page(request, *, invite_form=None, error=None, status=200):
    if error:
        messages.error(request, error)
    context = {
        "members": selectors.members(request.organization),
        "invitations": selectors.open_invitations(request.organization),
        "invite_form": invite_form or InviteForm(),
        "roles": RoleForm.base_fields["role"].choices,
    }
    return render(request, "team/members.html", context, status=status)


@capability_required(Capability.ADMINISTER)
@require_safe
def members(request):
    return _members_page(request)


@capability_required(Capability.ADMINISTER)
@require_POST
def invite(request):
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _members_page(request, invite_form=form, status=400)
    try:
        mailed = services.invite_member(organization=request.organization, email=form.cleaned_data["email"],
                                        role=form.cleaned_data["role"], invited_by=request.user, request=request)
    except services.TeamRuleError as exc:
        form.add_error("email", exc.message)
        return _members_page(request, invite_form=form, status=400)
    _mail_message(request, mailed, form.cleaned_data["email"])
    return redirect("team:members")


def _mail_message(request, mailed: bool, email: str):
    if mailed:
        messages.success(request, _("An invitation was sent to %(email)s.") % {"email": email})
    else:
        messages.warning(request, _("The invitation to %(email)s is saved, but the e-mail could not be sent. "
                                    "Try “Resend” in a moment.") % {"email": email})


def _rule(request, change):
    """Run a service change; a refused one re-renders the page with its reason (400)."""
    try:
        change()
    except services.TeamRuleError as exc:
        return _members_page(request, error=exc.message, status=400)
    return redirect("team:members")


@capability_required(Capability.ADMINISTER)
@require_POST
def change_role(request, membership_id):
    membership = get_for_org_or_404(Membership, request.organization, pk=membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _members_page(request, error=_("Choose one of the roles."), status=400)
    response = _rule(request, lambda: services.change_role(
        organization=request.organization, membership_id=membership.pk, role=form.cleaned_data["role"],
        actor=request.user, request=request))
    if response.status_code == 302:
        messages.success(request, _("The role was changed."))
    return response


@capability_required(Capability.ADMINISTER)
@require_POST
def deactivate(request, membership_id):
    membership = get_for_org_or_404(Membership, request.organization, pk=membership_id)
    response = _rule(request, lambda: services.deactivate_member(
        organization=request.organization, membership_id=membership.pk, actor=request.user, request=request))
    if response.status_code == 302:
        messages.success(request, _("The member was deactivated and signed out."))
    return response


@capability_required(Capability.ADMINISTER)
@require_POST
def reactivate(request, membership_id):
    membership = get_for_org_or_404(Membership, request.organization, pk=membership_id)
    services.reactivate_member(organization=request.organization, membership_id=membership.pk, actor=request.user,
                               request=request)
    messages.success(request, _("The member was reactivated."))
    return redirect("team:members")


@capability_required(Capability.ADMINISTER)
@require_POST
def resend_invitation(request, memberinvitation_id):
    invitation = get_for_org_or_404(MemberInvitation, request.organization, pk=memberinvitation_id)
    try:
        mailed = services.resend_invitation(organization=request.organization, invitation_id=invitation.pk,
                                            actor=request.user, request=request)
    except services.TeamRuleError as exc:
        return _members_page(request, error=exc.message, status=400)
    _mail_message(request, mailed, invitation.email)
    return redirect("team:members")


@capability_required(Capability.ADMINISTER)
@require_POST
def revoke_invitation(request, memberinvitation_id):
    invitation = get_for_org_or_404(MemberInvitation, request.organization, pk=memberinvitation_id)
    response = _rule(request, lambda: services.revoke_invitation(
        organization=request.organization, invitation_id=invitation.pk, actor=request.user, request=request))
    if response.status_code == 302:
        messages.success(request, _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email})
    return response


# --- Accepting an invitation (/account/invitation/<token>/) ----------------------------------------


def _sso_url(request):
    if not getattr(settings, "SSO_ENABLED", False):
        return None
    try:
        start = reverse("oidc_authentication_init")
    except NoReverseMatch:
        return None
    return f"{start}?{urlencode({'next': request.path})}"


@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    try:
        invitation = services.open_invitation(token)
    except services.TeamRuleError as exc:
        return render(request, "team/invitation_refused.html", {"reason": exc.message}, status=410)
    context = {"invitation": invitation, "sso_url": _sso_url(request)}
    user = request.user
    if user.is_authenticated:
        if not services.email_matches(invitation, user):
            return render(request, "team/invitation_refused.html", {"reason": _(
                "This invitation was sent to %(email)s, but you are signed in as %(user)s. Sign out and open the "
                "link again.") % {"email": invitation.email, "user": user.email or user.get_username()},
                "sign_out": True}, status=403)
        if request.method == "POST":
            return _accepted(request, lambda: services.accept_as_user(token=token, user=user, request=request),
                             invitation)
        return render(request, "team/invitation_join.html", context)
    if services.existing_account(invitation) is not None:
        # They sign in as themselves and come back here to join.
        context["login_url"] = f"{reverse('login')}?{urlencode({'next': request.path})}"
        return render(request, "team/invitation_sign_in.html", context, status=400 if request.method == "POST" else 200)
    form = NewPersonForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.accept_as_new_person(token=token, first_name=data["first_name"],
                                                   last_name=data["last_name"], password=data["password1"],
                                                   request=request)
        except services.TeamRuleError as exc:
            return render(request, "team/invitation_refused.html", {"reason": exc.message}, status=410)
        login(request, person, backend=MODEL_BACKEND)
        request.session[SESSION_KEY] = invitation.organization_id
        messages.success(request, _("Welcome to %(organization)s.") % {"organization": invitation.organization})
        return redirect("/")
    context["form"] = form
    return render(request, "team/invitation_new_person.html", context, status=400 if form.errors else 200)


def _accepted(request, accept, invitation):
    try:
        membership = accept()
    except services.TeamRuleError as exc:
        return render(request, "team/invitation_refused.html", {"reason": exc.message}, status=410)
    request.session[SESSION_KEY] = membership.organization_id
    messages.success(request, _("Welcome to %(organization)s.") % {"organization": invitation.organization})
    return redirect("/")


# --- Password reset and the first administrator's sign-in link ------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request, counted like sign-in attempts: per address asked for and per client."""

    form_class = ResetRequestForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def post(self, request, *args, **kwargs):
        email = request.POST.get("email", "")[:254].strip().lower()
        allowed = ratelimit.hit_all([
            (f"password-reset:email:{email}", settings.PASSWORD_RESET_LIMIT_PER_EMAIL),
            (f"password-reset:ip:{ratelimit.client_key(request)}", settings.PASSWORD_RESET_LIMIT_PER_IP),
        ], settings.RATE_LIMIT_WINDOW_SECONDS)
        if not allowed:
            form = self.get_form()
            form.is_valid()
            form.add_error(None, _("Too many requests to reset a password. Try again in a few minutes."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # Links in e-mails point where people reach the site, as every other e-mail's do.
        self.extra_email_context = {"site_url": settings.SITE_URL.rstrip("/")}
        with transaction.atomic():
            for user in form.get_users(form.cleaned_data["email"]):
                services.record_for_each_organization(action=AuditAction.PASSWORD_RESET_REQUESTED, user=user,
                                                      request=self.request)
        return super().form_valid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            services.record_for_each_organization(action=AuditAction.PASSWORD_CHANGED, user=form.user,
                                                  request=self.request, details={"how": self.how})
        return response

    how = "reset"

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


class FirstSignInView(PasswordResetConfirmView):
    """The link `create_organization` prints: the first administrator sets a password and is signed
    in. It works once (the token hashes the password and the last sign-in) and for a day."""

    token_generator = services.first_sign_in_tokens
    template_name = "team/first_sign_in.html"
    post_reset_login = True
    post_reset_login_backend = MODEL_BACKEND
    how = "first_sign_in"

    def get_success_url(self):
        return "/"
