"""Read queries of goals and actions."""

from django.db.models import Count, Q
from django.utils import timezone

from cxplatform.tenancy import scoped
from journeys.models import PainPoint

from .models import ActionItem, Goal, HistoryEntry

Status = ActionItem.Status


def goals(organization):
    """The organization's goals with their owner, scope and how many of their actions are done
    (dropped ones count in neither)."""
    return (scoped(Goal, organization).select_related("owner", "organization")
            .prefetch_related("surveys", "touchpoints", "channels")
            .annotate(actions_total=Count("actions", filter=~Q(actions__status=Status.DROPPED), distinct=True),
                      actions_done=Count("actions", filter=Q(actions__status=Status.DONE), distinct=True),
                      actions_dropped=Count("actions", filter=Q(actions__status=Status.DROPPED), distinct=True)))


def actions(organization):
    return (scoped(ActionItem, organization).select_related("owner", "goal")
            .prefetch_related("pain_points__journey_map", "root_causes__parent", "tags"))


def open_actions(organization):
    return actions(organization).filter(status__in=ActionItem.OPEN)


def overdue(organization, today=None):
    return open_actions(organization).filter(due_date__lt=today or timezone.now().date())


def at_touchpoint(organization, touchpoint):
    """Open actions linked to the touchpoint's pain points."""
    return open_actions(organization).filter(pain_points__touchpoint=touchpoint).distinct()


def open_pain_points_at(organization, touchpoint):
    return scoped(PainPoint, organization).filter(touchpoint=touchpoint, status=PainPoint.Status.OPEN).select_related(
        "journey_map")


def related_open_actions(organization, *, pain_points=(), root_causes=(), tags=(), exclude=None):
    """Open actions already aimed at any of these pain points, root causes or tags: shown before
    someone creates the same action twice."""
    condition = Q(pk__in=[])
    if pain_points:
        condition |= Q(pain_points__in=list(pain_points))
    if root_causes:
        condition |= Q(root_causes__in=list(root_causes))
    if tags:
        condition |= Q(tags__in=list(tags))
    qs = open_actions(organization).filter(condition).distinct()
    return qs.exclude(pk=exclude.pk) if exclude is not None else qs


def goal_history(goal, limit=50):
    return (HistoryEntry.objects.filter(Q(goal=goal) | Q(action_item__goal=goal))
            .select_related("actor", "action_item").distinct()[:limit])


def action_history(action, limit=50):
    return HistoryEntry.objects.filter(action_item=action).select_related("actor")[:limit]
