"""A CX manager builds an audience, writes the invitation in two languages, previews it, sends a
test to themself and sends the campaign; the e-mail arrives at a real SMTP server on loopback; the
customer clicks a score in it on a phone and answers; the campaign's funnel shows the answer."""

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller

from cxplatform.models import Role
from invitations import texts
from invitations.models import Campaign
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}


class Inbox:
    """aiosmtpd's handler: every message received, parsed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address):
        return [m for rcpts, m in self.messages if address in rcpts]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_inbox(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def shoot(page, artifact, name):
    # The wide one first: Chromium may leave a full-page shot half painted just after a resize.
    for label, size in (("1280", DESK), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=artifact(f"invitations-{name}-{label}.png"), full_page=True)
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= inner, f"{name} is wider than a {label}px screen: {width}px"
    page.set_viewport_size(DESK)


def test_a_manager_sends_a_campaign_and_sees_the_answer_in_its_funnel(
        live_server, browser, settings, smtp_inbox, org_a, make_member, artifact):
    settings.SITE_URL = live_server.url
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    rider = factories.customer(org_a)
    rider.email, rider.attributes = "rider@alpha.example", {"plan": "gold"}
    rider.save()
    other = factories.customer(org_a)
    other.attributes = {"plan": "basic"}
    other.save()
    manager = make_member(org_a, Role.CX_MANAGER, username="cx-lead")
    manager.email = "lead@alpha.example"
    manager.set_password("lead-pass-123")
    manager.save()

    desk = browser.new_context(viewport=DESK)
    page = desk.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "cx-lead")
    page.fill("#id_password", "lead-pass-123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/invitations/")
    shoot(page, artifact, "campaigns-empty")

    # The audience: gold-plan customers, its size shown as the filter is written.
    page.get_by_role("link", name="Audiences").click()
    page.get_by_role("link", name="New audience").click()
    page.fill("#id_name", "Gold riders")
    page.fill("#id_attributes", "plan=gold")
    page.locator("#id_attributes").blur()
    page.locator("#audience-size [data-size='1']").wait_for()
    assert "1 customer matches" in page.locator("#audience-size").inner_text()
    shoot(page, artifact, "audience-form")
    page.get_by_role("button", name="Save audience").click()
    page.wait_for_url("**/invitations/audiences/")
    shoot(page, artifact, "audiences")

    # The campaign, in English and Russian (the Latvian default wording taken out).
    page.get_by_role("link", name="New campaign").first.click()
    page.fill("#id_name", "Gold NPS")
    page.select_option("#id_distribution", str(link.pk))
    page.select_option("#id_audience", label="Gold riders")
    # An SMS hides the subjects and starts from the SMS wording; back to e-mail, the e-mail's.
    page.select_option("#id_medium", "sms")
    assert not page.locator("#id_subject_en").is_visible()
    assert page.input_value("#id_body_en") == texts.SMS_BODY["en"]
    page.select_option("#id_medium", "email")
    assert page.locator("#id_subject_en").is_visible() and page.input_value("#id_body_en") == texts.BODY["en"]
    assert not page.locator("#id_send_at").is_visible()  # "now": no date to choose
    page.fill("#id_subject_en", "{name}, how was your ride?")
    page.fill("#id_body_en", "Hello {name},\n\nTell {organization} how the ride went.")
    page.fill("#id_subject_ru", "{name}, как прошла поездка?")
    page.fill("#id_body_ru", "Здравствуйте, {name}!\n\nРасскажите, как прошла поездка.")
    page.fill("#id_subject_lv", "")
    page.fill("#id_body_lv", "")
    page.fill("#id_reminder_days", "3")
    shoot(page, artifact, "campaign-form")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url("**/invitations/campaigns/*/")
    campaign = Campaign.objects.get(name="Gold NPS")
    assert campaign.languages == ["en", "ru"] and campaign.status == "draft"

    # The preview: the e-mail as it is sent, per language.
    english = page.frame_locator("iframe.email-preview").first
    english.get_by_text("Tell Alpha Scooters how the ride went.").wait_for()  # the frame's document loaded
    assert english.locator("a[href*='/score/10/']").count() == 1  # the one-click scores are in it
    page.locator("details.preview").nth(1).locator("summary").click()
    russian = page.frame_locator("iframe.email-preview").nth(1)
    russian.get_by_text("Расскажите, как прошла поездка.").wait_for()
    assert "Здравствуйте, cx-lead!" in russian.locator("body").inner_text()
    shoot(page, artifact, "campaign-draft")

    # A test to the manager, in Russian.
    page.select_option("#test-language", "ru")
    page.get_by_role("button", name="Send a test to me").click()
    page.locator(".messages").wait_for()
    tests = smtp_inbox.to("lead@alpha.example")
    assert len(tests) == 1 and "как прошла поездка?" in tests[0]["Subject"]
    assert "Расскажите, как прошла поездка." in text_of(tests[0])

    # Send now: the invitation reaches the rider (and nobody else) at the loopback server.
    page.get_by_role("button", name="Send now").click()
    page.locator(".messages").wait_for()
    received = smtp_inbox.to("rider@alpha.example")
    assert len(received) == 1 and len(smtp_inbox.messages) == 2
    invitation = received[0]
    assert invitation["Subject"] == f"{rider.name}, how was your ride?"
    assert invitation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    score_url = next(line for line in text_of(invitation).splitlines() if line.startswith("9: ")).split(" ", 1)[1]
    assert score_url.startswith(live_server.url)

    # The rider clicks 9 on a phone and answers the follow-up.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    mobile = phone.new_page()
    mobile.goto(score_url)
    mobile.locator("#comment").wait_for()
    mobile.fill("#comment", "Smooth ride, friendly support")
    mobile.screenshot(path=artifact("invitations-answer-390.png"), full_page=True)
    mobile.locator("button[type=submit]").tap()
    mobile.wait_for_url("**/thanks/**")
    phone.close()

    # The campaign's funnel shows the answer.
    page.reload()
    assert page.locator("#funnel .step-sent .value").inner_text() == "1"
    assert page.locator("#funnel .step-completed .value").inner_text() == "1"
    assert "100.0 %" in page.locator("#funnel .step-completed").inner_text()
    shoot(page, artifact, "campaign-sent")
    page.goto(f"{live_server.url}/invitations/")
    assert "Gold NPS" in page.locator("table").inner_text()
    shoot(page, artifact, "campaigns")
    page.goto(f"{live_server.url}/invitations/suppressions/")
    shoot(page, artifact, "suppressions")
    page.goto(f"{live_server.url}/invitations/settings/")
    shoot(page, artifact, "settings")
    page.goto(f"{live_server.url}/invitations/audiences/upload/")
    shoot(page, artifact, "upload")
    desk.close()
