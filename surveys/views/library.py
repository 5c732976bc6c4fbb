"""The template library: ready-made surveys a CX manager starts from (surveys/library.py)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cxplatform.models import Capability
from cxplatform.permissions import capability_required, member_required

from .. import library


def _page(request, status=200):
    return render(request, "surveys/library.html", {"templates": library.catalogue(get_language() or "en")},
                  status=status)


@member_required
@require_safe
def template_library(request):
    return _page(request)


@capability_required(Capability.DESIGN)
@require_POST
def template_use(request):
    try:
        survey = library.create_from_template(organization=request.organization,
                                              template=request.POST.get("template", ""),
                                              name=request.POST.get("name"), user=request.user)
    except library.TemplateRefused as exc:
        messages.error(request, str(exc))
        return _page(request, status=400)
    messages.success(request, _("Your draft is ready: review the questions, add a link, then publish it."))
    return redirect("surveys:survey_detail", survey_id=survey.pk)


urlpatterns = [
    path("templates/", template_library, name="template_library"),
    path("templates/use/", template_use, name="template_use"),
]
