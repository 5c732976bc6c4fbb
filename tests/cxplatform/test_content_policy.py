"""The Content-Security-Policy (ADR 0009): on every page, scripts only from our static files, no
page frameable but the public survey pages, and a report endpoint that never fails."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from cxplatform.models import Role
from surveys import links
from tests import factories
from tests.urlwalk import NON_OBJECT_KWARGS, routes, url_for_org

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def directives(response):
    header = response.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']}: no Content-Security-Policy header"
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_strict_scripts(response):
    policy = directives(response)
    script_src = policy.get("script-src", policy["default-src"])
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, script_src
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    return policy


class InlineCode(HTMLParser):
    """Collects what a strict policy would block in an HTML document: <script> bodies and
    on…= event handler attributes, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self._in_inline_script = True

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.found.append(f"<script>{data.strip()[:60]}…")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


def inline_code(html):
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def html_routes():
    return [r for r in routes() if not set(r.kwargs) & NON_OBJECT_KWARGS and r.name not in ("csp_report", "logout")]


@pytest.fixture
def admin_client(org_a, make_member, client_for):
    return client_for(make_member(org_a, Role.ADMIN))


def test_the_walk_finds_the_pages():
    names = {r.name for r in html_routes()}
    assert {"metrics:dashboard", "journeys:map_detail", "feedback:item_detail", "surveys:distribution_detail"} <= names


# The survey preview lives in an iframe of the builder: framed by our own pages, by no other site.
FRAMED_BY_OUR_OWN_PAGES = {"respond:preview"}


@pytest.mark.parametrize("route", html_routes(), ids=lambda r: r.name)
def test_every_page_and_fragment_has_the_policy_and_no_inline_code(route, org_a, admin_client):
    url = url_for_org(route, org_a, factories.make) if route.kwargs else reverse(route.name)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = admin_client.get(url, **headers)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        policy = assert_strict_scripts(response)
        if route.name in FRAMED_BY_OUR_OWN_PAGES:
            assert policy["frame-ancestors"] == ["'self'"], url
            assert response["X-Frame-Options"] == "SAMEORIGIN"
        else:
            assert policy["frame-ancestors"] == ["'none'"], url
            assert response["X-Frame-Options"] == "DENY"
        if response.status_code == 200:
            assert inline_code(response.content.decode()) == [], url


def test_pages_outside_the_walk(org_a, admin_client):
    """The login page, the browsable API, a customer's public pages and the admin."""
    assert_strict_scripts(Client().get("/login/"))
    for url in ("/api/v1/", "/api/v1/customers/"):
        page = admin_client.get(url, HTTP_ACCEPT="text/html")
        assert page.status_code == 200 and page["Content-Type"].startswith("text/html"), url
        assert_strict_scripts(page)
        assert inline_code(page.content.decode()) == [], url
    link = factories.distribution(org_a, factories.survey(org_a))
    for url in (links.survey_url(link), f"/s/{link.public_id}/thanks/"):
        page = Client().get(url, follow=True)  # a visit without a token is sent to its own address first
        assert page.status_code == 200
        assert_strict_scripts(page)
        assert inline_code(page.content.decode()) == [], url
    superuser = Client()
    superuser.force_login(get_user_model().objects.create_superuser("root", "root@x.example", "x-pass-123456"))
    for url in ("/admin/", "/admin/cxplatform/organization/", f"/admin/cxplatform/organization/{org_a.pk}/change/"):
        page = superuser.get(url)
        assert page.status_code == 200, url
        assert_strict_scripts(page)
        assert inline_code(page.content.decode()) == [], url


@pytest.mark.parametrize("path", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_templates_carry_no_javascript(path):
    """Also what the walk above does not render (a branch its data never reaches): JavaScript
    lives in static/, wired by data-attributes."""
    source = (TEMPLATES / path).read_text()
    inline_scripts = [tag for tag in re.findall(r"<script\b[^>]*>", source) if "src=" not in tag]
    assert inline_scripts == []
    assert re.findall(r"""\son[a-z]+\s*=|\shx-on|javascript:""", source) == []


def test_the_public_survey_page_may_be_framed_by_any_site_the_dashboard_by_none(org_a, admin_client, settings):
    link = factories.distribution(org_a, factories.survey(org_a))
    public = Client().get(links.survey_url(link))
    assert directives(public)["frame-ancestors"] == ["*"]
    assert "X-Frame-Options" not in public

    dashboard = admin_client.get("/")
    assert directives(dashboard)["frame-ancestors"] == ["'none'"]
    assert dashboard["X-Frame-Options"] == "DENY"

    settings.SURVEY_FRAME_ANCESTORS = ["https://shop.example", "https://*.shop.example"]
    public = Client().get(links.survey_url(link))
    assert directives(public)["frame-ancestors"] == ["https://shop.example", "https://*.shop.example"]
    # The other public pages are embedded too: the thank-you page follows in the same frame.
    thanks = Client().get(f"/s/{link.public_id}/thanks/")
    assert directives(thanks)["frame-ancestors"] == ["https://shop.example", "https://*.shop.example"]


# --- The report endpoint

def post_report(body, content_type="application/csp-report", client=None):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return (client or Client()).post("/csp-report/", data=data, content_type=content_type)


CLASSIC = {"csp-report": {"document-uri": "https://cx.example/", "effective-directive": "script-src-elem",
                          "violated-directive": "script-src-elem", "blocked-uri": "inline",
                          "source-file": "https://cx.example/", "line-number": 12, "script-sample": "alert(1)"}}
REPORTING_API = [{"type": "csp-violation", "url": "https://cx.example/", "body": {
    "documentURL": "https://cx.example/inbox/", "effectiveDirective": "script-src-elem", "blockedURL": "eval",
    "sourceFile": "https://cx.example/static/x.js", "lineNumber": 3, "sample": "", "disposition": "enforce"}},
    {"type": "deprecation", "body": {"id": "x"}}]


def test_the_policy_sends_reports_to_the_report_endpoint():
    # The settings name the path itself (a lazy reverse costs every response a class rebuild).
    policy = directives(Client().get(reverse("login")))
    assert policy["report-uri"] == [reverse("csp_report")]


def test_reports_in_both_formats_are_logged(caplog):
    with caplog.at_level("WARNING", logger="cxplatform.csp"):
        assert post_report(CLASSIC).status_code == 204
        assert post_report(REPORTING_API, "application/reports+json").status_code == 204
    messages = [r.getMessage() for r in caplog.records if r.name == "cxplatform.csp"]
    assert len(messages) == 2
    assert "'script-src-elem' blocked 'inline' on 'https://cx.example/'" in messages[0]
    assert "'alert(1)'" in messages[0]
    assert "blocked 'eval' on 'https://cx.example/inbox/'" in messages[1]


def test_a_flood_of_reports_is_dropped_unlogged_per_address_and_in_all(caplog, settings):
    settings.CSP_REPORTS_PER_IP, settings.CSP_REPORTS_IN_ALL = 3, 5
    with caplog.at_level("WARNING", logger="cxplatform.csp"):
        # One address past its own limit: its dropped reports use up nobody else's.
        answers = [post_report(CLASSIC).status_code for _ in range(10)]
        # Another address reports until everyone's logged reports together reach their limit.
        elsewhere = Client(REMOTE_ADDR="192.0.2.7")
        answers += [post_report(CLASSIC, client=elsewhere).status_code for _ in range(4)]
        # Addresses of one IPv6 /64 are one client.
        for n in range(4):
            post_report(CLASSIC, client=Client(REMOTE_ADDR=f"2001:db8:1:2::{n + 1}"))
    assert answers == [204] * 14  # the same answer whatever happened: nothing to probe
    logged = [r for r in caplog.records if r.name == "cxplatform.csp"]
    assert len(logged) == 3 + 2, [r.getMessage() for r in logged]


def test_one_ipv6_network_is_one_reporter(caplog, settings):
    settings.CSP_REPORTS_PER_IP = 2
    with caplog.at_level("WARNING", logger="cxplatform.csp"):
        for n in range(5):
            post_report(CLASSIC, client=Client(REMOTE_ADDR=f"2001:db8:1:2::{n + 1}"))
        post_report(CLASSIC, client=Client(REMOTE_ADDR="2001:db8:1:3::1"))  # another /64
    assert len([r for r in caplog.records if r.name == "cxplatform.csp"]) == 2 + 1


def test_a_signed_in_viewer_s_browser_may_report_too(org_a, make_member, client_for):
    viewer = client_for(make_member(org_a, Role.VIEWER))
    assert post_report(CLASSIC, client=viewer).status_code == 204


@pytest.mark.parametrize("body, content_type", [
    (b"not json", "application/csp-report"),
    (b"", "application/csp-report"),
    (b"[1, 2, {\"type\": \"csp-violation\", \"body\": 5}]", "application/reports+json"),
    (b"{\"csp-report\": [1]}", "application/csp-report"),
    (b"\xff\xfe", "application/csp-report"),
    (json.dumps(CLASSIC), "text/plain"),
    (json.dumps({"csp-report": {**CLASSIC["csp-report"], "script-sample": "x" * 40_000}}), "application/csp-report"),
])
def test_junk_and_oversized_reports_answer_204_and_log_nothing(body, content_type, caplog):
    with caplog.at_level("WARNING", logger="cxplatform.csp"):
        assert post_report(body, content_type).status_code == 204
    assert [r for r in caplog.records if r.name == "cxplatform.csp"] == []


def test_long_fields_are_cut_short_and_newlines_cannot_forge_log_lines(caplog):
    report = {"csp-report": {**CLASSIC["csp-report"], "blocked-uri": "x\nCSP violation: forged" + "y" * 5000}}
    with caplog.at_level("WARNING", logger="cxplatform.csp"):
        post_report(report)
    (message,) = [r.getMessage() for r in caplog.records if r.name == "cxplatform.csp"]
    assert "\n" not in message and len(message) < 2000


def test_the_report_endpoint_takes_only_posts():
    assert Client().get("/csp-report/").status_code == 405
