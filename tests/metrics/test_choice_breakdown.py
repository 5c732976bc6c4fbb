"""Choice questions on the dashboard: their distribution, the score broken down by option, and
every figure filtered to one option — all read from ChoiceRollup, which must always equal a
recount from the raw answers."""

import re
from collections import Counter, defaultdict
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from cxplatform.models import Role
from metrics import definitions, rollups, selectors
from metrics.models import ChoiceRollup
from surveys.models import Answer, Question, Response
from tests import factories

pytestmark = pytest.mark.django_db

SCOOTERS = [{"value": "s1", "label": {"en": "City scooter", "ru": "Городской самокат", "lv": "Pilsētas skrejritenis"}},
            {"value": "s2", "label": {"en": "Cargo scooter", "ru": "Грузовой самокат", "lv": "Kravas skrejritenis"}}]
EXTRAS = [{"value": "helmet", "label": {"en": "Helmet"}}, {"value": "lock", "label": {"en": "Lock"}},
          {"value": "bag", "label": {"en": "Bag"}}]


def snapshot(org):
    fields = ["survey_id", "question_id", "option", "touchpoint_id", "channel_id", "segment", "language", "day",
              "responses", "skipped", "completed", "comments", "positive_comments", "neutral_comments",
              "negative_comments", "score_sum", *[f"c{i}" for i in range(11)]]
    return sorted(map(repr, ChoiceRollup.objects.filter(organization=org).values_list(*fields)))


def recount(org):
    """What ChoiceRollup must hold, counted here from the raw answers, independently of the SQL."""
    rows = defaultdict(Counter)
    responses = Response.objects.filter(organization=org).exclude(status=Response.Status.STARTED)
    for r in responses.select_related("survey"):
        moment = r.submitted_at or r.started_at
        picked = {a.question_id: a.choices for a in Answer.objects.filter(response=r)}
        for q in Question.all_objects.filter(survey=r.survey, kind__in=ChoiceRollup.KINDS):
            chosen = picked.get(q.pk) or []
            if not chosen and q.archived_at is not None and q.archived_at <= moment:
                continue
            options = [*set(chosen), ChoiceRollup.ANSWERED] if chosen else [ChoiceRollup.NO_ANSWER]
            for option in options:
                key = (r.survey_id, q.pk, option, r.touchpoint_id or 0, r.channel_id or 0, "", r.language,
                       moment.astimezone(UTC).date())
                c = rows[key]
                c["responses"] += r.score is not None
                c["skipped"] += r.score is None
                c["completed"] += r.status == Response.Status.COMPLETED
                c["comments"] += bool(r.comment)
                c["positive"] += r.sentiment == 1
                c["neutral"] += r.sentiment == 0
                c["negative"] += r.sentiment == -1
                c["score_sum"] += r.score or 0
                if r.score is not None:
                    c[f"c{r.score}"] += 1
    return sorted(repr((*key, c["responses"], c["skipped"], c["completed"], c["comments"], c["positive"],
                        c["neutral"], c["negative"], c["score_sum"], *[c[f"c{i}"] for i in range(11)]))
                  for key, c in rows.items())


def rebuild_all(org):
    today = timezone.now().date()
    rollups.rebuild(org, today - timedelta(days=60), today + timedelta(days=2))


def answer(link, score, **picks):
    """A completed response with `score` and the given choices ({question key: [values]})."""
    response = factories.response(link.organization, link, score=score)
    questions = {q.key: q for q in Question.all_objects.filter(survey=link.survey)}
    for key, values in picks.items():
        Answer.objects.create(response=response, question=questions[key], choices=values)
    return response


@pytest.fixture
def scooter_survey(org_a):
    survey = factories.survey(org_a)
    factories.question(org_a, survey, kind=Question.Kind.SINGLE_CHOICE, key="scooter", choices=SCOOTERS,
                       allow_other=True)
    factories.question(org_a, survey, kind=Question.Kind.MULTIPLE_CHOICE, key="extras", choices=EXTRAS)
    factories.question(org_a, survey, kind=Question.Kind.YES_NO, key="again")
    factories.question(org_a, survey, kind=Question.Kind.TEXT, key="why")
    return survey


def test_the_choice_rollup_equals_a_recount_after_answers_edits_deletions_and_archiving(org_a, scooter_survey):
    link = factories.distribution(org_a, scooter_survey)
    other_link = factories.distribution(org_a, scooter_survey)
    yesterday = timezone.now() - timedelta(days=1)
    answer(link, 10, scooter=["s1"], extras=["helmet", "lock"], again=["yes"])
    answer(link, 3, scooter=["s2"], extras=["lock"], again=["no"])
    answer(other_link, None, scooter=["_other"])  # the score skipped: it still picked an option
    answer(link, 8)  # answered no choice question
    old = factories.response(org_a, link, score=9, started_at=yesterday, submitted_at=yesterday)
    Answer.objects.create(response=old, question=Question.objects.get(key="scooter"), choices=["s2"])
    factories.response(org_a, link, score=0, status=Response.Status.STARTED, submitted_at=None)  # not final
    rebuild_all(org_a)
    assert snapshot(org_a) == recount(org_a)
    assert ChoiceRollup.objects.filter(option="s1").get().c10 == 1
    assert not ChoiceRollup.objects.filter(question__key="why").exists()

    edited = Answer.objects.get(response__score=3, question__key="scooter")
    edited.choices = ["s1"]
    edited.save()
    Response.objects.filter(score=10).delete()
    rebuild_all(org_a)
    assert snapshot(org_a) == recount(org_a)

    # Archived today: yesterday's answers keep counting; today's later responses are not "no answer".
    extras = Question.objects.get(key="extras")
    extras.archived_at = timezone.now()
    extras.save()
    answer(link, 7, scooter=["s1"])
    rebuild_all(org_a)
    assert snapshot(org_a) == recount(org_a)
    assert ChoiceRollup.objects.filter(question=extras, option="lock").get().responses == 1
    # Before the archiving: the skipped score's _other, the 8 and yesterday's 9; not the new 7.
    assert sum(r.respondents for r in ChoiceRollup.objects.filter(
        question=extras, option=ChoiceRollup.NO_ANSWER)) == 3


def test_the_dirty_day_batch_rebuilds_the_choice_rollup_in_the_same_pass(org_a, scooter_survey):
    link = factories.distribution(org_a, scooter_survey)
    first = answer(link, 9, scooter=["s1"])
    rollups.mark_for_response(first.pk)
    assert rollups.rebuild_dirty() == 1
    assert snapshot(org_a) == recount(org_a)
    second = answer(link, 2, scooter=["s1"], again=["no"])
    rollups.mark_for_response(second.pk)
    rollups.rebuild_dirty()
    assert snapshot(org_a) == recount(org_a)
    assert ChoiceRollup.objects.get(option="s1").respondents == 2


def test_the_python_count_for_sqlite_gives_the_same_rows(org_a, scooter_survey):
    link = factories.distribution(org_a, scooter_survey)
    answer(link, 10, scooter=["s1"], extras=["helmet", "lock"], again=["yes"])
    answer(link, None, scooter=["s2"], extras=["bag"])
    answer(link, 4)
    today = timezone.now().date()
    rollups._build_choice_groups(org_a, today, today + timedelta(days=1), None)
    assert snapshot(org_a) == recount(org_a)


def nps_of(scores):
    return definitions.nps(Counter(scores))


@pytest.fixture
def answered(org_a, scooter_survey):
    """Twelve answers: s1 by 10, 9, 9, 6, 8; s2 by 3, 2, 10, 7; "Other" by 9; no scooter by 5 and 10."""
    link = factories.distribution(org_a, scooter_survey)
    for score, scooter, extras in ((10, "s1", ["helmet", "lock"]), (9, "s1", ["helmet"]), (9, "s1", []),
                                   (6, "s1", ["lock"]), (8, "s1", ["helmet", "bag"]), (3, "s2", ["lock"]),
                                   (2, "s2", []), (10, "s2", ["helmet"]), (7, "s2", []), (9, "_other", [])):
        picks = {"scooter": [scooter]}
        if extras:
            picks["extras"] = extras
        answer(link, score, **picks)
    answer(link, 5)
    answer(link, 10, again=["yes"])
    answer(link, None, scooter=["s1"])  # picked a scooter, skipped the score
    rebuild_all(org_a)
    return link


def scope_of(org, **fields):
    today = timezone.now().date()
    return selectors.Scope(org, today - timedelta(days=29), today + timedelta(days=1), **fields)


def test_nps_by_option_matches_a_hand_computation(org_a, answered):
    from metrics import choice_figures

    scooter = Question.objects.get(key="scooter")
    rows = {r["key"]: r for r in choice_figures.breakdown(scope_of(org_a), scooter, "nps")}
    assert list(rows) == ["s1", "s2", "_other", ""]  # the question's order, "no answer" last
    # s1: promoters 10, 9, 9; passive 8; detractor 6 → (3 − 1) / 5 = 40; one more skipped the score.
    assert rows["s1"]["value"] == 40 and rows["s1"]["n"] == 5 and rows["s1"]["skipped"] == 1
    p, d, n = 3 / 5, 1 / 5, 5
    moe = 1.959963984540054 * ((p + d - (p - d) ** 2) / n) ** 0.5 * 100
    assert rows["s1"]["margin_of_error"] == round(moe)
    assert rows["s1"]["small_sample"] is True
    assert rows["s2"]["value"] == round(nps_of([3, 2, 10, 7]).value) == -25
    assert (rows["_other"]["name"], rows["_other"]["value"]) == ("Other", 100)
    assert (rows[""]["name"], rows[""]["n"], rows[""]["value"]) == ("No answer", 2, 0)


def test_multiple_choice_shares_are_of_the_respondents_who_answered(org_a, answered):
    from metrics import choice_figures

    found = {d.question.key: d for d in choice_figures.distributions(scope_of(org_a))}
    extras = found["extras"]
    assert extras.answered == 6 and extras.skipped == 7  # 13 counted responses, 6 picked extras
    shares = {o["value"]: (o["count"], round(o["percent"])) for o in extras.options}
    assert shares == {"helmet": (4, 67), "lock": (3, 50), "bag": (1, 17)}  # adds up to more than 100
    scooter = {o["value"]: (o["count"], round(o["percent"])) for o in found["scooter"].options}
    assert scooter == {"s1": (6, 55), "s2": (4, 36), "_other": (1, 9)}
    assert [o["label"] for o in found["again"].options] == ["Yes", "No"]
    assert found["again"].answered == 1 and found["again"].skipped == 12


def test_an_answer_filter_narrows_every_figure(org_a, answered):
    scooter = Question.objects.get(key="scooter")
    everyone = selectors.figures(scope_of(org_a))
    only_s2 = selectors.figures(scope_of(org_a, answer=(scooter.pk, "s2")))
    assert everyone["nps"].n == 12
    assert (only_s2["nps"].n, round(only_s2["nps"].value)) == (4, -25)
    assert only_s2["responses"].n == 4
    behind = selectors.responses_behind(scope_of(org_a, answer=(scooter.pk, "s2")), "nps")
    assert sorted(r.score for r in behind) == [2, 3, 7, 10]  # the drill-down lists the same answers
    extras = Question.objects.get(key="extras")
    helmet = selectors.dashboard(scope_of(org_a, answer=(extras.pk, "helmet")))
    assert helmet["summary"]["metrics"]["nps"]["n"] == 4
    assert sum(helmet["distribution"].values()) == 4


def test_the_dashboard_fragment_shows_questions_breakdown_and_filter(org_a, answered, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    scooter = Question.objects.get(key="scooter")
    page = client.get("/", {"by": scooter.pk}, HTTP_HX_REQUEST="true")
    body = page.content.decode()
    assert page.status_code == 200 and "<html" not in body
    assert 'id="choice-questions"' in body and f'id="chart-question-{scooter.pk}"' in body
    table = body.split('id="breakdown-question"')[1].split("</section>")[0]
    assert "NPS by “Question" in table
    assert re.search(r"City scooter</a></td>\s*<td>40 <span class=\"badge paused\"", table)
    assert f"answer={scooter.pk}%3As2" in table  # each option drills into its own responses

    filtered = client.get("/", {"answer": f"{scooter.pk}:s2"})
    html = filtered.content.decode()
    assert filtered.status_code == 200
    assert "Only the responses that answered" in html and "Cargo scooter" in html
    kpi = html.split('id="kpi-nps"')[1].split("</article>")[0]
    assert '<div class="value">−25<' in kpi or '<div class="value">-25<' in kpi
    assert "n=4" in kpi
    assert f'<option value="{scooter.pk}:s2" selected>' in html  # the URL is the shareable filter


def test_labels_follow_the_readers_language(org_a, answered, make_member, client_for):
    from django.utils import translation

    from metrics import choice_figures

    with translation.override("ru"):
        found = {d.question.key: d for d in choice_figures.distributions(scope_of(org_a))}
    assert found["scooter"].options[0]["label"] == "Городской самокат"
    with translation.override("lv"):  # no Latvian label for the extras: the English one
        found = {d.question.key: d for d in choice_figures.distributions(scope_of(org_a))}
    assert found["extras"].options[0]["label"] == "Helmet"


def test_another_organizations_question_is_refused_like_a_missing_one(org_a, org_b, answered, make_member,
                                                                     client_for):
    foreign = factories.question(org_b, kind=Question.Kind.SINGLE_CHOICE, choices=SCOOTERS)
    client = client_for(make_member(org_a, Role.VIEWER))
    for params in ({"answer": f"{foreign.pk}:s1"}, {"by": foreign.pk}):
        refused = client.get("/", params)
        missing = client.get("/", {key: str(value).replace(str(foreign.pk), "999999") for key, value in params.items()})
        assert refused.status_code == missing.status_code == 400
        assert "Select a valid choice" in refused.content.decode()
    own = Question.objects.get(key="scooter")
    assert client.get("/", {"answer": f"{own.pk}:nope"}).status_code == 400  # not one of its options
    api = client.get("/metrics/responses/", {"answer": f"{foreign.pk}:s1"})
    assert api.status_code == 400


def test_the_drill_down_lists_the_responses_that_picked_the_option(org_a, answered, make_member, client_for):
    scooter = Question.objects.get(key="scooter")
    client = client_for(make_member(org_a, Role.VIEWER))
    page = client.get("/metrics/responses/", {"answer": f"{scooter.pk}:_other", "type": "nps"})
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_questions_section_in_a_browser(live_server, page, artifact):
    """On the demo data: each choice question's chart is drawn, "Break down by" the scooter model
    shows NPS per model, and filtering by one model narrows the KPI — all through the URL."""
    from cxplatform.demo import DEMO_PASSWORD, load_demo

    load_demo()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/?from={(timezone.now().date() - timedelta(days=89)).isoformat()}")
    model = Question.objects.get(key="model")
    page.wait_for_selector(f"#chart-question-{model.pk} .main-svg", timeout=15_000)
    assert page.locator(f"#question-{model.pk} h3").inner_text().startswith("Which scooter did you buy?")
    def nps_n() -> int:  # the KPI's sample size: the NPS value itself may coincide on a given day's demo data
        return int(re.search(r"n=(\d+)", page.locator("#kpi-nps .meta").last.inner_text()).group(1))

    n_all = nps_n()

    with page.expect_response(lambda r: "by=" in r.url):
        page.select_option("#id_by", str(model.pk))
    page.wait_for_selector("#breakdown-question tbody tr")
    page.wait_for_function("() => location.search.includes('by=')")
    rows = page.locator("#breakdown-question tbody tr")
    assert rows.count() == 3 and "VR City" in rows.nth(0).inner_text()
    page.locator("#choice-questions").scroll_into_view_if_needed()
    page.screenshot(path=artifact("dashboard-choice-questions.png"), full_page=True)

    with page.expect_response(lambda r: "answer=" in r.url):
        page.select_option("#id_answer", f"{model.pk}:cargo")
    page.wait_for_selector("#answer-filter")
    cargo = page.locator("#kpi-nps .value").inner_text()
    assert 0 < nps_n() < n_all
    expected = page.locator("#breakdown-question tbody tr").nth(0).locator("td").nth(1).inner_text()
    assert cargo.split()[0] == expected.split()[0]  # the KPI under the filter is the model's row
    page.goto(page.url)  # the shared URL shows the same view
    assert page.locator("#kpi-nps .value").inner_text() == cargo
    clipped = page.evaluate("() => [...document.querySelectorAll('main .card')]"
                            ".filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.id || c.className)")
    assert clipped == []
    page.screenshot(path=artifact("dashboard-answer-filter.png"), full_page=True)


def test_a_breakdown_by_a_question_of_another_measure_says_which(org_a, answered, make_member, client_for):
    csat = factories.survey(org_a, "csat")
    reason = factories.question(org_a, csat, kind=Question.Kind.SINGLE_CHOICE, key="reason", choices=SCOOTERS)
    client = client_for(make_member(org_a, Role.VIEWER))
    body = client.get("/", {"by": reason.pk}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="breakdown-other-measure"' in body and "CSAT" in body
    body = client.get("/", {"by": reason.pk, "metric": "csat"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="breakdown-other-measure"' not in body


def test_a_question_that_pipes_an_answer_in_is_named_in_brackets_in_the_figures(org_a):
    """The figures read no customer's answers into a question: "{{answer.product|our product}}"
    showed as written; it reads "[product]", as the survey library shows it."""
    from metrics import choice_figures

    survey = factories.survey(org_a, "csat")
    question = factories.question(org_a, survey, kind=Question.Kind.SINGLE_CHOICE, key="why", text={
        "en": "Your purchase: {{answer.product|our product}}. What disappointed you most, {{ name }}?",
        "ru": "Ваша покупка: {{answer.product|наш товар}}. Что разочаровало больше всего?"})
    expected = "Your purchase: [product]. What disappointed you most, [name]?"
    assert choice_figures.question_text(question, "en") == expected
    assert choice_figures.question_text(question, "ru") == "Ваша покупка: [product]. Что разочаровало больше всего?"
