"""In a real browser, a CX manager builds a survey: adds a choice question and a rule on it,
reorders by keyboard, previews the page on a phone in Russian, and publishes."""

import re
import time

import pytest
from playwright.sync_api import expect

from cxplatform.models import Role
from surveys.models import Question, Survey
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
WAIT = 15_000  # ms: each step is a round trip to the server, slow on a busy test machine


def _until(check, timeout=15.0):
    """Wait for the server to have saved what the page sent (the page answers asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


@pytest.fixture
def signed_in(browser, live_server, org_a, make_member):
    """A CX manager's browser context, signed in: signed_in(viewport=…) → (context, page)."""
    manager = make_member(org_a, Role.CX_MANAGER, username="builder")
    manager.set_password("builder-pass-123")
    manager.save()

    def open_(**context):
        desk = browser.new_context(**context)
        page = desk.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "builder")
        page.fill("#id_password", "builder-pass-123")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return desk, page

    return open_


def _draft(org):
    survey = factories.survey(org)
    Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.DRAFT)
    return survey


def _add_question(page, *, kind, key, texts, options="", rule=None):
    page.select_option("#add-kind-1", kind)
    page.locator("form.add-question").first.get_by_role("button", name="Add").click()
    editor = page.locator("[data-editor]")
    expect(editor).to_be_visible(timeout=WAIT)
    page.fill("#qnew-key", key)
    for code, text in texts.items():
        page.fill(f"#qnew-text_{code}", text)
    if options:
        expect(page.locator("#qnew-choices_text")).to_be_visible()  # offered for a choice kind
        page.fill("#qnew-choices_text", options)
    else:
        expect(page.locator("#qnew-choices_text")).to_be_hidden()
    if rule:
        page.select_option("#qnew-rule_field", rule["field"])
        page.select_option("#qnew-rule_op", rule["op"])
        # The earlier question's options are offered as the values.
        expect(page.locator("#qnew-rule_value")).to_have_attribute("list", f"values-{rule['field']}")
        page.fill("#qnew-rule_value", rule["value"])
    editor.get_by_role("button", name="Save question").click()
    expect(page.locator("[data-editor]")).to_have_count(0, timeout=WAIT)
    expect(page.locator(f".q-card:has(code:text-is('{key}'))")).to_be_visible()


def test_manager_builds_reorders_by_keyboard_and_publishes(live_server, signed_in, org_a, artifact):
    survey = _draft(org_a)
    desk, page = signed_in(viewport={"width": 1400, "height": 1000})
    page.goto(f"{live_server.url}/surveys/{survey.pk}/")

    _add_question(page, kind="single_choice", key="model",
                  texts={"en": "Which scooter?", "ru": "Какой самокат?", "lv": "Kurš skrejritenis?"},
                  options="city | City | Городской | Pilsētas\npro | Pro | Про | Pro")
    _add_question(page, kind="yes_no", key="again",
                  texts={"en": "Ride again?", "ru": "Поедете снова?", "lv": "Brauksiet vēlreiz?"})
    _add_question(page, kind="text", key="pro_why", texts={"en": "Why Pro?", "ru": "Почему Про?", "lv": "Kāpēc Pro?"},
                  rule={"field": "answer.model", "op": "equals", "value": "pro"})
    assert Question.objects.get(key="pro_why").show_if == {"field": "answer.model", "op": "equals", "value": "pro"}
    expect(page.locator("#question-" + str(Question.objects.get(key="pro_why").pk))).to_contain_text("Shown only if")

    # Keyboard: the handle of "again", Alt+ArrowUp — announced, saved, and the focus stays on it.
    again = Question.objects.get(key="again")
    handle = page.locator(f"[data-question-id='{again.pk}'] [data-handle]")
    handle.focus()
    page.keyboard.press("Alt+ArrowUp")
    expect(page.locator("#builder-announce")).to_contain_text("1 / 3")
    assert _until(lambda: [q.key for q in Question.objects.filter(survey=survey)] == ["again", "model", "pro_why"])
    expect(page.locator(f"[data-question-id='{again.pk}'] [data-handle]")).to_be_focused(timeout=WAIT)
    # Moving the rule above the question it looks at is refused, and the reason is shown.
    page.locator(f"[data-question-id='{Question.objects.get(key='pro_why').pk}']").get_by_role(
        "button", name="Move up").click()
    expect(page.locator("#builder-problems")).to_contain_text("asked later", timeout=WAIT)
    assert [q.key for q in Question.objects.filter(survey=survey)] == ["again", "model", "pro_why"]

    page.screenshot(path=artifact("builder-desktop.png"), full_page=True)
    page.locator("#publish").click()
    expect(page.locator(".builder-status")).to_contain_text("Live revision 1", timeout=WAIT)
    survey.refresh_from_db()
    assert (survey.status, survey.revision) == ("active", 1)
    desk.close()


def test_builder_on_a_phone(live_server, signed_in, org_a, artifact):
    survey = _draft(org_a)
    factories.question(org_a, survey, kind="single_choice", key="model",
                       choices=[{"value": "pro", "label": {"en": "Pro", "ru": "Про", "lv": "Pro"}}])
    desk, page = signed_in(viewport={"width": 390, "height": 844}, is_mobile=True,
                            has_touch=True)
    page.goto(f"{live_server.url}/surveys/{survey.pk}/")
    expect(page.get_by_role("button", name="Move down")).to_be_visible()  # reordering without a drag
    page.screenshot(path=artifact("builder-phone.png"), full_page=True)
    desk.close()


def test_preview_switches_to_phone_and_russian(live_server, signed_in, org_a, artifact):
    survey = _draft(org_a)
    desk, page = signed_in(viewport={"width": 1400, "height": 1000})
    page.goto(f"{live_server.url}/surveys/{survey.pk}/")
    frame = page.locator("#preview")
    assert f"/s/preview/{survey.pk}/" in frame.get_attribute("src")
    page.get_by_role("button", name="Desktop").click()
    expect(page.locator("[data-preview-frame]")).to_have_class("preview-frame desktop")
    page.get_by_role("button", name="Phone").click()
    expect(page.locator("[data-preview-frame]")).to_have_class("preview-frame phone")
    # The frame narrows with a short transition: measured once it has settled.
    assert _until(lambda: page.locator("[data-preview-frame]").bounding_box()["width"] <= 392, timeout=5)
    page.select_option("#preview-lang", "ru")
    expect(frame).to_have_attribute("src", re.compile(rf"/s/preview/{survey.pk}/\?lang=ru&"))
    expect(page.frame_locator("#preview").locator("body")).to_contain_text("Насколько вероятно")
    page.screenshot(path=artifact("builder-preview-ru.png"), full_page=True)
    desk.close()
