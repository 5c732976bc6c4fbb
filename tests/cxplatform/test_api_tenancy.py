"""The API and the pages offer only the organization's own rows: every filter parameter of every
API list, the browsable API's HTML (its filter and data forms) and every page walked as a member
of one organization, with another organization's rows marked so that any leak shows.

Walked from the router and the URL conf, so a new list, filter or page is covered without
touching this file.
"""

import contextlib
import json
from functools import cache

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.functions import Concat, Left
from django.urls import NoReverseMatch, reverse

from cxplatform.api_access import OrgScopedFilterBackend
from cxplatform.models import Organization, OrgScopedModel, Role
from cxplatform.urls import API_ROUTES
from tests import factories
from tests.urlwalk import object_routes, routes, url_for_org

pytestmark = pytest.mark.django_db

MARK = "zzleak"
OUR_APPS = {"cxplatform", "journeys", "surveys", "feedback", "metrics", "actions"}
# Pages that are no page to look at (they log out or switch state on GET).
NOT_PAGES = {"logout", "set_language", "healthz", "api_schema"}


def list_routes():
    return [(basename, viewset) for _prefix, viewset, basename in API_ROUTES if hasattr(viewset, "list")]


def filter_params(viewset):
    """{parameter: filter} of the viewset's filter set, as the API's filter backend builds it."""
    queryset = getattr(viewset, "queryset", None)
    filterset_class = OrgScopedFilterBackend().get_filterset_class(viewset, queryset)
    return dict(filterset_class.base_filters) if filterset_class else {}


def related_model(list_model, declared):
    """The model whose ids a filter takes, or None for a filter on plain values."""
    choices = getattr(declared, "queryset", None)
    if choices is not None:
        return choices.model
    model, field = list_model, None
    for part in declared.field_name.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            field = next((f for f in model._meta.concrete_fields if f.attname == part), None)
            if field is None:
                return None
        if field.is_relation:
            model = field.related_model
    return model if field is not None and field.is_relation else None


def make_row(model, org):
    if model is get_user_model():
        return factories.member(org)
    return factories.make(model, org)


@cache
def _text_fields(model):
    return [f for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField) and not f.choices and not f.primary_key]


def mark_organization(org):
    """Prefix every free-text column of `org`'s rows, its members' names and e-mails and its own
    name with MARK, so that any of them showing on another organization's page is found."""
    for model in apps.get_models():
        if model._meta.app_label in OUR_APPS and issubclass(model, OrgScopedModel):
            for field in _text_fields(model):
                value = Concat(models.Value(MARK), field.name, output_field=field)
                if field.max_length:
                    value = Left(value, field.max_length)
                model.objects.filter(organization=org).exclude(**{field.name: ""}).update(**{field.name: value})
    users = get_user_model().objects.filter(memberships__organization=org)
    for user in users:
        user.username, user.email = f"{MARK}-{user.username}"[:150], f"{MARK}-{user.pk}@beta.example"
        user.first_name = user.last_name = MARK
        user.save(update_fields=["username", "email", "first_name", "last_name"])
    Organization.objects.filter(pk=org.pk).update(name=f"{MARK} {org.name}")


@pytest.fixture
def two_tenants(org_a, org_b, make_member):
    """Both organizations with a row of every model a list shows or a filter names; B's marked."""
    needed = set()
    for _basename, viewset in list_routes():
        list_model = viewset.queryset.model
        if issubclass(list_model, OrgScopedModel):
            needed.add(list_model)
        for declared in filter_params(viewset).values():
            model = related_model(list_model, declared)
            if model is not None:
                needed.add(model)
    rows = {org: {model: make_row(model, org) for model in sorted(needed, key=lambda m: m._meta.label)}
            for org in (org_a, org_b)}
    make_member(org_b, role=Role.ADMIN)
    mark_organization(org_b)
    return rows


def test_the_walk_sees_the_filters_that_leaked():
    # Guards the walk: the lists and foreign-key filters the probe found must be among those walked.
    walked = {(basename, name) for basename, viewset in list_routes() for name in filter_params(viewset)}
    assert {("feedback-item", "customer"), ("feedback-item", "assignee"), ("feedback-item", "root_cause"),
            ("response", "survey"), ("action-item", "goal"), ("goal", "owner")} <= walked


@pytest.mark.parametrize(("basename", "viewset"), list_routes(), ids=[b for b, _v in list_routes()])
def test_every_filter_answers_a_foreign_id_like_a_missing_one(basename, viewset, two_tenants, org_a, org_b,
                                                             make_member, client_for):
    client = client_for(make_member(org_a, role=Role.ADMIN))
    url = reverse(f"{basename}-list")
    list_model = viewset.queryset.model
    theirs = (set(list_model.objects.filter(organization=org_b).values_list("pk", flat=True))
              if issubclass(list_model, OrgScopedModel) else set())
    for name, declared in filter_params(viewset).items():
        model = related_model(list_model, declared)
        if model is not None:
            foreign = two_tenants[org_b][model].pk
            missing = model.objects.order_by("-pk").values_list("pk", flat=True).first() + 10_000
            a, b = client.get(url, {name: foreign}), client.get(url, {name: missing})
            assert (a.status_code, a.content) == (b.status_code, b.content), (
                f"{url}?{name}=<another organization's id> answers {a.status_code} {a.content[:200]!r}, "
                f"a missing id {b.status_code} {b.content[:200]!r}")
            continue
        # A plain value taken from the other organization's row: it still finds only our rows.
        value = _value_of(list_model, declared, org_b)
        page = client.get(url, {name: value})
        assert page.status_code < 500, f"{url}?{name}={value!r}: {page.status_code}"
        if page.status_code == 200 and theirs:
            found = {row["id"] for row in page.json().get("results", [])}
            assert not found & theirs, f"{url}?{name}={value!r} listed another organization's rows"


def _value_of(model, declared, org):
    if not issubclass(model, OrgScopedModel):
        return "1"
    try:
        value = model.objects.filter(organization=org).values_list(declared.field_name, flat=True).first()
    except Exception:  # a method filter names no column
        return "1"
    return "1" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


@pytest.mark.parametrize(("basename", "viewset"), list_routes(), ids=[b for b, _v in list_routes()])
def test_the_browsable_api_shows_no_other_organization(basename, viewset, two_tenants, org_a, make_member,
                                                       client_for):
    client = client_for(make_member(org_a, role=Role.ADMIN))
    urls = [reverse(f"{basename}-list")]
    ours = two_tenants[org_a].get(viewset.queryset.model)
    if ours is not None:
        with contextlib.suppress(NoReverseMatch):
            urls.append(reverse(f"{basename}-detail", kwargs={"pk": ours.pk}))
    for url in urls:
        page = client.get(url, HTTP_ACCEPT="text/html")
        assert page.status_code == 200 and page["Content-Type"].startswith("text/html"), url
        html = page.content.decode()
        assert "<form" in html, f"{url}: the walk must see the HTML forms"
        assert MARK not in html.lower(), f"{url} shows another organization's data: {_around(html)}"


def _around(html, width=120):
    at = html.lower().index(MARK)
    return html[max(at - width, 0): at + width]


def page_urls(org):
    """Every page of the site for `org`'s member: lists and forms, and each object's pages."""
    urls = []
    for route in routes():
        if route.name in NOT_PAGES or route.name.startswith("api") or "-" in route.name.split(":")[-1]:
            continue
        if not route.kwargs:
            try:
                urls.append(reverse(route.name))
            except NoReverseMatch:
                continue
    urls += [url_for_org(route, org, factories.make) for route in object_routes() if "-" not in route.name]
    return urls


def test_no_page_offers_another_organizations_rows(two_tenants, org_a, make_member, client_for):
    client = client_for(make_member(org_a, role=Role.ADMIN))
    urls = page_urls(org_a)
    assert len(urls) > 60 and "/inbox/" in urls and "/actions/" in urls, urls
    shown = 0
    for url in urls:
        page = client.get(url)
        if page.status_code != 200 or not page["Content-Type"].startswith("text/html"):
            continue
        shown += 1
        html = page.content.decode()
        assert MARK not in html.lower(), f"{url} shows another organization's data: {_around(html)}"
    assert shown > 50


def test_production_serves_the_api_as_json_only():
    import subprocess
    import sys

    code = ("import django, os; django.setup(); from django.conf import settings; "
            "import json; print(json.dumps(settings.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES']))")
    env = {"DJANGO_SETTINGS_MODULE": "cxplatform.settings", "DEBUG": "0", "SECRET_KEY": "x" * 60,
           "PATH": "/usr/bin:/bin"}
    renderers = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                          check=True).stdout)
    assert renderers == ["rest_framework.renderers.JSONRenderer"]
