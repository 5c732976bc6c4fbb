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

    # Choosing a touchpoint re-renders the figures (htmx) and puts the filter in the URL.
    with page.expect_response(lambda r: "touchpoint=" in r.url):
        page.select_option("#id_touchpoint", label="Home delivery")
    page.wait_for_function("() => location.search.includes('touchpoint=')")
    delivery = page.locator("#kpi-nps .value").inner_text()
    assert delivery != nps_all and delivery.startswith("-")  # delivery is where it hurts
    shared = page.url
    page.goto(shared)  # the shared URL shows the same view
    assert page.locator("#kpi-nps .value").inner_text() == delivery
