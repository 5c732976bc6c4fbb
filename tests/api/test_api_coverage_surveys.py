"""The surveys part of the API that the pages could do and the API could not: questions, retention
offers, the contact policy, survey and link deletion, personal links in bulk, import jobs."""

import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Role
from surveys import links
from surveys.models import ContactPolicy, Distribution, ImportJob, Question, RetentionOffer, Survey
from tests import factories
from tests.apierrors import error_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_headers):
    """call(user, org)(method, path, body=None) → the response, authenticated as that member."""

    def as_member(user, organization):
        client, headers = Client(), api_headers(user, organization)

        def call(method, path, body=None, **extra):
            kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
            return getattr(client, method)(path, **kwargs, **headers, **extra)

        return call

    return as_member


@pytest.fixture
def manager(org_a, make_member, api):
    return api(make_member(org_a, Role.CX_MANAGER), org_a)


@pytest.fixture
def viewer(org_a, make_member, api):
    return api(make_member(org_a, Role.VIEWER), org_a)


# --- Questions ---------------------------------------------------------------------------------

def test_a_manager_adds_changes_and_deletes_a_question(manager, org_a):
    survey = factories.survey(org_a)
    Survey.objects.filter(pk=survey.pk).update(status="draft")  # a draft takes texts not yet translated
    created = manager("post", "/api/v1/questions/", {
        "survey": survey.pk, "key": "reason", "kind": "single_choice", "text": {"en": "Why?", "lv": "Kāpēc?"},
        "choices": [{"value": "price", "label": {"en": "Price"}}, {"value": "speed"}]})
    assert created.status_code == 201, created.content
    question = Question.objects.get(pk=created.json()["id"])
    assert (question.survey, question.organization, question.position) == (survey, org_a, 1)
    assert question.choice_values == ["price", "speed"]

    changed = manager("patch", f"/api/v1/questions/{question.pk}/", {"required": True, "version": question.version})
    assert changed.status_code == 200
    assert Question.objects.get(pk=question.pk).required is True
    stale = manager("patch", f"/api/v1/questions/{question.pk}/", {"required": False, "version": question.version})
    assert stale.status_code == 409
    assert Question.objects.get(pk=question.pk).required is True

    listed = manager("get", f"/api/v1/questions/?survey={survey.pk}").json()["results"]
    assert [q["key"] for q in listed] == ["reason"]
    assert manager("delete", f"/api/v1/questions/{question.pk}/").status_code == 204
    assert not Question.objects.filter(pk=question.pk).exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"key": "score", "kind": "text", "text": {"en": "Score?"}}, "key"),  # the page's own name
    ({"key": "taken", "kind": "text", "text": {"en": "Again?"}}, "key"),
    ({"key": "pick", "kind": "single_choice", "text": {"en": "Pick"}}, "choices"),
    ({"key": "blank", "kind": "text", "text": {"en": "  "}}, "text"),
    ({"key": "klingon", "kind": "text", "text": {"tlh": "nuqneH"}}, "text"),
    ({"key": "not a slug", "kind": "text", "text": {"en": "?"}}, "key"),
])
def test_a_question_the_survey_cannot_take_is_refused_with_its_reason(manager, org_a, body, field):
    survey = factories.survey(org_a)
    Question.objects.create(organization=org_a, survey=survey, kind="text", key="taken", text={"en": "Taken?"})
    refused = manager("post", "/api/v1/questions/", {"survey": survey.pk, **body})
    assert refused.status_code == 400
    assert field in error_fields(refused)
    assert survey.questions.count() == 1


def test_a_question_with_answers_keeps_its_kind_and_is_archived_not_deleted(manager, org_a):
    survey = factories.survey(org_a)
    question = factories.question(org_a, survey_obj=survey, kind="text")
    response = factories.response(org_a, factories.distribution(org_a, survey_obj=survey))
    response.answers.create(question=question, text="Fine")
    refused = manager("patch", f"/api/v1/questions/{question.pk}/", {"kind": "rating"})
    assert refused.status_code == 400 and "kind" in error_fields(refused)
    assert manager("delete", f"/api/v1/questions/{question.pk}/").status_code == 204
    assert not Question.objects.filter(pk=question.pk).exists()  # out of the survey…
    assert Question.all_objects.get(pk=question.pk).answers.get().text == "Fine"  # …with its answer kept


def test_questions_of_another_organization_are_not_found_and_not_a_choice(manager, org_b):
    foreign = factories.question(org_b)
    assert manager("get", f"/api/v1/questions/{foreign.pk}/").status_code == 404
    assert manager("patch", f"/api/v1/questions/{foreign.pk}/", {"required": True}).status_code == 404
    assert manager("delete", f"/api/v1/questions/{foreign.pk}/").status_code == 404
    refused = manager("post", "/api/v1/questions/", {"survey": foreign.survey_id, "key": "x", "kind": "text",
                                                      "text": {"en": "?"}})
    assert refused.status_code == 400 and "survey" in error_fields(refused)
    assert Question.objects.filter(organization=org_b).count() == 1


def test_a_viewer_reads_questions_but_cannot_write_them(viewer, org_a):
    question = factories.question(org_a)
    assert viewer("get", f"/api/v1/questions/{question.pk}/").status_code == 200
    assert viewer("post", "/api/v1/questions/", {"survey": question.survey_id, "key": "x", "kind": "text",
                                                 "text": {"en": "?"}}).status_code == 403
    assert viewer("delete", f"/api/v1/questions/{question.pk}/").status_code == 403
    assert Question.objects.filter(pk=question.pk).exists()


# --- Retention offers --------------------------------------------------------------------------

def test_a_manager_makes_an_offer_for_a_reason_and_changes_it(manager, org_a):
    question = factories.question(org_a, kind="single_choice", choices=[{"value": "price", "label": {}}])
    created = manager("post", "/api/v1/retention-offers/", {
        "question": question.pk, "reason": "price", "text": {"en": "20% off", "ru": "Скидка 20%"}, "position": 2})
    assert created.status_code == 201, created.content
    offer = RetentionOffer.objects.get(pk=created.json()["id"])
    assert (offer.organization, offer.reason, offer.position, created.json()["survey"]) == (
        org_a, "price", 2, question.survey_id)
    assert manager("patch", f"/api/v1/retention-offers/{offer.pk}/", {"active": False}).status_code == 200
    assert RetentionOffer.objects.get(pk=offer.pk).active is False
    assert manager("delete", f"/api/v1/retention-offers/{offer.pk}/").status_code == 204
    assert not RetentionOffer.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"reason": "weather"}, "reason"), ({"text": {"ru": "Только по-русски"}}, "text"), ({"kind": "text"}, "question"),
])
def test_an_offer_that_answers_no_reason_is_refused(manager, org_a, change, field):
    kind = change.pop("kind", "single_choice")
    question = factories.question(org_a, kind=kind, choices=[{"value": "price", "label": {}}])
    body = {"question": question.pk, "reason": "price", "text": {"en": "20% off"}, **change}
    refused = manager("post", "/api/v1/retention-offers/", body)
    assert refused.status_code == 400 and field in error_fields(refused)
    assert not RetentionOffer.objects.exists()


def test_offers_of_another_organization_are_not_found(manager, org_b):
    foreign = factories.retention_offer(org_b)
    assert manager("get", f"/api/v1/retention-offers/{foreign.pk}/").status_code == 404
    assert manager("delete", f"/api/v1/retention-offers/{foreign.pk}/").status_code == 404
    refused = manager("post", "/api/v1/retention-offers/", {"question": foreign.question_id, "reason": "price",
                                                            "text": {"en": "x"}})
    assert refused.status_code == 400 and "question" in error_fields(refused)


# --- The contact policy ------------------------------------------------------------------------

def test_the_contact_policy_is_read_and_changed_on_the_version_read(manager, viewer, org_a):
    read = manager("get", "/api/v1/contact-policy/")
    assert read.status_code == 200
    version = read.json()["version"]
    changed = manager("put", "/api/v1/contact-policy/", {"enabled": True, "min_days_between_surveys": 14,
                                                         "max_invitations": 3, "cap_days": 60, "version": version})
    assert changed.status_code == 200, changed.content
    policy = ContactPolicy.objects.get(organization=org_a)
    assert (policy.min_days_between_surveys, policy.max_invitations, policy.version) == (14, 3, version + 1)
    entry = AuditEntry.objects.get(organization=org_a, action=AuditAction.SETTINGS_CHANGED)
    assert entry.details["changes"]["min_days_between_surveys"] == [30, 14]

    stale = manager("patch", "/api/v1/contact-policy/", {"min_days_between_surveys": 7, "version": version})
    assert stale.status_code == 409
    assert ContactPolicy.objects.get(organization=org_a).min_days_between_surveys == 14
    assert viewer("patch", "/api/v1/contact-policy/", {"min_days_between_surveys": 1}).status_code == 403
    assert viewer("get", "/api/v1/contact-policy/").json()["min_days_between_surveys"] == 14


def test_a_cap_without_its_period_is_refused(manager, org_a):
    refused = manager("patch", "/api/v1/contact-policy/", {"max_invitations": 2, "cap_days": 0})
    assert refused.status_code == 400 and "cap_days" in error_fields(refused)
    assert ContactPolicy.objects.get(organization=org_a).max_invitations == 0


def test_each_organization_has_its_own_policy(manager, api, org_b, make_member):
    other = api(make_member(org_b, Role.ADMIN), org_b)
    assert other("patch", "/api/v1/contact-policy/", {"min_days_between_surveys": 99}).status_code == 200
    assert manager("get", "/api/v1/contact-policy/").json()["min_days_between_surveys"] == 30


# --- Deleting surveys and links ----------------------------------------------------------------

def test_a_survey_nobody_answered_is_deleted(manager, org_a):
    survey = factories.survey(org_a)
    factories.distribution(org_a, survey_obj=survey)
    assert manager("delete", f"/api/v1/surveys/{survey.pk}/").status_code == 204
    assert not Survey.objects.filter(pk=survey.pk).exists()


def test_a_survey_with_answers_is_closed_not_deleted(manager, org_a):
    response = factories.response(org_a)
    closed = manager("delete", f"/api/v1/surveys/{response.survey_id}/")
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert Survey.objects.get(pk=response.survey_id).status == "closed"
    assert response.survey.responses.count() == 1


def test_survey_deletion_keeps_to_its_organization_and_role(manager, viewer, org_a, org_b):
    foreign, own = factories.survey(org_b), factories.survey(org_a)
    assert manager("delete", f"/api/v1/surveys/{foreign.pk}/").status_code == 404
    assert viewer("delete", f"/api/v1/surveys/{own.pk}/").status_code == 403
    assert Survey.objects.filter(pk__in=[foreign.pk, own.pk]).count() == 2


def test_a_link_with_answers_is_switched_off_and_one_without_is_deleted(manager, org_a):
    answered = factories.response(org_a).distribution
    unused = factories.distribution(org_a)
    off = manager("delete", f"/api/v1/distributions/{answered.pk}/")
    assert off.status_code == 200 and off.json()["active"] is False
    assert manager("delete", f"/api/v1/distributions/{unused.pk}/").status_code == 204
    assert list(Distribution.objects.values_list("pk", "active")) == [(answered.pk, False)]


def test_a_link_tells_its_qr_codes_and_embedding_and_stays_with_its_survey(manager, org_a):
    link = factories.distribution(org_a)
    body = manager("get", f"/api/v1/distributions/{link.pk}/").json()
    assert body["qr_png_url"].endswith(f"/surveys/{link.survey_id}/distributions/{link.pk}/qr.png")
    assert f"/s/{link.public_id}/embed.js" in body["embed_script"]
    assert body["url"] in body["embed_iframe"]
    other = factories.survey(org_a)
    moved = manager("patch", f"/api/v1/distributions/{link.pk}/", {"survey": other.pk})
    assert moved.status_code == 400 and "survey" in error_fields(moved)


# --- Personal links in bulk --------------------------------------------------------------------

def test_personal_links_in_bulk_open_the_survey_for_each_customer(manager, org_a):
    link = factories.distribution(org_a)
    by_email, by_external, by_id = (factories.customer(org_a) for _ in range(3))
    answer = manager("post", f"/api/v1/distributions/{link.pk}/personal-links/", {
        "customers": [by_email.email.upper(), by_external.external_id, str(by_id.pk)],
        "hidden_fields": {"order_id": "A-1001"}, "language": "lv"})
    assert answer.status_code == 200, answer.content
    rows = answer.json()
    assert [row["customer"] for row in rows] == [by_email.pk, by_external.pk, by_id.pk]
    assert len(rows[0]["one_click"]) == 11  # NPS: 0 to 10

    page = Client().get(rows[1]["url"], follow=True)  # the customer opens their link: the survey, in their language
    assert page.status_code == 200
    assert link.survey.score_question["lv"] in page.content.decode()
    signed = parse_qs(urlsplit(rows[1]["url"]).query)["c"][0]
    context = links.read(link, signed)  # the answer will be recorded against this customer
    assert (context.customer_id, context.hidden, context.language) == (by_external.pk, {"order_id": "A-1001"}, "lv")


def test_personal_links_refuse_unknown_and_foreign_customers_all_or_nothing(manager, org_a, org_b):
    link = factories.distribution(org_a)
    own, foreign = factories.customer(org_a), factories.customer(org_b)
    refused = manager("post", f"/api/v1/distributions/{link.pk}/personal-links/",
                      {"customers": [own.external_id, foreign.external_id, "nobody@x.example"]})
    assert refused.status_code == 400
    message = " ".join(error_fields(refused)["customers"])
    assert foreign.external_id in message and "nobody@x.example" in message and own.external_id not in message
    foreign_link = factories.distribution(org_b)
    assert manager("post", f"/api/v1/distributions/{foreign_link.pk}/personal-links/",
                   {"customers": [own.external_id]}).status_code == 404


# --- Import jobs -------------------------------------------------------------------------------

def test_an_upload_becomes_a_queued_import_job_with_its_progress(manager, org_a, api_headers):
    survey = factories.survey(org_a)
    csv = io.BytesIO(b"submitted_at,score,comment\n2026-05-01T10:00:00+00:00,9,Great\n")
    csv.name = "answers.csv"
    member = org_a.memberships.get(role=Role.CX_MANAGER).user
    created = Client().post("/api/v1/survey-imports/", {"survey": survey.pk, "file": csv}, **api_headers(member, org_a))
    assert created.status_code == 201, created.content
    job = ImportJob.objects.get(pk=created.json()["id"])
    assert (job.survey, job.organization, job.status, job.original_name) == (survey, org_a, "queued", "answers.csv")
    detail = manager("get", f"/api/v1/survey-imports/{job.pk}/").json()
    assert (detail["status"], detail["progress_percent"], detail["survey"]) == ("queued", 0, survey.pk)
    assert set(detail["counters"]) == {"imported", "duplicates"}


def test_an_upload_the_page_would_refuse_is_refused_with_its_reason(org_a, make_member, api_headers, org_b):
    member = make_member(org_a, Role.CX_MANAGER)
    survey, foreign = factories.survey(org_a), factories.survey(org_b)
    not_a_table = io.BytesIO(b"%PDF-1.4")
    not_a_table.name = "answers.pdf"
    refused = Client().post("/api/v1/survey-imports/", {"survey": survey.pk, "file": not_a_table},
                            **api_headers(member, org_a))
    assert refused.status_code == 400 and "file" in error_fields(refused)
    csv = io.BytesIO(b"score\n9\n")
    csv.name = "answers.csv"
    foreign_survey = Client().post("/api/v1/survey-imports/", {"survey": foreign.pk, "file": csv},
                                   **api_headers(member, org_a))
    assert foreign_survey.status_code == 400 and "survey" in error_fields(foreign_survey)
    assert not ImportJob.objects.exists()
    foreign_job = factories.import_job(org_b, survey_obj=foreign)
    assert Client().get(f"/api/v1/survey-imports/{foreign_job.pk}/", **api_headers(member, org_a)).status_code == 404
