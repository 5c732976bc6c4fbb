"""The survey builder: every design change is checked per kind and against the survey's logic, a
live survey's change becomes its next revision, an answered question is archived, never deleted,
and only those who may design can change anything — in their own organization."""

import pytest
from django.utils import timezone

from cxplatform.models import Role
from cxplatform.versioning import StaleEdit
from surveys import services
from surveys.models import Question, Survey, SurveyRevision
from tests import factories

pytestmark = pytest.mark.django_db

TEXT = {"en": "How was it?", "ru": "Как было?", "lv": "Kā bija?"}
OPTIONS = [{"value": "price", "label": {"en": "Price", "ru": "Цена", "lv": "Cena"}},
           {"value": "speed", "label": {"en": "Speed", "ru": "Скорость", "lv": "Ātrums"}}]


def draft(org):
    survey = factories.survey(org)
    Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.DRAFT)
    survey.refresh_from_db()
    return survey


def save(survey, kind, *, key="q", text=None, choices=None, rows=None, **fields):
    question = Question(kind=kind, key=key, page=fields.pop("page", 1), **fields)
    return services.save_question(question=question, survey=survey, text=TEXT if text is None else text,
                                  choices=choices, rows=rows)


@pytest.fixture
def manager(org_a, make_member, client_for):
    return client_for(make_member(org_a, Role.CX_MANAGER))


def question_post(**fields):
    data = {"kind": "single_choice", "key": "model", "page": "1", "text_en": "Which scooter?",
            "text_ru": "Какой самокат?", "text_lv": "Kurš skrejritenis?", "scale_min": "1", "scale_max": "5",
            "choices_text": "city | City | Город | Pilsētas\npro | Pro | Про | Pro", "rows_text": ""}
    data.update(fields)
    return data


# --- Validation per kind ---------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "fields", "field", "message"), [
    ("single_choice", {"choices": []}, "choices", "at least one option"),
    ("multiple_choice", {"choices": [{"value": "_other", "label": {"en": "x"}}]}, "choices", "needs a value"),
    ("single_choice", {"choices": [OPTIONS[0], OPTIONS[0]]}, "choices", "its own value"),
    ("single_choice", {"choices": [{"value": "a b<script>", "label": {"en": "x"}}]}, "choices", "needs a value"),
    ("ranking", {"choices": OPTIONS[:1]}, "choices", "at least two options"),
    ("matrix", {"rows": []}, "rows", "at least one row"),
    ("rating", {"scale_min": 0, "scale_max": 11}, "scale_max", "between 0 and 10"),
    ("rating", {"scale_min": 5, "scale_max": 5}, "scale_max", "end above"),
    ("matrix", {"rows": OPTIONS, "scale_min": -1, "scale_max": 5}, "scale_max", "between 0 and 10"),
    ("text", {"text": {}}, "text", "at least one language"),
    ("text", {"text": {"en": "bad\x00"}}, "text", "NUL"),
    ("text", {"text": {"de": "Wie war es?"}}, "text", "English, Russian and Latvian"),
    ("text", {"key": "Bad Key!"}, "key", "lowercase letters"),
    ("text", {"key": "score"}, "key", "already used"),
    ("teleport", {}, "kind", "kinds of question"),
])
def test_each_kind_refuses_what_it_cannot_take_and_saves_nothing(org_a, kind, fields, field, message):
    survey = draft(org_a)
    with pytest.raises(services.DesignRefused) as refused:
        save(survey, kind, **fields)
    assert message in refused.value.fields[field]
    assert not Question.all_objects.filter(survey=survey).exists()


def test_each_kind_keeps_only_what_applies_to_it(org_a):
    survey = draft(org_a)
    choice = save(survey, "single_choice", key="why", choices=OPTIONS, allow_other=True, shuffle=True)
    assert (choice.choice_values, choice.allow_other, choice.shuffle) == (["price", "speed"], True, True)
    text = save(survey, "text", key="free", choices=OPTIONS, rows=OPTIONS, allow_other=True, ask_importance=True)
    assert (text.choices, text.rows, text.allow_other, text.ask_importance) == ([], [], False, False)
    matrix = save(survey, "matrix", key="grid", rows=OPTIONS, scale_min=0, scale_max=10)
    assert (matrix.row_values, matrix.scale) == (["price", "speed"], (0, 10))
    csi = save(survey, "csi_attribute", key="speed", scale_min=0, scale_max=10, ask_importance=True)
    assert (csi.scale_min, csi.scale_max, csi.ask_importance) == (1, 5, True)
    statement = save(survey, "statement", key="intro", required=True)
    assert statement.required is False
    assert [q.position for q in survey.questions.all()] == [1, 2, 3, 4, 5]  # each new one goes last


def test_a_kind_cannot_change_once_answered(org_a):
    survey = draft(org_a)
    question = save(survey, "single_choice", choices=OPTIONS)
    factories.response(org_a, factories.distribution(org_a, survey)).answers.create(question=question,
                                                                                   choices=["price"])
    question.kind = Question.Kind.TEXT
    with pytest.raises(services.DesignRefused) as refused:
        services.save_question(question=question, survey=survey, text=TEXT, version=question.version)
    assert "kind" in refused.value.fields
    assert Question.objects.get(pk=question.pk).kind == "single_choice"


# --- Delete, duplicate, reorder, move --------------------------------------------------------

def test_an_answered_question_is_archived_and_keeps_its_answers(org_a):
    survey = draft(org_a)
    answered, fresh = save(survey, "single_choice", key="why", choices=OPTIONS), save(survey, "text", key="note")
    response = factories.response(org_a, factories.distribution(org_a, survey))
    response.answers.create(question=answered, choices=["price"])

    assert services.delete_question(question=answered) == "archived"
    assert services.delete_question(question=fresh) == "deleted"

    assert list(survey.questions.all()) == []  # neither is asked any more
    kept = Question.all_objects.get(pk=answered.pk)
    assert kept.archived_at is not None and kept.answers.get().choices == ["price"]
    assert not Question.all_objects.filter(pk=fresh.pk).exists()
    with pytest.raises(services.DesignRefused) as refused:  # its key stays with its answers
        save(survey, "text", key="why")
    assert "already used" in refused.value.fields["key"]


def test_duplicate_gets_a_new_key_right_after_the_original(org_a):
    survey = draft(org_a)
    first = save(survey, "single_choice", key="why", choices=OPTIONS, required=True)
    last = save(survey, "text", key="note")
    copy = services.duplicate_question(question=first)
    again = services.duplicate_question(question=first)
    assert (copy.key, again.key) == ("why_copy", "why_copy_2")
    assert (copy.choices, copy.required, copy.text) == (first.choices, True, first.text)
    assert [q.key for q in survey.questions.all()] == ["why", "why_copy_2", "why_copy", "note"]
    assert last.pk in [q.pk for q in survey.questions.all()]


def test_reorder_is_saved_whole_or_not_at_all(org_a):
    survey = draft(org_a)
    services.add_page(survey=survey)
    a, b, c = (save(survey, "text", key=k) for k in ("qa", "qb", "qc"))
    services.reorder_questions(survey=survey, order=[(c.pk, 1), (a.pk, 2), (b.pk, 2)])
    expected = [("qc", 1, 1), ("qa", 2, 1), ("qb", 2, 2)]
    assert [(q.key, q.page, q.position) for q in survey.questions.all()] == expected

    for bad in ([(a.pk, 1), (b.pk, 1)],  # one left out
                [(a.pk, 1), (b.pk, 1), (c.pk, 1), (a.pk, 1)],  # one twice
                [(a.pk, 1), (b.pk, 1), (c.pk, 9)]):  # a page that is not there
        with pytest.raises(services.DesignRefused):
            services.reorder_questions(survey=survey, order=bad)
    assert [(q.key, q.page, q.position) for q in survey.questions.all()] == expected


def test_reorder_that_puts_a_rule_before_its_question_is_refused(org_a):
    survey = draft(org_a)
    why = save(survey, "single_choice", key="why", choices=OPTIONS)
    more = save(survey, "text", key="more", show_if={"field": "answer.why", "op": "equals", "value": "price"})
    with pytest.raises(services.DesignRefused) as refused:
        services.reorder_questions(survey=survey, order=[(more.pk, 1), (why.pk, 1)])
    assert "asked later" in refused.value.problems[0]
    assert [q.key for q in survey.questions.all()] == ["why", "more"]


def test_move_to_another_page_and_pages_added_and_removed(org_a):
    survey = draft(org_a)
    question = save(survey, "text", key="note")
    assert services.add_page(survey=survey) == 2
    services.move_question(question=question, page=2)
    question.refresh_from_db()
    assert (question.page, question.position) == (2, 1)
    with pytest.raises(services.DesignRefused, match="still has questions"):
        services.remove_page(survey=survey, number=2)
    with pytest.raises(services.DesignRefused):
        services.move_question(question=question, page=7)
    services.move_question(question=question, page=1)
    services.remove_page(survey=survey, number=2)
    survey.refresh_from_db()
    assert len(survey.pages) == 1
    with pytest.raises(services.DesignRefused, match="first page"):
        services.remove_page(survey=survey, number=1)


# --- Logic -----------------------------------------------------------------------------------

def test_a_rule_on_a_later_question_or_a_gone_option_is_refused(org_a):
    survey = draft(org_a)
    why = save(survey, "single_choice", key="why", choices=OPTIONS)
    with pytest.raises(services.DesignRefused) as refused:
        save(survey, "text", key="more", show_if={"field": "answer.why", "op": "equals", "value": "colour"})
    assert "no longer there" in refused.value.problems[0]
    more = save(survey, "text", key="more", show_if={"field": "answer.why", "op": "equals", "value": "price"})
    why.show_if = {"field": "answer.more", "op": "answered"}
    with pytest.raises(services.DesignRefused, match="asked later"):
        services.save_question(question=why, survey=survey, text=TEXT, choices=OPTIONS, version=why.version)
    assert Question.objects.get(pk=why.pk).show_if == {}
    with pytest.raises(services.DesignRefused, match="no longer in the survey"):
        services.delete_question(question=why)  # "more" still looks at it
    assert Question.objects.filter(pk=why.pk).exists() and more.pk


def test_jumps_go_only_forward(org_a):
    survey = draft(org_a)
    save(survey, "single_choice", key="why", choices=OPTIONS)
    services.add_page(survey=survey)
    services.add_page(survey=survey)
    when = {"field": "answer.why", "op": "equals", "value": "price"}
    services.save_page(survey=survey, number=1, title={}, jumps=[{"when": when, "to": 3}])
    with pytest.raises(services.DesignRefused, match="only go forward"):
        services.save_page(survey=survey, number=2, title={}, jumps=[{"when": when, "to": 1}])
    with pytest.raises(services.DesignRefused, match="remove the jump"):
        services.remove_page(survey=survey, number=3)
    survey.refresh_from_db()
    assert survey.pages[0]["jumps"] == [{"when": when, "to": 3}] and survey.pages[1]["jumps"] == []


# --- Live surveys and revisions --------------------------------------------------------------

def test_a_change_to_a_live_survey_becomes_its_next_revision(org_a, make_member):
    survey = draft(org_a)
    user = make_member(org_a, Role.CX_MANAGER)
    first = services.set_status(survey=survey, status=Survey.Status.ACTIVE, user=user)
    assert first.number == 1
    question = save(survey, "text", key="note")
    latest = SurveyRevision.objects.filter(survey=survey).order_by("-number").first()
    assert latest.number == 2 and [q["key"] for q in latest.snapshot["questions"]] == ["note"]
    assert not services.unpublished_changes(survey)

    # Missing Latvian on a live survey: it could not go live like that, so nothing is saved.
    with pytest.raises(services.DesignRefused, match="LV"):
        save(survey, "text", key="half", text={"en": "Half?", "ru": "Половина?"})
    assert not Question.objects.filter(key="half").exists()
    assert SurveyRevision.objects.filter(survey=survey).count() == 2
    assert question.pk


def test_publishing_is_refused_while_a_text_is_missing(org_a):
    survey = draft(org_a)
    save(survey, "text", key="note", text={"en": "Note?"})
    from surveys.revisions import PublishBlocked

    with pytest.raises(PublishBlocked) as blocked:
        services.set_status(survey=survey, status=Survey.Status.ACTIVE)
    assert any("RU" in problem for problem in blocked.value.problems)
    survey.refresh_from_db()
    assert (survey.status, survey.revision) == ("draft", 0)
    services.set_languages(survey=survey, languages=["en"])
    services.set_status(survey=survey, status=Survey.Status.ACTIVE)
    survey.refresh_from_db()
    assert (survey.status, survey.revision) == ("active", 1)


def test_stale_edit_is_refused(org_a):
    survey = draft(org_a)
    question = save(survey, "text", key="note")
    seen = question.version
    services.save_question(question=Question.objects.get(pk=question.pk), survey=survey, text=TEXT, version=seen)
    with pytest.raises(StaleEdit):
        services.save_question(question=question, survey=survey, text={"en": "Mine"}, version=seen)
    assert Question.objects.get(pk=question.pk).text == TEXT


# --- The page --------------------------------------------------------------------------------

def test_manager_adds_and_edits_a_question_in_place(manager, org_a):
    survey = draft(org_a)
    form = manager.get(f"/surveys/{survey.pk}/questions/new/", {"kind": "matrix", "page": "1"}, HTTP_HX_REQUEST="true")
    assert form.status_code == 200 and 'id="builder-main"' in form.content.decode()
    assert "<html" not in form.content.decode()  # the fragment only

    created = manager.post(f"/surveys/{survey.pk}/questions/new/", question_post(), HTTP_HX_REQUEST="true")
    assert created.status_code == 200 and created["HX-Trigger"] == "builder-saved"
    question = Question.objects.get(survey=survey)
    assert question.choice_values == ["city", "pro"]
    assert question.choices[0]["label"] == {"en": "City", "ru": "Город", "lv": "Pilsētas"}

    edited = manager.post(f"/surveys/{survey.pk}/questions/{question.pk}/edit/", question_post(
        kind="text", key="note", version=question.version, rule_field="score", rule_op="lte", rule_value="6"))
    assert edited.status_code == 302
    question.refresh_from_db()
    assert (question.kind, question.key, question.choices) == ("text", "note", [])
    assert question.show_if == {"field": "score", "op": "lte", "value": "6"}

    stale = manager.post(f"/surveys/{survey.pk}/questions/{question.pk}/edit/",
                         question_post(kind="text", version=question.version - 1), HTTP_HX_REQUEST="true")
    assert stale.status_code == 409 and "Someone else changed this" in stale.content.decode()


def test_a_refused_question_shows_why_and_saves_nothing(manager, org_a):
    survey = draft(org_a)
    refused = manager.post(f"/surveys/{survey.pk}/questions/new/", question_post(
        kind="rating", scale_min="7", scale_max="3", text_en="x\x00"), HTTP_HX_REQUEST="true")
    body = refused.content.decode()
    assert refused.status_code == 400
    assert "NUL" in body
    assert not Question.all_objects.filter(survey=survey).exists()
    scale = manager.post(f"/surveys/{survey.pk}/questions/new/", question_post(kind="rating", scale_min="7",
                                                                               scale_max="3"))
    assert scale.status_code == 400 and "end above" in scale.content.decode()
    hidden = manager.post(f"/surveys/{survey.pk}/questions/new/", question_post(kind="text", rule_field="hidden",
                                                                                rule_op="equals", rule_value="x"))
    assert hidden.status_code == 400 and "Name the hidden field" in hidden.content.decode()
    assert not Question.all_objects.filter(survey=survey).exists()


def test_order_jumps_pages_languages_and_publish_through_the_page(manager, org_a):
    survey = draft(org_a)
    a = save(survey, "single_choice", key="why", choices=OPTIONS)
    b = save(survey, "text", key="note")
    url = f"/surveys/{survey.pk}"
    assert manager.post(f"{url}/questions/order/", {"order": f"{b.pk}:1,{a.pk}:1"}).status_code == 302
    assert [q.key for q in survey.questions.all()] == ["note", "why"]
    garbled = manager.post(f"{url}/questions/order/", {"order": "x"}, HTTP_HX_REQUEST="true")
    assert garbled.status_code == 400 and "could not be read" in garbled.content.decode()

    manager.post(f"{url}/pages/add/")
    manager.post(f"{url}/pages/add/")
    added = manager.post(f"{url}/pages/jumps/add/", {"page": "1", "when_field": "answer.why", "when_op": "equals",
                                                     "when_value": "price", "to": "end"})
    assert added.status_code == 302
    backwards = manager.post(f"{url}/pages/jumps/add/", {"page": "3", "when_field": "score", "when_op": "lt",
                                                         "when_value": "5", "to": "1"}, HTTP_HX_REQUEST="true")
    assert backwards.status_code == 400
    survey.refresh_from_db()
    assert survey.pages[0]["jumps"] == [{"when": {"field": "answer.why", "op": "equals", "value": "price"},
                                         "to": "end"}]
    assert len(survey.pages) == 3 and survey.pages[2]["jumps"] == []
    manager.post(f"{url}/pages/jumps/remove/", {"page": "1", "index": "0"})
    manager.post(f"{url}/pages/remove/", {"page": "3"})
    manager.post(f"{url}/questions/{b.pk}/move/", {"page": "2"})
    survey.refresh_from_db()
    assert survey.pages[0]["jumps"] == [] and len(survey.pages) == 2
    assert Question.objects.get(pk=b.pk).page == 2

    bad_languages = manager.post(f"{url}/languages/", {"languages": ["de"]}, HTTP_HX_REQUEST="true")
    assert bad_languages.status_code == 400
    manager.post(f"{url}/languages/", {"languages": ["en", "lv"]})
    survey.refresh_from_db()
    assert survey.language_codes == ["en", "lv"]

    page = manager.get(f"{url}/").content.decode()
    assert page.count("Never published") == 1 and "Not yet published" not in page  # said once
    published = manager.post(f"{url}/publish/", HTTP_HX_REQUEST="true")
    assert published.status_code == 200 and "Live revision 1" in published.content.decode()
    survey.refresh_from_db()
    assert (survey.status, survey.revision) == ("active", 1)
    manager.post(f"{url}/status/", {"status": "paused"})
    survey.refresh_from_db()
    assert survey.status == "paused"
    assert manager.post(f"{url}/status/", {"status": "draft"}, HTTP_HX_REQUEST="true").status_code == 400


def test_publish_refused_lists_the_problems_with_links(manager, org_a):
    survey = draft(org_a)
    question = save(survey, "text", key="note", text={"en": "Note?"})
    refused = manager.post(f"/surveys/{survey.pk}/publish/", HTTP_HX_REQUEST="true")
    body = refused.content.decode()
    assert refused.status_code == 400 and "is not written in RU" in body
    assert f'href="#question-{question.pk}"' in body  # the translations panel links to the question
    survey.refresh_from_db()
    assert survey.status == "draft"
    panel = manager.get(f"/surveys/{survey.pk}/translations/").content.decode()
    assert "Question “note”" in panel and f"#question-{question.pk}" in panel


def test_the_survey_form_cannot_make_a_survey_live(manager, org_a):
    survey = draft(org_a)
    manager.post(f"/surveys/{survey.pk}/edit/", {"name": "Renamed", "survey_type": "nps", "status": "active",
                                                 "default_language": "en", "version": survey.version})
    survey.refresh_from_db()
    assert (survey.name, survey.status) == ("Renamed", "draft")


def test_an_answered_question_deleted_on_the_page_is_archived(manager, org_a):
    survey = draft(org_a)
    question = save(survey, "text", key="note")
    factories.response(org_a, factories.distribution(org_a, survey)).answers.create(question=question, text="ok")
    response = manager.post(f"/surveys/{survey.pk}/questions/{question.pk}/delete/", follow=True)
    assert "archived" in response.content.decode()
    assert Question.all_objects.get(pk=question.pk).archived_at <= timezone.now()
    copy = manager.post(f"/surveys/{survey.pk}/questions/{question.pk}/duplicate/")
    assert copy.status_code == 404  # an archived question is no longer in the builder


# --- Tenancy and roles -----------------------------------------------------------------------

BUILDER_POSTS = ["questions/new/", "questions/order/", "questions/{q}/edit/", "questions/{q}/delete/",
                 "questions/{q}/duplicate/", "questions/{q}/move/", "pages/add/", "pages/remove/",
                 "pages/jumps/add/", "pages/jumps/remove/", "languages/", "publish/", "status/"]


def test_another_organizations_survey_and_question_ids_are_404(manager, org_b):
    foreign = factories.question(org_b)
    for path in BUILDER_POSTS:
        url = f"/surveys/{foreign.survey_id}/" + path.format(q=foreign.pk)
        assert manager.post(url).status_code == 404, url
    assert manager.get(f"/surveys/{foreign.survey_id}/").status_code == 404
    assert manager.get(f"/surveys/{foreign.survey_id}/translations/").status_code == 404
    assert manager.get(f"/surveys/{foreign.survey_id}/questions/{foreign.pk}/edit/").status_code == 404
    assert Question.objects.filter(pk=foreign.pk, archived_at__isnull=True).exists()


def test_a_foreign_question_under_an_own_survey_is_404(manager, org_a, org_b):
    survey = draft(org_a)
    foreign = factories.question(org_b)
    for path in BUILDER_POSTS:
        if "{q}" in path:
            assert manager.post(f"/surveys/{survey.pk}/" + path.format(q=foreign.pk)).status_code == 404
    assert Question.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_viewers_and_agents_see_the_builder_but_cannot_change_it(org_a, make_member, client_for, role):
    survey = draft(org_a)
    question = save(survey, "text", key="note")
    client = client_for(make_member(org_a, role))
    page = client.get(f"/surveys/{survey.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="publish"' not in body and "data-handle" not in body and f"/questions/{question.pk}/edit/" not in body
    for path in BUILDER_POSTS:
        assert client.post(f"/surveys/{survey.pk}/" + path.format(q=question.pk)).status_code == 403, path
    question.refresh_from_db()
    assert question.archived_at is None and Question.objects.filter(survey=survey).count() == 1


@pytest.mark.parametrize(("reader", "languages", "default", "shown"), [
    ("ru", ["en", "ru", "lv"], "lv", "ru"),  # the reader's language, which the survey speaks
    ("en", ["ru", "lv"], "lv", "lv"),  # else the survey's own
])
def test_the_builders_preview_opens_in_the_readers_language(org_a, manager, reader, languages, default, shown):
    survey = factories.survey(org_a)
    Survey.objects.filter(pk=survey.pk).update(language_codes=languages, default_language=default)
    page = manager.get(f"/surveys/{survey.pk}/", HTTP_ACCEPT_LANGUAGE=reader).content.decode()
    select = page.split('id="preview-lang"')[1].split("</select>")[0]
    assert f'<option value="{shown}" selected>' in select and select.count(" selected") == 1
