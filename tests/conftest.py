import os
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from cxplatform.models import Membership, Organization, Role


@pytest.fixture(autouse=True)
def english_to_begin_with():
    """Every test starts in English: a request through the locale middleware leaves its language
    active in the thread, and a later test on the same worker would otherwise inherit it (and,
    say, create a map's default stages in Russian)."""
    translation.activate("en")


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
        client.force_login(user)
        return client

    return make


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download: the machine's own)."""
    from playwright.sync_api import sync_playwright

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
        yield browser
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
