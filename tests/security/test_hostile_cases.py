"""The hostile requests of the issue, one by one: each is refused with a 400 (or 404) that says why
in the reader's language, and nothing is written to the database. The walk over every route and
operation is in test_hostile_input.py."""

import json
import re

import pytest
from axes.models import AccessAttempt
from django.test import Client

from cxplatform.input_checks import int_or_none, local_path, parse_int, text_problem
from cxplatform.models import Role
from surveys.models import Response
from tests import factories
from tests.apierrors import error_fields
from tests.security.hostile import row_counts
from tests.security.test_hostile_input import _body_fields, _operations, _resolve_ref, _schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(org_a, make_member, client_for):
    return client_for(make_member(org_a, Role.ADMIN))


def _unchanged(before):
    after = row_counts()
    assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}


# --- No login needed ------------------------------------------------------------------------------

@pytest.mark.parametrize(("language", "words"), [("en", "The text contains a NUL character."),
                                                  ("ru", "Текст содержит символ NUL."),
                                                  ("lv", "Teksts satur NUL rakstzīmi.")])
def test_a_nul_in_a_survey_path_is_a_400_page_in_the_readers_language(org_a, language, words):
    distribution = factories.distribution(org_a)
    before = row_counts()
    for url in ("/s/%00/", f"/s/{distribution.public_id}%00/thanks/"):
        page = Client().get(url, HTTP_ACCEPT_LANGUAGE=language)
        html = page.content.decode()
        assert page.status_code == 400, url
        assert words in html and 'class="topbar"' in html, url  # the site's 400 page, with the reason
    _unchanged(before)


def test_a_nul_in_a_webhook_path_is_a_json_400(org_a):
    before = row_counts()
    answer = Client().post("/hooks/feedback/%00/", data="[]", content_type="application/json")
    assert answer.status_code == 400
    assert answer.json() == {"detail": "The text contains a NUL character."}
    _unchanged(before)


def _survey_page(client, distribution):
    """Opens the public page as a respondent does; the token of their answer is in its form."""
    page = client.get(f"/s/{distribution.public_id}/")
    assert page.status_code == 200
    return re.search(r'name="token" value="([^"]+)"', page.content.decode()).group(1)


@pytest.mark.parametrize("score", ["9" * 5000, "²", "-99999999999999999999999999", "[]"])
def test_an_impossible_score_on_the_public_page_is_refused_on_the_page(org_a, score):
    distribution = factories.distribution(org_a)
    client = Client()
    token = _survey_page(client, distribution)
    before = row_counts()
    page = client.post(f"/s/{distribution.public_id}/", {"token": token, "score": score})
    assert page.status_code == 400
    assert "Please choose a score from 0 to 10." in page.content.decode()
    _unchanged(before)
    assert not Response.objects.filter(token=token, status=Response.Status.COMPLETED).exists()


def test_a_login_username_longer_than_its_column_is_refused_in_words():
    before = row_counts()
    page = Client().post("/login/", {"username": "u" * 300, "password": "whatever-1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400
    assert "Ensure this value has at most 150 characters (it has 300)." in page.content.decode()
    _unchanged(before)


def test_any_login_form_counts_a_long_username_without_failing():
    # The admin's login form keeps Django's own (no length check): django-axes gets the name cut
    # to its column, and the failure is counted like any other.
    page = Client().post("/admin/login/", {"username": "u" * 300, "password": "whatever-1"})
    assert page.status_code == 200 and "errornote" in page.content.decode()
    assert AccessAttempt.objects.get().username == "u" * 255


# --- Signed in ------------------------------------------------------------------------------------

def _choice_operations():
    """(method, path, field) of every API write that takes a field with fixed choices."""
    schema = _schema()
    found = []
    for path, method, operation in _operations(schema):
        if method in ("post", "put", "patch") and "{" not in path:
            for name, prop in _body_fields(schema, operation).items():
                options = [_resolve_ref(schema, o) for o in prop.get("oneOf", []) + prop.get("allOf", [])]
                if "enum" in prop or any("enum" in option for option in options):
                    found.append((method, path, name))
    return found


def test_a_lone_surrogate_in_any_choice_field_is_a_400_that_does_not_echo_it(admin_client):
    operations = _choice_operations()
    assert len({path for _m, path, _f in operations}) >= 9, operations
    before = row_counts()
    for method, path, field in operations:
        answer = getattr(admin_client, method)(path, data=json.dumps({field: "\ud800"}),
                                               content_type="application/json", HTTP_ACCEPT_LANGUAGE="ru")
        assert answer.status_code == 400, (path, field, answer.content[:200])
        assert error_fields(answer) == {field: ["Текст содержит недопустимые символы."]}, (path, field)
    _unchanged(before)


def test_an_error_that_echoes_a_lone_surrogate_is_still_an_answer():
    # The exception handler's guard, for an error raised with text that never went through the
    # parser (a query parameter decoded by other means, a header).
    from rest_framework.exceptions import ValidationError

    from cxplatform.api_errors import exception_handler

    answer = exception_handler(ValidationError({"status": ['"\ud800" is not a valid choice.']}), {})
    assert answer.status_code == 400
    assert answer.data == {"status": ['"\ufffd" is not a valid choice.']}


def test_an_impossible_submitted_at_is_a_400_on_the_field(org_a, admin_client):
    distribution = factories.distribution(org_a)
    before = row_counts()
    answer = admin_client.post("/api/v1/responses/", data=json.dumps({
        "distribution": distribution.public_id, "answers": {"score": 9}, "submitted_at": "2026-02-30T10:00:00Z"}),
        content_type="application/json")
    assert answer.status_code == 400
    assert error_fields(answer) == {"submitted_at": "There is no such date and time: check the day and the hour."}
    _unchanged(before)


@pytest.mark.parametrize("template", [[], {}, ["customer-onboarding"], {"slug": "x"}, 7])
def test_a_template_that_is_not_a_name_is_a_400(admin_client, template):
    before = row_counts()
    answer = admin_client.post("/api/v1/journey-maps/import/", data=json.dumps({"template": template}),
                               content_type="application/json")
    assert answer.status_code == 400
    assert error_fields(answer) == {"errors": ["“template” is the name of a template, as text."]}
    _unchanged(before)


@pytest.mark.parametrize("body", [[], [{"days": 30}], "30", {"days": "9" * 5000}, {"days": "²"}, {"days": True}])
def test_a_close_loop_rule_applied_with_a_body_that_is_no_number_of_days_is_a_400(org_a, admin_client, body):
    rule = factories.close_loop_rule(org_a)
    before = row_counts()
    answer = admin_client.post(f"/api/v1/feedback/close-loop-rules/{rule.pk}/apply/", data=json.dumps(body),
                               content_type="application/json")
    assert answer.status_code == 400
    assert error_fields(answer) == {"days": ["Say how many days back to look: from 1 to 365."]}
    _unchanged(before)


def test_a_nul_in_the_customer_search_is_a_400_page(admin_client):
    before = row_counts()
    page = admin_client.get("/customers/?q=%00", HTTP_ACCEPT_LANGUAGE="lv")
    assert page.status_code == 400 and "Teksts satur NUL rakstzīmi." in page.content.decode()
    _unchanged(before)


def test_a_nul_in_a_form_field_is_that_fields_error(org_a, admin_client):
    before = row_counts()
    page = admin_client.post("/journeys/personas/new/", {"name": "a\x00b"})
    assert page.status_code == 400 and "Null characters are not allowed." in page.content.decode()
    _unchanged(before)


def test_a_nul_in_the_organization_switch_changes_nothing(org_a, admin_client):
    answer = admin_client.post("/organization/switch/", {"organization": "a\x00b", "next": "a\x00b"})
    assert answer.status_code == 302 and answer["Location"] == "/"


def test_a_nul_in_a_json_field_is_that_fields_error(org_a, admin_client):
    distribution = factories.distribution(org_a)
    before = row_counts()
    answer = admin_client.post("/api/v1/responses/", data=json.dumps({
        "distribution": distribution.public_id, "answers": {"score": 9, "comment": "a\x00b"}}),
        content_type="application/json")
    assert answer.status_code == 400
    assert error_fields(answer) == {"answers": {"comment": ["The text contains a NUL character."]}}
    _unchanged(before)


def test_a_nul_in_a_form_body_of_the_api_is_that_fields_error(org_a, admin_client):
    persona = factories.persona(org_a)
    answer = admin_client.patch(f"/api/v1/personas/{persona.pk}/", data="name=a%00b",
                                content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 400 and error_fields(answer) == {"name": ["The text contains a NUL character."]}
    persona.refresh_from_db()
    assert "\x00" not in persona.name


# --- The helpers every place uses -----------------------------------------------------------------

@pytest.mark.parametrize("value", ["9" * 5000, "9" * 19, "²", "٣", "1.5", "", " ", "0x10", True, None, [], 2.0])
def test_parse_int_refuses_what_is_no_plain_integer(value):
    with pytest.raises(ValueError):
        parse_int(value)
    assert int_or_none(value) is None


def test_parse_int_takes_plain_integers_within_bounds():
    assert parse_int(" 42 ") == 42 and parse_int("-7") == -7 and parse_int(5, low=1, high=5) == 5
    assert int_or_none("6", low=1, high=5) is None and int_or_none("0", low=1) is None


def test_text_problem_names_nul_and_lone_surrogates_only():
    assert text_problem("Привет, 👋 ok") is None
    assert text_problem("a\x00") == "The text contains a NUL character."
    assert text_problem("\udc80") == "The text contains invalid characters."


@pytest.mark.parametrize(("value", "expected"), [("/inbox/?view=mine", "/inbox/?view=mine"), ("//evil.example", None),
                                                 ("/\\evil.example", None), ("feedback:index", None),
                                                 ("/a\x00b", None), ("/a\r\nSet-Cookie: x", None), (None, None)])
def test_local_path_is_a_path_of_this_site_or_nothing(value, expected):
    assert local_path(value) == expected
