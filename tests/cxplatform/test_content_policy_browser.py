"""The Content-Security-Policy in a real browser (ADR 0009): the suite's watch catches a
violation, the survey embeds work on a customer's site, and the app refuses to be framed."""

import http.server
import threading
import time

import pytest

from cxplatform.models import Role
from surveys.models import Response
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


class CustomerSite:
    """A customer's web site: another origin on this machine, serving one page the test writes.

    A real server, not a Playwright route: Chromium refuses a page it sees as public that loads
    from loopback (the live server), as it would not in production, where both are public."""

    def __init__(self):
        self.body, self.headers = "", {}
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                for name, value in site.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(site.body.encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"  # the live server is "localhost"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def customer_site():
    site = CustomerSite()
    yield site
    site.close()


def wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_the_watch_catches_an_injected_inline_script(live_server, page, csp_violations, caplog):
    """Proof that `fails_on_csp_violation` (tests/conftest.py) sees what the policy blocks, and that
    the browser's report reaches the report endpoint."""

    def inject(route):
        response = route.fetch()  # our page, with our headers
        body = response.text().replace(
            "</body>", '<script>document.title = "injected"</script><button id="evil" onclick="document.title = '
                       "'clicked'\">x</button></body>")
        route.fulfill(response=response, body=body)

    page.route("**/login/", inject)
    with caplog.at_level("WARNING", logger="cxplatform.csp"):
        page.goto(f"{live_server.url}/login/")
        page.click("#evil")
        assert page.title() not in ("injected", "clicked")  # neither ran
        assert page.evaluate("window.__cspViolations.length") == 2
        found = csp_violations.take()
        assert any("script-src-elem blocked inline" in v for v in found), found
        assert any("script-src-attr blocked inline" in v for v in found), found
        assert wait_for(lambda: any("CSP violation" in r.getMessage() for r in caplog.records))


def test_survey_embeds_work_on_a_customers_site_with_its_own_policy(live_server, browser, org_a, customer_site,
                                                                    csp_violations, artifact):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    manager = factories.member(org_a, Role.CX_MANAGER)
    manager.set_password("lead-pass-123")
    manager.save()
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "lead-pass-123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/surveys/{link.survey_id}/distributions/{link.pk}/")
    page.click("#iframe-snippet")  # one click selects the snippet, ready to copy
    assert page.evaluate("(() => { const t = document.getElementById('iframe-snippet');"
                         " return t.selectionStart === 0 && t.selectionEnd === t.value.length; })()")

    # The customer's page, on another origin, with the strictest policy of its own that still
    # names our site for scripts and frames: not even inline styles.
    customer_site.body = ("<!DOCTYPE html><title>Scooter shop</title><h1>Thanks for your order</h1>"
                          f"{page.input_value('#iframe-snippet')}\n{page.input_value('#script-snippet')}")
    customer_site.headers = {"Content-Security-Policy":
                             f"default-src 'self'; script-src 'self' {live_server.url}; frame-src {live_server.url}"}
    page.goto(f"{customer_site.url}/order/done")
    page.wait_for_function("() => document.querySelectorAll('iframe').length === 2")  # embed.js added the second
    iframe, scripted = page.frame_locator("iframe").first, page.frame_locator("iframe").last
    assert "How likely" in scripted.locator("legend").first.inner_text()
    assert "How likely" in iframe.locator("legend").first.inner_text()
    # Their policy drops the snippet's style attribute (no border, 640 px at most); the size,
    # in attributes, holds. embed.js styles its frame through the DOM, which no policy stops.
    assert page.locator("iframe").first.evaluate("f => f.clientHeight") == 620
    assert page.locator("iframe").last.evaluate("f => f.style.height") == "620px"
    assert {v.split(" on ")[0] for v in csp_violations.take() if not v.startswith("console:")} == {
        "style-src-attr blocked inline"}

    # Answers are kept as the customer goes (survey.js inside the frame), then sent.
    with page.expect_request(lambda r: r.url.endswith("/save/") and r.method == "POST"):
        iframe.get_by_role("radio", name="9", exact=True).check()
    assert wait_for(lambda: Response.objects.filter(score=9, status=Response.Status.STARTED).exists())
    iframe.locator("#comment").fill("Quick and friendly")
    page.screenshot(path=artifact("embed-on-customer-site.png"), full_page=True)
    iframe.locator("button[type=submit]").click()
    iframe.locator("h1").filter(has_text="Thank you").wait_for()
    saved = Response.objects.get()
    assert (saved.score, saved.comment, saved.status) == (9, "Quick and friendly", Response.Status.COMPLETED)
    context.close()


def test_other_pages_refuse_to_be_framed(live_server, page, customer_site, csp_violations):
    customer_site.body = f'<!DOCTYPE html><title>Not us</title><iframe src="{live_server.url}/login/"></iframe>'
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text):
        page.goto(f"{customer_site.url}/clickjack")
    assert page.frame_locator("iframe").locator("#id_username").count() == 0
    found = csp_violations.take()
    assert any("frame-ancestors 'none'" in v for v in found), found


def test_every_kind_of_chart_draws_under_the_policy(live_server, page, artifact):
    """The pages with charts no other browser test draws: key drivers, root causes, the
    customer's scores on an inbox item. A chart that silently fails to draw is a bug. (And the
    browsable API, whose scripts are DRF's.)"""
    from cxplatform.demo import DEMO_PASSWORD, load_demo
    from feedback.models import FeedbackItem

    load_demo()
    item = FeedbackItem.objects.filter(customer__survey_responses__score__isnull=False).order_by("-pk").first()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    for name, path in (("drivers", "/metrics/drivers/?from=2026-01-01"), ("root-causes", "/actions/root-causes/"),
                       ("item", f"/inbox/items/{item.pk}/")):
        page.goto(live_server.url + path)
        charts = page.locator("[data-figure]")
        assert charts.count() >= 1, path
        for i in range(charts.count()):
            charts.nth(i).locator(".main-svg").first.wait_for(timeout=15_000)
        page.screenshot(path=artifact(f"charts-{name}.png"), full_page=True)
    page.goto(f"{live_server.url}/api/v1/customers/")
    assert "Customer" in page.locator("h1").first.inner_text()  # DRF's page; the watch checks its scripts


def test_a_delete_asks_first_without_inline_handlers(live_server, page, org_a):
    """data-confirm (app.js) replaced onsubmit="return confirm(…)": "Cancel" keeps the goal."""
    from actions.models import Goal

    goal = factories.goal(org_a)
    manager = factories.member(org_a, Role.CX_MANAGER)
    manager.set_password("lead-pass-123")
    manager.save()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "lead-pass-123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/actions/goals/{goal.pk}/")
    delete = page.locator("form[data-confirm] button[type=submit]")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, accept=False))
    delete.click()
    page.wait_for_timeout(300)
    assert Goal.objects.filter(pk=goal.pk).exists() and page.url.endswith(f"/goals/{goal.pk}/")
    page.once("dialog", lambda d: answer(d, accept=True))
    with page.expect_navigation():
        delete.click()
    assert not Goal.objects.filter(pk=goal.pk).exists()
    assert questions == ["Delete this goal? Its actions stay, on their own."] * 2
