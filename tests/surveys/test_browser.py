"""A customer answers on a phone in Russian; the CX manager sees the answer in the list."""

import pytest

from cxplatform.models import Role
from surveys import links
from surveys.models import DistributionDay, Response
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_nps_answered_on_a_phone_in_russian_appears_in_the_managers_list(
    live_server, browser, org_a, make_member, artifact
):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    customer = factories.customer(org_a)
    url = live_server.url + links.survey_url(link, links.sign(link, customer, {"order_id": "A-777"}))

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                locale="ru-RU", extra_http_headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    page = phone.new_page()
    page.goto(url)
    assert "Насколько вероятно" in page.locator("legend").first.inner_text()
    page.get_by_role("radio", name="2", exact=True).check()
    follow_up = page.locator("#follow-up")
    assert "Нам жаль это слышать" in follow_up.inner_text()  # the detractor's question, switched at once
    page.fill("#comment", "Курьер опоздал на два дня")
    page.screenshot(path=artifact("survey-phone-ru.png"), full_page=True)
    page.locator("button[type=submit]").tap()
    page.wait_for_url("**/thanks/**")
    assert page.locator("h1").inner_text().startswith("Спасибо")
    phone.close()

    saved = Response.objects.get()
    assert (saved.score, saved.band, saved.language, saved.customer_id) == (2, "detractor", "ru", customer.pk)
    assert saved.hidden_fields == {"order_id": "A-777"}

    manager = make_member(org_a, Role.CX_MANAGER, username="cx-lead")
    manager.set_password("lead-pass-123")
    manager.save()
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "cx-lead")
    page.fill("#id_password", "lead-pass-123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/surveys/{link.survey_id}/responses/")
    table = page.locator("table").last.inner_text()
    assert "Курьер опоздал на два дня" in table
    page.screenshot(path=artifact("responses-list.png"), full_page=True)
    desk.close()


def test_an_e_mails_score_link_is_kept_by_the_page_in_a_browser_and_by_send_without_scripts(
    live_server, browser, org_a, artifact
):
    """A score link opened in a real browser keeps its score at once (the page's script), though
    the link's GET records nothing (mail scanners: docs/adr/0004); without scripts, Send keeps it."""
    from tests.workers import wait_until

    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    customer = factories.customer(org_a)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(live_server.url + links.one_click_url(link, 9, links.sign(link, customer)) + "&lang=en")
    assert page.get_by_role("radio", name="9", exact=True).is_checked()
    assert wait_until(lambda: Response.objects.filter(customer=customer).exists(), timeout=10)
    kept = Response.objects.get(customer=customer)
    assert (kept.score, kept.source, kept.status) == (9, "one_click", "started")
    page.wait_for_url(f"**t={kept.token}**")  # the visit's address once kept: a reload shows the answer kept
    page.screenshot(path=artifact("one-click-score-page.png"), full_page=True)
    page.reload()
    assert page.get_by_role("radio", name="9", exact=True).is_checked()
    page.fill("#comment", "Quick and friendly")
    page.locator("button[type=submit]").tap()
    page.wait_for_url("**/thanks/**")
    phone.close()
    kept.refresh_from_db()
    assert (kept.score, kept.status, kept.comment) == (9, "completed", "Quick and friendly")
    assert Response.objects.count() == 1

    other = factories.customer(org_a)
    no_scripts = browser.new_context(java_script_enabled=False)
    page = no_scripts.new_page()
    page.goto(live_server.url + links.one_click_url(link, 4, links.sign(link, other)) + "&lang=en")
    assert "Your score is kept when you press Send." in page.locator("form").inner_text()
    page.screenshot(path=artifact("one-click-score-page-no-scripts.png"), full_page=True)
    assert not Response.objects.filter(customer=other).exists()
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert list(Response.objects.filter(customer=other).values_list("score", "status")) == [(4, "completed")]
    no_scripts.close()
    assert DistributionDay.objects.get().opened == 2  # each opening counted with its answer


def test_a_headless_scanner_opening_a_score_link_keeps_nothing(live_server, browser, org_a):
    """A mail gateway's sandbox opens the link in a headless browser that runs the page's script:
    Chromium headless says so in its User-Agent, and its keeping records nothing (surveys/robots.py)."""
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    customer = factories.customer(org_a)
    sandbox = browser.new_context(user_agent=None)  # Chromium's own: "… HeadlessChrome/…"
    page = sandbox.new_page()
    with page.expect_response(lambda reply: reply.request.method == "POST" and "/score/" in reply.url) as keeping:
        page.goto(live_server.url + links.one_click_url(link, 10, links.sign(link, customer)) + "&lang=en")
    assert keeping.value.status == 204
    assert "HeadlessChrome" in page.evaluate("navigator.userAgent")
    assert page.get_by_role("radio", name="10", exact=True).is_checked()
    sandbox.close()
    assert not Response.objects.exists()  # a person's browser keeps it here (the test above)
