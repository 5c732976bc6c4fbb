"""A CX manager starts a survey from the template library, on a desktop and on a phone."""

import pytest

from cxplatform.models import Role
from surveys.models import RetentionOffer, Survey

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _signed_in(browser, live_server, make_member, org, **context):
    manager = make_member(org, Role.CX_MANAGER, username="cx-lib")
    manager.set_password("lib-pass-123")
    manager.save()
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "cx-lib")
    page.fill("#id_password", "lib-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    return ctx, page


def _serious_findings(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [(v["id"], v["impact"], [n["html"][:120] for n in v["nodes"]][:5])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_manager_starts_a_churn_survey_from_the_library(live_server, browser, org_a, make_member, artifact):
    ctx, page = _signed_in(browser, live_server, make_member, org_a, viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/surveys/")
    page.get_by_role("link", name="Start from a template").click()
    page.wait_for_url("**/surveys/templates/")
    card = page.locator("#template-churn-reasons")
    card.locator("summary").click()
    assert "Asked only if the answer to “reason” is I found a better offer elsewhere" in card.inner_text()
    assert _serious_findings(page) == []
    page.screenshot(path=artifact("template-library.png"), full_page=True)
    card.get_by_label("Name (optional)").fill("Cancellations 2027")
    card.get_by_role("button", name="Use this template").click()
    page.wait_for_url("**/surveys/*/")
    assert "Your draft is ready" in page.inner_text("body")
    assert "Cancellations 2027" in page.locator("h1").inner_text()
    survey = Survey.objects.for_org(org_a).get()
    assert survey.status == Survey.Status.DRAFT and survey.questions.count() == 4
    assert RetentionOffer.objects.for_org(org_a).filter(question__survey=survey).count() == 6
    assert page.locator("#offers tbody tr").count() == 6
    ctx.close()


def test_the_library_fits_a_phone(live_server, browser, org_a, make_member, artifact):
    ctx, page = _signed_in(browser, live_server, make_member, org_a, viewport={"width": 390, "height": 844},
                           is_mobile=True, has_touch=True)
    page.goto(f"{live_server.url}/surveys/templates/")
    page.locator("#template-post-purchase-nps summary").tap()
    for card in page.locator(".template").all():
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert _serious_findings(page) == []
    page.screenshot(path=artifact("template-library-phone.png"), full_page=True)
    ctx.close()
