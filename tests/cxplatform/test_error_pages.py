"""An error is a page of the site: its frame, a sentence in the reader's language and a way back —
never a bare "403 Forbidden" — and the icon every browser asks for is there."""

import pytest
from django.test import Client

from cxplatform.models import Role

pytestmark = pytest.mark.django_db


def test_a_forbidden_page_explains_itself_in_the_readers_language(org_a, make_member, client_for):
    agent = client_for(make_member(org_a, Role.AGENT))
    page = agent.get("/surveys/new/", HTTP_ACCEPT_LANGUAGE="lv")
    html = page.content.decode()
    assert page.status_code == 403
    assert 'class="topbar"' in html and 'href="/"' in html  # the site's frame and a way back
    assert "Nav atļauts" in html and "Not allowed" not in html


@pytest.mark.parametrize(("language", "words"), [("en", "There is nothing at this address"),
                                                  ("ru", "По этому адресу ничего нет")])
def test_a_missing_page_is_the_sites_page(org_a, make_member, client_for, language, words):
    page = client_for(make_member(org_a, Role.VIEWER)).get("/surveys/987654/", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 404 and words in page.content.decode()
    assert "Back to the dashboard" in page.content.decode() or language != "en"


def test_someone_signed_out_is_offered_to_sign_in():
    page = Client().get("/no/such/page/")
    assert page.status_code == 404 and 'href="/login/"' in page.content.decode()


def test_a_server_error_page_needs_nothing_from_the_database():
    from django.template.loader import get_template

    html = get_template("500.html").render({})
    assert "Something went wrong" in html and 'class="topbar"' in html


def test_the_favicon_is_there():
    answer = Client().get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"].endswith("img/favicon.svg")
    assert 'rel="icon"' in Client().get("/login/").content.decode()
