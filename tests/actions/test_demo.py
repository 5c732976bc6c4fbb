"""VoltRide's goals and actions in the demo: two goals, actions in every state, one overdue,
root causes for the analysis — and loading the demo again changes nothing."""

import pytest
from django.utils import timezone

from actions import progress
from actions.models import ActionItem, Goal, HistoryEntry
from cxplatform.demo import DEMO_SLUG, load_demo
from cxplatform.models import Organization
from feedback.models import FeedbackItem, RootCause

pytestmark = pytest.mark.django_db


def test_the_demo_has_two_goals_with_actions_in_every_state_and_loads_twice():
    load_demo()
    org = Organization.objects.get(slug=DEMO_SLUG)
    counts = (Goal.objects.count(), ActionItem.objects.count(), HistoryEntry.objects.count(),
              RootCause.objects.count(), FeedbackItem.objects.filter(root_cause__isnull=False).count())
    load_demo()
    assert (Goal.objects.count(), ActionItem.objects.count(), HistoryEntry.objects.count(),
            RootCause.objects.count(), FeedbackItem.objects.filter(root_cause__isnull=False).count()) == counts

    nps, frt = Goal.objects.get(kpi="nps"), Goal.objects.get(kpi="first_response_time")
    assert nps.kpi == "nps" and [t.name for t in nps.touchpoints.all()] == ["Home delivery"]
    assert nps.target > nps.baseline and frt.target < frt.baseline  # up, and down: lower is better
    assert nps.baseline_n and frt.baseline_n  # both measured from the demo's data
    actions = ActionItem.objects.filter(organization=org)
    assert set(actions.values_list("status", flat=True)) == set(ActionItem.Status.values)
    today = timezone.now().date()
    assert sum(a.is_overdue(today) for a in actions) == 1
    assert actions.filter(goal__isnull=True).exists()  # one started from a pain point, on its own
    assert progress.progress(nps, today).points  # a curve to draw
    assert FeedbackItem.objects.filter(organization=org, root_cause__isnull=False).count() > 100
