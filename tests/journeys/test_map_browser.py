"""Journey maps in a real Chromium: a CX manager builds a map from scratch by clicking and
dragging, the map survives a reload, prints to PDF without its controls, and a campaign's
readiness fills in per touchpoint."""

import re

import pytest
from playwright.sync_api import expect

from cxplatform.demo import DEMO_PASSWORD, DEMO_SLUG, load_demo
from journeys.models import JourneyMap, PainPoint, Persona, Touchpoint

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def log_in(page, live_server, username="manager"):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def column(page, stage_name):
    """The touchpoint names shown in a stage's column, top to bottom."""
    index = page.locator("th.stage .stage-name").all_inner_texts().index(stage_name)
    return page.locator("td.drop").nth(index).locator(".tp-name").all_inner_texts()


def stage_cell(page, stage_name):
    index = page.locator("th.stage .stage-name").all_inner_texts().index(stage_name)
    return page.locator("td.drop").nth(index)


def board_settles(page, action):
    """Runs `action` and waits until htmx has swapped the board that the post answered with."""
    with page.expect_response(lambda r: r.request.method == "POST" and "/journeys/" in r.url):
        action()
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")


def test_a_manager_builds_a_map_from_scratch_and_it_survives_a_reload(live_server, page, artifact):
    load_demo()
    log_in(page, live_server)
    page.on("dialog", lambda dialog: dialog.accept())

    # A persona and a map from the journeys page.
    page.goto(f"{live_server.url}/journeys/")
    page.fill("#persona_name", "Student rider")
    page.fill("#persona_goals", "A cheap, safe scooter for the campus.")
    page.click("#persona-form button[type=submit]")
    assert page.locator(".messages").inner_text().startswith("Persona “Student rider” created")
    page.select_option("#map_persona", label="Student rider")
    page.fill("#map_name", "First scooter")
    with page.expect_navigation(url=re.compile(r"/journeys/maps/\d+/$")):
        page.click("#map-form button[type=submit]")
    assert page.locator("th.stage .stage-name").all_inner_texts() == [
        "Awareness", "Consideration", "Purchase", "Use", "Loyalty"]

    # An empty name is refused with its reason, and nothing is added.
    board_settles(page, lambda: page.click("#add-stage button[type=submit]"))
    assert page.locator("#board-error").inner_text() == "A name is required."
    assert page.locator("th.stage").count() == 5

    # A stage, two touchpoints and a pain point, each saved at once.
    page.fill("#new-stage-name", "Advocacy")
    board_settles(page, lambda: page.click("#add-stage button[type=submit]"))
    assert page.locator("th.stage .stage-name").all_inner_texts()[-1] == "Advocacy"
    assert page.locator("#board-error").count() == 0
    for name in ("Campus pickup", "Online order"):
        cell = stage_cell(page, "Purchase")
        cell.locator("details.add summary").click()
        cell.locator(".add-touchpoint input[name=name]").fill(name)
        cell.locator(".add-touchpoint select[name=expected_emotion]").select_option("1")
        board_settles(page, lambda cell=cell: cell.locator(".add-touchpoint button[type=submit]").click())
    assert column(page, "Purchase") == ["Campus pickup", "Online order"]
    # A duplicate name from a form far down a short window: the reason is brought into view.
    page.set_viewport_size({"width": 1280, "height": 480})
    cell = stage_cell(page, "Purchase")
    cell.locator("details.add summary").click()
    cell.locator(".add-touchpoint input[name=name]").fill("Online order")
    board_settles(page, lambda: cell.locator(".add-touchpoint button[type=submit]").click())
    expect(page.locator("#board-error")).to_have_text("A touchpoint with this name already exists.")
    expect(page.locator("#board-error")).to_be_in_viewport()
    assert column(page, "Purchase") == ["Campus pickup", "Online order"]
    page.set_viewport_size({"width": 1280, "height": 900})
    pains = page.locator("tbody tr").nth(1).locator("td").nth(2)
    pains.locator("details.add summary").click()
    pains.locator("textarea[name=description]").fill("No pickup slots after lectures")
    pains.locator("select[name=severity]").select_option("4")
    board_settles(page, lambda: pains.locator(".add-pain-point button[type=submit]").click())
    assert "No pickup slots after lectures" in page.locator("#board-fragment").inner_text()

    # Rename a stage, and drag: a touchpoint above its neighbour, a stage to the front.
    use = page.locator("th.stage", has_text="Use")
    use.locator("details.rename summary").click()
    use.locator("input[name=name]").fill("Riding")
    board_settles(page, lambda: use.locator("details.rename button[type=submit]").click())
    order = page.locator("#board-fragment .tp", has_text="Online order")
    pickup = page.locator("#board-fragment .tp", has_text="Campus pickup")
    board_settles(page, lambda: order.drag_to(pickup, target_position={"x": 30, "y": 3}))
    assert column(page, "Purchase") == ["Online order", "Campus pickup"]
    advocacy = page.locator("th.stage", has_text="Advocacy")
    awareness = page.locator("th.stage", has_text="Awareness")
    board_settles(page, lambda: advocacy.drag_to(awareness, target_position={"x": 3, "y": 10}))
    expected_stages = ["Advocacy", "Awareness", "Consideration", "Purchase", "Riding", "Loyalty"]
    assert page.locator("th.stage .stage-name").all_inner_texts() == expected_stages
    history = page.locator("#map-activity").inner_text()
    assert "moved a stage: Advocacy" in history and "renamed a stage: Riding" in history

    # After a reload everything is where it was put, in the page and in the database.
    page.reload()
    assert page.locator("th.stage .stage-name").all_inner_texts() == expected_stages
    assert column(page, "Purchase") == ["Online order", "Campus pickup"]
    journey_map = JourneyMap.objects.get(name="First scooter", persona__name="Student rider")
    assert list(journey_map.stages.order_by("position").values_list("name", flat=True)) == expected_stages
    purchase = journey_map.stages.get(name="Purchase")
    assert list(Touchpoint.objects.filter(stage=purchase).order_by("position").values_list("name", "position")) == [
        ("Online order", 0), ("Campus pickup", 1)]
    assert Touchpoint.objects.get(name="Online order").expected_emotion == 1
    pain = PainPoint.objects.get(journey_map=journey_map)
    assert (pain.severity, pain.touchpoint.name) == (4, "Campus pickup")  # the stage's first touchpoint then
    manager = journey_map.activity.first().actor
    assert manager.username == "manager" and set(journey_map.activity.values_list("actor", flat=True)) == {manager.pk}
    assert Persona.objects.get(name="Student rider").goals == "A cheap, safe scooter for the campus."
    page.screenshot(path=artifact("journey-map-built-in-browser.png"), full_page=True)

    # The demo's scooter purchase map, with its live figures and emotion curve.
    scooter = JourneyMap.objects.get(organization__slug=DEMO_SLUG, name="Scooter purchase")
    page.goto(f"{live_server.url}/journeys/maps/{scooter.pk}/")
    page.wait_for_selector("#chart-emotion .main-svg", timeout=15_000)
    assert page.locator("#live-figures .tp.live").count() >= 5
    page.screenshot(path=artifact("journey-map-scooter-purchase.png"), full_page=True)


def test_the_map_prints_to_pdf_without_its_controls(live_server, page, artifact):
    load_demo()
    log_in(page, live_server)
    scooter = JourneyMap.objects.get(organization__slug=DEMO_SLUG, name="Scooter purchase")
    page.goto(f"{live_server.url}/journeys/maps/{scooter.pk}/")
    page.wait_for_selector("#chart-emotion .main-svg", timeout=15_000)
    assert page.locator("#print-map").is_visible()
    assert page.locator(".tp .controls").first.is_visible()

    page.emulate_media(media="print")
    for hidden in (".topbar", "#print-map", ".tp .controls", "th.stage .controls", "#add-stage"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert page.locator("table[aria-label='Journey map']").is_visible()
    assert page.locator("#board-fragment .tp", has_text="Home delivery").is_visible()
    assert page.evaluate("() => getComputedStyle(document.body).printColorAdjust") == "exact"
    # The board fits the landscape page: no column is cut off at the right edge.
    widths = page.evaluate("""() => { const b = document.querySelector('.board');
                                      return [b.scrollWidth, b.clientWidth]; }""")
    assert widths[0] <= widths[1] + 1, widths

    pdf = page.pdf(path=artifact("journey-map-scooter-purchase.pdf"), prefer_css_page_size=True,
                   print_background=True)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 30_000
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type/Page") >= 1


def test_campaign_readiness_fills_in_a_verdict_per_touchpoint(live_server, page, artifact):
    load_demo()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/journeys/campaign-readiness/")
    page.fill("#id_name", "Spring sale: delivery in 48 hours")
    for name in ("Online checkout", "Home delivery", "App onboarding"):
        page.locator("label.check", has_text=name).locator("input").check()
    with page.expect_navigation():
        page.click("#campaign-form button[type=submit]")
    assert page.url.count("touchpoint=") == 3  # the choice is in the URL, to share
    page.wait_for_selector(".step .verdict", timeout=15_000)
    assert page.locator(".step .verdict").count() == 3
    delivery = page.locator(".step", has_text="Home delivery")
    # The demo's delivery has a negative NPS: below the threshold, so the step is at risk.
    assert delivery.locator(".verdict.red").count() == 1
    assert "NPS is -" in delivery.inner_text()
    assert "Not yet: the promise cannot be kept at every step." in page.locator("#campaign-verdict").inner_text()
    shared = page.url
    page.goto(shared)
    page.wait_for_selector(".step .verdict")
    assert page.locator("input[name=touchpoint]:checked").count() == 3
    page.screenshot(path=artifact("campaign-readiness.png"), full_page=True)
