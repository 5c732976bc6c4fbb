"""What the journeys app's touchpoint page shows of surveys, as a fragment it loads from here
(journeys sits below surveys and must not import it)."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from cxplatform.permissions import member_required
from cxplatform.tenancy import get_for_org_or_404
from journeys.models import Touchpoint

from .. import selectors


@require_safe
@member_required
def touchpoint_surveys(request, touchpoint_id):
    touchpoint = get_for_org_or_404(Touchpoint, request.organization, pk=touchpoint_id)
    return render(request, "surveys/touchpoint_surveys.htmx.html", {
        "touchpoint": touchpoint, **selectors.links_at_touchpoint(request.organization, touchpoint.pk),
    })
