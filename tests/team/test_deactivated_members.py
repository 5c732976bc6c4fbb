"""A deactivated member is picked, listed, told and reminded nowhere: every place that offers or
chooses people reads active memberships only."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from actions import reminders
from actions import services as actions_services
from cxplatform import services as platform
from cxplatform import wording
from cxplatform.api_access import choices_for
from cxplatform.models import Membership, NotificationKind, Role
from feedback import routing
from feedback import services as feedback_services
from feedback import wordings as feedback_wordings
from feedback.forms import InboxFilterForm, TriageForm, agents_of
from feedback.models import RoutingRule
from metrics import digest
from metrics.models import DigestSubscription
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(org_a, make_member):
    """An active agent and one who left (deactivated), both in Alpha."""
    active = make_member(org_a, Role.AGENT, username="active-agent")
    gone = make_member(org_a, Role.AGENT, username="gone-agent")
    Membership.objects.filter(user=gone).update(is_active=False)
    return active, gone


def test_inbox_assignees_and_filters_offer_only_active_agents(org_a, people):
    active, gone = people
    assert list(agents_of(org_a)) == [active]
    item = factories.feedback_item(org_a)
    form = TriageForm({"status": item.status, "priority": item.priority, "assignee": gone.pk, "version": 1},
                      organization=org_a)
    assert not form.is_valid() and "assignee" in form.errors
    choices = dict(InboxFilterForm({}, organization=org_a).fields["assignee"].choices)
    assert str(active.pk) in choices and str(gone.pk) not in choices


def test_api_choices_of_people_skip_deactivated_ones(org_a, org_b, people):
    active, gone = people
    # Active in another organization does not count here.
    Membership.objects.create(user=gone, organization=org_b, role=Role.AGENT)
    assert set(choices_for(get_user_model().objects.all(), org_a)) >= {active}
    assert gone not in set(choices_for(get_user_model().objects.all(), org_a))
    assert gone in set(choices_for(get_user_model().objects.all(), org_b))


def test_goal_and_action_owners_must_be_active(org_a, people, make_member):
    active, gone = people
    manager = make_member(org_a, Role.CX_MANAGER)
    assert gone not in set(actions_services.members(org_a)) and active in set(actions_services.members(org_a))
    with pytest.raises(actions_services.ActionsError, match="must be a member"):
        actions_services.create_action(org_a, manager, title="Call back", owner=gone,
                                       due_date=timezone.now().date() + timedelta(days=3))
    action = actions_services.create_action(org_a, manager, title="Call back", owner=active,
                                            due_date=timezone.now().date() + timedelta(days=3))
    assert action.owner == active


def test_notifications_and_mentions_skip_deactivated_members(org_a, people, make_member):
    active, gone = people
    told = platform.notify(user=gone, organization=org_a, kind=NotificationKind.MENTION,
                           message=wording.message(feedback_wordings.MENTION, who="x", item=1))
    assert told is None
    author = make_member(org_a, Role.AGENT)
    item = factories.feedback_item(org_a)
    note = feedback_services.add_note(item, author, "@gone-agent @active-agent please look")
    assert list(note.mentions.all()) == [active]
    assert not gone.notifications.exists() and active.notifications.filter(kind=NotificationKind.MENTION).exists()


def test_routing_never_assigns_to_a_deactivated_team_member(org_a, people):
    active, gone = people
    team = factories.team(org_a)
    team.members.add(active, gone)
    chosen = {routing.pick_agent(team, RoutingRule.Assign.ROUND_ROBIN) for _ in range(4)}
    assert chosen == {active}
    assert routing.pick_agent(team, RoutingRule.Assign.LEAST_OPEN) == active


def test_reminders_and_digests_stop_for_a_deactivated_member(org_a, people):
    active, gone = people
    soon = timezone.now().date() + timedelta(days=1)
    mine = factories.action_item(org_a, owner=active, goal=None, due_date=soon)
    theirs = factories.action_item(org_a, owner=gone, goal=None, due_date=soon)
    due_ids = {action_id for action_id, _kind in reminders.due()}
    assert mine.pk in due_ids and theirs.pk not in due_ids

    kept = DigestSubscription.objects.create(organization=org_a, user=active)
    stopped = DigestSubscription.objects.create(organization=org_a, user=gone)
    gone.email = "gone@alpha.example"
    gone.save()
    ids, week = digest.due()
    assert kept.pk in ids and stopped.pk not in ids
    # Queued before the deactivation: still not sent.
    assert digest.send(stopped.pk, week) is False


def test_the_api_lists_only_organizations_one_still_works_in(org_a, org_b, make_member, client_for):
    user = make_member(org_a, Role.AGENT)
    Membership.objects.create(user=user, organization=org_b, role=Role.VIEWER, is_active=False)
    rows = client_for(user).get("/api/v1/memberships/").json()
    assert [row["organization"] for row in rows] == ["alpha"]
