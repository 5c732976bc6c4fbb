import os
from pathlib import Path

import pytest
from django.contrib.auth.signals import user_logged_in
from django.test import Client
from django.utils import translation

from cxplatform import audit_hooks
from cxplatform.models import Membership, Organization, Role


@pytest.fixture(autouse=True)
def english_to_begin_with():
    """Every test starts in English: a request through the locale middleware leaves its language
    active in the thread, and a later test on the same worker would otherwise inherit it (and,
    say, create a map's default stages in Russian)."""
    translation.activate("en")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counters live in the process's memory under test (no Redis): each test starts
    with none, as each test starts with an empty database."""
    from django.core.cache import caches

    caches["ratelimit"].clear()


@pytest.fixture(autouse=True)
def no_events_waiting():
    """Events a test emitted without committing (its transaction rolls back) never travel with the
    next test's first commit."""
    from cxplatform import events

    events.forget_waiting()
    yield
    events.forget_waiting()


@pytest.fixture(autouse=True)
def no_readings_kept():
    """Each test reads comments afresh: a worker remembers its last readings, and a test that swaps
    the classifier must not get one made before."""
    from cxplatform.textinsight import reading

    reading.forget()


@pytest.fixture(autouse=True)
def no_links_kept():
    """Each test reads its survey links afresh (a process keeps them a moment, surveys/respondent.py)."""
    from surveys.respondent import forget_links

    forget_links()


@pytest.fixture
def make_member(django_user_model):
    """A user with `role` in `organization` (created on the fly)."""
    counter = iter(range(1, 10_000))

    def make(organization, role=Role.ADMIN, username=None):
        user = django_user_model.objects.create_user(
            username=username or f"{organization.slug}-{role}-{next(counter)}", password="x-pass-123456"
        )
        Membership.objects.create(user=user, organization=organization, role=role)
        return user

    return make


@pytest.fixture
def org_a(db):
    return Organization.objects.create(name="Alpha Scooters", slug="alpha")


@pytest.fixture
def org_b(db):
    return Organization.objects.create(name="Beta Bikes", slug="beta")


@pytest.fixture
def client_for():
    """A test client logged in as `user`."""

    def make(user):
        client = Client()
        # A test's own sign-in is scaffolding, not an action under test: it writes no audit entry
        # (tests/audit signs in through the login page to test that entry).
        user_logged_in.disconnect(dispatch_uid="audit.signed_in")
        try:
            client.force_login(user)
        finally:
            user_logged_in.connect(audit_hooks.signed_in, dispatch_uid="audit.signed_in")
        return client

    return make


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


# Every page the browser tests open runs under the app's Content-Security-Policy and fails its
# test on any violation (ADR 0009): a blocked script is otherwise only a chart that never draws.
# An init script is Playwright's, not the page's, so the policy does not stop it; it reports each
# `securitypolicyviolation` event (in every frame, before any of the page's own scripts run). The
# console catches what no event reaches, such as a page refused inside another site's frame.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var v = {directive: e.effectiveDirective, blocked: e.blockedURI, document: e.documentURI,
           source: e.sourceFile, line: e.lineNumber, sample: e.sample};
  window.__cspViolations.push(v);
  if (window.__cspViolation) { window.__cspViolation(v); }
});
"""


class CspWatch:
    """The violations reported by the pages of the running test, most recent last."""

    def __init__(self):
        self.found = []

    def install(self, context):
        context.expose_binding("__cspViolation", self._event)
        context.add_init_script(CSP_LISTENER)
        context.on("console", self._console)

    def _event(self, source, v):
        self.found.append(f"{v['directive']} blocked {v['blocked'] or 'inline'} on {v['document']}"
                          f" ({v['source']}:{v['line']} {v['sample']!r})")

    def _console(self, message):
        if "Content Security Policy" in message.text:
            self.found.append(f"console: {message.text}")

    def take(self):
        found, self.found = self.found, []
        return found


CSP_WATCH = CspWatch()


# Chromium headless says "HeadlessChrome", which the survey pages take for a robot (surveys/robots.py):
# the tests' browser is a person's, unless a test says otherwise.
PERSON_USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/131.0.0.0 Safari/537.36")


class CspWatchedBrowser:
    """The browser as tests see it: every context it opens, or a page opens, is watched, and
    passes for a person's browser."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **kwargs):
        context = self._browser.new_context(**{"user_agent": PERSON_USER_AGENT, **kwargs})
        CSP_WATCH.install(context)
        return context

    def new_page(self, **kwargs):
        page = self._browser.new_page(**{"user_agent": PERSON_USER_AGENT, **kwargs})
        CSP_WATCH.install(page.context)
        return page

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(autouse=True)
def fails_on_csp_violation():
    """Fails the test (at teardown) if a page it opened broke the Content-Security-Policy; a test
    that provokes violations on purpose takes them with `csp_violations.take()`."""
    CSP_WATCH.take()
    yield
    found = CSP_WATCH.take()
    if found:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(found), pytrace=False)


@pytest.fixture
def csp_violations():
    return CSP_WATCH


EXPECT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download: the machine's own), with
    every page watched for Content-Security-Policy violations."""
    from playwright.sync_api import expect, sync_playwright

    # Playwright's 5 s default for an expectation is shorter than one server round trip on a
    # loaded CI machine (two xdist workers, a live server and Chromium on 2 cores): each
    # expectation still fails, later, when its condition never comes.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run does it)")
    # Playwright runs an event loop in this thread; the ORM calls the tests make are still
    # synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield CspWatchedBrowser(browser)
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifact():
    """A path under test-artifacts/ for screenshots a person looks at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return lambda name: str(ARTIFACTS / name)


@pytest.fixture
def api_headers():
    """Headers that authenticate an API call as `user` acting for `organization` (Django test
    client keyword form): a fresh API token of theirs, read and write unless `scopes` says less.
    The one place tests make API credentials: the token scheme lives here."""
    from cxplatform.tokens.services import create_token

    def make(user, organization, *, scopes=("read", "write"), expires_at=None, name="Test client"):
        _token, raw = create_token(user=user, organization=organization, name=name, scopes=scopes,
                                   expires_at=expires_at)
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return make
