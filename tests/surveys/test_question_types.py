"""Every question kind read from a form and from JSON: good answers stored in the right Answer
fields, hostile ones refused with a sentence per question and nothing stored."""

import uuid

import pytest
from django.http import QueryDict

from surveys import services
from surveys.models import Answer, Question, Response
from tests import factories

pytestmark = pytest.mark.django_db

OPTIONS = [{"value": "price", "label": {"en": "Price", "ru": "Цена", "lv": "Cena"}},
           {"value": "speed", "label": {"en": "Speed"}},
           {"value": "staff", "label": {"en": "Staff"}}]
ROWS = [{"value": "app", "label": {"en": "The app"}}, {"value": "courier", "label": {"en": "The courier"}}]


@pytest.fixture
def survey(org_a):
    survey = factories.survey(org_a, "nps")
    factories.question(org_a, survey, kind="rating", key="rate", scale_min=0, scale_max=10)
    factories.question(org_a, survey, kind="single_choice", key="why", choices=OPTIONS, allow_other=True)
    factories.question(org_a, survey, kind="multiple_choice", key="used", choices=OPTIONS, allow_other=True)
    factories.question(org_a, survey, kind="matrix", key="grid", rows=ROWS, scale_min=1, scale_max=7)
    factories.question(org_a, survey, kind="ranking", key="order", choices=OPTIONS)
    factories.question(org_a, survey, kind="yes_no", key="again")
    factories.question(org_a, survey, kind="consent", key="gdpr")
    factories.question(org_a, survey, kind="statement", key="note")
    factories.question(org_a, survey, kind="text", key="more")
    return survey


def form(**fields) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            data.appendlist(name, str(one))
    return data


def record(survey, data, *, complete=True):
    sub = services.clean_submission(survey, data, complete=complete)
    response, _created = services.record_response(survey=survey, submission=sub, complete=complete, language="en",
                                                  token=uuid.uuid4())
    return {a.question.key: a for a in Answer.objects.filter(response=response).select_related("question")}


def refused(survey, data, *, complete=True) -> dict:
    with pytest.raises(services.SubmissionError) as caught:
        services.clean_submission(survey, data, complete=complete)
    return caught.value.errors


def test_every_kind_from_the_page_is_stored_in_its_fields(survey):
    stored = record(survey, form(**{
        "score": 9, "rate": 0, "why": "_other", "why__other": "  The colour ", "used": ["staff", "price"],
        "grid__app": 7, "grid__courier": 1, "order__speed": 1, "order__staff": 2, "order__price": 3,
        "again": "no", "gdpr": "yes", "note": "ignored", "more": "Fine"}))
    assert stored["rate"].number == 0
    assert (stored["why"].choices, stored["why"].text) == (["_other"], "The colour")
    assert stored["used"].choices == ["price", "staff"]  # in the options' order
    assert stored["grid"].grid == {"app": 7, "courier": 1}
    assert stored["order"].choices == ["speed", "staff", "price"]  # ranked order
    assert stored["again"].choices == ["no"]
    assert stored["gdpr"].choices == ["yes"]
    assert stored["more"].text == "Fine"
    assert "note" not in stored  # a statement is never an answer


def test_every_kind_from_json(survey):
    stored = record(survey, {
        "score": 10, "rate": 10, "why": "price", "used": ["speed", "_other"], "used__other": "Colour",
        "grid": {"courier": 3, "app": 2}, "order": ["staff", "price", "speed"], "again": "yes", "gdpr": "yes"})
    assert (stored["why"].choices, stored["why"].text) == (["price"], "")
    assert (stored["used"].choices, stored["used"].text) == (["speed", "_other"], "Colour")
    assert stored["grid"].grid == {"app": 2, "courier": 3}
    assert stored["order"].choices == ["staff", "price", "speed"]
    assert stored["again"].choices == ["yes"]


HOSTILE = [
    ({"rate": 11}, "rate", "from 0 to 10"),
    ({"rate": "٣"}, "rate", "from 0 to 10"),
    ({"rate": True}, "rate", "from 0 to 10"),
    ({"rate": [1, 2]}, "rate", "single value"),
    ({"rate": {"x": 1}}, "rate", "single value"),
    ({"why": "cheese"}, "why", "one of the options"),
    ({"why": 3}, "why", "one of the options"),
    ({"why": ["price"]}, "why", "single value"),
    ({"why": "_other"}, "why", "Other"),
    ({"why": "_other", "why__other": "a\x00b"}, "why", "NUL"),
    ({"why": "_other", "why__other": "\ud800"}, "why", "invalid characters"),
    ({"why": "_other", "why__other": {"a": 1}}, "why", "single value"),
    ({"used": ["price", "price"]}, "used", "only once"),
    ({"used": ["price", "cheese"]}, "used", "among the options"),
    ({"used": [{"value": "price"}]}, "used", "among the options"),
    ({"used": ["price"] * 5000}, "used", "among the options"),
    ({"grid": {"app": 8}}, "grid", "from 1 to 7"),
    ({"grid": {"kitchen": 3}}, "grid", "rows shown"),
    ({"grid": ["app", 3]}, "grid", "on its own"),
    ({"grid": {"app": {"n": 3}}}, "grid", "from 1 to 7"),
    ({"order": ["price", "speed"]}, "order", "every option"),
    ({"order": ["price", "price", "speed"]}, "order", "only one place"),
    ({"order": ["price", "speed", "cheese"]}, "order", "options shown"),
    ({"order": {"price": 1, "speed": 1, "staff": 2}}, "order", "only one option"),
    ({"order": {"price": 1, "speed": 2, "staff": 4}}, "order", "from 1 to 3"),
    ({"order": "price"}, "order", "in order"),
    ({"again": "maybe"}, "again", "yes or no"),
    ({"again": True}, "again", "yes or no"),
    ({"gdpr": "no"}, "gdpr", "consent"),
    ({"more": 12}, "more", "Expected text"),
    ({"more": "x" * 100_000}, "more", "under"),
]


@pytest.mark.parametrize(("answers", "field", "message"), HOSTILE)
def test_hostile_json_is_refused_with_a_message_and_nothing_stored(survey, answers, field, message):
    errors = refused(survey, {"score": 9, **answers})
    assert list(errors) == [field]
    assert message in errors[field]
    assert not Response.objects.exists()


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"grid__app": "9"}, "grid", "from 1 to 7"),
    ({"grid__kitchen": "3"}, "grid", "rows shown"),
    ({"order__price": "1", "order__speed": "2"}, "order", "every option"),
    ({"order__price": "1", "order__speed": "1", "order__staff": "3"}, "order", "only one option"),
    ({"order__price": "1", "order__speed": "2", "order__cheese": "3"}, "order", "options shown"),
    ({"used": ["price", "nope"]}, "used", "among the options"),
])
def test_hostile_form_fields_are_refused(survey, fields, field, message):
    errors = refused(survey, form(score=9, **fields))
    assert list(errors) == [field]
    assert message in errors[field]


def test_other_only_when_the_question_offers_it(org_a, survey):
    Question.objects.filter(key="why").update(allow_other=False)
    survey = type(survey).objects.get(pk=survey.pk)
    assert "options" in refused(survey, {"score": 9, "why": "_other", "why__other": "Colour"})["why"]


@pytest.mark.parametrize("kind", ["rating", "single_choice", "multiple_choice", "matrix", "ranking", "yes_no",
                                  "consent", "text"])
def test_a_required_question_must_be_answered_on_completion_only(org_a, kind):
    survey = factories.survey(org_a, "nps")
    factories.question(org_a, survey, kind=kind, key="q", required=True, choices=OPTIONS, rows=ROWS)
    errors = refused(survey, {"score": 9})
    assert list(errors) == ["q"]
    assert services.clean_submission(survey, {"score": 9}, complete=False).answers == {}
    optional = factories.survey(org_a, "nps")
    factories.question(org_a, optional, kind=kind, key="q", required=False, choices=OPTIONS, rows=ROWS)
    assert services.clean_submission(optional, {"score": 9}, complete=True).answers == {}


def test_a_required_consent_says_consent_is_needed(org_a):
    survey = factories.survey(org_a, "nps")
    factories.question(org_a, survey, kind="consent", key="gdpr", required=True)
    assert "consent" in refused(survey, {"score": 9})["gdpr"]
    assert record(survey, {"score": 9, "gdpr": "yes"})["gdpr"].choices == ["yes"]


def test_a_required_statement_never_needs_an_answer(org_a):
    survey = factories.survey(org_a, "nps")
    factories.question(org_a, survey, kind="statement", key="note", required=True)
    assert services.clean_submission(survey, {"score": 9, "note": "x"}, complete=True).answers == {}


def test_a_required_matrix_needs_every_row_but_an_optional_one_takes_some(org_a):
    survey = factories.survey(org_a, "nps")
    factories.question(org_a, survey, kind="matrix", key="grid", rows=ROWS, required=True)
    assert "every row" in refused(survey, {"score": 9, "grid": {"app": 3}})["grid"]
    optional = factories.survey(org_a, "nps")
    factories.question(org_a, optional, kind="matrix", key="grid", rows=ROWS)
    assert record(optional, {"score": 9, "grid": {"app": 3}})["grid"].grid == {"app": 3}


def test_csi_importance_is_read_on_one_to_five(org_a):
    survey = factories.survey(org_a, "csi")
    factories.question(org_a, survey, kind="csi_attribute", key="speed", ask_importance=True)
    assert (record(survey, {"speed": 4, "speed__importance": 5})["speed"].importance) == 5
    assert "importance" in refused(survey, {"speed": 4, "speed__importance": 6})["speed"]


def test_a_changed_answer_replaces_every_field_of_the_old_one(survey):
    token = uuid.uuid4()
    for data in ({"score": 9, "why": "_other", "why__other": "Colour"}, {"score": 9, "why": "price"}):
        sub = services.clean_submission(survey, data, complete=True)
        services.record_response(survey=survey, submission=sub, complete=True, language="en", token=token)
    answer = Answer.objects.get(question__key="why")
    assert (answer.choices, answer.text) == (["price"], "")


def test_a_key_that_extends_another_is_not_read_as_its_row(org_a):
    survey = factories.survey(org_a, "nps")
    factories.question(org_a, survey, kind="matrix", key="grid", rows=ROWS)
    factories.question(org_a, survey, kind="text", key="grid__notes")
    stored = record(survey, form(score=9, grid__app=3, grid__notes="Kind"))
    assert stored["grid"].grid == {"app": 3}
    assert stored["grid__notes"].text == "Kind"
