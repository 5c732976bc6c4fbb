"""What a person does first: open the site, log in with the demo login, land on the dashboard."""

import pytest

from cxplatform.demo import DEMO_PASSWORD, load_demo

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_demo_login_reaches_the_dashboard_and_switches_language(live_server, page, artifact):
    load_demo()
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.fill("#id_username", "manager")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text().startswith("Dashboard")
    nav = page.locator("nav.areas").inner_text()
    for area in ("Dashboard", "Surveys", "Journeys", "Inbox", "Actions"):
        assert area in nav
    page.screenshot(path=artifact("dashboard-en.png"), full_page=True)

    with page.expect_navigation():
        page.select_option("#lang-switch", "ru")
    assert page.locator("h1").inner_text().startswith("Дашборд")
    assert "Опросы" in page.locator("nav.areas").inner_text()
    page.screenshot(path=artifact("dashboard-ru.png"), full_page=True)


def test_wrong_password_shows_a_clear_error(live_server, page):
    load_demo()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    # Waits for the answer to the post (is_visible() would read the page as it was, under load).
    page.wait_for_selector("[role=alert]", state="visible")
    assert "/login/" in page.url
