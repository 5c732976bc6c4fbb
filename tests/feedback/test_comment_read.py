"""The inbox and the closed loop when a comment is read by a worker after the answer
(docs/adr/0021): `response.recorded` and `surveys.comment_read` come in either order, and what
reads the comment's sentiment ends as if it had been read with the answer."""

import uuid

import pytest

from cxplatform import events
from cxplatform.models import EventDelivery, OutboxEvent
from feedback.models import CloseLoopRule, FeedbackItem, ItemEvent, RoutingRule
from feedback.services import ITEM_RECEIVED
from surveys import comments
from surveys import services as survey_services
from surveys.services import RESPONSE_RECORDED
from tests import factories

pytestmark = pytest.mark.django_db

ANGRY = "Ужасный сервис, больше никогда"
ANGRY_AGAIN = "Отвратительно, курьер нагрубил, никогда больше"
GLAD = "Отличный сервис, спасибо, всё понравилось"


@pytest.fixture
def link(org_a):
    return factories.distribution(org_a, factories.survey(org_a, "nps"))


@pytest.fixture
def angry_words(org_a):
    return CloseLoopRule.objects.create(organization=org_a, name="Angry words", negative_comment=True,
                                        contact_within_hours=48, close_within_hours=120)


def _answer(link, score, comment, *, token=None, customer=None):
    """The customer's request: committed, its events left to the workers (a test's on-commit
    callbacks run only when captured, so each event waits for `_deliver`)."""
    sub = survey_services.clean_submission(link.survey, {"score": score, "comment": comment}, complete=True)
    return survey_services.record_response(
        survey=link.survey, submission=sub, complete=True, language="ru", distribution=link,
        token=token or uuid.uuid4(), customer=customer or factories.customer(link.organization))[0]


def _deliver(name, response=None, **payload):
    """A worker delivers every pending `name` event of the response (oldest first)."""
    if response is not None:
        payload["response_id"] = response.pk
    pending = OutboxEvent.objects.filter(name=name, status="pending", **{
        f"payload__{key}": value for key, value in payload.items()}).order_by("pk")
    ids = list(pending.values_list("pk", flat=True))
    assert ids, f"no pending {name} {payload}"
    for pk in ids:
        events.deliver(pk)


def _read_comment(response):
    _deliver(comments.COMMENT_WRITTEN, response)
    _deliver(comments.COMMENT_READ, response)


def _redeliver_everything():
    """At least once: every event delivered again."""
    EventDelivery.objects.update(status="pending", claimed_until=None)
    OutboxEvent.objects.update(status="pending")
    for pk in OutboxEvent.objects.order_by("pk").values_list("pk", flat=True):
        events.deliver(pk)


def _cases(response):
    return FeedbackItem.objects.filter(response=response, kind=FeedbackItem.Kind.CASE)


def _log(response, action):
    return ItemEvent.objects.filter(item__response=response, action=action).count()


@pytest.mark.parametrize("answer_first", [True, False], ids=["answer-first", "comment-read-first"])
def test_the_negative_comment_rule_opens_exactly_one_case_in_either_order(link, angry_words, answer_first):
    response = _answer(link, 8, ANGRY)  # a passive score: only the comment makes it a case
    if answer_first:
        _deliver(RESPONSE_RECORDED, response)
        # The comment is not read yet: the loop waits for it instead of settling it as not negative.
        assert FeedbackItem.objects.filter(response=response).exists()
        assert not _cases(response).exists()
        _read_comment(response)
    else:
        _read_comment(response)
        assert _cases(response).count() == 1
        _deliver(RESPONSE_RECORDED, response)
    case = _cases(response).get()
    assert case.loop_rule == angry_words
    _redeliver_everything()
    assert _cases(response).get() == case
    assert _log(response, "loop_opened") == 1
    assert _log(response, "loop_withdrawn") == 0


def test_a_rewritten_negative_comment_keeps_its_case_while_it_is_read(link, angry_words):
    customer = factories.customer(link.organization)
    token = uuid.uuid4()
    response = _answer(link, 8, ANGRY, token=token, customer=customer)
    _read_comment(response)
    _deliver(RESPONSE_RECORDED, response)
    case = _cases(response).get()

    _answer(link, 8, ANGRY_AGAIN, token=token, customer=customer)  # still angry, other words
    _deliver(RESPONSE_RECORDED, response)  # before the new comment is read: the case stays as it is
    assert _cases(response).get() == case
    _read_comment(response)
    assert _cases(response).get() == case
    assert (_log(response, "loop_opened"), _log(response, "loop_withdrawn")) == (1, 0)

    _answer(link, 8, GLAD, token=token, customer=customer)  # now glad: the reading withdraws the case
    _deliver(RESPONSE_RECORDED, response)
    assert _cases(response).exists()
    _read_comment(response)
    assert not _cases(response).exists()
    assert _log(response, "loop_withdrawn") == 1


def test_rules_that_do_not_read_the_sentiment_settle_without_waiting_for_it(link, org_a):
    CloseLoopRule.objects.create(organization=org_a, name="Call back the unhappy", band="unhappy")
    response = _answer(link, 2, ANGRY)
    _deliver(RESPONSE_RECORDED, response)  # the comment is still unread
    assert _cases(response).count() == 1


def test_a_follow_up_answer_is_recorded_once_whatever_its_comment_reading(link, org_a, angry_words):
    customer = factories.customer(org_a)
    first = _answer(link, 2, ANGRY, customer=customer)
    _read_comment(first)
    _deliver(RESPONSE_RECORDED, first)
    case = _cases(first).get()
    sub = survey_services.clean_submission(link.survey, {"score": 9, "comment": GLAD}, complete=True)
    follow_up = survey_services.record_response(
        survey=link.survey, submission=sub, complete=True, language="ru", distribution=link, token=uuid.uuid4(),
        customer=customer, hidden={"follow_up_case": case.pk})[0]
    _deliver(RESPONSE_RECORDED, follow_up)
    _read_comment(follow_up)
    case.refresh_from_db()
    assert (case.follow_up_score, case.recovered) == (9, True)
    assert ItemEvent.objects.filter(item=case, action="follow_up_answered").count() == 1
    assert not FeedbackItem.objects.filter(response=follow_up, kind=FeedbackItem.Kind.CASE).exists()


def test_the_inbox_item_has_the_sentiment_its_routing_rules_test_even_before_the_comment_is_read(link, org_a):
    RoutingRule.objects.create(organization=org_a, name="Angry first", position=1, sentiment=-1,
                               set_priority=FeedbackItem.Priority.HIGH)
    response = _answer(link, 8, ANGRY)
    _deliver(RESPONSE_RECORDED, response)  # the item is made while the answer's comment is unread
    item = FeedbackItem.objects.get(response=response)
    assert item.sentiment is None and not item.text_read
    _deliver(ITEM_RECEIVED, item_id=item.pk)  # read, then routed
    item.refresh_from_db()
    assert item.sentiment == -1 and item.text_read
    assert item.priority == FeedbackItem.Priority.HIGH
    assert ItemEvent.objects.filter(item=item, action="routed", details__rule="Angry first").count() == 1
    _read_comment(response)
    response.refresh_from_db()
    item.refresh_from_db()
    assert item.sentiment == response.sentiment == -1  # the inbox and the figures agree
