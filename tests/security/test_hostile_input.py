"""No hostile input answers 5xx: a corpus (NUL, lone surrogates, invalid UTF-8, overlong digits,
impossible dates, wrong JSON root types, deep nesting, a body over the upload limit) is sent to
every route of the URL conf — anonymously and as a signed-in administrator, in the path, the query
string and every form field the page shows or the code reads — and to every operation of the API
schema, in its query parameters and JSON bodies.

Walked from the URL resolver and the OpenAPI schema, so a new page or operation is covered without
touching this file. Each test reports every failing request, not only the first.
"""

import json
import logging
import re
from functools import cache

import pytest
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from drf_spectacular.generators import SchemaGenerator

from cxplatform.models import Membership, Organization, Role
from feedback.models import FeedbackItem
from feedback.webhooks import create_endpoint
from tests import factories
from tests.security.hostile import (
    JSON_FIELD_CORPUS,
    WRONG_ROOTS,
    Recorder,
    deep_bodies,
    encode_pairs,
    form_fields,
    form_variants,
    huge_body,
    names_read_in_code,
)
from tests.urlwalk import NON_OBJECT_KWARGS, routes, url_for_org

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
# Pages that end the session: walked anonymously only (the client's cookies are restored anyway).
SKIPPED_FOR_MEMBER = {"logout"}
# Routes anyone may call, besides the survey pages under /s/: walked anonymously with the whole corpus.
PUBLIC_ROUTES = {"login", "logout", "csp_report", "feedback-webhook", "healthz", "set_language"}
BEHIND_HIDDEN = {"digits", "huge-number", "unicode-digits", "impossible-date", "long-text"}
# The walks are cut into this many tests, so `pytest -n 2` can run them side by side.
SHARDS = 3
# Stand-ins replaced after reverse(): reverse() would quote or refuse the hostile text itself.
STR_MARK, INT_MARK = "hostilestrarg", 987654321
# Path segments a client can send for a <str:…> argument (already percent-encoded, as on the wire).
HOSTILE_SEGMENTS = {"nul": "%00", "nul-suffix": "{real}%00", "surrogate": "%ED%A0%80", "bad-utf8": "%FF%C0%AF",
                    "digits": "9" * 5000}
HOSTILE_INT_SEGMENT = "9" * 25  # past bigint


class World:
    """One organization with a row behind every URL argument, its administrator, and the URLs."""

    def __init__(self):
        self.org = Organization.objects.create(name="Hostile Input Org", slug="hostile-input")
        self.admin = factories.member(self.org, role=Role.ADMIN)
        self.survey = factories.survey(self.org)
        factories.question(self.org, self.survey, kind="text")
        factories.question(self.org, self.survey, kind="rating", required=False)
        self.distribution = factories.distribution(self.org, self.survey)
        self.offer = factories.retention_offer(self.org)
        # Unsigned, so hostile bodies reach the parser instead of stopping at the signature.
        self.open_hook = create_endpoint(self.org, "Open hook", FeedbackItem.Source.REVIEW, signed=False)
        self.objects = {}

    def member_client(self):
        client = Client(raise_request_exception=False)
        client.force_login(self.admin)
        return client

    def object_for(self, model):
        if model not in self.objects:
            self.objects[model] = factories.make(model, self.org)
        return self.objects[model]

    def public_kwargs(self, route):
        """Real values for arguments that are no organization's row ids (public links)."""
        values = {"public_id": self.distribution.public_id, "score": 9, "offer_id": self.offer.pk,
                  "token": self.open_hook.key}
        if not set(route.kwargs) <= set(values):
            return None
        return {k: values[k] for k in route.kwargs}


def _page_routes():
    """Routes of the pages and public endpoints (the API's router routes are walked from its schema)."""
    return [r for r in routes()
            if r.name == "feedback-webhook" or ("-" not in r.name.split(":")[-1] and r.name != "api_schema")]


def _real_url(route, world):
    if not route.kwargs:
        return reverse(route.name)
    if set(route.kwargs) & NON_OBJECT_KWARGS:
        kwargs = world.public_kwargs(route)
        return reverse(route.name, kwargs=kwargs) if kwargs else None
    return url_for_org(route, world.org, lambda model, org: world.object_for(model))


def _hostile_urls(route, real_url):
    """The route with each of its arguments, in turn, replaced by what a hostile client sends."""
    real = resolve(real_url).kwargs if route.kwargs else {}
    urls = []
    for name, value in real.items():
        is_int = isinstance(value, int)
        mark = INT_MARK if is_int else STR_MARK
        try:
            template = reverse(route.name, kwargs={**real, name: mark})
        except NoReverseMatch:
            continue
        if is_int:
            urls.append((f"{name}=overflow", template.replace(str(mark), HOSTILE_INT_SEGMENT, 1)))
        else:
            for label, segment in HOSTILE_SEGMENTS.items():
                urls.append((f"{name}={label}", template.replace(mark, segment.format(real=value), 1)))
    return urls


@pytest.fixture(autouse=True)
def quiet_request_logs():
    """Thousands of refused requests each log a warning; a 5xx is reported by the test itself."""
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security", "axes")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = World()
        built.page_urls = [(route, _real_url(route, built)) for route in _page_routes()]
        built.code_names = names_read_in_code()
        yield built
        transaction.set_rollback(True)


def _walk_page(recorder, client, url, names, *, label_prefix, hidden=None, full=True):
    """GET with hostile query strings and POST with hostile form bodies (all fields hostile, then
    the page's hidden fields kept as the page gave them); a method the route refuses (405) on its
    first try is not tried again."""
    variants = [(f"{label_prefix} {kind}", body) for kind, body in form_variants(names)]
    if not full:
        variants = [v for v in variants if v[0].endswith((" nul", " digits"))]
    for label, encoded in variants:
        if label.endswith(" long-text"):  # text length is a form's matter: POST sends it
            continue
        response = recorder.send(client, "get", f"{url}?{encoded}", label)
        if response is not None and response.status_code == 405:
            break
    if hidden:  # the kinds that fail only past the checks a hidden token or version stops
        variants += [(f"{label_prefix} {kind} (hidden fields kept)", body)
                     for kind, body in form_variants(names, keep=hidden) if kind in BEHIND_HIDDEN]
    for label, encoded in variants:
        response = recorder.send(client, "post", url, label, data=encoded, content_type=FORM)
        if response is not None and response.status_code == 405:
            break


def _fields_on(client, url, recorder):
    """The form fields of the page at `url` (after its redirects: the survey page adds its token)."""
    response = recorder.send(client, "get", url, "page as is", follow=True)
    if response is None or response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return set(), {}
    return form_fields(response.content.decode(errors="replace"))


def _is_public(route):
    return route.name.startswith("respond:") or route.name in PUBLIC_ROUTES


def _shard(items, shard):
    return [item for index, item in enumerate(items) if index % SHARDS == shard]


def test_every_route_survives_hostile_input_anonymously_and_in_its_path(world):
    """Every route as an anonymous client (the public ones with the whole corpus), and every
    route with each path argument replaced by hostile text, anonymously and as a member."""
    recorder = Recorder()
    anonymous, member = Client(raise_request_exception=False), world.member_client()
    walked = [(route, url) for route, url in world.page_urls if url is not None]
    assert len(walked) > 100, f"only {len(walked)} routes walked"
    assert {"respond:page", "respond:thanks", "feedback-webhook", "login"} <= {r.name for r, _url in walked}
    for route, real_url in walked:
        if _is_public(route):
            names, hidden = _fields_on(anonymous, real_url, recorder)
            _walk_page(recorder, anonymous, real_url, world.code_names | names, label_prefix="anonymous",
                       hidden=hidden)
        else:  # the login page answers before any view code runs: two kinds suffice
            _walk_page(recorder, anonymous, real_url, world.code_names, label_prefix="anonymous", full=False)
        for label, url in _hostile_urls(route, real_url):
            for client, who in ((anonymous, "anonymous"), (member, "member")):
                recorder.send(client, "get", url, f"{who} path {label}")
                recorder.send(client, "post", url, f"{who} path {label}", data=encode_pairs([("x", b"1")]),
                              content_type=FORM)
    assert not recorder.failures, recorder.report()


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_page_survives_hostile_input_from_a_member(world, shard):
    """Every page as an administrator: GET with every query parameter the code reads and every
    field the page shows set to each corpus entry, and POST with the same as form fields."""
    recorder = Recorder()
    member = world.member_client()
    for route, real_url in _shard(world.page_urls, shard):
        if real_url is None or route.name in SKIPPED_FOR_MEMBER:
            continue
        names, hidden = _fields_on(member, real_url, recorder)
        _walk_page(recorder, member, real_url, world.code_names | names, label_prefix="member", hidden=hidden)
    assert recorder.sent > 200
    assert not recorder.failures, recorder.report()


# --- The API, from its schema ------------------------------------------------------------------

@cache
def _schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve_ref(schema, node):
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


def _body_fields(schema, operation):
    """{field: its schema} of the operation's JSON request body (or its list's items)."""
    content = (operation.get("requestBody") or {}).get("content", {})
    body = _resolve_ref(schema, (content.get("application/json") or {}).get("schema", {}))
    if body.get("type") == "array":
        body = _resolve_ref(schema, body.get("items", {}))
    return {name: _resolve_ref(schema, prop) for name, prop in body.get("properties", {}).items()}


def _hostile_value(kind, prop):
    """The corpus entry `kind` for a field, made to fit the field's declared format where it has one."""
    if kind == "impossible-date" and prop.get("format") == "date-time":
        return JSON_FIELD_CORPUS["impossible-moment"]
    if kind == "impossible-moment" and prop.get("format") == "date":
        return JSON_FIELD_CORPUS["impossible-date"]
    return JSON_FIELD_CORPUS[kind]


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def _api_url(path, world):
    """The operation's path with real ids of the world's rows (or None when none can be had)."""
    if "{" not in path:
        return path
    if "{token}" in path:
        return path.replace("{token}", world.open_hook.key)
    try:
        view = resolve(path.replace("{id}", "1")).func
    except Resolver404:
        return None
    model = view.cls.queryset.model
    return path.replace("{id}", str(world.object_for(model).pk))


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_api_operation_survives_hostile_input(world, shard):
    """Every operation of the schema as an administrator: hostile query parameters (those it
    declares and those the code reads), hostile ids, and hostile JSON and form bodies."""
    schema = _schema()
    recorder = Recorder()
    member, anonymous = world.member_client(), Client(raise_request_exception=False)
    deep, huge = deep_bodies(), huge_body()
    operations = list(_operations(schema))
    assert len(operations) > 100
    for path, method, operation in _shard(operations, shard):
        url = _api_url(path, world)
        assert url is not None, f"{path}: no object for its path"
        has_id = url != path and re.search(r"/\d+/", url)
        query_names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        query_names |= world.code_names | {"page_size", "cursor", "ordering", "search"}
        for kind, encoded in form_variants(query_names):
            # Filters and pages are read by GET; a few actions read the query string too.
            if method == "get" or kind in ("nul", "digits", "bad-text"):
                recorder.send(member, method, f"{url}?{encoded}", f"query {kind}")
        recorder.send(anonymous, method, url, "anonymous")
        if has_id:
            for label, segment in (("id overflow", "9" * 25), ("id nul", "%00"), ("id digits", "9" * 5000)):
                recorder.send(member, method, re.sub(r"/\d+/", f"/{segment}/", url, count=1), label)
        if method not in ("post", "put", "patch"):
            continue
        _send_bodies(recorder, member, method, url, schema, operation, deep, huge)
    assert not recorder.failures, recorder.report()


def _send_bodies(recorder, client, method, url, schema, operation, deep, huge):
    """Wrong roots, deep nesting, an oversized body, every field given each corpus entry (and the
    same inside a list where the operation takes a list), and hostile form bodies."""
    fields = _body_fields(schema, operation)
    declared = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {})
    takes_list = declared.get("schema", {}).get("type") == "array"

    def send(body, label):
        recorder.send(client, method, url, label, data=body, content_type="application/json")

    for label, root in WRONG_ROOTS.items():
        send(json.dumps(root), label)
    for label, body in deep.items():
        send(body, label)
    send(huge, "over DATA_UPLOAD_MAX_MEMORY_SIZE")
    for kind in JSON_FIELD_CORPUS:
        body = {name: _hostile_value(kind, prop) for name, prop in fields.items()} or {"x": JSON_FIELD_CORPUS[kind]}
        send(json.dumps(body), f"every field {kind}")
        if takes_list:
            send(json.dumps([body]), f"list of every field {kind}")
    for kind, encoded in form_variants(fields or {"x"}):
        if kind in ("nul", "digits"):
            recorder.send(client, method, url, f"form body {kind}", data=encoded, content_type=FORM)


def test_the_schema_walk_reaches_every_router_route():
    """Guards the walk: every operation of the router is in the schema it reads."""
    operations = {(path, method) for path, method, _op in _operations(_schema())}
    assert ("/api/v1/responses/", "post") in operations
    assert ("/api/v1/feedback/close-loop-rules/{id}/apply/", "post") in operations
    assert ("/api/v1/journey-maps/import/", "post") in operations
    assert ("/hooks/feedback/{token}/", "post") in operations


def test_the_member_of_the_world_is_an_administrator(world):
    # An administrator passes every capability check, so hostile input reaches the views' code.
    assert Membership.objects.get(user=world.admin).role == Role.ADMIN
