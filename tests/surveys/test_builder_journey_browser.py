"""Issue 17's whole journey in one real browser run: a CX manager starts from a template, adds a
choice question and a rule, reorders by keyboard, previews as a phone in Russian and publishes;
a customer answers on a phone, opens the branch and then leaves it — and what they typed there is
not stored. axe-core finds nothing serious or critical on the pages people use."""

import re

import pytest
from playwright.sync_api import expect

from cxplatform.models import Role
from surveys import links
from surveys.models import Question, Response, Survey
from tests import factories
from tests.surveys.test_builder_browser import WAIT, _add_question, _until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"]})
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def keys_of(survey) -> list[str]:
    return [q.key for q in Question.objects.filter(survey=survey)]


def test_from_template_to_a_customer_s_answer(live_server, browser, org_a, make_member, artifact):
    manager = make_member(org_a, Role.CX_MANAGER, username="journey")
    manager.set_password("journey-pass-123")
    manager.save()
    desk = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = desk.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "journey")
    page.fill("#id_password", "journey-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)

    # From the library: the support CSAT template becomes a draft.
    page.goto(f"{live_server.url}/surveys/templates/")
    card = page.locator("#template-support-csat")
    card.get_by_label("Name (optional)").fill("Support follow-up")
    card.get_by_role("button", name="Use this template").click()
    page.wait_for_url(re.compile(r".*/surveys/\d+/$"))
    survey = Survey.objects.for_org(org_a).get(name="Support follow-up")
    assert survey.status == Survey.Status.DRAFT
    assert keys_of(survey) == ["contact_channel", "resolved", "effort", "still_open", "do_differently"]

    # A choice question, and a question shown only for one of its options.
    _add_question(page, kind="single_choice", key="product",
                  texts={"en": "What was it about?", "ru": "О чём было обращение?", "lv": "Par ko bija jautājums?"},
                  options="app | The app | Приложение | Lietotne\nscooter | The scooter | Самокат | Skrejritenis")
    _add_question(page, kind="text", key="app_issue",
                  texts={"en": "What went wrong in the app?", "ru": "Что не так с приложением?",
                         "lv": "Kas nav kārtībā ar lietotni?"},
                  rule={"field": "answer.product", "op": "equals", "value": "app"})
    assert keys_of(survey) == ["contact_channel", "resolved", "product", "app_issue", "effort", "still_open",
                               "do_differently"]

    # By keyboard: "product" goes above "resolved"; the move is announced and saved.
    product = Question.objects.get(survey=survey, key="product")
    page.locator(f"[data-question-id='{product.pk}'] [data-handle]").focus()
    page.keyboard.press("Alt+ArrowUp")
    expect(page.locator("#builder-announce")).to_contain_text("2 /")
    assert _until(lambda: keys_of(survey)[:4] == ["contact_channel", "product", "resolved", "app_issue"])
    assert serious(page) == []

    # The preview as a phone, in Russian, with the new question in it.
    page.get_by_role("button", name="Phone").click()
    expect(page.locator("[data-preview-frame]")).to_have_class("preview-frame phone")
    page.select_option("#preview-lang", "ru")
    preview = page.frame_locator("#preview")
    expect(preview.locator("body")).to_contain_text("О чём было обращение?", timeout=WAIT)
    expect(preview.locator("body")).to_contain_text("Как вы с нами связались?")
    page.screenshot(path=artifact("journey-builder-preview-ru.png"), full_page=True)

    page.locator("#publish").click()
    expect(page.locator(".builder-status")).to_contain_text("Live revision 1", timeout=WAIT)
    survey.refresh_from_db()
    assert (survey.status, survey.revision) == (Survey.Status.ACTIVE, 1)
    desk.close()

    # A customer answers on a phone in Russian.
    link = factories.distribution(org_a, survey)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                locale="ru-RU", extra_http_headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    customer_page = phone.new_page()
    customer_page.goto(live_server.url + links.survey_url(link))
    expect(customer_page.locator("body")).to_contain_text("О чём было обращение?")
    assert serious(customer_page) == []
    customer_page.locator("input[name=score][value='4']").check()
    customer_page.locator("input[name=contact_channel][value=chat]").check()
    app_issue = customer_page.locator("textarea[name=app_issue]")
    expect(app_issue).to_be_hidden()
    customer_page.locator("input[name=product][value=app]").check()  # the branch opens …
    expect(app_issue).to_be_visible()
    app_issue.fill("Приложение вылетает")
    customer_page.locator("input[name=product][value=scooter]").check()  # … and is left
    expect(app_issue).to_be_hidden()
    customer_page.locator("input[name=resolved][value=yes]").check()
    customer_page.screenshot(path=artifact("journey-customer-phone-ru.png"), full_page=True)
    customer_page.click("#next")
    customer_page.locator("input[name=effort][value='6']").check()
    assert serious(customer_page) == []
    customer_page.click("#send")
    customer_page.wait_for_url(re.compile(r".*/thanks/.*"))
    assert serious(customer_page) == []
    phone.close()

    saved = Response.objects.get(survey=survey)
    answers = {a.question.key: a for a in saved.answers.all()}
    assert (saved.score, saved.language, saved.revision, saved.status) == (4, "ru", 1, "completed")
    assert sorted(answers) == ["contact_channel", "effort", "product", "resolved"]  # no app_issue: not taken
    assert answers["product"].choices == ["scooter"] and answers["effort"].number == 6
