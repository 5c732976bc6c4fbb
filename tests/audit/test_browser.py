"""An admin reads the audit log in the browser, filters it, and reads it in Russian."""

import pytest
from django.contrib.auth import get_user_model

from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Membership, Organization, Role

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
PASSWORD = "audit-pass-5521"


def test_an_admin_reads_and_filters_the_log(live_server, page, artifact):
    organization = Organization.objects.create(name="Alpha Scooters", slug="alpha", time_zone="Europe/Riga")
    admin = get_user_model().objects.create_user(username="ilze", password=PASSWORD, email="ilze@alpha.example",
                                                 first_name="Ilze", last_name="Kalniņa")
    Membership.objects.create(user=admin, organization=organization, role=Role.ADMIN)
    janis = get_user_model().objects.create_user(username="janis", password=PASSWORD, email="janis@alpha.example")
    Membership.objects.create(user=janis, organization=organization, role=Role.AGENT)

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "janis")
    page.fill("#id_password", "wrong-guess")
    page.click("button[type=submit]")
    page.wait_for_selector("[role=alert]", state="visible")
    page.fill("#id_username", "ilze")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    AuditEntry.objects.create(organization=organization, actor=admin, actor_label="Ilze Kalniņa <ilze@alpha.example>",
                              action=AuditAction.ROLE_CHANGED, target_label="janis <janis@alpha.example>",
                              details={"from": "agent", "to": "cx_manager"}, ip_address="203.0.113.9",
                              user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15")
    AuditEntry.objects.create(organization=organization, actor=admin, actor_label="Ilze Kalniņa <ilze@alpha.example>",
                              action=AuditAction.SETTINGS_CHANGED, target_label="Refunds to the billing team",
                              details={"setting": "feedback.routingrule", "change": "changed",
                                       "changes": {"position": [1, 4], "active": [True, False]}},
                              ip_address="203.0.113.9")

    page.goto(f"{live_server.url}/settings/")
    page.click("text=Audit log")
    page.wait_for_url(f"{live_server.url}/settings/audit/")
    table = page.locator("table.audit-log").inner_text()
    for text in ("Signed in", "Sign-in failed", "Role changed", "Support agent → CX manager", "Routing rule: changed",
                 "Active: yes → no", "203.0.113.9", "Safari on macOS"):
        assert text in table, text
    page.screenshot(path=artifact("audit-log-en.png"), full_page=True)

    page.select_option("#id_action", "member.role_changed")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    rows = page.locator("table.audit-log tbody tr")
    assert rows.count() == 1 and "Role changed" in rows.inner_text()
    page.screenshot(path=artifact("audit-log-filtered.png"), full_page=True)

    page.goto(f"{live_server.url}/settings/audit/")
    with page.expect_navigation():
        page.select_option("#lang-switch", "ru")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert "203.0.113.9" in page.locator("table.audit-log").inner_text()
    page.screenshot(path=artifact("audit-log-ru.png"), full_page=True)
