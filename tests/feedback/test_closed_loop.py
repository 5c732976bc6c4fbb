"""The inner loop: close-loop rules open one case per unhappy answer whatever the retries, with its
own clock; a case closes with its root cause; the follow-up tells whether the customer was
recovered; promoters are thanked once."""

import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cxplatform import events
from cxplatform.models import Customer, OutboxEvent, Role
from feedback import loop, services, sla
from feedback.models import CloseLoopRule, FeedbackItem, PromoterThanks, RootCause, RoutingRule, Team
from surveys import services as survey_services
from surveys.models import Response
from tests import factories
from tests.respondent import click_score

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(org_a):
    return Customer.objects.create(organization=org_a, name="Ilze Liepa", email="ilze@example.lv", language="lv",
                                   attributes={"segment": "fleet"})


@pytest.fixture
def unhappy_rule(org_a):
    return CloseLoopRule.objects.create(organization=org_a, name="Call back the unhappy", band="unhappy",
                                        contact_within_hours=48, close_within_hours=120,
                                        script_hint="Apologise first.")


REACHABLE = object()  # a customer of their own, with an e-mail address: somebody to call back


def _answer(link, score, comment="", customer=REACHABLE, hidden=None, capture=None):
    sub = survey_services.clean_submission(link.survey, {"score": score, "comment": comment}, complete=True)
    if customer is REACHABLE:
        customer = factories.customer(link.organization)

    def record():
        return survey_services.record_response(survey=link.survey, submission=sub, complete=True, language="ru",
                                               distribution=link, token=uuid.uuid4(), customer=customer,
                                               hidden=hidden)[0]
    if capture is None:
        return record()
    with capture(execute=True):
        return record()


def _cases(org):
    return FeedbackItem.objects.filter(organization=org, kind=FeedbackItem.Kind.CASE)


@pytest.mark.parametrize(("survey_type", "score", "opens"), [
    ("nps", 0, True), ("nps", 6, True), ("nps", 7, False), ("nps", 10, False),
    ("csat", 1, True), ("csat", 2, True), ("csat", 3, False),
    ("ces", 3, True), ("ces", 4, False), ("ces", 7, False),
])
def test_the_unhappy_band_per_survey_type(org_a, unhappy_rule, survey_type, score, opens,
                                          django_capture_on_commit_callbacks):
    link = factories.distribution(org_a, factories.survey(org_a, survey_type))
    response = _answer(link, score, capture=django_capture_on_commit_callbacks)
    assert _cases(org_a).filter(response=response).exists() == opens


def test_one_case_per_answer_whatever_the_retries(org_a, unhappy_rule, customer, django_capture_on_commit_callbacks):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    response = _answer(link, 2, "Курьер опоздал на два дня", customer, capture=django_capture_on_commit_callbacks)
    event = OutboxEvent.objects.get(name="response.recorded", payload__response_id=response.pk)
    OutboxEvent.objects.filter(pk=event.pk).update(status="pending", claimed_until=None)
    events.deliver(event.pk)  # a redelivered event runs both handlers again
    loop.on_response(response.pk)  # and a duplicated task
    case = _cases(org_a).get()
    assert FeedbackItem.objects.filter(organization=org_a, response=response).count() == 1
    assert case.response == response and case.customer == customer and case.loop_rule == unhappy_rule
    assert case.text == "Курьер опоздал на два дня" and case.priority == FeedbackItem.Priority.HIGH
    assert case.first_response_due == response.submitted_at + timedelta(hours=48)
    assert case.resolution_due == response.submitted_at + timedelta(hours=120)
    assert case.events.filter(action="loop_opened").count() == 1


def test_an_answer_without_a_comment_still_opens_its_case(org_a, unhappy_rule, django_capture_on_commit_callbacks):
    org_a.default_language = "en"
    org_a.save()
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    response = _answer(link, 3, capture=django_capture_on_commit_callbacks)
    assert _cases(org_a).get().text == "Score 3, no comment."
    # The customer adds a comment on the page: the same case, with their words.
    sub = survey_services.clean_submission(link.survey, {"score": 3, "comment": "Battery dies"}, complete=True)
    with django_capture_on_commit_callbacks(execute=True):
        survey_services.record_response(survey=link.survey, submission=sub, complete=True, language="en",
                                        distribution=link, token=response.token)
    assert _cases(org_a).get().text == "Battery dies" and _cases(org_a).count() == 1


def test_conditions_and_order(org_a, org_b, customer, make_member, django_capture_on_commit_callbacks):
    nps = factories.survey(org_a, "nps")
    delivery = factories.distribution(org_a, nps)
    other = factories.distribution(org_a, nps)
    support = Team.objects.create(organization=org_a, name="Support")
    agent = make_member(org_a, Role.AGENT)
    support.members.add(agent)
    CloseLoopRule.objects.create(organization=org_a, name="Inactive", band="unhappy", active=False, position=0)
    first = CloseLoopRule.objects.create(organization=org_a, name="Delivery, fleet, about couriers", position=1,
                                         touchpoint=delivery.touchpoint, segment="fleet", keywords="курьер",
                                         team=support, assign=RoutingRule.Assign.ROUND_ROBIN, contact_within_hours=4,
                                         close_within_hours=24)
    CloseLoopRule.objects.create(organization=org_a, name="Any unhappy", band="unhappy", position=2)
    CloseLoopRule.objects.create(organization=org_b, name="Theirs", band="", keywords="", position=0)
    capture = django_capture_on_commit_callbacks
    matched = _answer(delivery, 5, "Курьером недоволен", customer, capture=capture)  # another word form
    elsewhere = _answer(other, 5, "Курьером недоволен", customer, capture=capture)
    happy = _answer(other, 9, "Всё отлично", customer, capture=capture)
    case = _cases(org_a).get(response=matched)
    assert case.loop_rule == first and case.team == support and case.assignee == agent
    assert case.first_response_due - case.received_at == timedelta(hours=4)
    assert _cases(org_a).get(response=elsewhere).loop_rule.name == "Any unhappy"
    assert not _cases(org_a).filter(response=happy).exists()
    assert not _cases(org_b).exists()


def test_negative_comment_rule(org_a, django_capture_on_commit_callbacks):
    CloseLoopRule.objects.create(organization=org_a, name="Angry words", negative_comment=True)
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    angry = _answer(link, 8, "Ужасный сервис, больше никогда", capture=django_capture_on_commit_callbacks)
    calm = _answer(link, 8, "Нормально", capture=django_capture_on_commit_callbacks)
    assert _cases(org_a).filter(response=angry).exists() and not _cases(org_a).filter(response=calm).exists()


def test_a_later_rule_reopens_nothing_until_applied(org_a, django_capture_on_commit_callbacks):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    old = _answer(link, 1, "Плохо", capture=django_capture_on_commit_callbacks)
    rule = CloseLoopRule.objects.create(organization=org_a, name="Late rule", band="unhappy")
    _answer(link, 9, capture=django_capture_on_commit_callbacks)
    assert not _cases(org_a).exists()  # saving the rule touched no old answer
    assert loop.apply_rule(rule, days=30) == 1
    assert loop.apply_rule(rule, days=30) == 0  # applied twice: still one case
    assert _cases(org_a).get().response == old


def test_routing_after_the_case_keeps_its_clock(org_a, unhappy_rule, django_capture_on_commit_callbacks):
    from feedback.models import SlaPolicy

    SlaPolicy.objects.create(organization=org_a, priority=FeedbackItem.Priority.URGENT, first_response_hours=1,
                             resolution_hours=4, business_hours=False)
    RoutingRule.objects.create(organization=org_a, name="Urgent", keywords="опоздал",
                               set_priority=FeedbackItem.Priority.URGENT)
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    _answer(link, 2, "Курьер опоздал", capture=django_capture_on_commit_callbacks)
    case = _cases(org_a).get()
    assert case.priority == FeedbackItem.Priority.URGENT  # the inbox routing applied
    assert case.first_response_due - case.received_at == timedelta(hours=48)  # the loop's clock stayed


@pytest.fixture
def case(org_a, unhappy_rule, customer, django_capture_on_commit_callbacks):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    _answer(link, 3, "Самокат пришёл поцарапанным", customer, capture=django_capture_on_commit_callbacks)
    return _cases(org_a).get()


@pytest.fixture
def cause(org_a):
    loop.ensure_root_causes(org_a)
    return RootCause.objects.get(organization=org_a, name="Damaged")


def test_a_case_closes_only_with_its_root_cause(org_a, org_b, case, cause, make_member):
    agent = make_member(org_a, Role.AGENT)
    with pytest.raises(services.CaseNeedsRootCause):
        services.triage(case, agent, case.version, status="resolved")
    foreign = RootCause.objects.create(organization=org_b, name="Theirs")
    for root_cause, note, message in ((None, "Called", "root cause"), (foreign, "Called", "root cause"),
                                      (cause, "  ", "what was done")):
        with pytest.raises(loop.CaseError, match=message):
            loop.resolve_case(case, agent, case.version, root_cause=root_cause, note=note)
    with pytest.raises(services.StaleEdit):
        loop.resolve_case(case, agent, case.version - 1, root_cause=cause, note="Sent a new deck")
    case = loop.resolve_case(case, agent, case.version, root_cause=cause, note="Sent a new deck")
    assert case.status == "resolved" and case.root_cause == cause and case.resolved_at is not None
    assert case.first_responded_at is not None


def test_a_logged_call_is_the_contact(case, make_member, org_a):
    agent = make_member(org_a, Role.AGENT)
    loop.log_call(case, agent, "No answer, left a voicemail", reached=False)
    case.refresh_from_db()
    assert case.first_responded_at is None and case.status == "new"
    loop.log_call(case, agent, "Reached her, she wants a new deck", reached=True)
    case.refresh_from_db()
    assert case.first_responded_at is not None and case.status == "open"
    assert list(case.messages.values_list("via", flat=True)) == ["call", "call"]
    assert mail.outbox == []  # a call is logged, never e-mailed
    with pytest.raises(loop.CaseError):
        loop.log_call(case, agent, "  ", reached=True)


def _links(body):
    return re.findall(r"^(\d+): (\S+)$", body, flags=re.M)


def test_the_follow_up_records_whether_the_customer_was_recovered(org_a, case, cause, make_member,
                                                                  django_capture_on_commit_callbacks):
    agent = make_member(org_a, Role.AGENT)
    original = case.response
    with django_capture_on_commit_callbacks(execute=True):
        loop.resolve_case(case, agent, case.version, root_cause=cause, note="New deck sent", follow_up=True)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ilze@example.lv"]
    links = dict(_links(mail.outbox[0].body))
    assert sorted(map(int, links)) == list(range(0, 11))
    assert loop.send_follow_up(case.pk) is False  # a duplicated task sends nothing more
    assert loop.hand_on_lost(now=timezone.now() + timedelta(hours=1)) == 0
    nine = urlsplit(links["9"]).path + "?" + urlsplit(links["9"]).query
    with django_capture_on_commit_callbacks(execute=True):
        assert Client().get(nine).status_code == 200  # a mail scanner's fetch: no answer
    assert Response.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        _page, kept = click_score(Client(), nine)
    assert kept.status_code == 204
    case.refresh_from_db()
    assert case.follow_up_score is None  # a click is an answer in progress: it counts when final
    with django_capture_on_commit_callbacks(execute=True):  # the customer does not go on: abandoned
        survey_services.abandon_unfinished(now=timezone.now() + timedelta(minutes=31))
    case.refresh_from_db()
    assert case.follow_up_score == 9 and case.recovered is True
    original.refresh_from_db()
    assert original.score == 3  # the first answer stays as it was
    follow_up = Response.objects.exclude(pk=original.pk).get()
    assert follow_up.hidden_fields == {loop.FOLLOW_UP_FIELD: str(case.pk)}
    assert _cases(org_a).count() == 1  # the follow-up opens no case of its own
    # The follow-up is not another answer of the survey: the rollups leave it out.
    from metrics.rollups import responses_in

    today = timezone.now().date()
    assert list(responses_in(org_a, today, today + timedelta(days=1)).values_list("pk", flat=True)) == [original.pk]


def test_a_follow_up_of_a_lower_score_is_not_recovered_and_strangers_cannot_answer(org_a, case, customer):
    link = case.response.distribution
    stranger = Customer.objects.create(organization=org_a, name="Someone", email="x@example.com")
    hidden = {loop.FOLLOW_UP_FIELD: str(case.pk)}
    loop.record_follow_up(factories.response(org_a, link, score=9, customer=stranger, hidden_fields=hidden))
    case.refresh_from_db()
    assert case.follow_up_score is None
    loop.record_follow_up(factories.response(org_a, link, score=2, customer=customer, hidden_fields=hidden))
    case.refresh_from_db()
    assert case.follow_up_score == 2 and case.recovered is False


def test_a_lost_follow_up_is_handed_on_by_the_beat(org_a, case, cause, make_member):
    agent = make_member(org_a, Role.AGENT)
    loop.resolve_case(case, agent, case.version, root_cause=cause, note="Done", follow_up=True)  # task lost
    assert mail.outbox == []
    assert loop.hand_on_lost() == 0  # too young to be called lost
    assert loop.hand_on_lost(now=timezone.now() + timedelta(minutes=5)) == 1  # eager: sent now
    assert len(mail.outbox) == 1
    assert loop.hand_on_lost(now=timezone.now() + timedelta(minutes=10)) == 0


def test_promoters_are_thanked_once(org_a, customer, django_capture_on_commit_callbacks):
    CloseLoopRule.objects.create(organization=org_a, name="Thanks", band="promoter", action="thank",
                                 review_url="https://reviews.example/voltride")
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    response = _answer(link, 10, "Супер", customer, capture=django_capture_on_commit_callbacks)
    _answer(link, 10, "Anonymous fan", customer=None,
            capture=django_capture_on_commit_callbacks)  # no address: no e-mail
    with django_capture_on_commit_callbacks(execute=True):
        loop.on_response(response.pk)  # a redelivered event
    assert PromoterThanks.objects.count() == 1 and len(mail.outbox) == 1
    assert "https://reviews.example/voltride" in mail.outbox[0].body
    assert not _cases(org_a).exists()


def test_the_case_page(org_a, case, cause, make_member, client_for, django_capture_on_commit_callbacks):
    agent = client_for(make_member(org_a, Role.AGENT))
    page = agent.get(f"/inbox/items/{case.pk}/").content.decode()
    assert "Apologise first." in page and "Самокат пришёл поцарапанным" in page and 'id="close-loop-form"' in page
    assert case.pk in {row.pk for row in agent.get("/inbox/", {"view": "cases"}).context["rows"]}
    assert agent.post(f"/inbox/items/{case.pk}/call/", {"note": "Reached", "reached": "on"}).status_code == 302
    case.refresh_from_db()
    no_cause = agent.post(f"/inbox/items/{case.pk}/close-loop/", {"note": "Done", "version": case.version})
    assert no_cause.status_code == 400
    triage = agent.post(f"/inbox/items/{case.pk}/triage/", {"status": "resolved", "priority": 2,
                                                             "version": case.version})
    assert triage.status_code == 400 and "root cause" in triage.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = agent.post(f"/inbox/items/{case.pk}/close-loop/", {"root_cause": cause.pk, "note": "New deck",
                                                                   "follow_up": "on", "version": case.version})
    assert done.status_code == 302 and len(mail.outbox) == 1
    case.refresh_from_db()
    assert case.status == "resolved" and case.root_cause == cause and case.follow_up_sent_at is not None
    viewer = client_for(make_member(org_a, Role.VIEWER))
    assert viewer.post(f"/inbox/items/{case.pk}/call/", {"note": "x"}).status_code == 403


def test_bulk_resolve_leaves_cases_to_their_page(org_a, case, make_member, client_for):
    agent = client_for(make_member(org_a, Role.AGENT))
    answer = agent.post("/inbox/bulk/", {"action": "resolve", "items": [f"{case.pk}:{case.version}"]}, follow=True)
    assert "was not resolved" in answer.content.decode()
    assert FeedbackItem.objects.get(pk=case.pk).status == "new"


def test_rules_in_settings_and_the_api(org_a, org_b, make_member, client_for, django_capture_on_commit_callbacks):
    admin = client_for(make_member(org_a, Role.ADMIN))
    bad = admin.post("/inbox/settings/loop/new/", {"name": "x", "position": 0, "action": "case", "priority": 2,
                                                   "contact_within_hours": 48, "close_within_hours": 24})
    assert bad.status_code == 400 and "cannot close before" in bad.content.decode()
    created = admin.post("/api/v1/feedback/close-loop-rules/", {"name": "Unhappy", "band": "unhappy"},
                         content_type="application/json")
    assert created.status_code == 201
    foreign_team = Team.objects.create(organization=org_b, name="Theirs")
    assert admin.post("/api/v1/feedback/close-loop-rules/", {"name": "x", "team": foreign_team.pk},
                      content_type="application/json").status_code == 400
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    factories.response(org_a, link, score=2, band="detractor",
                       customer=factories.customer(org_a))  # recorded before: no case by itself
    rule_id = created.json()["id"]
    assert admin.post(f"/api/v1/feedback/close-loop-rules/{rule_id}/apply/", {"days": 0},
                      content_type="application/json").status_code == 400
    applied = admin.post(f"/api/v1/feedback/close-loop-rules/{rule_id}/apply/", {"days": 7},
                         content_type="application/json")
    assert applied.json() == {"applied": 1} and _cases(org_a).count() == 1
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    assert manager.post("/api/v1/feedback/close-loop-rules/", {"name": "y"},
                        content_type="application/json").status_code == 403
    assert manager.post("/api/v1/feedback/root-causes/", {"name": "Weather"},
                        content_type="application/json").status_code == 201


def test_a_comment_added_after_a_withdrawn_case_replaces_its_score_label(org_a, unhappy_rule, customer,
                                                                         django_capture_on_commit_callbacks):
    """A score without a comment opens a case labelled with the score; the customer raises it (the
    case is withdrawn) and then writes a comment: the item shows the comment, not the old label."""
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    token = uuid.uuid4()

    def answer(score, comment=""):
        sub = survey_services.clean_submission(link.survey, {"score": score, "comment": comment}, complete=True)
        with django_capture_on_commit_callbacks(execute=True):
            return survey_services.record_response(survey=link.survey, submission=sub, complete=True,
                                                   language="ru", distribution=link, token=token,
                                                   customer=customer)[0]

    response = answer(3)
    item = FeedbackItem.objects.get(response=response)
    assert item.kind == FeedbackItem.Kind.CASE and item.text_message  # "score 3, no comment"
    answer(9)
    item.refresh_from_db()
    assert item.kind == FeedbackItem.Kind.VOICE and item.loop_state == FeedbackItem.LoopState.WITHDRAWN
    answer(9, "Всё решили быстро, спасибо")
    item.refresh_from_db()
    assert FeedbackItem.objects.filter(response=response).count() == 1
    assert item.text_message == {} and item.display_text == "Всё решили быстро, спасибо"


def test_opening_a_case_writes_what_it_must_and_no_more(org_a, unhappy_rule, customer):
    """The settlement runs in its delivery's transaction (no savepoint of its own), the rule's clock
    is set with the promotion (no SLA policy read, no second UPDATE) and the case is not read back
    twice."""
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    response = _answer(link, 2, "Курьер опоздал", customer)  # recorded, its events not delivered
    services.from_survey_response(response.pk)  # its comment in the inbox (the events lane, often first)
    with CaptureQueriesContext(connection) as opening:
        loop.on_response(response.pk)
    case = _cases(org_a).select_related("loop_rule").get()
    assert case.first_response_due == response.submitted_at + timedelta(hours=48)
    assert case.resolution_due == response.submitted_at + timedelta(hours=120)
    statements = [query["sql"] for query in opening.captured_queries]
    assert not [sql for sql in statements if sql.startswith("SAVEPOINT")]
    assert not [sql for sql in statements if "feedback_slapolicy" in sql]
    assert sum(sql.startswith("UPDATE \"feedback_feedbackitem\"") for sql in statements) == 1, statements
    # The answer locked, its item and the rules read, an unsent thank-you dropped, the promotion and
    # its read back, the rule's tags, the activity, case.opened asked of its webhooks and written.
    assert len(statements) <= 10, statements
    with CaptureQueriesContext(connection) as clock:
        sla.start_clock(case)  # a loop case's clock is its rule's: nothing to read
    assert not clock.captured_queries
