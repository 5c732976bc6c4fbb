"""Who may read the API's map and how a caller without credentials is told what to send."""

import pytest
from django.test import Client

from cxplatform.models import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/schema/", "/api/v1/feedback/items/", "/api/v1/customers/",
                                 "/api/v1/metrics/summary/"])
def test_without_credentials_the_api_answers_401_naming_the_scheme(url):
    answer = Client().get(url)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "openapi" not in answer.content.decode().lower()


def test_a_wrong_token_is_401_too():
    answer = Client().get("/api/v1/schema/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert answer.status_code == 401 and answer["WWW-Authenticate"] == 'Bearer realm="api"'


def test_signed_in_people_and_tokens_read_the_schema(org_a, make_member, client_for, api_headers):
    user = make_member(org_a, Role.VIEWER)
    by_session = client_for(user).get("/api/v1/schema/")
    by_token = Client().get("/api/v1/schema/", **api_headers(user, org_a, scopes=["read"]))
    for answer in (by_session, by_token):
        assert answer.status_code == 200 and b"openapi:" in answer.content


def test_a_signed_in_non_member_is_forbidden_not_asked_to_sign_in(django_user_model):
    outsider = django_user_model.objects.create_user(username="nobody", password="x-pass-123456")
    client = Client()
    client.force_login(outsider)
    assert client.get("/api/v1/customers/").status_code == 403
