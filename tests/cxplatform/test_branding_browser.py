"""An admin sets the brand in the browser: the sample follows the colour picked, a too-light
colour is explained with a readable shade to take in one click, the logo is uploaded and shown,
and an invitation e-mail carries it all (issue 17's branding)."""

import pytest
from PIL import Image

from cxplatform import branding
from cxplatform.models import Branding, Role
from tests.cxplatform.test_branding import invitation_html

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def shoot(page, artifact, name):
    for label, size in (("1280", DESK), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=artifact(f"branding-{name}-{label}.png"), full_page=True)
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= inner, f"{name} is wider than a {label}px screen: {width}px"
    page.set_viewport_size(DESK)


def test_an_admin_brands_the_organization(live_server, browser, settings, org_a, make_member, artifact, tmp_path):
    settings.SITE_URL = live_server.url
    admin = make_member(org_a, Role.ADMIN, username="anna")
    admin.set_password("anna-pass-123")
    admin.save()
    logo = tmp_path / "logo.png"
    image = Image.new("RGB", (200, 60), (11, 122, 85))
    image.save(logo, format="PNG")

    page = browser.new_context(viewport=DESK).new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "anna")
    page.fill("#id_password", "anna-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/settings/")
    page.get_by_role("link", name="Branding").click()
    page.wait_for_url("**/settings/branding/")

    # The picker and the hex field are one colour; the server redraws the sample as it changes.
    page.locator("[data-brand-picker]").fill("#ffb000")
    page.wait_for_selector("#brand-sample:has-text('#ffb000')")
    assert page.input_value("#id_colour") == "#ffb000"
    fix = page.locator("#sample-use-suggestion")
    suggestion = fix.get_attribute("value")
    assert branding.colour_problem(suggestion) == ""
    page.select_option("#id_font", "serif")
    page.wait_for_selector("#brand-sample > div[style*='Georgia']")
    shoot(page, artifact, "refused-sample")

    # Saving the refused colour explains why and changes nothing.
    page.click("#save-branding")
    page.wait_for_selector(".has-error #use-suggestion")
    assert not Branding.objects.filter(organization=org_a).exists()
    shoot(page, artifact, "refused")

    # One click takes the readable shade; the logo goes up with it.
    page.set_input_files("#id_logo", str(logo))
    page.click("#use-suggestion")
    page.wait_for_selector(".messages li.success")
    saved = Branding.objects.get(organization=org_a)
    assert (saved.colour, saved.font) == (suggestion, "serif") and saved.logo
    shown = page.locator("#brand-sample img")
    # Loaded, not merely in the page: under load the check could run before the logo arrived.
    page.wait_for_function("() => { const img = document.querySelector('#brand-sample img');"
                           " return img && img.complete && img.naturalWidth > 0; }")
    assert shown.evaluate("img => img.naturalWidth") == 200
    shoot(page, artifact, "saved")

    # The invitation e-mail carries the colour and the logo, at the site's address.
    html = invitation_html(org_a)[0][0]
    assert f"background:{suggestion}" in html and f"{live_server.url}/brand/logo/" in html
    mail = browser.new_context(viewport={"width": 640, "height": 900}).new_page()
    mail.set_content(html, wait_until="load")  # the logo fetched from the site, as a mail client does
    assert mail.locator("img").evaluate("img => img.naturalWidth") == 200
    mail.screenshot(path=artifact("branding-email-640.png"), full_page=True)
