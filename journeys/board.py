"""Rendering the map page's board, shared by the page itself and every edit on it.

An edit answers htmx with the board fragment only (`map_detail.htmx.html`); without JavaScript
it redirects back to the page (or shows the page with the error), so the forms work either way.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django_htmx.http import trigger_client_event

from . import selectors
from .forms import EMOTION_CHOICES
from .models import Opportunity, PainPoint

BOARD_FRAGMENT = "journeys/map_detail.htmx.html"
FULL_PAGE = "journeys/map_detail.html"
# The live figures and the emotion curve listen for this to load again after a change.
CHANGED_EVENT = "journey-map-changed"


def context(journey_map, **extra):
    data = {"map": journey_map, **selectors.map_board(journey_map), **selectors.board_choices(journey_map)}
    return {
        **data,
        "map_touchpoints": [t for stage in data["stages"] for t in stage.touchpoints.all()],
        "emotions": EMOTION_CHOICES[1:],
        "severities": PainPoint.Severity.choices,
        "statuses": PainPoint.Status.choices,
        "impacts": Opportunity.Impact.choices,
        **extra,
    }


def page(request, journey_map):
    template = BOARD_FRAGMENT if request.htmx else FULL_PAGE
    return render(request, template, context(journey_map))


def changed(request, journey_map, notice=""):
    """The answer to an edit that was saved."""
    if not request.htmx:
        if notice:
            messages.info(request, notice)
        return redirect("journeys:map_detail", journey_map_id=journey_map.pk)
    response = render(request, BOARD_FRAGMENT, context(journey_map, notice=notice))
    return trigger_client_event(response, CHANGED_EVENT)


# 422, not 400: the request was well formed and the rules refused it. (It also keeps
# django-htmx's debug helper, which replaces the whole page on a 400, out of the way.)
REFUSED = 422


def refused(request, journey_map, error):
    """The answer to an edit the rules refused: the board as it was, with the reason."""
    template = BOARD_FRAGMENT if request.htmx else FULL_PAGE
    return render(request, template, context(journey_map, error=error), status=REFUSED)
