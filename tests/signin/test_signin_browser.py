"""In a browser: turn two-factor on, sign in with a recovery code, set the organization's rules,
and sign in by single sign-on at a real provider on loopback."""

import re

import pytest
from django.test import override_settings
from django_otp.oath import totp

from cxplatform.models import Membership, Role
from cxplatform.signin import services
from cxplatform.signin.models import SSODomain
from tests.signin.oidc_provider import CLIENT_ID, CLIENT_SECRET, LoopbackProvider

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "x-pass-123456"


def log_in(page, base, user):
    page.goto(f"{base}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_two_factor_from_set_up_to_sign_in_and_the_security_page(live_server, page, browser, artifact, org_a,
                                                                   make_member):
    admin = make_member(org_a, Role.ADMIN)
    base = live_server.url
    log_in(page, base, admin)
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/account/two-factor/")
    assert page.locator(".qr-code img").is_visible()
    page.screenshot(path=artifact("signin-two-factor-setup.png"), full_page=True)
    device = services.pending_device(user=admin)
    page.fill("#id_code", f"{totp(device.bin_key):06d}")
    page.click("button.primary")
    page.wait_for_selector("#recovery-codes")
    codes = re.findall(r"[a-z2-9]{10}", page.locator(".recovery-codes").inner_text())
    assert len(codes) == 10
    page.screenshot(path=artifact("signin-recovery-codes.png"), full_page=True)

    other = browser.new_context(viewport={"width": 1280, "height": 900})
    second = other.new_page()
    log_in(second, base, admin)
    second.wait_for_url(f"{base}/account/two-factor/verify/")
    second.screenshot(path=artifact("signin-verify.png"), full_page=True)
    second.fill("#id_code", codes[0])
    second.click("button.primary")
    second.wait_for_url(f"{base}/")

    second.goto(f"{base}/settings/security/")
    second.check("#id_require_two_factor")
    second.click("form:has(#id_require_two_factor) button.primary")
    second.wait_for_load_state()
    second.fill("#id_domain", "alpha.example")
    second.select_option("#id_role", "agent")
    second.click("form:has(#id_domain) button.primary")
    second.wait_for_selector("table.sso-domains")
    assert "alpha.example" in second.locator("table.sso-domains").inner_text()
    assert second.locator("#id_require_two_factor").is_checked()
    second.screenshot(path=artifact("signin-security.png"), full_page=True)
    org_a.refresh_from_db()
    assert org_a.require_two_factor
    other.close()


def test_single_sign_on_in_a_browser(live_server, browser, artifact, org_a):
    SSODomain.objects.create(organization=org_a, domain="alpha.example", role=Role.CX_MANAGER)
    people = {"alice": {"email": "alice@alpha.example", "email_verified": True, "given_name": "Alice"}}
    base = live_server.url
    with LoopbackProvider(redirect_uri=f"{base}/oidc/callback/", people=people) as provider, \
            override_settings(SSO_ENABLED=True, OIDC_ISSUER=provider.issuer, OIDC_RP_CLIENT_ID=CLIENT_ID,
                              OIDC_RP_CLIENT_SECRET=CLIENT_SECRET, OIDC_VERIFY_SSL=provider.ca_file):
        provider.signed_in_as = "alice"
        # The provider's certificate is the test's own: the browser is told to accept it.
        context = browser.new_context(viewport={"width": 1280, "height": 900}, ignore_https_errors=True)
        page = context.new_page()
        page.goto(f"{base}/login/")
        page.screenshot(path=artifact("signin-login-sso.png"), full_page=True)
        page.click("#sso-sign-in")
        page.wait_for_url(f"{base}/")
        assert "/authorize" in provider.requests and "/token" in provider.requests
        context.close()
    membership = Membership.objects.get(user__email="alice@alpha.example")
    assert (membership.organization, membership.role) == (org_a, Role.CX_MANAGER)
