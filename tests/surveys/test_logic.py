"""The logic evaluator and its validation (surveys.logic): what is shown, where a page goes, and
which rules cannot be saved."""

import pytest

from surveys import logic
from surveys.logic import Facts
from tests import factories

pytestmark = pytest.mark.django_db


def _scooter_survey(org_a):
    survey = factories.survey(org_a, pages=[{"jumps": [{"when": {"field": "band", "op": "equals", "value": "promoter"},
                                                      "to": 3}]}, {}, {}])
    choices = [{"value": "s1", "label": {"en": "S1"}}, {"value": "s2", "label": {"en": "S2"}}]
    factories.question(org_a, survey, kind="single_choice", key="scooter", page=1, position=1, choices=choices)
    factories.question(org_a, survey, kind="text", key="why_s1", page=1, position=2,
                       show_if={"field": "answer.scooter", "op": "equals", "value": "s1"})
    factories.question(org_a, survey, kind="text", key="complaint", page=2, position=1)
    factories.question(org_a, survey, kind="yes_no", key="again", page=3, position=1)
    return survey


def test_a_condition_shows_a_question_and_a_jump_skips_a_page(org_a):
    survey = _scooter_survey(org_a)
    plan = logic.plan_of(survey)
    flow = logic.evaluate(plan, Facts(score=10, band="promoter", answers={"scooter": "s2", "why_s1": "x"}))
    assert flow.pages == [1, 3]
    assert flow.visible == {"scooter", "again"}
    flow = logic.evaluate(plan, Facts(score=3, band="detractor", answers={"scooter": "s1"}))
    assert flow.pages == [1, 2, 3]
    assert flow.visible == {"scooter", "why_s1", "complaint", "again"}
    assert logic.problems(survey) == []


def test_a_hidden_answer_is_not_seen_by_later_rules(org_a):
    survey = _scooter_survey(org_a)
    factories.question(org_a, survey, kind="text", key="follow", page=3, position=2,
                       show_if={"field": "answer.why_s1", "op": "answered"})
    flow = logic.evaluate(logic.plan_of(survey), Facts(answers={"scooter": "s2", "why_s1": "typed before switching"}))
    assert "follow" not in flow.visible


@pytest.mark.parametrize(("show_if", "jumps", "expected"), [
    ({"field": "answer.complaint", "op": "answered"}, [], "asked later"),
    ({"field": "answer.gone", "op": "answered"}, [], "no longer in the survey"),
    ({"field": "answer.scooter", "op": "equals", "value": "s9"}, [], "no longer there"),
    ({"field": "colour", "op": "equals", "value": "x"}, [], "does not know"),
    ({}, [{"when": {}, "to": 1}], "forward"),
    ({}, [{"when": {}, "to": 9}], "does not exist"),
])
def test_unsound_logic_is_named(org_a, show_if, jumps, expected):
    survey = _scooter_survey(org_a)
    survey.pages = [{"jumps": jumps}, {}, {}]
    factories.question(org_a, survey, kind="text", key="probe", page=1, position=3, show_if=show_if)
    found = logic.problems(survey)
    assert any(expected in problem for problem in found), found


def test_piping_escapes_names_and_answers():
    from surveys import piping

    values = piping.PipeValues(name="<b>Ann</b>", answers={"scooter": "<img src=x>"})
    html = piping.render("Hi {{name}}, why {{answer.scooter|that one}} & {{touchpoint|us}}?", values)
    assert "<b>" not in html and "&lt;b&gt;Ann&lt;/b&gt;" in html
    assert '<span data-pipe="scooter" data-fallback="that one">&lt;img src=x&gt;</span>' in html
    assert html.endswith("&amp; us?")
    assert piping.references("{{answer.a}} {{ answer.b | x }} {{name}}") == {"a", "b"}


@pytest.mark.parametrize("show_if", [{"all": None}, {"any": 5}, {"all": ["x"]}, {"not": None}, {"not": 3}])
def test_a_malformed_rule_is_refused_when_saved_and_never_raises_when_read(org_a, show_if):
    survey = _scooter_survey(org_a)
    factories.question(org_a, survey, kind="text", key="probe", page=1, position=3, show_if=show_if)
    assert any("incomplete" in problem for problem in logic.problems(survey))
    logic.evaluate(logic.plan_of(survey), Facts(answers={"scooter": "s1"}))  # stored by SQL: still no 500


def test_the_server_compares_like_the_page():
    plan = {"pages": [{"number": 1, "questions": ["a", "b"], "jumps": []}],
            "show_if": {"b": {"field": "answer.a", "op": "equals", "value": 9.0}}}
    assert logic.evaluate(plan, Facts(answers={"a": 9})).visible == {"a", "b"}
    plan["show_if"]["b"] = {"field": "answer.a", "op": "gt", "value": 5}
    assert logic.evaluate(plan, Facts(answers={"a": "１２"})).visible == {"a"}


def test_a_csi_survey_refuses_rules_on_its_score(org_a):
    survey = factories.survey(org_a, "csi")
    factories.question(org_a, survey, kind="csi_attribute", key="speed", page=1, position=1)
    factories.question(org_a, survey, kind="text", key="why", page=1, position=2,
                       show_if={"field": "band", "op": "equals", "value": "low"})
    assert any("no score until every attribute" in problem for problem in logic.problems(survey))
    survey.questions.filter(key="why").update(show_if={"field": "answer.speed", "op": "lte", "value": 2})
    assert logic.problems(survey) == []
