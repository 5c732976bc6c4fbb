"""An admin adds a webhook in the browser, copies the secret shown once, sends a test and reads
the delivery log."""

import pytest

from cxplatform.models import Role
from integrations.models import WebhookSubscription

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_an_admin_adds_a_webhook_and_sees_the_test_delivered(live_server, page, artifact, make_member, org_a,
                                                             receiver):
    admin = make_member(org_a, Role.ADMIN, username="ilze")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", "x-pass-123456")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/settings/")
    page.click("text=Webhooks")
    page.wait_for_url(f"{live_server.url}/settings/webhooks/")
    page.click("text=Add a webhook")
    page.fill("#id_url", receiver.url)
    page.check("input[name=events][value='response.completed']")
    page.check("input[name=events][value='case.opened']")
    page.fill("#id_description", "CRM: Pipedrive")
    page.screenshot(path=artifact("webhook-new.png"), full_page=True)
    page.click("form.webhook-form button[type=submit]")
    page.wait_for_selector(".secret-once")
    subscription = WebhookSubscription.objects.get()
    assert page.input_value(".secret-value") == subscription.secret
    receiver.secret = subscription.secret
    page.screenshot(path=artifact("webhook-created.png"), full_page=True)

    page.click("text=Send a test")
    page.wait_for_selector("#delivery-log .call-delivered")
    assert page.locator(".secret-once").count() == 0  # shown once only
    assert receiver.accepted and receiver.accepted[0].headers["X-CX-Event"] == "ping"
    log = page.locator("#delivery-log").inner_text()
    assert "ping" in log and "Delivered" in log and "200" in log
    page.screenshot(path=artifact("webhook-detail.png"), full_page=True)

    page.goto(f"{live_server.url}/settings/webhooks/")
    assert "CRM: Pipedrive" in page.locator("main").inner_text()
    page.screenshot(path=artifact("webhook-list.png"), full_page=True)
