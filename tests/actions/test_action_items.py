"""Action items: overdue, the history of who changed what, comments and the notifications they
send, and links that must stay inside one organization."""

from datetime import timedelta

import pytest
from django.utils import timezone

from actions import selectors, services
from actions.models import ActionItem, Goal, HistoryEntry
from cxplatform.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db
Status = ActionItem.Status


def new_action(org, actor, **fields):
    fields.setdefault("title", "SMS with the delivery window")
    fields.setdefault("owner", actor)
    fields.setdefault("due_date", timezone.now().date() + timedelta(days=7))
    return services.create_action(org, actor, **fields)


@pytest.mark.parametrize(("due_in", "status", "overdue"), [
    (-1, Status.PLANNED, True), (-1, Status.IN_PROGRESS, True), (-1, Status.DONE, False),
    (-1, Status.DROPPED, False), (0, Status.PLANNED, False), (3, Status.IN_PROGRESS, False),
])
def test_overdue_is_past_due_and_neither_done_nor_dropped(org_a, today, due_in, status, overdue):
    action = factories.action_item(org_a, due_date=today + timedelta(days=due_in), status=status)
    assert action.is_overdue(today) is overdue
    assert (action in selectors.overdue(org_a, today)) is overdue


def test_every_change_is_in_the_history_with_who_what_and_when(org_a, manager, agent, today):
    goal = factories.goal(org_a, owner=manager)
    action = new_action(org_a, manager, goal=goal)
    services.set_status(action, agent, Status.IN_PROGRESS)
    services.update_action(action, manager, due_date=today + timedelta(days=20), owner=agent)
    done = services.set_status(action, agent, Status.DONE)
    assert done.done_at is not None

    entries = list(HistoryEntry.objects.filter(action_item=action).order_by("id"))
    assert [(e.event, e.actor) for e in entries] == [
        ("action_created", manager), ("action_changed", agent), ("action_changed", manager), ("action_changed", agent)]
    assert entries[1].changes == {"status": ["planned", "in_progress"]}
    assert entries[1].described_changes() == [("status", "Planned", "In progress")]
    assert set(entries[2].changes) == {"due_date", "owner"}
    assert entries[2].changes["due_date"][1] == (today + timedelta(days=20)).isoformat()
    assert all(e.created_at is not None for e in entries)
    # The goal's page shows its actions' history too.
    assert set(selectors.goal_history(goal)) == set(entries)

    reopened = services.set_status(done, manager, Status.IN_PROGRESS)
    assert reopened.done_at is None
    services.set_status(reopened, manager, Status.IN_PROGRESS)  # no change, no entry
    assert HistoryEntry.objects.filter(action_item=action).count() == 5


def test_links_to_pain_points_root_causes_and_tags_are_kept_and_logged(org_a, manager):
    pain, cause, tag = factories.pain_point(org_a), factories.root_cause(org_a), factories.tag(org_a)
    action = new_action(org_a, manager, pain_points=[pain], root_causes=[cause])
    assert list(action.pain_points.all()) == [pain] and list(action.root_causes.all()) == [cause]
    services.update_action(action, manager, tags=[tag], pain_points=[])
    entry = HistoryEntry.objects.filter(action_item=action).first()
    assert entry.changes == {"pain_points": [str(pain), ""], "tags": ["", tag.name]}
    assert list(action.tags.all()) == [tag] and not action.pain_points.exists()


def test_an_action_given_to_someone_else_and_a_comment_notify_the_owner(org_a, manager, agent):
    action = new_action(org_a, manager, owner=agent)
    notice = Notification.objects.get(user=agent)
    assert "gave you an action" in notice.rendered() and notice.link == f"/actions/items/{action.pk}/"
    services.add_comment(action, manager, "The courier company agreed.")
    assert Notification.objects.filter(user=agent).count() == 2
    services.add_comment(action, agent, "Thanks!")  # one's own comment notifies nobody
    assert Notification.objects.filter(user=agent).count() == 2
    assert HistoryEntry.objects.filter(action_item=action, event="commented").count() == 2
    with pytest.raises(services.ActionsError, match="empty"):
        services.add_comment(action, agent, "   ")


@pytest.mark.parametrize("link", ["pain_points", "root_causes", "tags"])
def test_an_action_cannot_link_another_organizations_rows(org_a, org_b, manager, link):
    theirs = {"pain_points": factories.pain_point, "root_causes": factories.root_cause, "tags": factories.tag}[link]
    with pytest.raises(services.ActionsError) as refused:
        new_action(org_a, manager, **{link: [theirs(org_b)]})
    assert refused.value.field == link and refused.value.message == "Not found."
    assert not ActionItem.objects.exists()
    mine = new_action(org_a, manager)
    with pytest.raises(services.ActionsError):
        services.update_action(mine, manager, **{link: [theirs(org_b)]})
    assert not getattr(mine, link).exists()


def test_an_action_cannot_join_another_organizations_goal_or_have_its_owner(org_a, org_b, manager):
    with pytest.raises(services.ActionsError, match="Not found"):
        new_action(org_a, manager, goal=factories.goal(org_b))
    with pytest.raises(services.ActionsError, match="member of this organization"):
        new_action(org_a, manager, owner=factories.member(org_b))
    with pytest.raises(services.ActionsError, match="Not found"):
        new_action(org_a, manager, from_item=factories.feedback_item(org_b))
    assert not ActionItem.objects.filter(organization=org_a).exists()


def test_a_goal_cannot_measure_another_organizations_touchpoints_or_surveys(org_a, org_b, manager, today):
    for scope in ({"touchpoints": [factories.touchpoint(org_b)]}, {"surveys": [factories.survey(org_b)]},
                  {"channels": [factories.channel(org_b)]}, {"segments": ["not a segment"]}):
        with pytest.raises(services.ActionsError):
            services.create_goal(org_a, manager, kpi="nps", baseline=0, target=10, owner=manager,
                                 deadline=today + timedelta(days=30), **scope)
    assert not Goal.objects.exists()


def test_deleting_a_goal_keeps_its_actions_on_their_own(org_a, manager):
    goal = factories.goal(org_a, owner=manager)
    action = new_action(org_a, manager, goal=goal)
    services.delete_goal(goal, manager)
    action.refresh_from_db()
    assert action.goal is None
    assert HistoryEntry.objects.filter(action_item=action, changes__goal=[goal.title, None]).exists()
    # Its own history went with it; the action's, written while it was under the goal, stayed.
    assert HistoryEntry.objects.filter(action_item=action, event="action_created").exists()
    assert not HistoryEntry.objects.filter(action_item__isnull=True).exists()
