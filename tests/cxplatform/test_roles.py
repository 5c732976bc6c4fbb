"""A viewer can look at everything and change nothing, on every URL, HTML or API."""

import pytest

from cxplatform.models import Role
from tests import factories
from tests.apierrors import error_fields
from tests.cxplatform.test_tenancy import org_rows
from tests.urlwalk import NON_OBJECT_KWARGS, routes, url_for_org

pytestmark = pytest.mark.django_db

# These change only the member's own session (language, organization, login state) or own
# preferences (the weekly digest e-mail, one's notifications read), never the organization's data.
# A browser's report of a Content-Security-Policy violation is only logged. A viewer's own API
# tokens are their own credentials (a token acts within its owner's role: read-only here).
SESSION_ONLY = {"login", "logout", "set_language", "switch_organization",
                "metrics:digest_subscription", "notifications_read", "notification_read", "notification_settings",
                "csp_report", "tokens:list", "tokens:revoke",
                # One's own second factor: set up, turned off, given at sign-in (cxplatform/signin).
                "signin:two_factor", "signin:two_factor_verify",
                # An export is a file of what the viewer may read, made by the export button's POST
                # (tests/surveys/test_export_jobs.py: pseudonymous for a viewer).
                "surveys:response_export_csv", "surveys:response_export_xlsx"}


def viewer_routes():
    return [r for r in routes() if r.name not in SESSION_ONLY and not set(r.kwargs) & NON_OBJECT_KWARGS]


@pytest.mark.parametrize("route", viewer_routes(), ids=lambda r: r.name)
def test_viewer_cannot_change_anything(route, org_a, make_member, client_for):
    viewer = client_for(make_member(org_a, Role.VIEWER))
    url = url_for_org(route, org_a, factories.make) if route.kwargs else route_url(route)
    before = org_rows(org_a)
    for method in ("post", "put", "patch", "delete"):
        response = getattr(viewer, method)(url, data={"name": "changed"}, content_type="application/json")
        assert response.status_code in (403, 405), f"{method.upper()} {url} gave {response.status_code}"
    assert org_rows(org_a) == before


def route_url(route):
    from django.urls import reverse

    return reverse(route.name)


def test_viewer_can_read(org_a, make_member, client_for):
    customer = factories.customer(org_a)
    viewer = client_for(make_member(org_a, Role.VIEWER))
    assert viewer.get(f"/customers/{customer.pk}/").status_code == 200
    assert viewer.get("/api/v1/responses/").status_code == 200
    # Customers' names, e-mails and phones do not leave the platform for a read-only role.
    assert viewer.get("/api/v1/customers/").status_code == 403


def test_agent_may_create_customers_but_viewer_may_not(org_a, make_member, client_for):
    payload = {"external_id": "X-1", "name": "Ieva", "email": "ieva@x.example"}
    agent = client_for(make_member(org_a, Role.AGENT))
    viewer = client_for(make_member(org_a, Role.VIEWER))
    assert viewer.post("/api/v1/customers/", payload, content_type="application/json").status_code == 403
    created = agent.post("/api/v1/customers/", payload, content_type="application/json")
    assert created.status_code == 201
    assert created.json()["external_id"] == "X-1"
    # The same external id twice is a clear 400, not a duplicate or a 500.
    again = agent.post("/api/v1/customers/", payload, content_type="application/json")
    assert again.status_code == 400
    assert "external_id" in error_fields(again)


def test_user_without_membership_gets_a_clear_page(db, django_user_model, client_for):
    lonely = django_user_model.objects.create_user(username="lonely", password="x-pass-123456")
    response = client_for(lonely).get("/")
    assert response.status_code == 403
    assert b"not a member of any organization" in response.content
