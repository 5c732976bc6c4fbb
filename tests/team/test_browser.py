"""An admin invites a colleague on the members page; the invitation arrives at a real SMTP server
on loopback; the colleague opens its link in their own browser, sets a password and lands signed
in; the admin changes the colleague's role; the colleague makes an API token; the admin revokes
it and sees both in the audit log (issue 16's browser test)."""

import pytest
from aiosmtpd.controller import Controller

from cxplatform.audit import AuditAction
from cxplatform.models import Membership, Role
from tests.api.test_tokens_browser import call_api
from tests.invitations.test_campaign_browser import Inbox, free_port, text_of
from tests.team.helpers import actions, link_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


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


def shoot(page, artifact, name):
    for label, size in (("1280", DESK), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=artifact(f"team-{name}-{label}.png"), full_page=True)
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= inner, f"{name} is wider than a {label}px screen: {width}px"
    page.set_viewport_size(DESK)


def test_an_admin_invites_a_colleague_who_joins_and_gets_a_role(
        live_server, browser, settings, smtp_inbox, org_a, make_member, artifact):
    settings.SITE_URL = live_server.url
    admin = make_member(org_a, Role.ADMIN, username="anna")
    admin.first_name, admin.email = "Anna", "anna@alpha.example"
    admin.set_password("anna-pass-123")
    admin.save()

    desk = browser.new_context(viewport=DESK)
    page = desk.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "anna")
    page.fill("#id_password", "anna-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/settings/")
    page.get_by_role("link", name="Members").click()
    page.wait_for_url("**/settings/members/")
    page.fill("#id_email", "ivars@colleague.example")
    page.select_option("#id_role", Role.AGENT)
    page.get_by_role("button", name="Invite").click()
    page.wait_for_selector(".messages li.success")
    assert "An invitation was sent to ivars@colleague.example" in page.locator(".messages").inner_text()
    assert page.locator("#invitations [data-invitation='ivars@colleague.example']").count() == 1
    shoot(page, artifact, "members-invited")

    [message] = smtp_inbox.to("ivars@colleague.example")
    assert message["Subject"] == "You are invited to Alpha Scooters on the CX Platform"
    link = link_in(text_of(message))
    assert link.startswith(f"{live_server.url}/account/invitation/")

    colleague = browser.new_context(viewport=PHONE)
    them = colleague.new_page()
    them.goto(link)
    assert them.locator("h1").inner_text() == "Join Alpha Scooters"
    them.fill("#id_first_name", "Ivars")
    them.fill("#id_last_name", "Kalniņš")
    them.fill("#id_password1", "Kick-scooter-2031")
    them.fill("#id_password2", "Kick-scooter-2031")
    them.screenshot(path=artifact("team-accept-390.png"), full_page=True)
    them.get_by_role("button", name="Join").click()
    them.wait_for_url(f"{live_server.url}/")
    assert "Welcome to Alpha Scooters." in them.locator(".messages").inner_text()
    assert "Ivars Kalniņš · Support agent" in them.locator(".who").inner_text()
    them.screenshot(path=artifact("team-joined-390.png"), full_page=True)

    page.reload()
    row = page.locator("#members [data-member='ivars@colleague.example']")
    assert "Active" in row.inner_text()
    assert page.locator("#invitations [data-invitation]").count() == 0
    member = Membership.objects.get(user__email="ivars@colleague.example")
    row.locator("select").select_option(Role.CX_MANAGER)
    row.get_by_role("button", name="Change role").click()
    page.wait_for_selector(".messages li.success")
    assert "The role was changed." in page.locator(".messages").inner_text()
    member.refresh_from_db()
    assert member.role == Role.CX_MANAGER
    shoot(page, artifact, "members-role-changed")

    # The colleague's next page shows the new role.
    them.reload()
    assert "CX manager" in them.locator(".who").inner_text()
    assert [e.action for e in actions(org_a) if e.action.startswith("member.")] == [
        AuditAction.MEMBER_INVITED, AuditAction.INVITATION_ACCEPTED, AuditAction.ROLE_CHANGED]

    # The colleague makes an API token for the shop; it works.
    them.goto(f"{live_server.url}/settings/tokens/")
    them.fill("#id_name", "Shop sync")
    them.check("input[name=scope][value=write]")
    them.click("#create-token")
    them.wait_for_selector("#token-created")
    token = them.locator("#new-token").input_value()
    assert call_api(live_server, token)[0] == 200

    # The admin sees it among the organization's tokens and revokes it: it stops working at once.
    page.goto(f"{live_server.url}/settings/tokens/")
    row = page.locator("#token-table tbody tr", has_text="Shop sync")
    assert "Ivars" in row.inner_text() and "active" in row.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button", has_text="Revoke").click()
    page.wait_for_selector(".messages li.success")
    assert "revoked" in page.locator("#token-table tbody tr", has_text="Shop sync").inner_text()
    assert call_api(live_server, token)[0] == 401

    # Both show in the audit log, with who did them.
    page.goto(f"{live_server.url}/settings/audit/")
    log = page.locator("table.audit-log tbody")
    created = log.locator("tr", has_text="API token created")
    revoked = log.locator("tr", has_text="API token revoked")
    assert "Ivars" in created.inner_text() and "Shop sync" in created.inner_text()
    assert "Anna" in revoked.inner_text() and "Shop sync" in revoked.inner_text()
    for action in ("Member invited", "Invitation accepted", "Role changed"):
        assert log.locator("tr", has_text=action).count() == 1, action
    shoot(page, artifact, "audit-log-after-the-team-flow")
    desk.close()
    colleague.close()


def test_a_forgotten_password_is_reset_from_the_login_page(
        live_server, browser, settings, smtp_inbox, org_a, make_member, artifact):
    settings.SITE_URL = live_server.url
    person = make_member(org_a, Role.AGENT, username="rita")
    person.email = "rita@alpha.example"
    person.save()
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url("**/account/password-reset/")
    page.screenshot(path=artifact("team-password-reset-390.png"), full_page=True)
    page.fill("#id_email", "rita@alpha.example")
    page.get_by_role("button", name="Send the link").click()
    page.wait_for_url("**/account/password-reset/sent/")
    assert page.locator("h1").inner_text() == "Check your e-mail"
    page.screenshot(path=artifact("team-password-reset-sent-390.png"), full_page=True)

    [message] = smtp_inbox.to("rita@alpha.example")
    page.goto(link_in(text_of(message)))
    page.wait_for_url("**/set-password/")
    page.fill("#id_new_password1", "Handlebar-sunrise-77")
    page.fill("#id_new_password2", "Handlebar-sunrise-77")
    page.screenshot(path=artifact("team-password-choose-390.png"), full_page=True)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_url("**/account/password-reset/done/")
    page.screenshot(path=artifact("team-password-changed-390.png"), full_page=True)
    page.get_by_role("link", name="Log in").last.click()
    page.fill("#id_username", "rita")
    page.fill("#id_password", "Handlebar-sunrise-77")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert "rita" in page.locator(".who").inner_text()

    # A spent invitation link says why it cannot be used.
    page.goto(f"{live_server.url}/account/invitation/spent-or-made-up/")
    assert page.locator("h1").inner_text() == "This invitation cannot be used"
    page.screenshot(path=artifact("team-invitation-refused-390.png"), full_page=True)
    page.context.close()
