"""In the browser: a member makes a token, copies it, another system calls the API with it; the
member revokes it and the next call fails. The docs page shows the operations under the policy."""

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from cxplatform.models import Role
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def sign_in(browser, live_server, user, **context):
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, **context)
    page = desk.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "x-pass-123456")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def call_api(live_server, token):
    request = urllib.request.Request(f"{live_server.url}/api/v1/customers/",
                                     headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    try:
        with urllib.request.urlopen(request) as answer:  # noqa: S310 (the test's own live server)
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_a_member_creates_copies_uses_and_revokes_a_token(live_server, browser, org_a, make_member, artifact):
    customer = factories.customer(org_a)
    user = make_member(org_a, Role.AGENT, username="agent-anna")
    page = sign_in(browser, live_server, user, permissions=["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/settings/")
    page.click("text=API tokens")
    page.wait_for_url(f"{live_server.url}/settings/tokens/")
    assert page.locator("#no-tokens").is_visible()
    page.fill("#id_name", "Helpdesk sync")
    page.check("input[name=scope][value=read]")
    page.click("#create-token")
    page.wait_for_selector("#token-created")
    page.click("#copy-token")
    expect(page.locator("#copy-token")).to_have_text("Copied")  # no page-side eval: the CSP forbids it
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#new-token").input_value() and copied.startswith("cxp_")
    page.screenshot(path=artifact("tokens-created.png"), full_page=True)

    status, body = call_api(live_server, copied)
    assert status == 200 and [row["id"] for row in body["results"]] == [customer.pk]

    page.goto(f"{live_server.url}/settings/tokens/")
    assert copied not in page.content()  # shown once
    row = page.locator("#token-table tbody tr").first
    assert "Helpdesk sync" in row.inner_text() and "active" in row.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button", has_text="Revoke").click()
    page.wait_for_selector(".messages li.success")
    assert "revoked" in page.locator("#token-table tbody tr").first.inner_text()
    page.screenshot(path=artifact("tokens-revoked.png"), full_page=True)

    status, body = call_api(live_server, copied)
    assert status == 401 and body["error"]["code"] == "authentication_failed"
    assert "revoked" in body["error"]["message"]


def test_the_docs_page_shows_the_operations(live_server, browser, org_a, make_member, artifact):
    page = sign_in(browser, live_server, make_member(org_a, Role.VIEWER))
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    # Swagger UI keeps only the operations in view in the page: gather them while scrolling down.
    paths, bottom = set(), False
    while not bottom:
        paths.update(page.locator(".opblock-summary-path").all_inner_texts())
        bottom = page.evaluate("window.scrollY + window.innerHeight >= document.body.scrollHeight - 2")
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(150)
    page.evaluate("window.scrollTo(0, 0)")
    assert any("/api/v1/customers/" in path for path in paths) and len(paths) > 50
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("CX Platform API")
    page.screenshot(path=artifact("api-docs.png"))
