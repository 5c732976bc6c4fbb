"""The server decides what is stored by the survey's logic: an answer to a question the respondent
was not shown is dropped — on a complete or a partial save, through the page or the API — and a
required question is required only when shown."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from cxplatform.models import Role
from surveys import logic, services
from surveys.models import Answer, Response, Survey
from tests import factories
from tests.respondent import thanked

pytestmark = pytest.mark.django_db

REASONS = [{"value": "price", "label": {"en": "Price"}}, {"value": "speed", "label": {"en": "Speed"}}]


@pytest.fixture
def survey(org_a):
    """Page 1: the score, `why` (a choice), `price_detail` shown only for "price" (required).
    A detractor jumps from page 1 straight to page 3, over page 2's `extra`; page 3 has `last`."""
    survey = factories.survey(org_a, "nps")
    survey.pages = [{"jumps": [{"when": {"field": "band", "op": "equals", "value": "detractor"}, "to": 3}]}, {}, {}]
    survey.save()
    factories.question(org_a, survey, kind="single_choice", key="why", choices=REASONS)
    factories.question(org_a, survey, kind="text", key="price_detail", required=True,
                       show_if={"field": "answer.why", "op": "equals", "value": "price"})
    factories.question(org_a, survey, kind="yes_no", key="extra", page=2)
    factories.question(org_a, survey, kind="text", key="last", page=3)
    return Survey.objects.get(pk=survey.pk)


def stored(token) -> dict:
    return {a.question.key: a for a in Answer.objects.filter(response__token=token).select_related("question")}


def test_a_hidden_question_is_not_required_and_its_answer_is_dropped(survey):
    sub = services.clean_submission(survey, {"score": 9, "why": "speed", "price_detail": "Too dear", "extra": "yes"},
                                    complete=True)
    assert set(sub.answers) == {"why", "extra"}  # price_detail was not shown: neither required nor kept


def test_a_shown_required_question_must_be_answered(survey):
    with pytest.raises(services.SubmissionError) as caught:
        services.clean_submission(survey, {"score": 9, "why": "price"}, complete=True)
    assert list(caught.value.errors) == ["price_detail"]


def test_a_hidden_questions_bad_value_is_not_an_error(survey):
    sub = services.clean_submission(survey, {"score": 9, "why": "speed", "price_detail": "a\x00b"}, complete=True)
    assert "price_detail" not in sub.answers


def test_a_jump_over_a_page_drops_that_pages_answers(survey):
    sub = services.clean_submission(survey, {"score": 3, "extra": "yes", "last": "Slow"}, complete=True)
    assert set(sub.answers) == {"last"}
    promoter = services.clean_submission(survey, {"score": 10, "extra": "yes", "last": "Quick"}, complete=True)
    assert set(promoter.answers) == {"extra", "last"}


def test_the_callers_facts_decide_conditions_on_the_visit(org_a):
    survey = factories.survey(org_a, "nps")
    factories.question(org_a, survey, kind="text", key="store", show_if={"field": "hidden.store", "op": "equals",
                                                                          "value": "Riga"})
    factories.question(org_a, survey, kind="text", key="vip", show_if={"field": "segment", "op": "equals",
                                                                        "value": "gold"})
    data = {"score": 9, "store": "Nice", "vip": "Yes"}
    assert services.clean_submission(survey, data, complete=True).answers == {}
    customer = factories.customer(org_a)
    customer.attributes = {"segment": "gold"}
    facts = services.visit_facts(survey=survey, language="en", customer=customer, hidden={"store": "Riga"})
    assert set(services.clean_submission(survey, data, complete=True, facts=facts).answers) == {"store", "vip"}
    other = logic.Facts(hidden={"store": "Tallinn"})
    assert services.clean_submission(survey, data, complete=True, facts=other).answers == {}


def _post(client, link, path, **data):
    return client.post(reverse(path, kwargs={"public_id": link.public_id}), {"c": "", **data})


def test_through_the_page_a_complete_answer_drops_what_became_hidden(org_a, survey):
    link = factories.distribution(org_a, survey)
    client, token = Client(), str(uuid.uuid4())
    first = _post(client, link, "respond:page", token=token, score="9", why="price", price_detail="Too dear")
    assert thanked(first)
    assert set(stored(token)) == {"why", "price_detail"}
    # Changed their mind: "speed" hides the price question, so its answer goes, though resent.
    again = _post(client, link, "respond:page", token=token, score="9", why="speed", price_detail="Too dear")
    assert thanked(again)
    assert set(stored(token)) == {"why"}


def test_through_the_page_a_partial_save_never_stores_a_hidden_answer(org_a, survey):
    link = factories.distribution(org_a, survey)
    token = str(uuid.uuid4())
    saved = _post(Client(), link, "respond:save", token=token, score="2", why="speed", price_detail="Dear",
                  extra="yes", last="Slow")
    assert saved.status_code == 204
    assert set(stored(token)) == {"why", "last"}  # price_detail not shown; page 2 jumped over
    assert Response.objects.get(token=token).status == Response.Status.STARTED


def test_through_the_page_a_required_hidden_question_does_not_block(org_a, survey):
    link = factories.distribution(org_a, survey)
    token = str(uuid.uuid4())
    assert thanked(_post(Client(), link, "respond:page", token=token, score="9", why="speed"))
    refused = _post(Client(), link, "respond:page", token=str(uuid.uuid4()), score="9", why="price")
    assert refused.status_code == 400


@pytest.fixture
def api(org_a, make_member):
    client = APIClient()
    client.force_authenticate(make_member(org_a, Role.CX_MANAGER))
    return client


def test_through_the_api_a_hidden_answer_is_dropped_and_hidden_fields_count(api, org_a, survey):
    link = factories.distribution(org_a, survey)
    body = {"distribution": link.public_id, "answers": {"score": 3, "why": "speed", "price_detail": "x",
                                                        "extra": "no", "last": "Slow"}}
    created = api.post("/api/v1/responses/", body, format="json")
    assert created.status_code == 201, created.json()
    assert set(created.json()["answers"]) == {"why", "last"}
    refused = api.post("/api/v1/responses/", {**body, "answers": {"score": 9, "why": "price"}}, format="json")
    assert refused.status_code == 400
    assert "price_detail" in refused.json()["error"]["fields"]["answers"]


def test_through_the_api_conditions_read_the_links_touchpoint_and_hidden_fields(api, org_a):
    survey = factories.survey(org_a, "nps")
    link = factories.distribution(org_a, survey)
    factories.question(org_a, survey, kind="text", key="here", show_if={"field": "touchpoint", "op": "equals",
                                                                         "value": link.touchpoint_id})
    factories.question(org_a, survey, kind="text", key="order", show_if={"field": "hidden.order", "op": "answered"})
    body = {"distribution": link.public_id, "answers": {"score": 9, "here": "Yes", "order": "A-1"}}
    assert set(api.post("/api/v1/responses/", body, format="json").json()["answers"]) == {"here"}
    with_order = api.post("/api/v1/responses/", {**body, "hidden_fields": {"order": "A-1"}}, format="json")
    assert set(with_order.json()["answers"]) == {"here", "order"}


def _partial(survey, token, data):
    sub = services.clean_submission(survey, data, complete=False)
    services.record_response(survey=survey, submission=sub, complete=False, language="en", token=token)


def test_a_later_partial_save_drops_a_stored_answer_its_logic_now_hides(survey):
    """The page keeps answers as the customer goes: a score moved from a promoter's 10 to a 3
    jumps over page 2, so the page-2 answer saved a moment ago is no longer an answer."""
    token = uuid.uuid4()
    _partial(survey, token, {"score": "10", "why": "price", "price_detail": "Too dear", "extra": "yes"})
    assert set(stored(token)) == {"why", "price_detail", "extra"}
    _partial(survey, token, {"score": "3"})  # a one-click score or the next autosave
    assert set(stored(token)) == {"why", "price_detail"}
    _partial(survey, token, {"why": "speed"})  # the reason changes: its detail goes with it
    assert set(stored(token)) == {"why"}
    services.abandon_unfinished(now=Response.objects.get().updated_at + services.settings.ANSWER_ABANDON_AFTER * 2)
    assert set(stored(token)) == {"why"}  # what becomes final is only what the logic shows


def test_a_partial_save_keeps_the_other_answers_when_one_is_half_given(org_a):
    survey = factories.survey(org_a, "nps")
    factories.question(org_a, survey, kind="single_choice", key="why", choices=REASONS, allow_other=True)
    factories.question(org_a, survey, kind="text", key="more")
    token = uuid.uuid4()
    _partial(survey, token, {"score": "6", "why": "_other", "more": "Slow courier"})  # "Other" without its text yet
    saved = Response.objects.get(token=token)
    assert saved.score == 6 and set(stored(token)) == {"more"}
    with pytest.raises(services.SubmissionError) as refused:  # the whole form must be whole
        services.clean_submission(survey, {"score": "6", "why": "_other", "more": "x"}, complete=True)
    assert list(refused.value.errors) == ["why"]
