import json

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from cxplatform.permissions import member_required
from cxplatform.tenancy import get_for_org_or_404

from . import exchange, selectors


@require_safe
@member_required
def index(request):
    """Personas and their journey maps."""
    return render(request, "journeys/index.html", {
        "personas": selectors.personas_with_maps(request.organization),
        "library": exchange.library(),
    })


@require_safe
@member_required
def map_detail(request, journey_map_id):
    journey_map = get_for_org_or_404(selectors.journey_maps(request.organization), request.organization,
                                     pk=journey_map_id)
    return render(request, "journeys/map_detail.html", {"map": journey_map, **selectors.map_board(journey_map)})


@require_safe
@member_required
def map_export(request, journey_map_id):
    journey_map = get_for_org_or_404(selectors.journey_maps(request.organization), request.organization,
                                     pk=journey_map_id)
    body = json.dumps(exchange.export_map(journey_map), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = slugify(journey_map.name) or f"journey-map-{journey_map.pk}"
    response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
    return response


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
