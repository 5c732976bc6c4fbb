"""A CX manager tidies the themes in the browser: renames one, merges a free phrase into a concept,
sees a refused merge explained in place, hides a theme and undoes it — without a page reload."""

import pytest

from cxplatform.models import Role
from cxplatform.theme_catalog import catalog_for
from tests.metrics.test_theme_settings import _themes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_manager_edits_the_themes_in_place(live_server, browser, org_a, make_member, artifact):
    _themes(org_a, ["delivery", "курьер"], ["delivery"], ["доставочка"])
    manager = make_member(org_a, Role.CX_MANAGER, username="mara")
    manager.set_password("mara-pass-123")
    manager.save()

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "mara")
    page.fill("#id_password", "mara-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="Edit themes").click()
    page.wait_for_url("**/metrics/themes/settings/")
    page.evaluate("window.notReloaded = true")

    delivery = page.locator("tr[data-theme='delivery']")
    delivery.get_by_label("New name for “Delivery”").fill("Home delivery")
    delivery.get_by_role("button", name="Rename").click()
    page.wait_for_selector("tr[data-theme='delivery'] strong:has-text('Home delivery')")

    phrase = page.locator("tr[data-theme='доставочка']")
    phrase.get_by_label("Theme to merge “доставочка” into").fill("delivery")
    phrase.get_by_role("button", name="Merge").click()
    page.wait_for_selector("tr[data-theme='доставочка'] :text('Counted under “Home delivery”')")

    # Merging the target back into its own merged theme is refused, and the reason is shown.
    page.locator("tr[data-theme='delivery']").get_by_label("Theme to merge “Home delivery” into").fill("доставочка")
    page.locator("tr[data-theme='delivery']").get_by_role("button", name="Merge").click()
    page.wait_for_selector("#theme-settings-error:has-text('would make a circle')")
    page.screenshot(path=artifact("theme-settings-refused.png"), full_page=True)

    page.locator("tr[data-theme='курьер']").get_by_role("button", name="Hide").click()
    page.wait_for_selector("tr[data-theme='курьер'] button:has-text('Show')")
    assert catalog_for(org_a).canonical("курьер") is None
    page.locator("tr[data-theme='курьер']").get_by_role("button", name="Show").click()
    page.wait_for_selector("tr[data-theme='курьер'] button:has-text('Hide')")
    assert page.evaluate("window.notReloaded") is True

    catalog = catalog_for(org_a)
    assert catalog.canonical("доставочка") == "delivery" and catalog.canonical("курьер") == "курьер"
    assert catalog.label("delivery", "ru") == "Home delivery"
