"""/api/v1/docs/: Swagger UI from our own static files, for signed-in people."""

import pytest
from django.test import Client

from cxplatform.models import Role

pytestmark = pytest.mark.django_db


def test_the_docs_need_a_sign_in():
    answer = Client().get("/api/v1/docs/")
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")


def test_the_docs_page_loads_swagger_ui_from_our_static_files_with_no_inline_script(org_a, make_member, client_for):
    page = client_for(make_member(org_a, Role.VIEWER)).get("/api/v1/docs/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/js/api_docs.js" in html and 'data-schema-url="/api/v1/schema/"' in html
    assert "<script>" not in html and "cdn" not in html.lower()


@pytest.mark.parametrize("path", ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-dist/swagger-ui.css"])
def test_the_sidecar_files_are_served(path):
    from django.contrib.staticfiles import finders

    assert finders.find(f"drf_spectacular_sidecar/{path}")
