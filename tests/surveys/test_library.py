"""The template library: every template is a survey ready to go live in all three languages, a copy
is a draft of the organization that asked for it, and the library page offers them to designers."""

import pytest
from django.utils import translation

from cxplatform.models import Role
from surveys import library, logic, piping, revisions, services, translations
from surveys.models import Question, RetentionOffer, Survey
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", list(library.TEMPLATES))
def test_every_template_can_go_live_in_all_three_languages(slug, org_a):
    survey = library.create_from_template(organization=org_a, template=slug)
    assert survey.status == Survey.Status.DRAFT
    assert revisions.problems(survey) == []
    assert translations.missing(survey, languages=["en", "ru", "lv"]) == []
    assert set(survey.languages) == {"en", "ru", "lv"}
    assert "{company}" not in str(survey.score_question)
    # Publishing goes through: the same checks the editor's "Publish" runs.
    revisions.publish(survey=survey)
    survey.refresh_from_db()
    assert survey.status == Survey.Status.ACTIVE and survey.revision == 1


def plan_order(plan, key):
    return [k for page in plan["pages"] for k in page["questions"]].index(key)


@pytest.mark.parametrize("slug", list(library.TEMPLATES))
def test_every_template_uses_pages_and_logic(slug, org_a):
    survey = library.create_from_template(organization=org_a, template=slug)
    questions = list(survey.questions.all())
    plan = logic.plan_of(survey, questions)
    assert len(plan["pages"]) >= 2
    assert plan["show_if"] or any(page["jumps"] for page in plan["pages"])
    # A later question pipes in an earlier answer, in every language it is written in.
    piped = [q for q in questions if piping.references(q.text["en"])]
    assert piped and all(piping.references(q.text[code]) == piping.references(q.text["en"])
                         for q in piped for code in ("ru", "lv"))
    assert all(plan_order(plan, key) < plan_order(plan, q.key)
               for q in piped for key in piping.references(q.text["en"]))
    spec = library.get(slug)
    assert [q.key for q in questions] == [q["key"] for q in spec.questions]
    # Keys the survey page and imports can use as field names; offers answer options that exist.
    assert not {q.key for q in questions} & services.RESERVED_QUESTION_KEYS
    for key, offers in spec.offers.items():
        assert {reason for reason, _text in offers} <= set(survey.questions.get(key=key).choice_values)


def test_logic_of_the_post_purchase_template_sends_only_detractors_to_page_two(org_a):
    survey = library.create_from_template(organization=org_a, template="post-purchase-nps")
    plan = logic.plan_of(survey)
    detractor = logic.evaluate(plan, logic.Facts(score=3, band="detractor", answers={"product": "product"}))
    promoter = logic.evaluate(plan, logic.Facts(score=10, band="promoter", answers={"product": "product"}))
    assert detractor.pages == [1, 2, 3] and "reason" in detractor.visible
    assert "tell_a_friend" not in detractor.visible
    assert promoter.pages == [1, 3] and "reason" not in promoter.visible and "tell_a_friend" in promoter.visible
    reason = survey.questions.get(key="reason")
    assert "{{answer.product" in reason.text["ru"] and reason.allow_other


def test_a_copy_is_a_draft_of_the_organization_with_its_own_questions_and_offers(org_a, org_b):
    first = library.create_from_template(organization=org_a, template="churn-reasons")
    second = library.create_from_template(organization=org_a, template="churn-reasons")
    other = library.create_from_template(organization=org_b, template="churn-reasons", name="  Why they leave ")
    assert first.name == "Churn reasons" and second.name == "Churn reasons (2)" and other.name == "Why they leave"
    assert Survey.objects.for_org(org_a).filter(status=Survey.Status.DRAFT).count() == 2
    assert Question.objects.filter(survey=first).count() == len(library.get("churn-reasons").questions)
    assert set(Question.objects.filter(survey=first).values_list("organization", flat=True)) == {org_a.pk}
    offers = RetentionOffer.objects.for_org(org_a).filter(question__survey=first)
    assert offers.count() == 6 and all(set(o.text) == {"en", "ru", "lv"} for o in offers)
    assert set(offers.values_list("reason", flat=True)) <= set(first.questions.get(key="reason").choice_values)
    assert RetentionOffer.objects.for_org(org_b).filter(question__survey=other).count() == 6
    # The copies share nothing: editing one leaves the template and the other copy as they were.
    q = first.questions.get(key="reason")
    q.choices[0]["label"]["en"] = "Changed"
    q.save()
    assert second.questions.get(key="reason").choices[0]["label"]["en"] == "It costs too much"
    assert library.get("churn-reasons").questions[0]["choices"][0]["label"]["en"] == "It costs too much"


def test_an_unknown_template_is_refused_and_makes_nothing(org_a):
    with pytest.raises(library.UnknownTemplate):
        library.create_from_template(organization=org_a, template="nope")
    assert not Survey.objects.for_org(org_a).exists()


def test_a_user_who_may_not_design_there_is_refused(org_a, org_b, make_member):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        library.create_from_template(organization=org_a, template="csi", user=make_member(org_a, Role.VIEWER))
    with pytest.raises(PermissionDenied):  # a manager of another organization
        library.create_from_template(organization=org_a, template="csi", user=make_member(org_b, Role.CX_MANAGER))
    assert not Survey.objects.exists()
    survey = library.create_from_template(organization=org_a, template="csi",
                                          user=make_member(org_a, Role.CX_MANAGER))
    assert survey.organization == org_a


def test_the_library_page_lists_every_template_with_a_preview(org_a, make_member, client_for):
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    page = manager.get("/surveys/templates/")
    assert page.status_code == 200
    html = page.content.decode()
    for spec in library.TEMPLATES.values():
        assert spec.name["en"] in html and f'value="{spec.slug}"' in html
    assert "Asked only if the score band is Promoter" in html
    assert "Then, if the score band is not Detractor: go to page 3" in html
    assert "[product]" in html  # a piped answer shows as its placeholder
    assert "Use this template" in html
    listing = manager.get("/surveys/")
    assert 'href="/surveys/templates/"' in listing.content.decode()


def test_the_library_page_speaks_the_readers_language(org_a, make_member, client_for):
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    with translation.override("lv"):
        html = manager.get("/surveys/templates/", HTTP_ACCEPT_LANGUAGE="lv").content.decode()
    assert "Aiziešanas iemesli" in html and "Kāpēc klienti aiziet" in html
    assert "Churn reasons" not in html


def test_using_a_template_makes_a_draft_and_opens_it(org_a, make_member, client_for):
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    response = manager.post("/surveys/templates/use/", {"template": "repair-ces", "name": "Repair 2026"})
    survey = Survey.objects.for_org(org_a).get()
    assert response.status_code == 302 and response["Location"] == f"/surveys/{survey.pk}/"
    assert survey.name == "Repair 2026" and survey.status == Survey.Status.DRAFT
    assert survey.questions.filter(kind=Question.Kind.MATRIX).exists()


def test_an_unknown_template_or_an_unstorable_name_gets_a_clear_error(org_a, make_member, client_for):
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    response = manager.post("/surveys/templates/use/", {"template": "../../etc"})
    assert response.status_code == 400
    assert "There is no such survey template" in response.content.decode()
    response = manager.post("/surveys/templates/use/", {"template": "csi", "name": "Bad\x00name"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert not Survey.objects.exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_only_designers_may_use_a_template(role, org_a, make_member, client_for):
    member = client_for(make_member(org_a, role))
    assert member.get("/surveys/templates/").status_code == 200
    assert "Use this template" not in member.get("/surveys/templates/").content.decode()
    assert member.post("/surveys/templates/use/", {"template": "csi"}).status_code == 403
    assert not Survey.objects.exists()


def test_a_template_is_copied_into_the_members_own_organization(org_a, org_b, make_member, client_for):
    factories.survey(org_b, "nps")
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    manager.post("/surveys/templates/use/", {"template": "support-csat"})
    assert Survey.objects.for_org(org_a).count() == 1
    assert Survey.objects.for_org(org_b).count() == 1
    made = Survey.objects.for_org(org_a).get()
    # Another organization's members cannot open the draft: the same 404 as a missing id.
    outsider = client_for(make_member(org_b, Role.CX_MANAGER))
    assert outsider.get(f"/surveys/{made.pk}/").status_code == 404


def _logic_value(answer):
    if answer.number is not None:
        return answer.number
    if answer.choices:
        return answer.choices if answer.question.kind == Question.Kind.MULTIPLE_CHOICE else answer.choices[0]
    return answer.grid or answer.text


def test_the_demo_multi_page_survey_stores_only_what_its_logic_showed():
    from cxplatform.demo import DEMO_SLUG, load_demo
    from cxplatform.models import Organization
    from surveys import demo
    from surveys.models import Response

    load_demo()
    org = Organization.objects.get(slug=DEMO_SLUG)
    survey = Survey.objects.for_org(org).get(name=demo.MULTI_PAGE_SURVEY)
    assert survey.status == Survey.Status.ACTIVE and survey.revision == 1
    assert survey.distributions.filter(touchpoint__isnull=False).exists()
    assert len(survey.pages) == 3 and revisions.problems(survey) == []
    plan = logic.plan_of(survey)
    responses = list(Response.objects.for_org(org).filter(survey=survey).prefetch_related("answers__question"))
    assert len(responses) == demo.MULTI_PAGE_RESPONSES
    days = {r.submitted_at.date() for r in responses}
    assert len(days) > 150  # spread over the demo's year, like its other answers
    answered_by_band = {}
    for response in responses:
        answers = {a.question.key: _logic_value(a) for a in response.answers.all()}
        flow = logic.evaluate(plan, logic.Facts(score=response.score, band=response.band,
                                                language=response.language, answers=answers))
        assert set(answers) <= flow.visible, (response.band, set(answers) - flow.visible)
        answered_by_band.setdefault(response.band, set()).update(answers)
    # Both branches were taken: detractors explained on page 2, promoters never saw it.
    assert "reason" in answered_by_band["detractor"] and "reason" not in answered_by_band["promoter"]
    assert "tell_a_friend" in answered_by_band["promoter"] and "tell_a_friend" not in answered_by_band["detractor"]

    def nps(model):
        scores = [r.score for r in responses
                  if any(a.question.key == "product" and a.choices == [model] for a in r.answers.all())]
        return (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) * 100 / len(scores)

    # The breakdown by "which scooter" tells a story: the Pro delights, the Cargo disappoints.
    assert nps("pro") > nps("city") > nps("cargo")


def test_a_follow_up_is_named_by_its_band_in_the_readers_language(org_a):
    """"Уточняющий вопрос: detractor" showed the band's code on Russian and Latvian pages."""
    from surveys.forms import SurveyForm

    survey = factories.survey(org_a, "nps")
    survey.follow_up = {"detractor": {"en": "What went wrong?"}}
    with translation.override("ru"):
        label = SurveyForm(instance=survey).fields["follow_up_detractor_ru"].label
        assert label == "Уточняющий вопрос: Критик (Русский)"
        assert [m.where for m in translations.missing(survey, questions=[], languages=["ru"])
                if "Уточняющий" in m.where] == ["Уточняющий вопрос (Критик)"]
