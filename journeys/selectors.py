from django.db.models import Count, Prefetch, Q

from cxplatform.tenancy import scoped

from .models import ActivityEntry, Channel, JourneyMap, Opportunity, PainPoint, Persona, Stage, Touchpoint


def touchpoints(organization, include_archived: bool = False):
    qs = scoped(Touchpoint, organization).select_related("channel")
    return qs if include_archived else qs.filter(archived=False)


def channels(organization):
    return scoped(Channel, organization)


def personas_with_maps(organization):
    """Personas with their maps, each map counting its stages, touchpoints and open pain points."""
    maps = JourneyMap.objects.annotate(
        stage_count=Count("stages", distinct=True),
        touchpoint_count=Count("stages__touchpoints", filter=Q(stages__touchpoints__archived=False), distinct=True),
        open_pain_points=Count("pain_points", filter=Q(pain_points__status=PainPoint.Status.OPEN), distinct=True),
    ).order_by("name", "id")
    return scoped(Persona, organization).prefetch_related(Prefetch("maps", maps))


def journey_maps(organization):
    return scoped(JourneyMap, organization).select_related("persona")


def map_board(journey_map):
    """Everything the map page shows: stages in order, each with its touchpoints in order."""
    stages = list(
        Stage.objects.filter(journey_map=journey_map).order_by("position", "id").prefetch_related(
            Prefetch("touchpoints", Touchpoint.objects.select_related("channel").order_by("position", "id"))
        )
    )
    pain_points = list(PainPoint.objects.filter(journey_map=journey_map).select_related("touchpoint"))
    by_stage = {}
    for pain_point in pain_points:
        stage_id = pain_point.touchpoint.stage_id if pain_point.touchpoint else None
        by_stage.setdefault(stage_id, []).append(pain_point)
    for stage in stages:
        stage.pain_point_list = by_stage.pop(stage.pk, [])
    unplaced = [p for group in by_stage.values() for p in group]
    opportunities = list(Opportunity.objects.filter(journey_map=journey_map).select_related("pain_point"))
    activity = list(ActivityEntry.objects.filter(journey_map=journey_map).select_related("actor")[:20])
    return {"stages": stages, "pain_points": pain_points, "unplaced_pain_points": unplaced,
            "opportunities": opportunities, "activity": activity}


def board_choices(journey_map):
    """What the map's editing forms offer: the organization's channels and the map's pain points."""
    return {
        "channels": list(channels(journey_map.organization)),
        "map_pain_points": list(PainPoint.objects.filter(journey_map=journey_map).order_by("id")),
    }


def touchpoints_with_place(organization):
    """The organization's touchpoints (archived ones too) with their stage, map and persona."""
    return touchpoints(organization, include_archived=True).select_related("stage__journey_map__persona")


def open_pain_points(organization, touchpoint_ids) -> dict:
    """{touchpoint id: its open pain points, most severe first} for the given touchpoints."""
    found = {}
    qs = (scoped(PainPoint, organization).filter(touchpoint_id__in=list(touchpoint_ids), status=PainPoint.Status.OPEN)
          .select_related("journey_map").order_by("-severity", "id"))
    for pain_point in qs:
        found.setdefault(pain_point.touchpoint_id, []).append(pain_point)
    return found


def in_journey_order(touchpoint_list) -> list:
    """Touchpoints as a customer meets them: by map, then stage, then place in the stage."""
    def key(t):
        stage = t.stage
        if stage is None:
            return (1, "", 0, 0, t.name)
        return (0, stage.journey_map.name, stage.position, t.position, t.name)
    return sorted(touchpoint_list, key=key)
