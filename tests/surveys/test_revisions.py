"""Revisions: a survey goes live only when its logic and translations hold; a change to a live survey
is its next revision; every answer is read under the wording its customer saw, and an archived
question's answers stay in the response and the export."""

import csv
import io
import uuid

import openpyxl
import pytest
from rest_framework.test import APIClient

from cxplatform.models import Role
from surveys import exporting, revisions, selectors, services
from surveys.models import Question, Response, Survey, SurveyRevision
from tests import factories

pytestmark = pytest.mark.django_db

TEXT = {"en": "How was the courier?", "ru": "Как курьер?", "lv": "Kā kurjers?"}


@pytest.fixture
def draft(org_a):
    survey = factories.survey(org_a, "nps")
    Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.DRAFT)
    return Survey.objects.get(pk=survey.pk)


def answer(survey, data, **extra):
    survey = Survey.objects.get(pk=survey.pk)
    submission = services.clean_submission(survey, data, complete=True)
    response, _created = services.record_response(survey=survey, submission=submission, complete=True,
                                                  language="en", token=uuid.uuid4(), **extra)
    return response


def test_publishing_is_blocked_by_a_rule_on_a_later_question(org_a, draft):
    factories.question(org_a, draft, kind="text", key="first", text=TEXT,
                       show_if={"field": "answer.second", "op": "answered"})
    factories.question(org_a, draft, kind="text", key="second", text=TEXT)
    with pytest.raises(revisions.PublishBlocked) as blocked:
        revisions.publish(survey=draft)
    assert "second" in blocked.value.problems[0]
    assert Survey.objects.get(pk=draft.pk).status == Survey.Status.DRAFT
    assert not SurveyRevision.objects.exists()


def test_publishing_is_blocked_by_a_missing_translation(org_a, draft):
    factories.question(org_a, draft, kind="text", key="courier", text={"en": "How was the courier?"})
    with pytest.raises(revisions.PublishBlocked) as blocked:
        revisions.publish(survey=draft)
    assert any("RU" in problem for problem in blocked.value.problems)
    assert Survey.objects.get(pk=draft.pk).status == Survey.Status.DRAFT


def test_publishing_stores_revision_one_and_new_answers_keep_it(org_a, draft):
    factories.question(org_a, draft, kind="text", key="courier", text=TEXT)
    revisions.publish(survey=draft)
    live = Survey.objects.get(pk=draft.pk)
    assert (live.status, live.revision) == (Survey.Status.ACTIVE, 1)
    assert answer(live, {"score": 9, "courier": "Kind"}).revision == 1


def test_an_edit_of_a_live_survey_is_its_next_revision_and_old_answers_keep_their_wording(
        org_a, draft, make_member, client_for):
    question = factories.question(org_a, draft, kind="text", key="courier", text=TEXT)
    revisions.publish(survey=draft)
    old = answer(draft, {"score": 9, "courier": "Kind"})
    services.save_question(question=question, survey=Survey.objects.get(pk=draft.pk),
                           text={**TEXT, "en": "Was the courier on time?"})
    live = Survey.objects.get(pk=draft.pk)
    assert live.revision == 2 and live.revisions.count() == 2
    new = answer(live, {"score": 9, "courier": "Yes"})
    assert (old.revision, new.revision) == (1, 2)

    viewer = client_for(make_member(org_a, Role.VIEWER))
    old_page = viewer.get(f"/surveys/{live.pk}/responses/{old.pk}/").content.decode()
    new_page = viewer.get(f"/surveys/{live.pk}/responses/{new.pk}/").content.decode()
    assert "How was the courier?" in old_page and "Was the courier on time?" not in old_page
    assert "Was the courier on time?" in new_page
    listing = viewer.get(f"/surveys/{live.pk}/responses/").content.decode()
    assert "How was the courier?" in listing and "Was the courier on time?" in listing


def test_an_archived_questions_answers_stay_in_the_detail_and_the_export(org_a, make_member, client_for):
    survey = factories.survey(org_a, "nps")
    factories.question(org_a, survey, kind="text", key="courier", text=TEXT)
    response = answer(survey, {"score": 9, "courier": "Kind"})
    question = Question.objects.get(key="courier")
    assert services.delete_question(question=question) == "archived"
    assert not Question.objects.filter(key="courier").exists()

    viewer = client_for(make_member(org_a, Role.VIEWER))
    page = viewer.get(f"/surveys/{survey.pk}/responses/{response.pk}/").content.decode()
    assert "How was the courier?" in page and "Kind" in page and "removed from the survey" in page

    queryset = selectors.responses(org_a, survey)
    rows = list(csv.DictReader(io.StringIO(_csv(survey, queryset))))
    assert rows[0]["courier"] == "Kind"


def _csv(survey, queryset) -> str:
    return "".join(chunk.decode() if isinstance(chunk, bytes) else chunk
                   for chunk in exporting.csv_response(survey, queryset).streaming_content).lstrip("\ufeff")


def test_every_kind_is_exported_readably_in_csv_and_xlsx(org_a):
    survey = factories.survey(org_a, "nps")
    options = [{"value": "a", "label": {"en": "A"}}, {"value": "b"}, {"value": "c"}]
    factories.question(org_a, survey, kind="multiple_choice", key="many", choices=options, allow_other=True)
    factories.question(org_a, survey, kind="ranking", key="order", choices=options)
    factories.question(org_a, survey, kind="matrix", key="grid", rows=[{"value": "app"}, {"value": "courier"}])
    factories.question(org_a, survey, kind="yes_no", key="again")
    factories.question(org_a, survey, kind="statement", key="note")
    answer(survey, {"score": 9, "many": ["b", "_other"], "many__other": "=1+1", "order": ["c", "a", "b"],
                    "grid": {"app": 4}, "again": "yes"})
    queryset = selectors.responses(org_a, survey)
    row = next(csv.DictReader(io.StringIO(_csv(survey, queryset))))
    assert (row["many"], row["many__other"], row["order"]) == ("b; _other", "'=1+1", "c > a > b")
    assert (row["grid__app"], row["grid__courier"], row["again"]) == ("4", "", "yes")
    assert "note" not in row and "grid" not in row

    file = io.BytesIO()
    exporting.write_xlsx(survey, queryset, file)
    sheet = openpyxl.load_workbook(io.BytesIO(file.getvalue())).active
    header, values = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
    cells = dict(zip(header, values, strict=True))
    assert (cells["order"], cells["grid__app"], cells["grid__courier"]) == ("c > a > b", 4, None)


def test_the_response_list_reads_revisions_in_the_same_queries_for_more_rows(
        org_a, make_member, client_for, django_assert_max_num_queries):
    survey = factories.survey(org_a, "nps")
    question = factories.question(org_a, survey, kind="text", key="courier", text=TEXT)
    revisions.publish(survey=survey)
    answer(survey, {"score": 9, "courier": "One"})
    services.save_question(question=question, survey=Survey.objects.get(pk=survey.pk),
                           text={**TEXT, "en": "Changed?"})
    answer(survey, {"score": 9, "courier": "Two"})
    viewer = client_for(make_member(org_a, Role.VIEWER))
    url = f"/surveys/{survey.pk}/responses/"
    with django_assert_max_num_queries(40) as few:
        viewer.get(url)
    for _ in range(5):
        answer(survey, {"score": 9, "courier": "More"})
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert viewer.get(url).status_code == 200


# --- Through the API ---------------------------------------------------------------------------

@pytest.fixture
def api(org_a, make_member):
    client = APIClient()
    client.force_authenticate(make_member(org_a, Role.CX_MANAGER))
    return client


def test_going_live_through_the_api_is_publishing(api, org_a, draft):
    factories.question(org_a, draft, kind="text", key="courier", text={"en": "Only English"})
    refused = api.patch(f"/api/v1/surveys/{draft.pk}/", {"status": "active"}, format="json")
    assert refused.status_code == 400
    assert "RU" in str(refused.json())
    assert Survey.objects.get(pk=draft.pk).status == Survey.Status.DRAFT
    Question.objects.filter(key="courier").update(text=TEXT)
    published = api.patch(f"/api/v1/surveys/{draft.pk}/", {"status": "active"}, format="json")
    assert published.status_code == 200, published.json()
    live = Survey.objects.get(pk=draft.pk)
    assert (live.status, live.revision) == (Survey.Status.ACTIVE, 1)


def test_a_survey_created_live_through_the_api_is_published(api):
    created = api.post("/api/v1/surveys/", {"name": "Live", "survey_type": "nps", "status": "active"}, format="json")
    assert created.status_code == 201, created.json()
    survey = Survey.objects.get(pk=created.json()["id"])
    assert (survey.status, survey.revision) == (Survey.Status.ACTIVE, 1)


def test_the_api_response_carries_its_revision(api, org_a, draft):
    factories.question(org_a, draft, kind="text", key="courier", text=TEXT)
    revisions.publish(survey=draft)
    link = factories.distribution(org_a, draft)
    body = api.post("/api/v1/responses/", {"distribution": link.public_id, "answers": {"score": 9}},
                    format="json").json()
    assert body["revision"] == 1
    assert Response.objects.get(pk=body["id"]).revision == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.browser
def test_the_manager_reads_every_kind_under_its_question_in_the_browser(live_server, browser, org_a, make_member,
                                                                       artifact):
    survey = factories.survey(org_a, "nps")
    options = [{"value": "price", "label": {"en": "Price"}}, {"value": "speed", "label": {"en": "Speed"}},
               {"value": "staff", "label": {"en": "Staff"}}]
    factories.question(org_a, survey, kind="single_choice", key="why", choices=options, allow_other=True,
                       text={"en": "Why that score?"})
    factories.question(org_a, survey, kind="ranking", key="order", choices=options, text={"en": "Put in order"})
    factories.question(org_a, survey, kind="matrix", key="grid", rows=[{"value": "app", "label": {"en": "The app"}},
                       {"value": "courier", "label": {"en": "The courier"}}], text={"en": "Rate each"})
    factories.question(org_a, survey, kind="yes_no", key="again", text={"en": "Ride again?"})
    factories.question(org_a, survey, kind="consent", key="gdpr", text={"en": "May we call you?"})
    gone = factories.question(org_a, survey, kind="text", key="old", text={"en": "An old question"})
    response = answer(survey, {"score": 4, "why": "_other", "why__other": "Colour",
                               "order": ["staff", "price", "speed"], "grid": {"app": 5, "courier": 2},
                               "again": "yes", "gdpr": "yes", "old": "Old answer"})
    Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.DRAFT)  # English only: not publishable
    services.delete_question(question=gone)

    manager = make_member(org_a, Role.CX_MANAGER, username="reader")
    manager.set_password("reader-pass-123")
    manager.save()
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "reader")
    page.fill("#id_password", "reader-pass-123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/surveys/{survey.pk}/responses/{response.pk}/")
    answers = page.locator("table.answers").inner_text()
    for shown in ("Other: Colour", "Staff > Price > Speed", "The app: 5; The courier: 2", "Ride again?\tYes",
                  "May we call you?\tGiven", "An old question (removed from the survey)\tOld answer"):
        assert shown in answers
    page.screenshot(path=artifact("response-detail-every-kind.png"), full_page=True)
    page.goto(f"{live_server.url}/surveys/{survey.pk}/responses/")
    assert "Staff > Price > Speed" in page.locator("table.responses").inner_text()
    page.screenshot(path=artifact("responses-list-every-kind.png"), full_page=True)
    desk.close()


def test_a_paused_survey_takes_answers_again_when_published(org_a, draft, api):
    revisions.publish(survey=draft)
    services.set_status(survey=draft, status=Survey.Status.PAUSED)
    assert Survey.objects.get(pk=draft.pk).status == Survey.Status.PAUSED
    revisions.publish(survey=draft)
    assert Survey.objects.get(pk=draft.pk).status == Survey.Status.ACTIVE
    api.patch(f"/api/v1/surveys/{draft.pk}/", {"status": "paused"}, format="json")
    resumed = api.patch(f"/api/v1/surveys/{draft.pk}/", {"status": "active"}, format="json")
    assert resumed.status_code == 200 and Survey.objects.get(pk=draft.pk).status == Survey.Status.ACTIVE


def test_the_api_keeps_the_builders_status_rules(api, org_a, draft):
    never_live = api.patch(f"/api/v1/surveys/{draft.pk}/", {"status": "paused"}, format="json")
    assert never_live.status_code == 400 and Survey.objects.get(pk=draft.pk).status == Survey.Status.DRAFT
    revisions.publish(survey=draft)
    back = api.patch(f"/api/v1/surveys/{draft.pk}/", {"status": "draft"}, format="json")
    assert back.status_code == 400 and Survey.objects.get(pk=draft.pk).status == Survey.Status.ACTIVE


@pytest.mark.parametrize("key", ["channel", "submitted_at", "email", "speed__other", "hidden_store"])
def test_a_key_an_export_column_uses_is_refused(org_a, draft, key):
    problems = services.question_problems(draft, key=key, kind="text", text=TEXT, choices=[])
    assert "key" in problems
