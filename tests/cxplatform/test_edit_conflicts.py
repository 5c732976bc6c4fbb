"""Two people editing the same thing: the second save, made on what the first has since changed,
is refused and changes nothing — it never silently reverts the first person's change. Each page
reads its form as the browser would post it back (hidden version included)."""

import re

import pytest
from rest_framework.test import APIClient

from cxplatform.models import Role
from feedback.models import Team
from journeys.models import PainPoint
from surveys.models import Survey
from tests import factories

pytestmark = pytest.mark.django_db


def form_data(page) -> dict:
    """The fields of the page's edit form (the one carrying a version) as the browser would post them."""
    html = page.content.decode()
    forms = [f for f in html.split("<form")[1:] if 'name="version"' in f]
    assert len(forms) == 1, "the page must have one edit form with its version"
    html = forms[0][: forms[0].index("</form>")]
    data = {}
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.findall(r'<option value="([^"]*)"[^>]*selected', options)
        if chosen:
            data[name] = chosen if len(chosen) > 1 else chosen[0]
    for tag in re.findall(r"<(?:input|textarea)[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="submit"' in tag or name.group(1) == "csrfmiddlewaretoken":
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = value.group(1) if value else ""
    return data


@pytest.fixture
def two_managers(org_a, make_member, client_for):
    return client_for(make_member(org_a, Role.CX_MANAGER)), client_for(make_member(org_a, Role.CX_MANAGER))


def test_goal_second_save_on_an_old_version_is_refused(org_a, two_managers):
    goal = factories.goal(org_a, title="NPS at delivery")
    first, second = two_managers
    url = f"/actions/goals/{goal.pk}/edit/"
    a, b = first.get(url), second.get(url)
    edit_a = {**_goal_fields(a), "target": "40"}
    edit_b = {**_goal_fields(b), "title": "Delivery NPS 30"}
    assert first.post(url, edit_a).status_code == 302
    refused = second.post(url, edit_b)
    assert refused.status_code == 409 and "Someone else changed this" in refused.content.decode()
    goal.refresh_from_db()
    assert goal.target == 40 and goal.title == "NPS at delivery"  # the first change stands, the second is not in


def _goal_fields(page):
    form = page.context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(value, list):
            data[name] = [getattr(v, "pk", v) for v in value]
        elif value is not None:
            data[name] = value
    return data


def test_action_item_second_save_on_an_old_version_is_refused(org_a, two_managers):
    action = factories.action_item(org_a, title="Call the courier firm")
    first, second = two_managers
    url = f"/actions/items/{action.pk}/edit/"
    a, b = _goal_fields(first.get(url)), _goal_fields(second.get(url))
    assert first.post(url, {**a, "status": "in_progress"}).status_code == 302
    refused = second.post(url, {**b, "title": "Call the courier firm today"})
    assert refused.status_code == 409
    action.refresh_from_db()
    assert action.status == "in_progress" and action.title == "Call the courier firm"


def test_survey_second_save_on_an_old_version_is_refused(org_a, two_managers):
    survey = factories.survey(org_a)
    first, second = two_managers
    url = f"/surveys/{survey.pk}/edit/"
    a, b = form_data(first.get(url)), form_data(second.get(url))
    assert a["version"] == str(survey.version)
    assert first.post(url, {**a, "name": "Post-purchase NPS"}).status_code == 302
    refused = second.post(url, {**b, "status": "paused"})
    assert refused.status_code == 409
    survey.refresh_from_db()
    assert survey.name == "Post-purchase NPS" and survey.status == Survey.Status.ACTIVE


def test_pain_point_second_save_on_the_board_is_refused(org_a, two_managers):
    pain = factories.pain_point(org_a)
    first, second = two_managers
    url = f"/journeys/pain-points/{pain.pk}/edit/"
    board = f"/journeys/maps/{pain.journey_map_id}/"
    assert f'name="version" value="{pain.version}"' in first.get(board).content.decode()
    seen = {"description": pain.description, "severity": pain.severity, "touchpoint": pain.touchpoint_id,
            "version": pain.version}
    assert first.post(url, {**seen, "severity": 3}, HTTP_HX_REQUEST="true").status_code == 200
    refused = second.post(url, {**seen, "description": "Courier late"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and "Someone else changed this" in refused.content.decode()
    pain.refresh_from_db()
    assert pain.severity == 3 and pain.description != "Courier late"


def test_settings_second_save_on_an_old_version_is_refused(org_a, make_member, client_for):
    team = factories.team(org_a)
    first, second = (client_for(make_member(org_a, Role.ADMIN)) for _ in range(2))
    url = f"/inbox/settings/teams/{team.pk}/"
    a, b = form_data(first.get(url)), form_data(second.get(url))
    assert first.post(url, {**a, "name": "Couriers"}).status_code == 302
    refused = second.post(url, {**b, "name": "Delivery"})
    assert refused.status_code == 409 and "Someone else changed this" in refused.content.decode()
    assert Team.objects.get(pk=team.pk).name == "Couriers"


@pytest.mark.parametrize(("route", "make", "change"), [
    ("goals", factories.goal, {"title": "Renamed"}),
    ("action-items", factories.action_item, {"title": "Renamed"}),
    ("surveys", factories.survey, {"name": "Renamed"}),
    ("pain-points", factories.pain_point, {"description": "Renamed"}),
    ("feedback/teams", factories.team, {"name": "Renamed"}),
])
def test_the_api_refuses_a_change_on_an_old_version_with_409(org_a, make_member, route, make, change):
    api = APIClient()
    api.force_authenticate(make_member(org_a, Role.ADMIN))
    obj = make(org_a)
    url = f"/api/v1/{route}/{obj.pk}/"
    seen = api.get(url).json()["version"]
    assert api.patch(url, {**change, "version": seen}, format="json").status_code == 200
    stale = api.patch(url, {**change, "version": seen}, format="json")
    assert stale.status_code == 409 and "Someone else changed this" in stale.json()["error"]["message"]
    # Without a version the client asked for the last write to win.
    assert api.patch(url, {name: f"{value} again" for name, value in change.items()}, format="json").status_code == 200
    assert api.get(url).json()["version"] == seen + 2


def test_a_pain_point_edit_without_change_keeps_its_version_moving_only_on_saves(org_a):
    from journeys import services

    pain = factories.pain_point(org_a)
    services.update_pain_point(pain, None, version=pain.version, severity=3)
    assert PainPoint.objects.get(pk=pain.pk).version == 2
