"""A Latvian organization with an English-speaking agent: the texts the platform wrote — the
call-back case's text, the activity log, the notification of a mention — read in English for
her, and the very same rows in Latvian for her Latvian colleague (docs/adr/0015)."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from cxplatform.models import Customer, Membership, NotificationPreference, Organization, PersonalSettings, Role
from feedback import loop, services
from feedback.models import CloseLoopRule, FeedbackItem
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "x-pass-123456"


@pytest.fixture
def latvian_case(django_user_model):
    org = Organization.objects.create(name="VoltRide Rīga", slug="voltride-lv", default_language="lv")
    anna = django_user_model.objects.create_user("anna", password=PASSWORD, first_name="Anna", last_name="Ozola",
                                                 email="anna@voltride.example")
    janis = django_user_model.objects.create_user("janis", password=PASSWORD, first_name="Jānis",
                                                  last_name="Bērziņš", email="janis@voltride.example")
    for user in (anna, janis):
        Membership.objects.create(user=user, organization=org, role=Role.AGENT)
    PersonalSettings.objects.create(user=anna, language="en")  # her e-mails in English too
    customer = Customer.objects.create(organization=org, name="Pēteris", email="peteris@example.lv", language="lv")
    rule = CloseLoopRule.objects.create(organization=org, name="Neapmierinātie", band="unhappy")
    response = factories.response(org, score=2, comment="", customer=customer, language="lv")
    case = loop.open_case(response, rule)
    case = services.triage(case, janis, case.version, status=FeedbackItem.Status.OPEN, assignee=anna)
    services.add_note(case, janis, "@anna lūdzu piezvani klientam")
    return {"org": org, "case": case}


def _login(browser, live_server, username, language):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=language,
                                  extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def test_the_platforms_words_are_in_each_readers_language(live_server, browser, artifact, latvian_case):
    case = latvian_case["case"]
    assert case.text == "Vērtējums 2, bez komentāra."  # stored in the organization's language, for search

    english = _login(browser, live_server, "anna", "en")
    english.goto(f"{live_server.url}/inbox/")
    expect(english.locator("#bell .count")).to_have_text("2")  # the case given to her, and the mention
    english.click("#bell")
    notice = english.locator("#notifications li").first
    expect(notice).to_contain_text(f"Jānis Bērziņš mentioned you in a note on item #{case.pk}.")
    expect(english.locator("#notifications li").nth(1)).to_contain_text(
        f"Jānis Bērziņš gave you item #{case.pk}.")
    english.screenshot(path=artifact("notifications-en-on-lv-org.png"), full_page=True)
    with english.expect_navigation():
        notice.locator("button.mark-one").click()
    assert english.url.endswith(f"/inbox/items/{case.pk}/")
    expect(english.locator("#item-text")).to_have_text("Score 2, no comment.")
    activity = english.locator("#activity")
    expect(activity).to_contain_text("Call-back case opened (rule “Neapmierinātie”).")
    expect(activity).to_contain_text("Status: New → Open, Assigned to Anna Ozola.")
    expect(activity).to_contain_text("Added an internal note mentioning Anna Ozola.")
    assert "Vērtējums" not in activity.inner_text() and "loop_opened" not in activity.inner_text()
    expect(english.locator("#bell .count")).to_have_count(0)  # read on the way
    # She answers Jānis with a mention of her own, from the page.
    english.fill("#notes textarea", "@janis called, he is happy now")
    with english.expect_navigation():
        english.click("#notes button[type=submit]")
    english.screenshot(path=artifact("case-en-on-lv-org.png"), full_page=True)
    # The e-mail of Jānis's mention went to Anna in her language.
    assert any(m.to == ["anna@voltride.example"] and "mentioned you in a note" in m.subject for m in mail.outbox)
    # From now on she wants mentions by e-mail only: the bell stays quiet.
    english.goto(f"{live_server.url}/notifications/settings/")
    english.check("input[name=kind_mention][value=email]")
    with english.expect_navigation():
        english.click("#save-notification-settings")
    expect(english.locator(".messages")).to_contain_text("Your notification settings are saved.")
    english.screenshot(path=artifact("notification-settings-en.png"), full_page=True)
    assert NotificationPreference.objects.get(user__username="anna", kind="mention").delivery == "email"

    latvian = _login(browser, live_server, "janis", "lv")
    latvian.goto(f"{live_server.url}/inbox/items/{case.pk}/")
    expect(latvian.locator("#item-text")).to_have_text("Vērtējums 2, bez komentāra.")
    activity = latvian.locator("#activity")
    expect(activity).to_contain_text("Atvērts atzvanīšanas gadījums (noteikums “Neapmierinātie”).")
    expect(activity).to_contain_text("Statuss: Jauns → Atvērts, piešķirts: Anna Ozola.")
    assert "Score 2" not in activity.inner_text()
    latvian.screenshot(path=artifact("case-lv.png"), full_page=True)
    expect(latvian.locator("#bell .count")).to_have_text("1")
    latvian.click("#bell")
    expect(latvian.locator("#notifications li").first).to_contain_text(
        f"Anna Ozola pieminēja jūs piezīmē pie ieraksta #{case.pk}.")
    latvian.screenshot(path=artifact("notifications-lv.png"), full_page=True)
