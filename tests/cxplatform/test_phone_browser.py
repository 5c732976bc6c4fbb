"""An agent and a manager on a 390 px phone: every page they open fits the screen (the page never
scrolls sideways; a wide table becomes cards or scrolls inside its own box), and an agent triages
an item by tapping what is on the screen. Each page is also shot at 1366 px, to compare."""

import pytest
from django.utils import translation
from playwright.sync_api import expect

from cxplatform.demo import DEMO_PASSWORD, DEMO_SLUG, load_demo
from cxplatform.models import Organization
from feedback.models import FeedbackItem, Tag
from surveys.models import Survey

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

# What sticks out of the screen (outside any box that scrolls or clips), to say what to fix.
OVERFLOW = """(w) => {
  const out = [];
  const clipped = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p).overflowX;
      if (s !== 'visible' && p.getBoundingClientRect().right <= w + 1) return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > w + 1 && !clipped(el)) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' + Math.round(r.right));
    }
  }
  return out.slice(0, 12);
}"""


def _login(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _assert_fits(page, path):
    # On a phone the browser widens the viewport to a page that is too wide: check both.
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert inner == PHONE["width"] and width <= inner, \
        f"{path} lays out {width} px wide on a 390 px phone: {page.evaluate(OVERFLOW, PHONE['width'])}"


def _on_screen(page, selector):
    """Visible and within the phone's width: tappable without scrolling sideways."""
    control = page.locator(selector)
    expect(control).to_be_visible()
    control.scroll_into_view_if_needed()
    box = control.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)
    return control


def _open_pages(browser, live_server, artifact, role, paths):
    for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(viewport=size, is_mobile=name == "phone", has_touch=name == "phone")
        page = context.new_page()
        _login(page, live_server.url, role)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=artifact(f"{name}-{role}-{path.strip('/').replace('/', '-') or 'dashboard'}.png"),
                            full_page=True)
            if name == "phone":
                _assert_fits(page, path)
        context.close()


def test_an_agent_and_a_manager_work_on_a_phone(live_server, browser, artifact):
    load_demo()
    org = Organization.objects.get(slug=DEMO_SLUG)
    item = (FeedbackItem.objects.filter(organization=org, kind="voice", status__in=["new", "open"],
                                        assignee__isnull=True).order_by("-received_at", "-id").first())
    survey = Survey.objects.filter(organization=org, responses__isnull=False).order_by("pk").first()
    _open_pages(browser, live_server, artifact, "agent", ["/inbox/", f"/inbox/items/{item.pk}/", "/metrics/frontline/"])
    _open_pages(browser, live_server, artifact, "manager",
                ["/", "/inbox/", f"/inbox/items/{item.pk}/", "/surveys/", f"/surveys/{survey.pk}/responses/",
                 "/inbox/settings/", "/actions/", "/journeys/"])

    # The agent triages on the phone: from the list to the item, then assign, status, tag, note.
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    _login(page, live_server.url, "agent")
    page.goto(f"{live_server.url}/inbox/")
    expect(page.locator("#id_status")).to_be_hidden()  # the filters beyond the search are folded
    _on_screen(page, "#filters-toggle").tap()
    expect(page.locator("#id_status")).to_be_visible()
    with page.expect_navigation():
        _on_screen(page, f"#inbox tr[data-item='{item.pk}'] a.open").tap()
    _assert_fits(page, page.url)
    tag = Tag.objects.filter(organization=org).exclude(items=item).order_by("name").first()
    keep = [str(t.pk) for t in item.tags.all()]  # options are labelled in the reader's language
    _on_screen(page, "#id_assignee").select_option(label="Laura Kalniņa")
    _on_screen(page, "#id_status").select_option("waiting")
    _on_screen(page, "#id_tags").select_option(value=[*keep, str(tag.pk)])
    with page.expect_navigation():
        _on_screen(page, "#triage-save").tap()
    with translation.override("en"):  # the agent reads English: the tag's English name
        expect(page.locator("#item-tags")).to_contain_text(tag.shown_name)
    _on_screen(page, "#id_text").fill("Called the courier company, waiting for their answer.")
    with page.expect_navigation():
        _on_screen(page, "#note-add").tap()
    expect(page.locator("#notes")).to_contain_text("waiting for their answer")
    _assert_fits(page, page.url)
    page.screenshot(path=artifact("phone-agent-triaged.png"), full_page=True)
    context.close()

    item.refresh_from_db()
    assert item.assignee.username == "agent" and item.status == "waiting"
    assert tag in item.tags.all() and item.notes.get().text.startswith("Called the courier company")
