"""The goals and action items API: org-scoped, DESIGN to plan, WORK_INBOX to move and comment,
the goal's progress as JSON, and the services' rules as 400s naming the field."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from actions.models import ActionItem, Goal
from cxplatform.models import Role
from tests import factories
from tests.apierrors import error_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_for():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def goal_payload(owner, **fields):
    today = timezone.now().date()
    return {"kpi": "nps", "target": "80", "deadline": (today + timedelta(days=60)).isoformat(), "owner": owner.pk,
            **fields}


def test_a_goal_created_through_the_api_gets_its_baseline_from_the_data(api_for, manager, delivery, nps_link,
                                                                         answer, today):
    answer(nps_link, [10, 10, 9, 3], today - timedelta(days=2))
    created = api_for(manager).post("/api/v1/goals/", goal_payload(manager, touchpoints=[delivery.pk]),
                                    format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["baseline"] == "50.00" and body["baseline_n"] == 4 and body["start_date"] == today.isoformat()
    assert body["touchpoints"] == [delivery.pk] and body["lower_is_better"] is False
    assert body["title"].startswith(f"NPS at {delivery.name} from 50 to 80 by ")
    assert body["actions_done"] == 0 and body["actions_total"] == 0

    progress = api_for(manager).get(f"/api/v1/goals/{body['id']}/progress/").json()
    assert progress["verdict"] == "not_enough_data"  # n=4: too few to tell
    assert progress["points"] == [{"day": today.isoformat(), "value": "50.00", "n": 4,
                                   "margin_of_error": progress["points"][0]["margin_of_error"],
                                   "planned": "50.00", "small_sample": True}]
    assert progress["window_days"] == 30 and progress["target"] == "80.00"


def test_the_apis_refusals_name_the_field_and_change_nothing(org_b, api_for, manager, delivery, today):
    api = api_for(manager)
    worse = api.post("/api/v1/goals/", goal_payload(manager, baseline="50", target="20"), format="json")
    assert worse.status_code == 400 and "must be higher than the baseline" in error_fields(worse)["target"][0]
    no_data = api.post("/api/v1/goals/", goal_payload(manager, kpi="ces", target="6"), format="json")
    assert no_data.status_code == 400 and "baseline" in error_fields(no_data)
    foreign = api.post("/api/v1/goals/", goal_payload(manager, baseline="0",
                                                      touchpoints=[factories.touchpoint(org_b).pk]), format="json")
    assert foreign.status_code == 400 and "touchpoints" in error_fields(foreign)
    stranger = api.post("/api/v1/goals/", goal_payload(factories.member(org_b), baseline="0"), format="json")
    assert stranger.status_code == 400 and "owner" in error_fields(stranger)
    assert not Goal.objects.exists()


def test_goals_and_actions_of_another_organization_are_not_listed(org_a, org_b, api_for, manager):
    mine, theirs = factories.action_item(org_a), factories.action_item(org_b)
    api = api_for(manager)
    assert [g["id"] for g in api.get("/api/v1/goals/").json()["results"]] == [mine.goal_id]
    assert [a["id"] for a in api.get("/api/v1/action-items/").json()["results"]] == [mine.pk]
    assert api.get(f"/api/v1/goals/{theirs.goal_id}/progress/").status_code == 404
    assert api.patch(f"/api/v1/action-items/{theirs.pk}/", {"title": "x"}, format="json").status_code == 404


def test_actions_are_planned_by_designers_and_moved_by_agents(org_a, org_b, api_for, manager, agent, make_member):
    goal = factories.goal(org_a, owner=manager)
    tag = factories.tag(org_a)
    payload = {"goal": goal.pk, "title": "Courier SMS", "owner": agent.pk,
               "due_date": (timezone.now().date() - timedelta(days=1)).isoformat(), "tags": [tag.pk]}
    assert api_for(agent).post("/api/v1/action-items/", payload, format="json").status_code == 403
    created = api_for(manager).post("/api/v1/action-items/", payload, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "planned" and body["overdue"] is True and body["tags"] == [tag.pk]

    foreign_tag = api_for(manager).patch(f"/api/v1/action-items/{body['id']}/", {"tags": [factories.tag(org_b).pk]},
                                         format="json")
    assert foreign_tag.status_code == 400 and "tags" in error_fields(foreign_tag)

    agent_api = api_for(agent)
    assert agent_api.patch(f"/api/v1/action-items/{body['id']}/", {"title": "x"}, format="json").status_code == 403
    moved = agent_api.post(f"/api/v1/action-items/{body['id']}/status/", {"status": "done"}, format="json")
    assert moved.status_code == 200 and moved.json()["status"] == "done" and moved.json()["overdue"] is False
    bad = agent_api.post(f"/api/v1/action-items/{body['id']}/status/", {"status": "finished"}, format="json")
    assert bad.status_code == 400
    comment = agent_api.post(f"/api/v1/action-items/{body['id']}/comments/", {"text": "Done with the courier."},
                             format="json")
    assert comment.status_code == 201 and comment.json()["author"] == agent.pk
    assert [c["text"] for c in agent_api.get(f"/api/v1/action-items/{body['id']}/comments/").json()] == [
        "Done with the courier."]
    assert api_for(manager).get(f"/api/v1/goals/{goal.pk}/").json()["actions_done"] == 1

    viewer = api_for(make_member(org_a, Role.VIEWER))
    assert viewer.get("/api/v1/action-items/").status_code == 200
    assert viewer.post(f"/api/v1/action-items/{body['id']}/status/", {"status": "planned"},
                       format="json").status_code == 403
    assert ActionItem.objects.get().status == "done"


def test_a_goal_is_changed_and_deleted_through_the_api(org_a, api_for, manager, agent):
    goal = factories.goal(org_a, owner=manager)
    action = factories.action_item(org_a, goal=goal)
    api = api_for(manager)
    changed = api.patch(f"/api/v1/goals/{goal.pk}/", {"target": "50", "owner": agent.pk}, format="json")
    assert changed.status_code == 200 and changed.json()["target"] == "50.00" and changed.json()["owner"] == agent.pk
    assert changed.json()["actions_total"] == 1
    assert api.delete(f"/api/v1/goals/{goal.pk}/").status_code == 204
    action.refresh_from_db()
    assert action.goal is None
