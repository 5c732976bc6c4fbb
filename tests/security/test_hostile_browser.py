"""What a person sees when the site refuses what their browser sent: the site's page, the reason in
their language, under the Content-Security-Policy like any page."""

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_nul_in_the_address_is_the_sites_400_page_in_russian(live_server, browser, artifact):
    context = browser.new_context(locale="ru-RU", viewport={"width": 1100, "height": 700})
    page = context.new_page()
    answer = page.goto(f"{live_server.url}/s/%00/")
    assert answer.status == 400
    card = page.locator("section.error-page").inner_text()
    assert "Текст содержит символ NUL." in card and "Вернитесь назад и исправьте это." in card
    page.screenshot(path=artifact("hostile-400-ru.png"), full_page=True)
    context.close()


def test_a_too_long_username_is_refused_in_words(live_server, page, artifact):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "u" * 300)
    page.fill("#id_password", "whatever-1")
    page.click("button[type=submit]")
    alert = page.wait_for_selector("[role=alert]", state="visible")
    assert "at most 150 characters (it has 300)" in alert.inner_text()
    page.screenshot(path=artifact("hostile-login-long-username.png"), full_page=True)
