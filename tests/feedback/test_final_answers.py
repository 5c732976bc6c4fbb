"""When an answer counts (docs/adr/0011): a finished answer at once; an unfinished one once it is
abandoned (unchanged for ANSWER_ABANDON_AFTER), as its last state. Figures, cases, thank-you
e-mails and the inbox follow the answer's final state; a case whose answer changed is withdrawn or
opened, never left wrong and never doubled."""

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from cxplatform import events
from cxplatform.models import OutboxEvent, Role
from feedback import loop
from feedback.activity import describe as describe_entry
from feedback.models import CloseLoopRule, FeedbackItem, PromoterThanks, RootCause
from metrics import rollups
from metrics.models import DailyRollup
from metrics.operations import loop_figures
from metrics.selectors import Scope, figures
from surveys import links
from surveys import services as survey_services
from surveys.models import Response
from tests import factories
from tests.respondent import click_score, thanked

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(org_a):
    unhappy = CloseLoopRule.objects.create(organization=org_a, name="Call back the unhappy", band="unhappy",
                                           contact_within_hours=48, close_within_hours=120)
    thanks = CloseLoopRule.objects.create(organization=org_a, name="Thank promoters", band="promoter",
                                          action="thank", position=1)
    return unhappy, thanks


@pytest.fixture
def link(org_a):
    return factories.distribution(org_a, factories.survey(org_a, "nps"))


@pytest.fixture
def person(org_a):
    return factories.customer(org_a)


def _cases(org):
    return FeedbackItem.objects.filter(organization=org, kind=FeedbackItem.Kind.CASE)


def _today(org):
    today = timezone.now().date()
    return Scope(org, today - timedelta(days=1), today + timedelta(days=1))


def _nps_counts(org):
    return {i: sum(getattr(r, f"c{i}") for r in DailyRollup.objects.filter(organization=org)) for i in range(11)}


def _abandon(capture, minutes=31):
    with capture(execute=True):
        return survey_services.abandon_unfinished(now=timezone.now() + timedelta(minutes=minutes))


def _page(client, link, signed, **data):
    """The public page as the browser uses it: a score click saves at once, "Send" completes."""
    save = data.pop("save", False)
    url = links.survey_url(link) + ("save/" if save else "")
    return client.post(url, {"c": signed, **data})


def assert_rollups_equal_a_rebuild(org):
    fields = ["survey_id", "day", "responses", "skipped", "completed", *[f"c{i}" for i in range(11)]]
    kept = sorted(DailyRollup.objects.filter(organization=org).values_list(*fields))
    today = timezone.now().date()
    rollups.rebuild(org, today - timedelta(days=30), today + timedelta(days=2))
    assert sorted(DailyRollup.objects.filter(organization=org).values_list(*fields)) == kept


def test_a_score_clicked_then_left_counts_only_once_abandoned_as_its_last_state(
        org_a, rules, link, person, settings, django_capture_on_commit_callbacks):
    capture, token, signed = django_capture_on_commit_callbacks, str(uuid.uuid4()), links.sign(link, person)
    with capture(execute=True):
        assert _page(Client(), link, signed, token=token, score="2", save=True).status_code == 204
    response = Response.objects.get(token=token)
    assert response.status == "started"
    # Not finished: it counts nowhere yet — no NPS, no case, no inbox item, no event at all.
    assert sum(_nps_counts(org_a).values()) == 0 and not FeedbackItem.objects.exists()
    assert not OutboxEvent.objects.filter(name="response.recorded").exists()
    assert _abandon(capture, minutes=29) == 0  # still within the customer's 30 minutes
    assert timedelta(minutes=30) == settings.ANSWER_ABANDON_AFTER
    # Abandoned: it counts now, as its last state, and the loop acts on it once.
    assert _abandon(capture) == 1
    assert _abandon(capture) == 0  # a second sweep (or two at once) claims nothing more
    response.refresh_from_db()
    assert response.status == "abandoned" and response.submitted_at is None
    assert _nps_counts(org_a)[2] == 1 and figures(_today(org_a))["nps"].n == 1
    event = OutboxEvent.objects.get(name="response.recorded", payload__response_id=response.pk)
    OutboxEvent.objects.filter(pk=event.pk).update(status="pending", claimed_until=None)
    events.deliver(event.pk)  # at-least-once delivery
    case = _cases(org_a).get()
    assert case.response == response and case.text == "Score 2, no comment."
    assert case.events.filter(action="loop_opened").count() == 1
    assert_rollups_equal_a_rebuild(org_a)


def test_clicking_2_then_sending_10_is_a_promoter_with_no_case(
        org_a, rules, link, person, django_capture_on_commit_callbacks):
    capture, token, signed = django_capture_on_commit_callbacks, str(uuid.uuid4()), links.sign(link, person)
    client = Client()
    with capture(execute=True):
        _page(client, link, signed, token=token, score="2", save=True)
        _page(client, link, signed, token=token, score="10", save=True)
        assert thanked(_page(client, link, signed, token=token, score="10", comment="Great scooter"))
    assert not _cases(org_a).exists()
    assert _nps_counts(org_a) == {**dict.fromkeys(range(11), 0), 10: 1}  # the 2 never counted
    item = FeedbackItem.objects.get(organization=org_a)
    assert item.kind == "voice" and item.text == "Great scooter"
    assert PromoterThanks.objects.count() == 1 and len(mail.outbox) == 1  # thanked once, as a promoter
    assert _abandon(capture) == 0  # completed: nothing left to abandon
    assert_rollups_equal_a_rebuild(org_a)


def test_a_case_whose_answer_changed_is_withdrawn_then_opened_again_never_two(
        org_a, rules, link, person, make_member, client_for, django_capture_on_commit_callbacks):
    capture, token, signed = django_capture_on_commit_callbacks, str(uuid.uuid4()), links.sign(link, person)
    client = Client()
    with capture(execute=True):
        _page(client, link, signed, token=token, score="2", comment="Late again")
    case = _cases(org_a).get()
    scope = _today(org_a)
    assert loop_figures(scope)["contacted_in_time"].n == 0 and case.first_response_due is not None
    # "Change my answers" on the thank-you page: the customer makes it a 10.
    with capture(execute=True):
        _page(client, link, signed, token=token, score="10", comment="Sorted out, thanks")
    item = FeedbackItem.objects.get(pk=case.pk)
    assert (item.kind, item.status, item.loop_state) == ("voice", "closed", "withdrawn")
    assert (item.first_response_due, item.resolution_due) == (None, None)  # off the clocks
    withdrawn = item.events.get(action="loop_withdrawn")
    assert describe_entry(withdrawn) == "Withdrawn: the customer changed the score to 10."
    assert item.text == "Sorted out, thanks"
    assert not _cases(org_a).exists()
    assert figures(scope)["nps"].value == 100.0
    # And back to unhappy: the same item is the case again — one item, one case for one answer.
    with capture(execute=True):
        _page(client, link, signed, token=token, score="4", comment="Broke down again")
    again = _cases(org_a).get()
    assert again.pk == case.pk and again.status == "new" and again.loop_state == ""
    assert FeedbackItem.objects.filter(organization=org_a).count() == 1
    assert again.events.filter(action="loop_opened").count() == 2
    assert PromoterThanks.objects.count() == 1  # the 10 was thanked once, never again
    activity = client_for(make_member(org_a, Role.AGENT)).get(f"/inbox/items/{case.pk}/").content.decode()
    assert "Withdrawn: the customer changed the score to 10." in activity


def test_a_resolved_case_is_the_loops_history_and_stays(org_a, rules, link, person, make_member,
                                                        django_capture_on_commit_callbacks):
    capture, token, signed = django_capture_on_commit_callbacks, str(uuid.uuid4()), links.sign(link, person)
    with capture(execute=True):
        _page(Client(), link, signed, token=token, score="1", comment="Broken")
    case = _cases(org_a).get()
    loop.ensure_root_causes(org_a)
    loop.resolve_case(case, make_member(org_a, Role.AGENT), case.version,
                      root_cause=RootCause.objects.get(organization=org_a, name="Quality"), note="Replaced it")
    with capture(execute=True):
        _page(Client(), link, signed, token=token, score="9", comment="Broken, then replaced")
    case.refresh_from_db()
    assert (case.kind, case.status, case.loop_state) == ("case", "resolved", "")


def test_one_click_scores_keep_their_meaning_and_follow_the_same_rule(
        org_a, rules, link, person, django_capture_on_commit_callbacks):
    capture, signed = django_capture_on_commit_callbacks, links.sign(link, person)
    with capture(execute=True):
        click_score(Client(), links.one_click_url(link, 2, signed))
        click_score(Client(), links.one_click_url(link, 9, signed))  # changed their mind in the e-mail at once
    assert not _cases(org_a).exists() and not PromoterThanks.objects.exists()
    assert _abandon(capture) == 1  # the customer never went on to the page: the score they chose counts
    response = Response.objects.get(customer=person)
    assert (response.score, response.status, response.source) == (9, "abandoned", "one_click")
    assert _nps_counts(org_a)[9] == 1 and not _cases(org_a).exists()
    assert PromoterThanks.objects.count() == 1 and len(mail.outbox) == 1
    # A click on the same e-mail later changes the same answer, and the loop follows it.
    with capture(execute=True):
        click_score(Client(), links.one_click_url(link, 1, signed))
    assert Response.objects.filter(customer=person).count() == 1
    assert _cases(org_a).get().response == response
    assert _nps_counts(org_a)[1] == 1 and _nps_counts(org_a)[9] == 0
    assert len(mail.outbox) == 1
    assert_rollups_equal_a_rebuild(org_a)


def test_a_thank_you_not_yet_sent_is_dropped_when_the_promoter_changes_their_mind(
        org_a, rules, link, person, django_capture_on_commit_callbacks):
    capture, token, signed = django_capture_on_commit_callbacks, str(uuid.uuid4()), links.sign(link, person)
    _page(Client(), link, signed, token=token, score="10")
    loop.on_response(Response.objects.get(token=token).pk)  # the thank-you's task is lost for now
    assert PromoterThanks.objects.filter(sent_at__isnull=True).count() == 1 and mail.outbox == []
    with capture(execute=True):
        _page(Client(), link, signed, token=token, score="3", comment="Actually, no")
    assert not PromoterThanks.objects.exists() and _cases(org_a).count() == 1
    assert loop.hand_on_lost(now=timezone.now() + timedelta(minutes=5)) == 0
    assert mail.outbox == []
