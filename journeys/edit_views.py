"""Editing a journey map in place: every button, form and drop on the board posts here.

Each view parses the post with a form scoped to the organization (and the map), calls one
service, and answers with the re-rendered board (or the board and the reason when the rules
refuse, changing nothing). Only members who may design reach them; the services write the
activity history.
"""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from cxplatform.models import Capability
from cxplatform.permissions import capability_required
from cxplatform.tenancy import get_for_org_or_404, scoped
from cxplatform.versioning import StaleEdit

from . import board, selectors, services
from .forms import MoveForm, OpportunityForm, PainPointForm, StageNameForm, TouchpointForm, first_error
from .models import Opportunity, PainPoint, Stage, Touchpoint
from .services import JourneyError

design_required = capability_required(Capability.DESIGN)


def _apply(request, journey_map, change, form=None):
    """Runs `change()` (a service call) when the form is valid; a string it returns is a notice
    for the person (e.g. "archived instead of deleted")."""
    if form is not None and not form.is_valid():
        return board.refused(request, journey_map, first_error(form))
    try:
        notice = change()
    except JourneyError as exc:
        return board.refused(request, journey_map, exc.message)
    except StaleEdit as exc:
        return board.refused(request, journey_map, str(exc))
    return board.changed(request, journey_map, notice if isinstance(notice, str) else "")


def _map(request, journey_map_id):
    return get_for_org_or_404(selectors.journey_maps(request.organization), request.organization, pk=journey_map_id)


def _stage(request, stage_id):
    return get_for_org_or_404(Stage.objects.select_related("journey_map"), request.organization, pk=stage_id)


def _touchpoint(request, touchpoint_id):
    return get_for_org_or_404(selectors.touchpoints_with_place(request.organization), request.organization,
                              pk=touchpoint_id)


def _archived_notice(names, kept_on_map):
    if not names:
        return ""
    listed = ", ".join(f"“{name}”" for name in names)
    if kept_on_map:
        return _("%(names)s: survey answers point here, so archived instead of deleted. It stays on the map, "
                 "marked archived, and its answers keep their place.") % {"names": listed}
    return _("%(names)s: survey answers point here, so archived instead of deleted. It is kept off the map, "
             "and its answers keep their place.") % {"names": listed}


# ---------------------------------------------------------------------------------------------
# Stages


@require_POST
@design_required
def stage_add(request, journey_map_id):
    journey_map = _map(request, journey_map_id)
    form = StageNameForm(request.POST)
    return _apply(request, journey_map,
                  lambda: services.add_stage(journey_map, form.cleaned_data["name"], request.user), form)


@require_POST
@design_required
def stage_rename(request, stage_id):
    stage = _stage(request, stage_id)
    form = StageNameForm(request.POST)
    return _apply(request, stage.journey_map,
                  lambda: services.rename_stage(stage, form.cleaned_data["name"], request.user), form)


@require_POST
@design_required
def stage_move(request, stage_id):
    stage = _stage(request, stage_id)
    form = MoveForm(request.POST, journey_map=stage.journey_map)

    def move():
        if form.cleaned_data["direction"]:
            services.step_stage(stage, form.cleaned_data["direction"], request.user)
        else:
            services.move_stage(stage, form.cleaned_data["position"], request.user)

    return _apply(request, stage.journey_map, move, form)


@require_POST
@design_required
def stage_delete(request, stage_id):
    stage = _stage(request, stage_id)
    is_first = not Stage.objects.filter(journey_map_id=stage.journey_map_id, position__lt=stage.position).exists()

    def delete():
        result = services.delete_stage(stage, request.user)
        return _archived_notice(result["archived"], kept_on_map=not is_first)

    return _apply(request, stage.journey_map, delete)


# ---------------------------------------------------------------------------------------------
# Touchpoints


@require_POST
@design_required
def touchpoint_add(request, stage_id):
    stage = _stage(request, stage_id)
    form = TouchpointForm(request.POST, organization=request.organization)

    def add():
        fields = form.changes()
        services.add_touchpoint(stage, fields.pop("name", ""), request.user, **fields)

    return _apply(request, stage.journey_map, add, form)


def _plain_refusal(message):
    # Plain text, so the message needs no escaping and no page around it.
    return HttpResponse(message, status=board.REFUSED, content_type="text/plain; charset=utf-8")


def _off_the_map(request, touchpoint, form, change):
    """A touchpoint on no map has no board to show: answer with its page, or the reason."""
    if form is not None and not form.is_valid():
        return _plain_refusal(first_error(form))
    try:
        change()
    except JourneyError as exc:
        return _plain_refusal(exc.message)
    still_there = scoped(Touchpoint, request.organization).filter(pk=touchpoint.pk).exists()
    url = (reverse("journeys:touchpoint_detail", kwargs={"touchpoint_id": touchpoint.pk}) if still_there
           else reverse("journeys:touchpoint_list"))
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@design_required
def touchpoint_edit(request, touchpoint_id):
    touchpoint = _touchpoint(request, touchpoint_id)
    form = TouchpointForm(request.POST, organization=request.organization)

    def edit():
        services.update_touchpoint(touchpoint, request.user, version=form.cleaned_data.get("version"),
                                   **form.changes())

    if touchpoint.stage is None:
        return _off_the_map(request, touchpoint, form, edit)
    return _apply(request, touchpoint.stage.journey_map, edit, form)


@require_POST
@design_required
def touchpoint_move(request, touchpoint_id):
    touchpoint = _touchpoint(request, touchpoint_id)
    if touchpoint.stage is None:
        # Placing a loose touchpoint is done from a map (adding it there), not by moving it.
        return _plain_refusal(_("The touchpoint is on no map."))
    journey_map = touchpoint.stage.journey_map
    form = MoveForm(request.POST, journey_map=journey_map)

    def move():
        if form.cleaned_data["direction"]:
            services.step_touchpoint(touchpoint, form.cleaned_data["direction"], request.user)
        else:
            stage = form.cleaned_data["stage"] or touchpoint.stage
            services.move_touchpoint(touchpoint, stage, form.cleaned_data["position"], request.user)

    return _apply(request, journey_map, move, form)


@require_POST
@design_required
def touchpoint_delete(request, touchpoint_id):
    touchpoint = _touchpoint(request, touchpoint_id)
    name = touchpoint.name

    def delete():
        outcome = services.delete_touchpoint(touchpoint, request.user)
        return _archived_notice([name] if outcome == "archived" else [], kept_on_map=True)

    if touchpoint.stage is None:
        return _off_the_map(request, touchpoint, None, delete)
    return _apply(request, touchpoint.stage.journey_map, delete)


# ---------------------------------------------------------------------------------------------
# Pain points and opportunities


@require_POST
@design_required
def pain_point_add(request, journey_map_id):
    journey_map = _map(request, journey_map_id)
    form = PainPointForm(request.POST, journey_map=journey_map)

    def add():
        values = form.values()
        services.add_pain_point(journey_map, values.pop("description"), request.user, **values)

    return _apply(request, journey_map, add, form)


@require_POST
@design_required
def pain_point_edit(request, pain_point_id):
    pain_point = get_for_org_or_404(PainPoint.objects.select_related("journey_map"), request.organization,
                                    pk=pain_point_id)
    form = PainPointForm(request.POST, journey_map=pain_point.journey_map)
    return _apply(request, pain_point.journey_map,
                  lambda: services.update_pain_point(pain_point, request.user, version=form.cleaned_data["version"],
                                                     **form.values()), form)


@require_POST
@design_required
def pain_point_delete(request, pain_point_id):
    pain_point = get_for_org_or_404(PainPoint.objects.select_related("journey_map"), request.organization,
                                    pk=pain_point_id)
    return _apply(request, pain_point.journey_map, lambda: services.delete_pain_point(pain_point, request.user))


@require_POST
@design_required
def opportunity_add(request, journey_map_id):
    journey_map = _map(request, journey_map_id)
    form = OpportunityForm(request.POST, journey_map=journey_map)

    def add():
        data = form.cleaned_data
        services.add_opportunity(journey_map, data["idea"], request.user, impact=data["impact"],
                                 pain_point=data["pain_point"])

    return _apply(request, journey_map, add, form)


@require_POST
@design_required
def opportunity_edit(request, opportunity_id):
    opportunity = get_for_org_or_404(Opportunity.objects.select_related("journey_map"), request.organization,
                                     pk=opportunity_id)
    form = OpportunityForm(request.POST, journey_map=opportunity.journey_map)
    return _apply(request, opportunity.journey_map,
                  lambda: services.update_opportunity(opportunity, request.user, **form.cleaned_data), form)


@require_POST
@design_required
def opportunity_delete(request, opportunity_id):
    opportunity = get_for_org_or_404(Opportunity.objects.select_related("journey_map"), request.organization,
                                     pk=opportunity_id)
    return _apply(request, opportunity.journey_map, lambda: services.delete_opportunity(opportunity, request.user))
