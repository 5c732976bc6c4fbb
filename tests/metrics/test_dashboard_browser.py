"""The dashboard in a real browser on the demo data: KPI cards, charts drawn, filters in the URL."""

import pytest

from cxplatform.demo import DEMO_PASSWORD, load_demo

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_dashboard_draws_charts_and_filters_through_the_url(live_server, page, artifact):
    load_demo()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/?from=2026-01-01")
    page.wait_for_selector("#chart-trend .main-svg", timeout=15_000)  # plotly drew the chart
    for chart in ("#chart-trend", "#chart-distribution", "#chart-heatmap"):
        assert page.locator(f"{chart} .main-svg").count() >= 1, chart
    nps_all = page.locator("#kpi-nps .value").inner_text()
    assert nps_all not in ("—", "")
    page.screenshot(path=artifact("dashboard-demo.png"), full_page=True)

    # Nothing is cut off or scrolls inside its card on a laptop screen (the themes table was, at 1,366 px).
    for width in (1366, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_selector("#themes table")
        clipped = page.evaluate("() => [...document.querySelectorAll('main .card')]"
                                ".filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.id || c.className)")
        assert clipped == [], (width, clipped)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width

    # Choosing a touchpoint re-renders the figures (htmx) and puts the filter in the URL.
    with page.expect_response(lambda r: "touchpoint=" in r.url):
        page.select_option("#id_touchpoint", label="Home delivery")
    page.wait_for_function("() => location.search.includes('touchpoint=')")
    delivery = page.locator("#kpi-nps .value").inner_text()
    assert delivery != nps_all and delivery.startswith("-")  # delivery is where it hurts
    shared = page.url
    page.goto(shared)  # the shared URL shows the same view
    assert page.locator("#kpi-nps .value").inner_text() == delivery

    # Monthly grain, CSAT charts: the same htmx round trip.
    with page.expect_response(lambda r: "grain=month" in r.url):
        page.select_option("#id_grain", "month")
    page.wait_for_function("() => location.search.includes('grain=month')"
                           " && document.querySelector('#chart-distribution .plot').dataset.drillBound === '1'")

    # Drill-down: clicking the "10" bar of the score distribution lists exactly its answers.
    bars = page.locator("#chart-distribution .trace.bars .point")
    expected = page.evaluate(
        "() => document.querySelector('#chart-distribution .plot').data[0].customdata[10][0]")
    assert expected > 0
    bar = bars.nth(10)
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    # plotly's drag layer lies over the bars: point at the bar, then click where the pointer is.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 3)
    page.wait_for_selector("#chart-distribution .hoverlayer .hovertext")
    with page.expect_navigation(url=lambda u: "/metrics/responses/" in u):
        page.mouse.down()
        page.mouse.up()
    assert "score=10" in page.url and "touchpoint=" in page.url
    count = page.locator("#drill-count").inner_text()
    assert count.split()[0] == str(expected)
    assert page.locator("table.responses tbody tr").count() == min(expected, 50)
    page.screenshot(path=artifact("dashboard-drilldown.png"), full_page=True)
