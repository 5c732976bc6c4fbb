"""The goals and actions pages: a goal prefilled from the dashboard, the review page, one-click
actions from a pain point, a root cause or an inbox item, the fragments the journey pages load,
roles, and bad input answered with a message that changes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from actions import services
from actions.models import ActionItem, Goal, HistoryEntry
from cxplatform.models import Notification, Role
from feedback.models import PainPointEvidence
from tests import factories

pytestmark = pytest.mark.django_db
Status = ActionItem.Status


@pytest.fixture
def as_manager(client_for, manager):
    return client_for(manager)


@pytest.fixture
def as_agent(client_for, agent):
    return client_for(agent)


@pytest.fixture
def as_viewer(client_for, org_a, make_member):
    return client_for(make_member(org_a, Role.VIEWER))


def goal_post(owner, **fields):
    today = timezone.now().date()
    data = {"kpi": "nps", "target": "60", "start_date": today.isoformat(),
            "deadline": (today + timedelta(days=90)).isoformat(), "owner": owner.pk, "title": "", "description": ""}
    data.update(fields)
    return data


# --- Goals --------------------------------------------------------------------------------------


def test_the_dashboard_offers_a_goal_from_each_figure_to_designers_only(org_a, as_manager, as_viewer, delivery):
    query = f"?touchpoint={delivery.pk}"
    page = as_manager.get(f"/{query}", HTTP_HX_REQUEST="true").content.decode()
    assert f'href="/actions/goals/new/?kpi=nps&amp;touchpoint={delivery.pk}"' in page
    assert f'href="/actions/goals/new/?kpi=first_response_time&amp;touchpoint={delivery.pk}"' in page
    assert "kpi=responses" not in page and "kpi=clv" not in page  # counts and money are no goal KPIs
    assert "Create a goal from this figure" not in as_viewer.get(f"/{query}", HTTP_HX_REQUEST="true").content.decode()


def test_the_new_goal_form_is_prefilled_from_the_dashboards_filters(
        org_a, as_manager, delivery, nps_link, answer, today):
    answer(nps_link, [10, 10, 10, 0], today - timedelta(days=3))
    other = factories.touchpoint(org_a)
    response = as_manager.get(f"/actions/goals/new/?kpi=nps&touchpoint={delivery.pk}&from=2026-01-01&grain=week")
    form = response.context["form"]
    assert form.initial["kpi"] == "nps"
    assert list(form.initial["touchpoint"]) == [delivery]
    assert form.initial["baseline"] == Decimal("50.00")  # 3 promoters, 1 detractor in the last 30 days
    page = response.content.decode()
    assert 'id="measured-baseline">50</strong>' in page and "n=4" in page
    assert f'<option value="{delivery.pk}" selected>' in page and f'<option value="{other.pk}">' in page
    assert "How many customers would recommend us" in page  # the KPI in plain words


def test_changing_the_kpi_or_scope_remeasures_the_baseline_as_a_fragment(as_manager, delivery, nps_link, answer,
                                                                          today):
    answer(nps_link, [10, 0], today)
    response = as_manager.get(f"/actions/goals/new/?kpi=csat&touchpoint={delivery.pk}&target=70",
                              HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "<html" not in page and 'id="goal-form-body"' not in page  # the form's body only
    assert 'id="measured-baseline-missing"' in page  # no CSAT answers there
    assert 'name="target" value="70"' in page  # what was typed stays


def test_another_organizations_ids_in_the_link_are_left_out_and_said(org_b, as_manager):
    theirs = factories.touchpoint(org_b)
    response = as_manager.get(f"/actions/goals/new/?kpi=nps&touchpoint={theirs.pk}")
    assert response.status_code == 200
    assert "touchpoint" not in response.context["form"].initial
    assert 'id="dropped-filters"' in response.content.decode()


def test_saving_the_form_sets_the_goal_and_bad_input_changes_nothing(org_a, as_manager, manager, delivery,
                                                                      nps_link, answer, today):
    answer(nps_link, [10, 10, 10, 0], today)
    worse = as_manager.post("/actions/goals/new/", goal_post(manager, touchpoint=delivery.pk, baseline="50",
                                                             target="40"))
    assert worse.status_code == 400
    assert "For NPS the target must be higher than the baseline (50.00)." in worse.content.decode()
    no_number = as_manager.post("/actions/goals/new/", goal_post(manager, target="lots"))
    assert no_number.status_code == 400 and "Enter a number." in no_number.content.decode()
    assert not Goal.objects.exists()

    saved = as_manager.post("/actions/goals/new/", goal_post(manager, touchpoint=delivery.pk, baseline="50"))
    goal = Goal.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/actions/goals/{goal.pk}/"
    assert goal.baseline == Decimal(50) and goal.baseline_n == 4  # the shown, measured baseline
    assert list(goal.touchpoints.all()) == [delivery] and goal.title.startswith(f"NPS at {delivery.name}")


def test_the_goal_page_answers_the_review_questions(org_a, as_manager, manager, agent, delivery, nps_link, answer,
                                                    today):
    answer(nps_link, [10] * 30 + [0] * 10, today - timedelta(days=1))
    goal = services.create_goal(org_a, manager, kpi="nps", baseline=20, target=60, owner=manager,
                                start_date=today - timedelta(days=10), deadline=today + timedelta(days=50),
                                touchpoints=[delivery], description="Recommend us <b>more</b>")
    done = services.create_action(org_a, manager, title="SMS window", owner=agent, due_date=today, goal=goal)
    services.set_status(done, agent, Status.DONE)
    services.create_action(org_a, manager, title="Checklist", owner=agent, due_date=today - timedelta(days=2),
                           goal=goal)
    dropped = services.create_action(org_a, manager, title="New courier", owner=agent, due_date=today, goal=goal)
    services.set_status(dropped, manager, Status.DROPPED)

    page = as_manager.get(f"/actions/goals/{goal.pk}/").content.decode()
    assert "Recommend us &lt;b&gt;more&lt;/b&gt;" in page
    assert "Maksim Orlov" in page  # who owns it
    assert "1 of 2 actions done" in page and "1 dropped" in page and "1 overdue" in page
    assert "Baseline <strong>20</strong>" in page and '<strong id="kpi-now">50</strong>' in page  # what moved
    assert "n=40" in page
    assert 'id="verdict">On track<' in page  # 50 now against a plan of 26.7
    assert 'id="chart-progress" data-figure="' in page
    assert "SMS window" in page and "Checklist" in page
    assert "changed the action" in page and "Planned → Done" in page  # the history


def test_viewers_read_goals_but_only_designers_set_them(org_a, as_viewer, as_agent, agent):
    goal = factories.goal(org_a)
    assert as_viewer.get(f"/actions/goals/{goal.pk}/").status_code == 200
    assert as_viewer.get("/actions/").status_code == 200
    assert as_agent.get("/actions/goals/new/").status_code == 403
    assert as_agent.post("/actions/goals/new/", goal_post(agent, baseline="0")).status_code == 403
    assert as_agent.post(f"/actions/goals/{goal.pk}/delete/").status_code == 403
    assert Goal.objects.count() == 1


# --- Actions ------------------------------------------------------------------------------------


def test_an_agent_moves_an_action_and_comments_but_does_not_plan_one(org_a, as_agent, agent):
    action = factories.action_item(org_a, owner=agent)
    assert as_agent.get("/actions/new/").status_code == 403
    moved = as_agent.post(f"/actions/items/{action.pk}/status/",
                          {"status": "done", "next": f"/actions/goals/{action.goal_id}/"})
    assert moved.status_code == 302 and moved["Location"] == f"/actions/goals/{action.goal_id}/"
    action.refresh_from_db()
    assert action.status == Status.DONE and action.done_at is not None
    assert HistoryEntry.objects.get(action_item=action).actor == agent
    # A "next" off the site goes back to the action instead.
    away = as_agent.post(f"/actions/items/{action.pk}/status/", {"status": "in_progress", "next": "//evil.example/"})
    assert away["Location"] == f"/actions/items/{action.pk}/"
    bad = as_agent.post(f"/actions/items/{action.pk}/status/", {"status": "finished"})
    assert bad.status_code == 302
    action.refresh_from_db()
    assert action.status == Status.IN_PROGRESS
    commented = as_agent.post(f"/actions/items/{action.pk}/comments/", {"text": "Called the courier <3"})
    assert commented.status_code == 302
    assert "Called the courier &lt;3" in as_agent.get(f"/actions/items/{action.pk}/").content.decode()
    empty = as_agent.post(f"/actions/items/{action.pk}/comments/", {"text": "   "})
    assert empty.status_code == 400 and action.comments.count() == 1


def test_an_action_from_a_pain_point_is_prefilled_and_saved_under_the_touchpoints_goal(
        org_a, as_manager, manager):
    pain = factories.pain_point(org_a)
    goal = factories.goal(org_a, owner=manager)
    goal.touchpoints.add(pain.touchpoint)
    form = as_manager.get(f"/actions/new/?pain_point={pain.pk}").context["form"]
    assert form.initial["pain_points"] == [pain] and form.initial["goal"] == goal.pk
    assert form.initial["title"] == f"Fix: {pain.description}" and form.initial["owner"] == manager.pk
    response = as_manager.post("/actions/new/", {
        "title": "Courier SMS", "owner": manager.pk, "due_date": "2030-01-31", "status": "planned",
        "goal": goal.pk, "pain_points": [pain.pk]})
    assert response.status_code == 302 and response["Location"] == f"/actions/goals/{goal.pk}/"
    action = ActionItem.objects.get()
    assert list(action.pain_points.all()) == [pain] and action.created_by == manager


def test_an_action_from_an_inbox_item_carries_its_tags_root_cause_and_pain_points(org_a, as_manager, manager):
    cause = factories.root_cause(org_a)
    item = factories.feedback_item(org_a, root_cause=cause, text="The courier never called")
    tag = factories.tag(org_a)
    item.tags.add(tag)
    pain = factories.pain_point(org_a)
    PainPointEvidence.objects.create(organization=org_a, pain_point=pain, item=item)
    already = services.create_action(org_a, manager, title="Already on it", owner=manager,
                                     due_date=timezone.now().date(), tags=[tag])

    item_page = as_manager.get(f"/inbox/items/{item.pk}/").content.decode()
    assert f'href="/actions/new/?item={item.pk}"' in item_page
    response = as_manager.get(f"/actions/new/?item={item.pk}")
    initial = response.context["form"].initial
    assert initial["tags"] == [tag] and initial["root_causes"] == [cause] and initial["pain_points"] == [pain]
    assert list(response.context["related"]) == [already]  # "Already planned for this"
    page = response.content.decode()
    assert f'name="from_item" value="{item.pk}"' in page and "The courier never called" in page

    as_manager.post("/actions/new/", {"title": "Courier calls ahead", "owner": manager.pk, "due_date": "2030-01-31",
                                      "status": "planned", "tags": [tag.pk], "root_causes": [cause.pk],
                                      "from_item": item.pk})
    action = ActionItem.objects.get(title="Courier calls ahead")
    assert action.from_item == item and list(action.root_causes.all()) == [cause]


def test_an_action_from_a_root_cause_offers_the_touchpoints_pain_points(org_a, as_manager):
    cause = factories.root_cause(org_a)
    pain = factories.pain_point(org_a)
    initial = as_manager.get(f"/actions/new/?root_cause={cause.pk}&touchpoint={pain.touchpoint_id}").context[
        "form"].initial
    assert initial["root_causes"] == [cause] and initial["pain_points"] == [pain]
    assert initial["title"] == f"Remove the cause: {cause}"


def test_another_organizations_rows_cannot_be_linked_through_the_form(org_a, org_b, as_manager, manager):
    theirs = {"pain_points": factories.pain_point(org_b).pk, "tags": factories.tag(org_b).pk,
              "root_causes": factories.root_cause(org_b).pk, "goal": factories.goal(org_b).pk,
              "owner": factories.member(org_b).pk}
    for field, value in theirs.items():
        data = {"title": "Sneaky", "owner": manager.pk, "due_date": "2030-01-31", "status": "planned", field: value}
        response = as_manager.post("/actions/new/", data)
        assert response.status_code == 400, field
        assert "Select a valid choice" in response.content.decode(), field
    # Another organization's item in the prefill link is ignored, like a missing id.
    foreign_item = factories.feedback_item(org_b, text="Their secret")
    page = as_manager.get(f"/actions/new/?item={foreign_item.pk}").content.decode()
    assert "Their secret" not in page
    foreign_pain = factories.pain_point(org_b)
    prefilled = as_manager.get(f"/actions/new/?pain_point={foreign_pain.pk}&root_cause={theirs['root_causes']}")
    assert prefilled.context["form"].initial["pain_points"] == [] and not prefilled.context["origin"]
    assert foreign_pain.description not in prefilled.content.decode()
    assert not ActionItem.objects.exists()


# --- Fragments, root causes, notifications --------------------------------------------------------


def test_the_touchpoint_fragment_lists_open_actions_at_its_pain_points(org_a, as_manager, as_viewer, manager,
                                                                      client_for):
    pain = factories.pain_point(org_a)
    elsewhere = factories.pain_point(org_a)
    today = timezone.now().date()
    services.create_action(org_a, manager, title="Courier <SMS>", owner=manager, due_date=today,
                           pain_points=[pain])
    finished = services.create_action(org_a, manager, title="Finished one", owner=manager, due_date=today,
                                      pain_points=[pain])
    services.set_status(finished, manager, Status.DONE)
    services.create_action(org_a, manager, title="Another touchpoint", owner=manager, due_date=today,
                           pain_points=[elsewhere])
    page = as_manager.get(f"/actions/touchpoints/{pain.touchpoint_id}/").content.decode()
    assert "Courier &lt;SMS&gt;" in page
    assert "Finished one" not in page and "Another touchpoint" not in page
    assert f'href="/actions/new/?pain_point={pain.pk}"' in page
    assert "/actions/new/" not in as_viewer.get(f"/actions/touchpoints/{pain.touchpoint_id}/").content.decode()

    touchpoint_page = as_viewer.get(f"/journeys/touchpoints/{pain.touchpoint_id}/").content.decode()
    assert f'hx-get="/actions/touchpoints/{pain.touchpoint_id}/"' in touchpoint_page
    campaign = as_viewer.get(f"/journeys/campaign-readiness/?touchpoint={pain.touchpoint_id}").content.decode()
    assert f'hx-get="/actions/touchpoints/{pain.touchpoint_id}/?compact=1"' in campaign


def test_root_causes_by_touchpoint_and_month_with_links_to_the_inbox_and_pain_points(org_a, as_manager, today):
    from datetime import UTC, datetime

    late = factories.root_cause(org_a)
    late.name = "Courier <late>"
    late.save()
    pain = factories.pain_point(org_a)
    delivery = pain.touchpoint

    def months_ago(k):
        year, month = today.year, today.month - k
        while month <= 0:
            year, month = year - 1, month + 12
        return datetime(year, month, 2, 12, tzinfo=UTC)

    this_month = months_ago(0)
    for k, count in [(1, 3), (2, 2), (3, 1), (4, 1), (5, 0), (6, 0)]:  # growing lately
        for _ in range(count):
            factories.feedback_item(org_a, root_cause=late, touchpoint=delivery, received_at=months_ago(k))
    factories.feedback_item(org_a, root_cause=late, received_at=this_month, kind="case")  # no touchpoint
    factories.feedback_item(org_a, touchpoint=delivery, received_at=this_month)  # no root cause: not counted

    response = as_manager.get("/actions/root-causes/")
    rows = response.context["rows"]
    at_delivery = next(r for r in rows if r.touchpoint == delivery)
    assert at_delivery.total == 7 and at_delivery.counts[-1] == 0 and at_delivery.counts[-2] == 3
    assert (at_delivery.earlier, at_delivery.recent, at_delivery.trend) == (1, 6, "up")
    assert at_delivery.pain_points == [pain]
    assert response.context["total"] == 8
    page = response.content.decode()
    assert "Courier &lt;late&gt;" in page and "Courier <late>" not in page.split("data-figure")[0]
    assert f'href="/inbox/?view=all&amp;touchpoint={delivery.pk}"' in page
    assert f'href="/actions/new/?root_cause={late.parent_id}' not in page
    assert f'href="/actions/new/?root_cause={late.pk}&amp;touchpoint={delivery.pk}"' in page
    assert 'id="chart-root-causes"' in page
    cases = as_manager.get("/actions/root-causes/?kind=case").context
    assert cases["total"] == 1


def test_notifications_show_in_the_bell_and_are_marked_read(org_a, as_agent, agent, manager, client_for):
    services.create_action(org_a, manager, title="Call the courier", owner=agent,
                           due_date=timezone.now().date())
    page = as_agent.get("/actions/").content.decode()
    assert 'id="bell"' in page and '<span class="count">1</span>' in page
    listed = as_agent.get("/notifications/").content.decode()
    assert "gave you an action: “Call the courier”" in listed
    assert as_agent.post("/notifications/read/").status_code == 302
    assert Notification.objects.get(user=agent).read_at is not None
    assert '<span class="count">' not in as_agent.get("/actions/").content.decode()
    # Someone else's notifications are not theirs to see.
    assert "Call the courier" not in client_for(manager).get("/notifications/").content.decode()
