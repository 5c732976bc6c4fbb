"""/settings/branding/: the organization's colour, font and logo, with a sample drawn by the
server; and the logo file itself, served to customers' e-mails and pages."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from . import branding
from .branding_forms import BrandingForm
from .models import Capability
from .permissions import capability_required


@capability_required(Capability.ADMINISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def branding_settings(request):
    organization = request.organization
    current = branding.branding_of(organization)
    suggestion = ""
    if request.method == "POST":
        form = BrandingForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                branding.save_branding(organization=organization, request=request, colour=data["colour"],
                                       font=data["font"], logo=data["logo"], remove_logo=data["remove_logo"])
            except branding.BrandingRefused as refused:
                for field, message in refused.errors.items():
                    form.add_error(field, message)
                suggestion = refused.suggestion
            else:
                messages.success(request, _("Branding saved. Surveys and e-mails sent from now on use it."))
                return redirect("branding:settings")
    elif request.htmx and "colour" in request.GET:
        # The sample as the form stands, redrawn while the colour or the font is being chosen.
        return render(request, "settings/branding_sample.htmx.html",
                      _sample_context(current, request.GET.get("colour", ""), request.GET.get("font", "")))
    else:
        form = BrandingForm(initial={"colour": current.colour, "font": current.font})
    colour = form.data.get("use_colour") or form.data.get("colour") or current.colour
    context = {"form": form, "current": current, "suggestion": suggestion,
               **_sample_context(current, colour, form.data.get("font") or current.font)}
    return render(request, "settings/branding.html", context, status=400 if form.errors else 200)


def _sample_context(current, colour: str, font: str) -> dict:
    return {"sample": branding.sample(current, colour=colour, font=font)}


@require_safe
def logo(request, token):
    found = branding.with_logo(token)
    if found is None:
        raise Http404
    try:
        file = found.logo.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(file, content_type=branding.content_type_of(token))
    # The name changes with the file, so a copy never goes stale.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # mail clients and embeds load it from elsewhere
    return response
