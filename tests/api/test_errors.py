"""One body for every 4xx of the API, `{"error": {"code", "message", "fields"}}`, in the caller's
language; fields only for validation errors."""

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from cxplatform.api_errors import exception_handler
from cxplatform.models import Role
from tests import factories

pytestmark = pytest.mark.django_db


def shape(answer, status, code, *, fields=False):
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code and isinstance(error["message"], str) and error["message"], error
    assert ("fields" in error) is fields, error
    return error


@pytest.fixture
def manager(org_a, make_member, api_headers):
    return Client(**api_headers(make_member(org_a, Role.ADMIN), org_a))


def test_validation_errors_name_their_fields(manager):
    error = shape(manager.post("/api/v1/customers/", {"email": "not-an-address"}, content_type="application/json"),
                  400, "invalid", fields=True)
    assert "email" in error["fields"] and isinstance(error["fields"]["email"], list)
    assert "email" in error["message"]


def test_a_body_that_is_not_json_is_a_parse_error(manager):
    shape(manager.post("/api/v1/customers/", "{not json", content_type="application/json"), 400, "parse_error")


def test_a_nul_in_an_api_path_is_the_same_shape(manager):
    shape(manager.get("/api/v1/customers/?q=%00"), 400, "invalid")


def test_401_without_and_with_a_bad_token():
    shape(Client().get("/api/v1/customers/"), 401, "not_authenticated")
    shape(Client().get("/api/v1/customers/", HTTP_AUTHORIZATION="Bearer cxp_x_y"), 401, "authentication_failed")


def test_403_for_a_role_that_may_not(org_a, make_member, api_headers, client_for):
    viewer = make_member(org_a, Role.VIEWER)
    shape(Client(**api_headers(viewer, org_a)).post("/api/v1/personas/", {"name": "X"},
                                                    content_type="application/json"), 403, "permission_denied")
    # Through the session too (the read-only safety net answers before DRF does).
    shape(client_for(viewer).post("/api/v1/personas/", {"name": "X"}, content_type="application/json"),
          403, "permission_denied")


def test_404_for_a_missing_object_and_an_unknown_route(manager, org_b):
    foreign = factories.customer(org_b)
    shape(manager.get(f"/api/v1/customers/{foreign.pk}/"), 404, "not_found")
    shape(manager.get("/api/v1/no-such-thing/"), 404, "not_found")
    # Outside the API, the site's page as before.
    assert "text/html" in Client().get("/no-such-page/")["Content-Type"]


def test_405_415_and_409(manager, org_a):
    shape(manager.delete("/api/v1/customers/"), 405, "method_not_allowed")
    shape(manager.post("/api/v1/customers/", "external_id=1", content_type="text/plain"), 415,
          "unsupported_media_type")
    team = factories.team(org_a)
    url = f"/api/v1/feedback/teams/{team.pk}/"
    seen = manager.get(url).json()["version"]
    assert manager.patch(url, {"name": "One", "version": seen}, content_type="application/json").status_code == 200
    shape(manager.patch(url, {"name": "Two", "version": seen}, content_type="application/json"), 409, "stale_version")


def test_429_has_the_shape_too():
    request = Request(APIRequestFactory().get("/api/v1/customers/"))
    answer = exception_handler(Throttled(wait=30), {"request": request, "view": None})
    assert answer.status_code == 429 and answer.data["error"]["code"] == "throttled"
    assert answer["Retry-After"] == "30"


@pytest.mark.parametrize("language", ["ru", "lv"])
def test_the_message_is_in_the_callers_language(manager, language):
    with translation.override(language):
        expected = str(translation.gettext("Authentication credentials were not provided."))
        required = str(translation.gettext("This field is required."))
    assert expected != "Authentication credentials were not provided."
    error = shape(Client().get("/api/v1/customers/", HTTP_ACCEPT_LANGUAGE=language), 401, "not_authenticated")
    assert error["message"] == expected
    error = shape(manager.post("/api/v1/personas/", {}, content_type="application/json",
                               HTTP_ACCEPT_LANGUAGE=language), 400, "invalid", fields=True)
    assert error["fields"]["name"] == [required]


def test_incoming_webhooks_keep_their_documented_shape(org_a):
    answer = Client().post("/hooks/feedback/nope/", data="[]", content_type="application/json")
    assert answer.status_code == 404 and "detail" in answer.json()


def test_the_schema_documents_the_error_body(org_a, make_member, client_for):
    import yaml

    schema = yaml.safe_load(client_for(make_member(org_a)).get("/api/v1/schema/").content)
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    operation = schema["paths"]["/api/v1/customers/"]["post"]
    for status in ("400", "401", "403", "404", "415"):
        assert operation["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"}, status
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {"bearerAuth": []} in operation["security"]
