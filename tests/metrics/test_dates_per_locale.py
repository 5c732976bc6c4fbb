"""Dates, periods and chart axes follow the reader's locale: one format per locale on every page
(Babel), Latvian periods with their case forms, and charts that carry their locale to plotly.js."""

import json
from datetime import UTC, date, datetime

import pytest
from django.utils import translation

from cxplatform import dates
from cxplatform.models import Role
from metrics import charts
from metrics.services import reconcile_recent
from tests import factories

pytestmark = pytest.mark.django_db

PERIOD = {
    "lv": "no 2026. gada 3. novembra līdz 2. decembrim",
    "ru": "с 3 ноября по 2 декабря 2026\u202fг.",
    "en": "from November 3 to December 2, 2026",
}


@pytest.fixture
def viewer(org_a, make_member, client_for):
    return client_for(make_member(org_a, Role.VIEWER))


@pytest.mark.parametrize("language", ["lv", "ru", "en"])
def test_the_dashboard_names_its_period_in_the_readers_language(viewer, language):
    body = viewer.get("/", {"from": "2026-11-03", "to": "2026-12-02"}, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert PERIOD[language] in body
    for other in set(PERIOD) - {language}:
        assert PERIOD[other] not in body


@pytest.mark.parametrize("language", ["lv", "ru", "en"])
def test_the_responses_behind_a_figure_name_the_same_period(viewer, language):
    body = viewer.get("/metrics/responses/", {"from": "2026-11-03", "to": "2026-12-02"},
                      HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert PERIOD[language] in body


def test_periods_across_years_and_of_one_day():
    assert dates.period(date(2025, 11, 3), date(2026, 12, 2), "lv") == \
        "no 2025. gada 3. novembra līdz 2026. gada 2. decembrim"
    assert dates.period(date(2025, 11, 3), date(2026, 12, 2), "ru") == \
        "с 3 ноября 2025\u202fг. по 2 декабря 2026\u202fг."
    assert dates.period(date(2026, 3, 1), date(2026, 3, 1), "lv") == "2026. gada 1. martā"
    assert dates.period(date(2026, 4, 1), date(2026, 8, 31), "lv") == "no 2026. gada 1. aprīļa līdz 31. augustam"


@pytest.mark.parametrize(("language", "shown"), [
    ("lv", "2026. gada 3. nov. 14:05"),
    ("ru", "3 нояб. 2026\u202fг., 14:05"),
    ("en", "Nov 3, 2026, 2:05\u202fPM"),
])
def test_the_inbox_and_the_item_page_write_a_moment_alike(org_a, make_member, client_for, language, shown):
    item = factories.feedback_item(org_a, received_at=datetime(2026, 11, 3, 14, 5, tzinfo=UTC))
    agent = client_for(make_member(org_a, Role.AGENT))
    inbox = agent.get("/inbox/?view=all", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    page = agent.get(f"/inbox/items/{item.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<td class="received">{shown}</td>' in inbox
    assert f"<dd>{shown}</dd>" in page


@pytest.mark.parametrize(("language", "separators", "november", "labels"), [
    ("lv", ",\u00a0", "nov.", ["2. nov.", "9. nov."]),
    ("ru", ",\u00a0", "нояб.", ["2 нояб.", "9 нояб."]),
    ("en", ".,", "Nov", ["Nov 2", "Nov 9"]),
])
def test_chart_json_carries_the_locale(language, separators, november, labels):
    points = [{"period": date(2026, 11, d), "days": (7, 7), "value": 10, "ci_low": 0, "ci_high": 20, "n": 40}
              for d in (2, 9)]
    with translation.override(language):
        figure = json.loads(charts.trend_chart(points, "nps", ["/a", "/b"], "week"))
        monthly = json.loads(charts.trend_chart(points[:1], "nps", ["/a"], "month"))
    assert figure["locale"]["name"] == language
    assert figure["layout"]["separators"] == separators
    assert figure["locale"]["format"]["shortMonths"][10] == november
    assert figure["locale"]["format"]["days"][0] == dates.plotly_locale(language)["format"]["days"][0]
    assert figure["data"][1]["x"] == labels
    assert monthly["data"][1]["x"] == [dates.month(date(2026, 11, 2), language)]


def test_the_dashboard_charts_are_drawn_in_the_page_language(org_a, viewer):
    link = factories.distribution(org_a)
    factories.response(org_a, link, score=9)
    reconcile_recent(days=2)
    body = viewer.get("/", HTTP_ACCEPT_LANGUAGE="lv").content.decode()
    assert "&quot;locale&quot;: {&quot;name&quot;: &quot;lv&quot;" in body


def test_the_root_cause_chart_writes_its_months_per_locale():
    from actions import charts as action_charts

    class Row:
        root_cause, counts = "Late", [4, 5]

    with translation.override("lv"):
        figure = json.loads(action_charts.root_cause_chart([date(2026, 10, 1), date(2026, 11, 1)], [Row]))
    assert figure["layout"]["xaxis"]["tickformat"] == "%Y. g. %b"
    assert "%{x|%Y. g. %b}" in figure["data"][0]["hovertemplate"]
