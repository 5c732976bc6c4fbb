import pytest

from cxplatform.models import Role
from metrics.services import reconcile_recent
from tests import factories

pytestmark = pytest.mark.django_db


def test_dashboard_shows_kpis_with_plain_explanations(org_a, make_member, client_for):
    link = factories.distribution(org_a)
    for score in (10, 9, 2):
        factories.response(org_a, link, score=score)
    reconcile_recent(days=2)
    page = client_for(make_member(org_a, Role.VIEWER)).get("/")
    body = page.content.decode()
    assert page.status_code == 200
    kpi = body.split('id="kpi-nps"')[1].split("</article>")[0]
    assert '<div class="value">33<' in kpi and "n=3" in kpi and "small sample" in kpi
    assert "How many customers would recommend us" in body  # what NPS means, in plain words
    assert 'id="chart-trend"' in body


def test_dashboard_filter_errors_are_clear(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    page = client.get("/", {"from": "2026-05-01", "to": "2026-01-01"})
    assert page.status_code == 400
    assert "must not be after its end" in page.content.decode()


def test_dashboard_answers_htmx_with_the_fragment_only(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    fragment = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="kpi-nps"' in fragment and "<html" not in fragment


def test_the_filters_show_the_period_and_grain_the_figures_are_for(org_a, make_member, client_for):
    """The date fields were blank and "Trend by" said "day" while the chart was weekly."""
    import re
    from datetime import timedelta

    from django.utils import timezone

    page = client_for(make_member(org_a, Role.VIEWER)).get("/").content.decode()
    today = timezone.now().date()
    assert f'name="start" value="{(today - timedelta(days=29)).isoformat()}"' in page
    assert f'name="end" value="{today.isoformat()}"' in page
    grain = re.search(r'<select name="grain"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="(\w+)" selected', grain) == ["week"]
    chosen = client_for(make_member(org_a, Role.VIEWER)).get("/", {"grain": "month", "from": "2026-01-01"})
    assert 'name="start" value="2026-01-01"' in chosen.content.decode()
    assert re.findall(r'<option value="(\w+)" selected', re.search(
        r'<select name="grain"[^>]*>(.*?)</select>', chosen.content.decode(), re.S).group(1)) == ["month"]


def test_a_partial_period_is_marked_not_drawn_like_a_whole_one(org_a):
    """The current week (or month) ends today: its point is hollow and its hover says so; the heat
    map outlines its column; the root-cause chart draws the current month as "so far"."""
    import json
    from datetime import date

    from actions import charts as action_charts
    from metrics import charts, selectors

    scope = selectors.Scope(org_a, date(2026, 11, 4), date(2026, 11, 19))  # Wed 4 … Wed 18 November
    assert selectors.coverage(date(2026, 11, 2), "week", scope) == (5, 7)  # cut by the start
    assert selectors.coverage(date(2026, 11, 9), "week", scope) == (7, 7)
    assert selectors.coverage(date(2026, 11, 16), "week", scope) == (3, 7)  # cut by the end
    points = [{"period": date(2026, 11, d), "days": selectors.coverage(date(2026, 11, d), "week", scope),
               "value": 10, "ci_low": 0, "ci_high": 20, "n": 40} for d in (2, 9, 16)]
    trend = json.loads(charts.trend_chart(points, "nps", ["/a", "/b", "/c"]))["data"][1]
    assert trend["marker"]["color"] == ["#ffffff", "#1f6feb", "#ffffff"]
    assert [c[2] for c in trend["customdata"]] == [" · partial: 5 of 7 days", "", " · partial: 3 of 7 days"]
    heat = json.loads(charts.heatmap_chart({"values": [[1, 2, 3]], "n": [[3, 3, 3]], "touchpoints": [(1, "Shop")],
                                            "periods": [p["period"] for p in points],
                                            "days": [p["days"] for p in points]}, "nps", [["/a", "/b", "/c"]]))
    assert [s["x0"] for s in heat["layout"]["shapes"]] == [-0.5, 1.5]
    assert [a["text"] for a in heat["layout"]["annotations"]] == ["so far", "so far"]

    class Row:
        root_cause, counts = "Late", [4, 5, 1]

    causes = json.loads(action_charts.root_cause_chart([date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)],
                                                       [Row], current_month_days=(2, 31)))["data"]
    whole, so_far = causes
    assert whole["x"] == ["2026-10-01", "2026-11-01"] and whole["y"] == [4, 5]
    assert so_far["x"] == ["2026-11-01", "2026-12-01"] and so_far["line"]["dash"] == "dot"
    assert "partial: 2 of 31 days" in so_far["hovertemplate"]
