"""The closed loop for real: a detractor answers on the public page, a `celery worker` process on
Redis opens exactly one case — assigned, on its clock — and resolving it moves the loop figures; a
score clicked in an e-mail and left counts once the beat's sweep abandons it, once."""

import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cxplatform.models import Role
from feedback import loop
from feedback.models import CloseLoopRule, FeedbackItem, RootCause, RoutingRule, Team
from metrics.operations import loop_figures
from metrics.selectors import Scope
from surveys import links
from surveys.models import Response
from surveys.tasks import abandon_unfinished_answers
from tests import factories
from tests.respondent import click_score, thanked
from tests.workers import celery_worker, private_redis, using_broker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_detractor_on_the_public_page_gets_one_assigned_case(tmp_path, org_a, make_member):
    agent = make_member(org_a, Role.AGENT)
    team = Team.objects.create(organization=org_a, name="Support")
    team.members.add(agent)
    CloseLoopRule.objects.create(organization=org_a, name="Call back detractors", band="unhappy", team=team,
                                 assign=RoutingRule.Assign.ROUND_ROBIN, contact_within_hours=48)
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    customer = factories.customer(org_a)
    log = tmp_path / "worker.log"

    with private_redis() as redis, using_broker(redis.url), celery_worker(redis.url, log):
        token, signed = str(uuid.uuid4()), links.sign(link, customer)
        answer = Client().post(links.survey_url(link), {
            "token": token, "score": "2", "comment": "Курьер так и не приехал", "c": signed})
        assert thanked(answer)
        # The customer corrects the comment: the same answer, the event again; still one case.
        Client().post(links.survey_url(link), {
            "token": token, "score": "2", "comment": "Курьер так и не приехал, второй раз", "c": signed})
        opened = wait_until(lambda: FeedbackItem.objects.filter(kind="case", assignee=agent,
                                                                text__endswith="второй раз").exists(), timeout=30)
        assert opened, log.read_text()[-3000:]

    case = FeedbackItem.objects.get(organization=org_a, kind="case")
    assert FeedbackItem.objects.filter(organization=org_a).count() == 1
    assert case.customer == customer and case.team == team and case.assignee == agent
    assert case.first_response_due == case.received_at + timedelta(hours=48)
    assert case.events.filter(action="loop_opened").count() == 1

    scope = Scope(org_a, timezone.now().date() - timedelta(days=1), timezone.now().date() + timedelta(days=1))
    before = loop_figures(scope)
    assert before["loop_close_time"].n == 0 and before["contacted_in_time"].n == 0
    loop.ensure_root_causes(org_a)
    late = RootCause.objects.get(organization=org_a, name="Late")
    loop.log_call(case, agent, "Reached, apologised, new delivery on Friday", reached=True)
    case.refresh_from_db()
    loop.resolve_case(case, agent, case.version, root_cause=late, note="Redelivered with a discount")
    after = loop_figures(scope)
    assert after["contacted_in_time"].counts == {"hits": 1, "total": 1}
    assert after["loop_closed_rate"].counts == {"hits": 1, "total": 1}
    assert after["loop_close_time"].n == 1


def test_a_score_left_unfinished_opens_its_case_once_the_sweep_abandons_it(tmp_path, org_a):
    CloseLoopRule.objects.create(organization=org_a, name="Call back detractors", band="unhappy")
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    customer = factories.customer(org_a)
    log = tmp_path / "worker.log"

    with private_redis() as redis, using_broker(redis.url), celery_worker(redis.url, log):
        _page, kept = click_score(Client(), links.one_click_url(link, 3, links.sign(link, customer)))
        assert kept.status_code == 204
        response = Response.objects.get(customer=customer)
        assert response.status == "started"
        # The customer closed the tab: half an hour later the beat's sweep runs — twice at once.
        Response.objects.filter(pk=response.pk).update(updated_at=timezone.now() - timedelta(minutes=31))
        abandon_unfinished_answers.delay()
        abandon_unfinished_answers.delay()
        opened = wait_until(lambda: FeedbackItem.objects.filter(kind="case", response=response).exists(), timeout=30)
        assert opened, log.read_text()[-3000:]
        sweeps = re.compile(r"abandon_unfinished_answers\[[^]]+\] succeeded in [^:]+: (\d)")
        assert wait_until(lambda: len(sweeps.findall(log.read_text())) == 2, timeout=30), log.read_text()[-3000:]
        assert sorted(sweeps.findall(log.read_text())) == ["0", "1"]  # the second sweep claimed nothing

    response.refresh_from_db()
    assert response.status == "abandoned"
    case = FeedbackItem.objects.get(organization=org_a)
    assert case.kind == "case" and case.customer == customer and case.text == "Score 3, no comment."
    assert case.events.filter(action="loop_opened").count() == 1


def test_a_negative_comment_is_read_by_the_worker_and_opens_its_case(tmp_path, org_a):
    """The web process cannot read comments at all here (its classifier raises): the worker reads
    the comment, the "negative comment" rule opens one case, and the day's rollup counts it."""
    from unittest import mock

    from metrics.models import DailyRollup
    from surveys import comments

    CloseLoopRule.objects.create(organization=org_a, name="Angry words", negative_comment=True)
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    customer = factories.customer(org_a)
    log = tmp_path / "worker.log"
    broken = mock.Mock(side_effect=AssertionError("read in the customer's request"))

    with private_redis() as redis, using_broker(redis.url), celery_worker(redis.url, log), \
            mock.patch.object(comments, "read", broken):
        token = str(uuid.uuid4())
        answer = Client().post(links.survey_url(link), {
            "token": token, "score": "8", "comment": "Ужасный сервис, курьер нагрубил",
            "c": links.sign(link, customer)})
        assert thanked(answer)
        counted = wait_until(lambda: DailyRollup.objects.filter(organization=org_a, negative_comments=1).exists()
                             and FeedbackItem.objects.filter(kind="case", response__token=token).exists(), timeout=30)
        assert counted, log.read_text()[-3000:]
    assert broken.call_count == 0
    response = Response.objects.get(token=token)
    assert (response.sentiment, response.comment_read) == (-1, True)
    assert response.themes.filter(phrase="courier").exists()
    case = FeedbackItem.objects.get(response=response)
    assert case.kind == "case" and case.events.filter(action="loop_opened").count() == 1
