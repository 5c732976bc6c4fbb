"""An admin finds a person, sees what is held, downloads it, and erases them."""

import zipfile

import pytest

from cxplatform.models import Customer

from .conftest import EMAIL, NAME, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_admin_finds_exports_and_erases_a_person(live_server, page, artifact, org_a, make_member):
    world = build_world(org_a, make_member)
    world.admin.set_password("x-pass-123456")
    world.admin.save()
    page.goto(f"{live_server.url}/login/?next=/settings/privacy/")
    page.fill("#id_username", world.admin.username)
    page.fill("#id_password", "x-pass-123456")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/settings/privacy/")

    page.select_option("#id_kind", "email")
    page.fill("#id_value", EMAIL)
    with page.expect_navigation():
        page.click("form[role=search] button[type=submit]")
    assert NAME in page.locator("#held-title + table").inner_text()
    assert "Survey answers" in page.locator(".privacy-counts").inner_text()
    page.screenshot(path=artifact("privacy-found.png"), full_page=True)

    with page.expect_download() as download:
        page.click("text=Download everything")
    assert "everything.json" in zipfile.ZipFile(download.value.path()).namelist()

    page.fill("#id_confirm", EMAIL.lower())
    with page.expect_navigation():
        page.click("button.danger")
    assert "Erased." in page.locator(".messages").inner_text()
    page.screenshot(path=artifact("privacy-erased.png"), full_page=True)
    assert Customer.objects.get(pk=world.anna.pk).email == ""
