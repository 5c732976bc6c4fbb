"""/settings/tokens/ (a member's own tokens; an admin sees and revokes everyone's) and the API's
docs page, /api/v1/docs/."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cxplatform.models import Capability
from cxplatform.permissions import capability_required
from cxplatform.tenancy import get_for_org_or_404

from . import services
from .forms import TokenForm
from .selectors import visible_tokens


@capability_required(Capability.VIEW)
def token_list(request):
    form = TokenForm(request.POST or None, organization=request.organization)
    created = None
    if form.is_bound and form.is_valid():
        try:
            token, raw = services.create_token(
                user=request.user, organization=request.organization, name=form.cleaned_data["name"],
                scopes=[form.cleaned_data["scope"]], expires_at=form.expires_at(), request=request)
        except services.TokenError as error:
            form.add_error(None, str(error))
        else:
            # Rendered here, not after a redirect: carrying the string to the next page would mean
            # keeping it in the session, that is, in the database.
            created = {"token": token, "raw": raw}
            form = TokenForm(organization=request.organization)
    context = {
        "form": form,
        "created": created,
        "tokens": visible_tokens(membership=request.membership),
        "sees_everyone": request.membership.can(Capability.ADMINISTER),
    }
    response = render(request, "tokens/list.html", context, status=400 if form.errors else 200)
    if created:
        response["Cache-Control"] = "no-store"  # the one page that holds the token: no cache keeps it
    return response


@capability_required(Capability.VIEW)
@require_POST
def token_revoke(request, apitoken_id):
    token = get_for_org_or_404(visible_tokens(membership=request.membership), request.organization, pk=apitoken_id)
    if services.revoke_token(token=token, by=request.membership, request=request):
        messages.success(request, _("The token “%(name)s” was revoked: it no longer works.") % {"name": token.name})
    else:
        messages.info(request, _("The token “%(name)s” was already revoked.") % {"name": token.name})
    return redirect("tokens:list")


@login_required
@require_safe
def api_docs(request):
    """Swagger UI from drf-spectacular-sidecar's static files, started by our own static script
    (the policy allows no inline script), reading the schema with the visitor's session."""
    context = {
        "swagger_css": static("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"),
        "swagger_bundle": static("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"),
        "swagger_preset": static("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js"),
        "csrf_header": settings.CSRF_HEADER_NAME.removeprefix("HTTP_").replace("_", "-"),
    }
    return render(request, "tokens/api_docs.html", context)
