"""Every label that reaches a chart is plain text: plotly.js draws `<a href>`, `<b>`, `<br>` and
`<span style>` in any text, so a touchpoint or root cause named with markup would otherwise be a
live link on the dashboard, the journey map, the goal page or a customer's profile."""

import json

import pytest

from actions import charts as action_charts
from cxplatform.charts import figure_json
from cxplatform.demo import DEMO_PASSWORD
from cxplatform.models import Role
from journeys.models import JourneyMap, Persona, Stage
from metrics import charts
from metrics.services import reconcile_recent
from tests import factories

HOSTILE = '<a href="https://evil.example/refund">Claim your refund</a> %{y}'


def shows_no_markup(spec: str) -> None:
    text = json.dumps(json.loads(spec))  # one form whatever the builder's own escaping
    assert "<a " not in text and "evil.example/refund\">" not in text, text[:300]
    assert "&lt;a href=" in text


def test_every_chart_builder_escapes_the_labels_it_is_given():
    class Row:
        root_cause, counts = HOSTILE, [1, 2]

    class Touchpoint:
        name = HOSTILE

    from datetime import date
    shows_no_markup(charts.heatmap_chart({"values": [[1.0]], "n": [[3]], "periods": [date(2026, 1, 5)],
                                          "touchpoints": [(1, HOSTILE)]}, "nps", [["/x?a=1&b=2"]]))
    shows_no_markup(charts.drivers_chart([{"name": HOSTILE, "correlation": 0.4, "n": 40, "ci_low": 0.1,
                                                 "ci_high": 0.6, "significant": True}]))
    shows_no_markup(charts.emotion_chart([{"touchpoint": Touchpoint, "designed": 1, "measured": -1}]))
    shows_no_markup(action_charts.root_cause_chart([date(2026, 1, 1), date(2026, 2, 1)], [Row]))


def test_our_templates_and_drill_down_urls_are_left_as_they_are():
    spec = json.loads(figure_json([{"type": "bar", "x": ["a<b"], "customdata": [[1, "/m/?a=1&b=2"]],
                                    "hovertemplate": "%{x}<extra></extra>"}], {"title": {"text": "<b>x</b>"}}))
    trace = spec["data"][0]
    assert trace["x"] == ["a&lt;b"] and trace["customdata"] == [[1, "/m/?a=1&b=2"]]
    assert trace["hovertemplate"] == "%{x}<extra></extra>"
    assert spec["layout"]["title"]["text"] == "&lt;b&gt;x&lt;/b&gt;"


@pytest.mark.django_db(transaction=True)
@pytest.mark.browser
def test_a_touchpoint_named_with_a_link_is_text_on_the_dashboard_and_the_map(live_server, page, org_a, make_member,
                                                                            artifact):
    persona = Persona.objects.create(organization=org_a, name="Commuter")
    journey = JourneyMap.objects.create(organization=org_a, persona=persona, name="Purchase")
    stage = Stage.objects.create(organization=org_a, journey_map=journey, name="Buy", position=0)
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    link.touchpoint.name, link.touchpoint.stage, link.touchpoint.expected_emotion = HOSTILE, stage, 1
    link.touchpoint.save()
    for score in (2, 9, 10):
        factories.response(org_a, link, score=score)
    reconcile_recent(days=2)
    user = make_member(org_a, Role.CX_MANAGER)
    user.set_password(DEMO_PASSWORD)
    user.save()

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("#chart-heatmap .main-svg", timeout=15_000)
    assert page.locator("#chart-heatmap a[href*='evil.example']").count() == 0
    assert "Claim your refund</a>" in page.locator("#chart-heatmap .yaxislayer-above").text_content()
    page.screenshot(path=artifact("chart-label-dashboard.png"), full_page=True)

    page.goto(f"{live_server.url}/journeys/maps/{journey.pk}/")
    page.wait_for_selector("#chart-emotion .main-svg", timeout=15_000)
    assert page.locator("#chart-emotion a[href*='evil.example']").count() == 0
    assert page.locator("a[href*='evil.example']").count() == 0  # nor anywhere else on the map
