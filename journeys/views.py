import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cxplatform.models import Capability
from cxplatform.permissions import capability_required, member_required
from cxplatform.tenancy import get_for_org_or_404

from . import board, exchange, selectors, services
from .forms import CampaignForm, MapCreateForm, PersonaForm
from .services import JourneyError

design_required = capability_required(Capability.DESIGN)


def _index(request, persona_form=None, map_form=None, status=200):
    return render(request, "journeys/index.html", {
        "personas": selectors.personas_with_maps(request.organization),
        "library": exchange.library(),
        "persona_form": persona_form or PersonaForm(),
        "map_form": map_form or MapCreateForm(organization=request.organization),
    }, status=status)


@require_safe
@member_required
def index(request):
    """Personas and their journey maps; designers create new ones here."""
    return _index(request)


@require_POST
@design_required
def persona_create(request):
    form = PersonaForm(request.POST)
    if form.is_valid():
        try:
            persona = services.create_persona(request.organization, actor=request.user, **form.cleaned_data)
        except JourneyError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Persona “%(name)s” created. Now give it a journey map.") % {
                "name": persona.name})
            return redirect("journeys:index")
    return _index(request, persona_form=form, status=400)


@require_POST
@design_required
def map_create(request):
    """A new map: the five default stages, or a copy of a template from the library."""
    form = MapCreateForm(request.POST, organization=request.organization)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["template"]:
                template = exchange.load_template(data["template"], data["language"])
                if data["name"].strip():
                    template["name"] = data["name"].strip()
                journey_map = exchange.import_map(request.organization, template, request.user,
                                                  persona=data["persona"])
            else:
                with translation.override(data["language"]):  # the default stages' names
                    journey_map = services.create_map(data["persona"], data["name"], request.user)
        except JourneyError as exc:
            form.add_error("name", exc.message)
        except exchange.MapImportError as exc:
            form.add_error("template", "; ".join(str(e) for e in exc.errors))
        else:
            return redirect("journeys:map_detail", journey_map_id=journey_map.pk)
    return _index(request, map_form=form, status=400)


@require_safe
@member_required
def map_detail(request, journey_map_id):
    """The map: its board (only the board when htmx asks), live figures, history."""
    journey_map = get_for_org_or_404(selectors.journey_maps(request.organization), request.organization,
                                     pk=journey_map_id)
    return board.page(request, journey_map)


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


@require_safe
@member_required
def touchpoint_list(request):
    return render(
        request,
        "journeys/touchpoint_list.html",
        {"touchpoints": selectors.touchpoints(request.organization)},
    )


@require_safe
@member_required
def touchpoint_detail(request, touchpoint_id):
    """A touchpoint's facts and open pain points; its surveys and recent comments come as
    fragments from the surveys and metrics apps (journeys imports neither)."""
    touchpoint = get_for_org_or_404(selectors.touchpoints_with_place(request.organization), request.organization,
                                    pk=touchpoint_id)
    pain_points = selectors.open_pain_points(request.organization, [touchpoint.pk]).get(touchpoint.pk, [])
    return render(request, "journeys/touchpoint_detail.html", {"touchpoint": touchpoint, "pain_points": pain_points})


@require_safe
@member_required
def campaign_readiness(request):
    """Whether a campaign's promise holds at every touchpoint it sends customers through.

    The choice lives in the URL (?touchpoint=3&touchpoint=7), so a link shares the view; the
    figures and verdicts come from metrics as a fragment."""
    form = CampaignForm(request.GET or None, organization=request.organization)
    chosen, pain_points = [], {}
    if form.is_valid():
        chosen = selectors.in_journey_order(form.cleaned_data["touchpoint"])
        pain_points = selectors.open_pain_points(request.organization, [t.pk for t in chosen])
    steps = [{"touchpoint": t, "pain_points": pain_points.get(t.pk, [])} for t in chosen]
    return render(request, "journeys/campaign.html", {
        "form": form, "steps": steps, "query": request.GET.urlencode(),
        "touchpoint_choices": form.fields["touchpoint"].queryset, "chosen_ids": {t.pk for t in chosen},
    }, status=400 if form.errors else 200)
