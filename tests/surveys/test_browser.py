"""A customer answers on a phone in Russian; the CX manager sees the answer in the list."""

import pytest

from cxplatform.models import Role
from surveys import links
from surveys.models import Response
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
