"""The surveys API: managers build surveys and links; other systems send answers idempotently."""

import json

import pytest
from rest_framework.test import APIClient

from cxplatform.models import Role
from surveys.models import Response, Survey
from tests import factories
from tests.apierrors import error_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(org_a, make_member):
    client = APIClient()
    client.force_authenticate(make_member(org_a, Role.CX_MANAGER))
    return client


def test_manager_creates_a_survey_with_default_wording_and_a_link(api, org_a):
    tp = factories.touchpoint(org_a)
    created = api.post("/api/v1/surveys/", {"name": "Delivery NPS", "survey_type": "nps", "status": "active"},
                       format="json")
    assert created.status_code == 201, created.json()
    survey = Survey.objects.get(pk=created.json()["id"])
    assert survey.organization == org_a
    assert set(survey.languages) == {"en", "ru", "lv"}  # ready in all three languages
    link = api.post("/api/v1/distributions/", {"survey": survey.pk, "name": "E-mail", "touchpoint": tp.pk},
                    format="json")
    assert link.status_code == 201
    assert link.json()["url"].endswith(f"/s/{link.json()['public_id']}/")


def test_a_link_cannot_point_at_another_organizations_survey(api, org_b):
    foreign = factories.survey(org_b)
    response = api.post("/api/v1/distributions/", {"survey": foreign.pk, "name": "x"}, format="json")
    assert response.status_code == 400


def test_recording_is_idempotent_on_the_callers_key(api, nps_link):
    body = {"distribution": nps_link.public_id, "answers": {"score": 2, "comment": "Долго ждал"},
            "customer_external_id": "CRM-77", "language": "ru", "submitted_at": "2026-05-04T10:00:00+03:00"}
    first = api.post("/api/v1/responses/", body, format="json", HTTP_IDEMPOTENCY_KEY="call-123")
    again = api.post("/api/v1/responses/", body, format="json", HTTP_IDEMPOTENCY_KEY="call-123")
    assert (first.status_code, again.status_code) == (201, 200)
    assert Response.objects.count() == 1
    saved = Response.objects.get()
    assert (saved.score, saved.band, saved.source, saved.customer.external_id) == (2, "detractor", "api", "CRM-77")
    assert saved.submitted_at.isoformat() == "2026-05-04T07:00:00+00:00"
    listed = api.get("/api/v1/responses/").json()["results"]
    assert [r["token"] for r in listed] == [str(saved.token)]


@pytest.mark.parametrize(
    ("answers", "field"),
    [({"score": 11}, "score"), ({"score": "ten"}, "score"), ({}, "score"),
     ({"score": 5, "comment": "a\x00b"}, "comment"), ({"score": 5, "comment": ["not", "text"]}, "comment")],
)
def test_bad_answers_are_a_400_with_the_reason(api, nps_link, answers, field):
    response = api.post("/api/v1/responses/", {"distribution": nps_link.public_id, "answers": answers}, format="json")
    assert response.status_code == 400
    assert field in error_fields(response)["answers"]
    assert not Response.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"distribution": "x", "answers": {"score": 5, "comment": "\\ud800"}}',  # lone surrogate
        b"[" * 5000 + b"]" * 5000,  # deeply nested
        b'{"distribution": ' + b'"' + b"\xff\xfe" + b'"}',  # not UTF-8
        b'{"answers": NaN}',
        b"{" + b'"k": 1,' * 10 + b"",  # truncated
        b'{"distribution": "' + b"a" * 3_000_000 + b'"}',  # larger than the upload limit
    ],
)
def test_hostile_json_gets_a_4xx_never_a_500(api, nps_link, raw):
    raw = raw.replace(b'"x"', json.dumps(nps_link.public_id).encode())
    response = api.generic("POST", "/api/v1/responses/", raw, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert not Response.objects.exists()


def test_closed_survey_refuses_api_answers(api, nps_link):
    Survey.objects.filter(pk=nps_link.survey_id).update(status="closed")
    response = api.post("/api/v1/responses/", {"distribution": nps_link.public_id, "answers": {"score": 9}},
                        format="json")
    assert response.status_code == 400 and "distribution" in error_fields(response)


def test_another_organizations_link_is_not_found(api, org_b):
    foreign = factories.distribution(org_b)
    response = api.post("/api/v1/responses/", {"distribution": foreign.public_id, "answers": {"score": 9}},
                        format="json")
    assert response.status_code == 400
    assert not Response.objects.exists()


# --- The survey builder's fields and answers (issue 17) ------------------------------------------

def _draft(org):
    survey = factories.survey(org, "nps")
    Survey.objects.filter(pk=survey.pk).update(status="draft")
    return Survey.objects.get(pk=survey.pk)


def test_a_question_of_every_new_field_through_the_api(api, org_a):
    survey = _draft(org_a)
    rows = [{"value": "app", "label": {"en": "The app"}}, {"value": "courier", "label": {"en": "The courier"}}]
    first = api.post("/api/v1/questions/", {"survey": survey.pk, "key": "again", "kind": "yes_no",
                                            "text": {"en": "Again?"}}, format="json")
    assert first.status_code == 201, first.json()
    created = api.post("/api/v1/questions/", {
        "survey": survey.pk, "key": "grid", "kind": "matrix", "text": {"en": "Rate"}, "rows": rows,
        "scale_min": 0, "scale_max": 10, "page": 1,
        "show_if": {"field": "answer.again", "op": "equals", "value": "yes"}}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["rows"], body["scale_min"], body["scale_max"], body["page"]) == (rows, 0, 10, 1)
    assert body["show_if"] == {"field": "answer.again", "op": "equals", "value": "yes"}
    listed = api.get(f"/api/v1/surveys/{survey.pk}/").json()["questions"]
    assert [q["key"] for q in listed] == ["again", "grid"] and listed[1]["rows"] == rows


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "matrix", "rows": []}, "rows"),
    ({"kind": "rating", "scale_min": 5, "scale_max": 2}, "scale_max"),
    ({"kind": "rating", "scale_min": 0, "scale_max": 99}, "scale_max"),
    ({"kind": "ranking", "choices": [{"value": "only"}]}, "choices"),
    ({"kind": "text", "show_if": ["not", "an", "object"]}, "show_if"),
    ({"kind": "text", "show_if": {"field": "answer.x\u0000", "op": "answered"}}, "show_if"),
    ({"kind": "text", "show_if": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {
        "not": {"not": {"not": {"not": {"field": "score", "op": "answered"}}}}}}}}}}}}}}}, "show_if"),
    ({"kind": "text", "show_if": {"field": "answer.nobody", "op": "answered"}}, "non_field_errors"),
    ({"kind": "text", "page": 7}, "page"),
])
def test_a_question_the_builder_would_refuse_is_refused_by_the_api(api, org_a, body, field):
    survey = _draft(org_a)
    refused = api.post("/api/v1/questions/", {"survey": survey.pk, "key": "q", "text": {"en": "?"}, **body},
                       format="json")
    assert refused.status_code == 400, refused.json()
    assert field in error_fields(refused)
    assert not survey.questions.exists()


def test_the_responses_api_takes_and_returns_every_answer_shape(api, org_a):
    survey = factories.survey(org_a, "nps")
    options = [{"value": "a"}, {"value": "b"}]
    factories.question(org_a, survey, kind="matrix", key="grid", rows=[{"value": "app"}])
    factories.question(org_a, survey, kind="ranking", key="order", choices=options)
    factories.question(org_a, survey, kind="single_choice", key="why", choices=options, allow_other=True)
    factories.question(org_a, survey, kind="consent", key="gdpr")
    link = factories.distribution(org_a, survey)
    answers = {"score": 9, "grid": {"app": 5}, "order": ["b", "a"], "why": "_other", "why__other": "Colour",
               "gdpr": "yes"}
    created = api.post("/api/v1/responses/", {"distribution": link.public_id, "answers": answers}, format="json")
    assert created.status_code == 201, created.json()
    got = created.json()["answers"]
    assert got["grid"]["grid"] == {"app": 5} and got["grid"]["kind"] == "matrix"
    assert got["order"]["choices"] == ["b", "a"]
    assert (got["why"]["choices"], got["why"]["text"]) == (["_other"], "Colour")
    assert got["gdpr"]["choices"] == ["yes"]
    refused = api.post("/api/v1/responses/", {"distribution": link.public_id,
                                              "answers": {**answers, "order": ["b"]}}, format="json")
    assert refused.status_code == 400 and "order" in refused.json()["error"]["fields"]["answers"]
