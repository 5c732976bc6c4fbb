"""One organization never sees another's data: every object URL answers 404 across tenants."""

import pytest
from django.apps import apps

from cxplatform.models import OrgScopedModel
from tests import factories
from tests.urlwalk import object_routes, url_for_org

pytestmark = pytest.mark.django_db

OUR_APPS = {"cxplatform", "journeys", "surveys", "feedback", "metrics", "actions"}


def org_rows(org):
    """Every row of every organization-scoped model of `org`, to prove nothing changed."""
    snapshot = {}
    for model in apps.get_models():
        if model._meta.app_label in OUR_APPS and issubclass(model, OrgScopedModel):
            snapshot[model._meta.label] = sorted(
                map(repr, model.objects.filter(organization=org).values()), key=str
            )
    return snapshot


def test_the_walk_finds_object_urls():
    # Guards the walk itself: if URL discovery broke, the test below would pass on nothing.
    names = {r.name for r in object_routes()}
    assert {"customer_detail", "journeys:touchpoint_detail", "customer-detail"} <= names


@pytest.mark.parametrize("route", object_routes(), ids=lambda r: r.name)
def test_object_urls_of_another_organization_are_404(route, org_a, org_b, make_member, client_for):
    owner = client_for(make_member(org_b))
    intruder = client_for(make_member(org_a))
    url = url_for_org(route, org_b, factories.make)
    before = org_rows(org_b)

    statuses = {
        method: getattr(intruder, method)(url, content_type="application/json", data={}).status_code
        for method in ("get", "post", "put", "patch", "delete")
    }
    assert set(statuses.values()) <= {404, 405}, f"{url}: {statuses}"
    assert 404 in statuses.values(), f"{url}: no method reached the object lookup: {statuses}"
    assert org_rows(org_b) == before, f"{url}: another organization's request changed data"

    # The same URL works for the organization that owns the rows, so the 404 above is
    # the tenancy check and not a wrongly built URL.
    status = owner.get(url).status_code
    if status == 405:
        status = owner.post(url).status_code
    assert status != 404, f"{url}: the owner got 404 too, so the walk built a wrong URL"


def test_an_unknown_id_gives_the_same_404_as_a_foreign_one(org_a, org_b, make_member, client_for):
    intruder = client_for(make_member(org_a))
    foreign = factories.customer(org_b)
    missing_id = foreign.pk + 10_000
    a = intruder.get(f"/customers/{foreign.pk}/")
    b = intruder.get(f"/customers/{missing_id}/")
    assert a.status_code == b.status_code == 404
    assert a.content == b.content


def test_lists_show_only_the_current_organization(org_a, org_b, make_member, client_for):
    mine = factories.customer(org_a)
    theirs = factories.customer(org_b)
    client = client_for(make_member(org_a))
    page = client.get("/customers/").content.decode()
    assert mine.name in page and theirs.name not in page
    api = client.get("/api/v1/customers/").json()
    ids = {row["id"] for row in api["results"]}
    assert mine.pk in ids and theirs.pk not in ids


def test_a_member_of_two_organizations_switches_between_them(org_a, org_b, make_member, client_for):
    from cxplatform.models import Membership

    user = make_member(org_a)
    Membership.objects.create(user=user, organization=org_b, role="viewer")
    theirs = factories.customer(org_b)
    client = client_for(user)
    assert client.get(f"/customers/{theirs.pk}/").status_code == 404
    client.post("/organization/switch/", {"organization": "beta", "next": "/customers/"})
    assert client.get(f"/customers/{theirs.pk}/").status_code == 200
    # Switching to an organization one is not a member of changes nothing.
    outsider = Membership.objects.get(user=user, organization=org_a)
    outsider.delete()
    client.post("/organization/switch/", {"organization": "alpha"})
    assert client.get(f"/customers/{theirs.pk}/").status_code == 200


def test_an_api_token_acts_for_its_own_organization_whatever_the_header_says(org_a, org_b, make_member):
    from rest_framework.test import APIClient

    from cxplatform.models import Membership
    from cxplatform.tokens.services import create_token

    user = make_member(org_a)
    Membership.objects.create(user=user, organization=org_b, role="admin")
    _token, raw = create_token(user=user, organization=org_b, name="Beta CRM", scopes=["read"])
    factories.customer(org_a)
    theirs = factories.customer(org_b)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for header in ({}, {"HTTP_X_ORGANIZATION": "beta"}):
        ids = {r["id"] for r in api.get("/api/v1/customers/", **header).json()["results"]}
        assert ids == {theirs.pk}
    # Another organization, even one the person belongs to, is refused: the token is beta's.
    for slug in ("alpha", "nope"):
        refused = api.get("/api/v1/customers/", HTTP_X_ORGANIZATION=slug)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
