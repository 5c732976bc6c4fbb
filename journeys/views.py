from django.shortcuts import render

from cxplatform.permissions import member_required
from cxplatform.tenancy import get_for_org_or_404

from . import selectors


@member_required
def touchpoint_list(request):
    return render(
        request,
        "journeys/touchpoint_list.html",
        {"touchpoints": selectors.touchpoints(request.organization)},
    )


@member_required
def touchpoint_detail(request, touchpoint_id):
    touchpoint = get_for_org_or_404(selectors.touchpoints(request.organization, True), request.organization,
                                    pk=touchpoint_id)
    return render(request, "journeys/touchpoint_detail.html", {"touchpoint": touchpoint})
