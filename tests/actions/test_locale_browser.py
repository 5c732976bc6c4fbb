"""A Latvian reader in a real browser: the root-cause page's chart draws its months with Latvian
names (plotly.js has no Latvian locale of its own), causes and tags are named in Latvian, and the
inbox writes moments in Latvian's one format."""

from datetime import UTC, datetime

import pytest

from cxplatform.models import Role
from feedback.models import RootCause, Tag
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_root_cause_chart_speaks_latvian(live_server, browser, org_a, make_member, artifact):
    from django.utils import timezone

    manager = make_member(org_a, Role.CX_MANAGER, username="riga-manager")
    delivery = RootCause.objects.create(organization=org_a, name="Delivery", names={"lv": "Piegāde", "ru": "Доставка"})
    late = RootCause.objects.create(organization=org_a, name="Late", parent=delivery,
                                    names={"lv": "Kavēšanās", "ru": "Опоздание"})
    now = timezone.now()
    for months_back, n in ((3, 2), (2, 4), (1, 3), (0, 1)):
        month, year = (now.month - months_back - 1) % 12 + 1, now.year - (1 if now.month - months_back < 1 else 0)
        for _ in range(n):
            factories.feedback_item(org_a, root_cause=late, received_at=datetime(year, month, 1, 12, tzinfo=UTC))

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="lv-LV")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "x-pass-123456")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/actions/root-causes/")
    page.wait_for_selector(".main-svg .xtick text", timeout=15_000)
    ticks = page.eval_on_selector_all(".main-svg .xtick text", "texts => texts.map(t => t.textContent)")
    latvian_months = ("janv.", "febr.", "marts", "apr.", "maijs", "jūn.", "jūl.", "aug.", "sept.", "okt.", "nov.",
                      "dec.")
    assert ticks and all(" g. " in t and t.endswith(latvian_months) for t in ticks), ticks
    assert "Piegāde → Kavēšanās" in page.locator("main").inner_text()
    page.screenshot(path=artifact("root-causes-lv.png"), full_page=True)

    # The inbox and the item page: the tag in Latvian, the moment in Latvian's one format.
    complaint = Tag.objects.create(organization=org_a, name="complaint", names={"lv": "sūdzība", "ru": "жалоба"})
    item = factories.feedback_item(org_a, text="Skrejritenis atbrauca nedēļu vēlu", root_cause=late,
                                   received_at=datetime(2026, 11, 3, 14, 5, tzinfo=UTC))
    item.tags.add(complaint)
    page.goto(f"{live_server.url}/inbox/?view=all")
    row = page.locator(f'tr[data-item="{item.pk}"]')
    assert "sūdzība" in row.inner_text() and "2026. gada 3. nov. 14:05" in row.inner_text()
    page.screenshot(path=artifact("inbox-lv.png"), full_page=True)
    page.goto(f"{live_server.url}/inbox/items/{item.pk}/")
    assert page.locator("#item-tags").inner_text().strip() == "sūdzība"
    page.screenshot(path=artifact("item-lv.png"), full_page=True)

    # A journey map from a template, in the reader's language unless the manager picks another.
    from journeys.models import Persona

    Persona.objects.create(organization=org_a, name="Pilsētas braucējs")
    page.goto(f"{live_server.url}/journeys/")
    assert page.locator("#map_language").input_value() == "lv"
    page.select_option("#map_persona", label="Pilsētas braucējs")
    page.select_option("#map_template", "support-request")
    page.screenshot(path=artifact("journeys-new-map-lv.png"), full_page=True)
    page.click("#map-form button[type=submit]")
    page.wait_for_url("**/journeys/maps/*/")
    assert "Atbalsta tālrunis" in page.locator("main").inner_text()
    page.screenshot(path=artifact("journey-map-lv.png"), full_page=True)

    # The dashboard: its period as a Latvian phrase, its trend named by Latvian months.
    from metrics.services import reconcile_recent

    link = factories.distribution(org_a)
    for score in (10, 9, 3, 8):
        factories.response(org_a, link, score=score)
    reconcile_recent(days=2)
    page.goto(f"{live_server.url}/?from={now.year}-01-01&grain=month")
    page.wait_for_selector("#chart-trend .main-svg .xtick text", timeout=15_000)
    assert f"no {now.year}. gada 1. janvāra līdz " in page.locator("main").inner_text()
    labels = page.eval_on_selector_all("#chart-trend .xtick text", "texts => texts.map(t => t.textContent)")
    from cxplatform import dates

    assert labels == [dates.month(now, "lv")], labels  # the answers are this month's
    page.screenshot(path=artifact("dashboard-lv.png"), full_page=True)
    context.close()
