"""Lanes: what a customer or a figure waits for (the case, the thank-you, the rollup's mark) travels
on the "loop" queue, which a worker on Redis serves before the inbox's comment reading, so a burst
never queues a call-back behind a minute of reading (docs/adr/0034)."""

import threading
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from cxplatform import events
from cxplatform.models import Customer, EventDelivery, OutboxEvent
from feedback.models import CloseLoopRule, FeedbackItem
from metrics.models import DirtyDay
from surveys import services as survey_services
from surveys.services import RESPONSE_RECORDED
from tests import factories
from tests.workers import celery_worker, private_redis, using_broker, wait_until

pytestmark = pytest.mark.django_db


def _unhappy_answer(org, django_capture_on_commit_callbacks):
    CloseLoopRule.objects.create(organization=org, name="Call back", band="unhappy")
    link = factories.distribution(org)
    customer = Customer.objects.create(organization=org, name="Ilze", email="ilze@example.lv")
    sub = survey_services.clean_submission(link.survey, {"score": 2, "comment": "Courier was late"}, complete=True)
    with django_capture_on_commit_callbacks(execute=True):
        return survey_services.record_response(survey=link.survey, submission=sub, complete=True, language="en",
                                               distribution=link, token=uuid.uuid4(), customer=customer)[0]


def test_an_answers_case_travels_in_the_loop_lane_and_its_reading_waits(org_a, django_capture_on_commit_callbacks):
    from cxplatform.tasks import deliver_event

    with mock.patch.object(deliver_event, "apply_async") as publish:
        response = _unhappy_answer(org_a, django_capture_on_commit_callbacks)
    sent = {call.kwargs["queue"]: call.kwargs for call in publish.call_args_list}
    assert publish.call_count == 2 and set(sent) == {"loop", "events"}  # one message per lane, whatever the events
    assert all(kwargs["kwargs"] == {"lane": queue} for queue, kwargs in sent.items())
    recorded = OutboxEvent.objects.get(name=RESPONSE_RECORDED)
    assert recorded.pk in sent["loop"]["args"] and recorded.pk in sent["events"]["args"]

    # The loop lane alone: the case is open and the day marked, the comment's reading still waits.
    assert deliver_event(*sent["loop"]["args"], lane="loop") == 2
    assert FeedbackItem.objects.get(response=response).kind == FeedbackItem.Kind.CASE
    assert DirtyDay.objects.filter(organization=org_a).exists()
    pending = EventDelivery.objects.filter(status=EventDelivery.Status.PENDING)
    waiting = set(pending.values_list("subscriber", flat=True))
    assert {"feedback.inbox_item", "surveys.read_comment"} <= waiting
    assert not waiting & {"feedback.close_loop", "metrics.rollup"}
    recorded.refresh_from_db()
    assert recorded.status == OutboxEvent.Status.PENDING  # not settled while a lane is left

    deliver_event(*sent["events"]["args"], lane="events")
    recorded.refresh_from_db()
    assert recorded.status == OutboxEvent.Status.DELIVERED
    assert FeedbackItem.objects.filter(response=response).count() == 1  # one item, made by whichever came first


def test_a_lane_must_be_a_queue_and_an_unknown_subscriber_stays_in_the_default_lane(declared):
    name = declared("test.lanes", fields={"n"})
    with pytest.raises(ValueError, match="not one of the Celery queues"):
        events.subscribe(name, "test.lanes.nowhere", lambda n: None, lane="fast")
    events.subscribe(name, "test.lanes.loop", lambda n: None, lane="loop")
    assert events.lane_of("test.lanes.loop") == "loop"
    assert events.lane_of("renamed.since") == events.DEFAULT_LANE
    # A delivery whose subscriber this release does not know is claimed by the default lane (and
    # fails there, visibly), never by the loop lane.
    event = events.emit(name, n=1)
    EventDelivery.objects.create(event=event, subscriber="renamed.since", next_attempt_at=event.created_at)
    assert events.deliver(event.pk, "loop") == 1
    assert events.deliver(event.pk, "events") == 0
    assert EventDelivery.objects.get(subscriber="renamed.since").attempts == 1


def test_healthz_shows_each_lanes_lag(client, org_a, django_capture_on_commit_callbacks):
    """A burst's comment reading lags by design; the operator must still see that the loop lane
    (cases, thank-yous, rollup marks) keeps up."""
    from cxplatform.tasks import deliver_event

    with mock.patch.object(deliver_event, "apply_async") as publish:
        _unhappy_answer(org_a, django_capture_on_commit_callbacks)
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(seconds=120))
    lag = client.get("/healthz").json()["events"]
    assert lag["lanes"]["loop"] >= 120 and lag["lanes"]["events"] >= 120 and lag["lag_seconds"] >= 120

    loop = next(call.kwargs["args"] for call in publish.call_args_list if call.kwargs["queue"] == "loop")
    deliver_event(*loop, lane="loop")
    lag = client.get("/healthz").json()["events"]
    assert lag["lanes"]["loop"] == 0.0  # the loop lane caught up …
    assert lag["lanes"]["events"] >= 120 and lag["lag_seconds"] >= 120  # … the reading has not


def test_redelivery_and_retry_send_each_lane_its_own_message(declared, django_capture_on_commit_callbacks):
    from cxplatform.tasks import deliver_event

    name = declared("test.lanes.redelivered", fields={"n"})
    events.subscribe(name, "test.lanes.redelivered.loop", lambda n: None, lane="loop")
    events.subscribe(name, "test.lanes.redelivered.events", lambda n: None)
    event = events.emit(name, n=1)
    EventDelivery.objects.update(queued_at=None)  # their messages were lost
    with mock.patch.object(deliver_event, "apply_async") as publish:
        assert events.redeliver_pending() == 1
    assert sorted(call.kwargs["queue"] for call in publish.call_args_list) == ["events", "loop"]
    EventDelivery.objects.update(status=EventDelivery.Status.DEAD)
    with mock.patch.object(deliver_event, "apply_async") as publish, django_capture_on_commit_callbacks(execute=True):
        events.retry(EventDelivery.objects.values_list("pk", flat=True))
    assert sorted(call.kwargs["queue"] for call in publish.call_args_list) == ["events", "loop"]
    assert all(call.kwargs["args"] == [event.pk] for call in publish.call_args_list)


@pytest.mark.django_db(transaction=True)
def test_two_lanes_finishing_one_event_at_once_settle_it(declared):
    """Each lane's last delivery settles the event in its own transaction: without the event's row
    lock both saw the other's delivery still pending, and the event stayed pending for ever."""
    from cxplatform.tasks import deliver_event

    name = declared("test.lanes.together", fields={"n"})
    events.subscribe(name, "test.lanes.together.loop", lambda n: None, lane="loop")
    events.subscribe(name, "test.lanes.together.events", lambda n: None)
    with mock.patch.object(deliver_event, "apply_async"):  # delivered below, not in-process on commit
        event = events.emit(name, n=1)
    both_marked = threading.Barrier(2, timeout=20)
    mark = events._mark_delivered

    def mark_then_meet(delivery_id):
        marked = mark(delivery_id)
        both_marked.wait()  # each lane has marked its delivery, uncommitted, before either settles
        return marked

    done, failures = [], []

    def lane(which):
        try:
            done.append(events.deliver(event.pk, which))
        except Exception as exc:  # noqa: BLE001 — reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=lane, args=(which,)) for which in ("loop", "events")]
    with mock.patch.object(events, "_mark_delivered", side_effect=mark_then_meet):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert failures == [] and done == [1, 1]
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_worker_on_redis_serves_the_loop_lane_before_a_backlog_of_events(tmp_path):
    """Two hundred events wait in the events queue; the cases' messages sent after them are taken first."""
    from cxplatform.tasks import deliver_event

    with private_redis() as redis, using_broker(redis.url):
        for n in range(200):
            deliver_event.apply_async(args=[10**9 + n], kwargs={"lane": "events"}, queue="events")  # no such event
        cases = [deliver_event.apply_async(args=[2 * 10**9 + n], kwargs={"lane": "loop"}, queue="loop").id
                 for n in range(3)]
        log = tmp_path / "worker.log"
        with celery_worker(redis.url, log):
            assert wait_until(lambda: cases[-1] in log.read_text(), timeout=30), log.read_text()[-3000:]
            received = [line for line in log.read_text().splitlines() if " received" in line]
        # Taken first, one after the other: not each queue in turn (one case, one reading, one case…).
        assert [next(case for case in cases if case in line) for line in received[:3]] == cases, received[:4]



def test_a_broker_that_fails_holds_the_answer_for_one_publish_only(org_a, django_capture_on_commit_callbacks):
    """Two lanes are two publishes: after the first fails, the second is not tried (each would
    wait for the broker's timeout in the customer's request); both are left to the beat."""
    from cxplatform.tasks import deliver_event

    with mock.patch.object(deliver_event, "apply_async", side_effect=ConnectionRefusedError("broker down")) as publish:
        _unhappy_answer(org_a, django_capture_on_commit_callbacks)
    assert publish.call_count == 1
    assert not EventDelivery.objects.filter(queued_at__isnull=False).exists()
    with mock.patch.object(deliver_event, "apply_async") as publish:
        assert events.redeliver_pending() == 2  # the answer's two events, each in its lanes
    assert {call.kwargs["queue"] for call in publish.call_args_list} == {"loop", "events"}


def test_housekeeping_settles_an_event_two_lanes_left_pending(declared):
    """During a rolling deploy a worker of the previous release settles its lane without the
    event's lock, so two lanes finishing at once can leave an event pending though nothing of it
    is: housekeeping settles it. One still waiting, or not yet given deliveries, stays pending."""
    from cxplatform.tasks import prune_housekeeping

    name = declared("test.lanes.stragglers", fields={"n"})
    events.subscribe(name, "test.lanes.stragglers.loop", lambda n: None, lane="loop")
    events.subscribe(name, "test.lanes.stragglers.events", lambda n: None)
    left, failed, waiting, fresh, legacy = (events.emit(name, n=n) for n in range(5))
    for event in (left, failed, waiting, fresh):
        EventDelivery.objects.filter(event=event).update(status=EventDelivery.Status.DELIVERED)
    EventDelivery.objects.filter(event=failed, subscriber="test.lanes.stragglers.loop").update(
        status=EventDelivery.Status.DEAD)
    EventDelivery.objects.filter(event=waiting, subscriber="test.lanes.stragglers.loop").update(
        status=EventDelivery.Status.PENDING)
    EventDelivery.objects.filter(event=legacy).delete()
    OutboxEvent.objects.exclude(pk=fresh.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).count() == 5

    assert prune_housekeeping()["settled_events"] == 2
    status = dict(OutboxEvent.objects.values_list("pk", "status"))
    assert status[left.pk] == OutboxEvent.Status.DELIVERED
    assert status[failed.pk] == OutboxEvent.Status.DEAD
    # Still being delivered, settled moments ago by its own worker maybe, or never given deliveries.
    assert {status[e.pk] for e in (waiting, fresh, legacy)} == {OutboxEvent.Status.PENDING}


@pytest.mark.django_db(transaction=True)
def test_what_a_lanes_handler_emits_for_the_same_lane_is_delivered_next_without_the_broker(declared):
    """An answer's comment reading emits the reading's event; its inbox part (same lane) runs next
    in the same worker, its loop part goes to the loop lane's workers through the broker."""
    from cxplatform.models import PipelineProbe
    from cxplatform.tasks import deliver_event

    first = declared("test.first", fields={"n"})
    second = declared("test.second", fields={"n"})
    seen = []

    def cause(n):
        try:  # an event emitted in a savepoint rolled back never joins the chain
            with events.transaction.atomic():
                events.emit(second, n=-n)
                raise RuntimeError
        except RuntimeError:
            pass
        events.emit(second, n=n + 1)

    def here(n):
        seen.append(n)
        PipelineProbe.objects.create(token=f"here {n}")

    events.subscribe(first, "test.first", cause)
    events.subscribe(second, "test.second.here", here)
    events.subscribe(second, "test.second.loop", lambda n: PipelineProbe.objects.create(token=f"loop {n}"),
                     lane="loop")
    with mock.patch.object(deliver_event, "apply_async") as publish:
        origin = events.emit(first, n=1)  # autocommit: committed, its message sent
        assert [call.kwargs["queue"] for call in publish.call_args_list] == ["events"]
        publish.reset_mock()
        assert deliver_event(origin.pk, lane="events") == 2
    assert seen == [2]
    assert set(PipelineProbe.objects.values_list("token", flat=True)) == {"here 2"}
    chained = OutboxEvent.objects.get(name=second)
    assert [call.kwargs["queue"] for call in publish.call_args_list] == ["loop"]  # not "events"
    assert chained.pk in publish.call_args.kwargs["args"]
    here_delivery = EventDelivery.objects.get(event=chained, subscriber="test.second.here")
    assert here_delivery.status == EventDelivery.Status.DELIVERED
    assert OutboxEvent.objects.get(pk=origin.pk).status == OutboxEvent.Status.DELIVERED

    # A worker lost before the chain's next round: the chained delivery has no message, so the
    # beat's redelivery sends it at once rather than after OUTBOX_LOST_AFTER_SECONDS.
    real = events._deliver_message
    calls = []

    def lost_after_the_first_round(event_ids, lane=""):
        calls.append(event_ids)
        if len(calls) > 1:
            raise events.transaction.TransactionManagementError("worker lost")
        return real(event_ids, lane)

    with mock.patch.object(deliver_event, "apply_async"), \
            mock.patch.object(events, "_deliver_message", side_effect=lost_after_the_first_round):
        again = events.emit(first, n=10)
        with pytest.raises(events.transaction.TransactionManagementError):
            deliver_event(again.pk, lane="events")
    left = OutboxEvent.objects.get(name=second, payload={"n": 11})
    waiting = EventDelivery.objects.get(event=left, subscriber="test.second.here")
    assert (waiting.status, waiting.queued_at, waiting.claimed_until) == (EventDelivery.Status.PENDING, None, None)
    assert left.pk in events.due_event_ids()
    with mock.patch.object(deliver_event, "apply_async") as publish:
        events.redeliver_pending()
    assert ((left.pk,), "events") in {(tuple(call.kwargs["args"]), call.kwargs["queue"])
                                      for call in publish.call_args_list}
    assert deliver_event(left.pk, lane="events") == 1
    assert seen == [2, 11]


@pytest.mark.django_db(transaction=True)
def test_a_chain_goes_in_rounds_of_a_message_and_the_rest_to_the_broker(declared):
    """A handler that emits many events for its own lane: each round takes at most a message's
    worth, and what is left after the last round goes to any worker, in messages of that size."""
    from cxplatform.models import PipelineProbe
    from cxplatform.tasks import deliver_event

    fan = declared("test.fan", fields={"n"})
    leaf = declared("test.leaf", fields={"n"})
    events.subscribe(fan, "test.fan", lambda n: [events.emit(leaf, n=k) for k in range(n)])
    events.subscribe(leaf, "test.leaf", lambda n: PipelineProbe.objects.create(token=f"leaf {n}"))
    rounds = []
    real = events._deliver_message

    def counted(event_ids, lane=""):
        rounds.append(len(event_ids))
        return real(event_ids, lane)

    with override_settings(OUTBOX_EVENTS_PER_MESSAGE=2), mock.patch.object(deliver_event, "apply_async") as publish, \
            mock.patch.object(events, "_deliver_message", side_effect=counted):
        origin = events.emit(fan, n=13)
        publish.reset_mock()
        assert deliver_event(origin.pk, lane="events") == 1 + 2 * events.INLINE_ROUNDS
    assert rounds == [1] + [2] * events.INLINE_ROUNDS
    sent = [call.kwargs["args"] for call in publish.call_args_list]
    assert [len(ids) for ids in sent] == [2, 1]  # 13 - 10 delivered: in messages of two
    assert PipelineProbe.objects.count() == 10
    for ids in sent:
        deliver_event(*ids, lane="events")
    assert PipelineProbe.objects.count() == 13


@pytest.mark.django_db(transaction=True)
def test_a_rule_that_reads_the_comment_opens_its_case_right_after_the_reading_in_the_same_worker(org_a):
    """The comment's reading is in the events lane; the settlement it allows follows it there,
    chained, with no message to the loop lane in between."""
    from cxplatform.tasks import deliver_event
    from surveys.comments import COMMENT_READ

    CloseLoopRule.objects.create(organization=org_a, name="Angry comments", band="any", negative_comment=True)
    link = factories.distribution(org_a)
    customer = Customer.objects.create(organization=org_a, name="Ilze", email="ilze@example.lv")
    sub = survey_services.clean_submission(link.survey, {"score": 8, "comment": "Terrible service, rude courier"},
                                           complete=True)
    with mock.patch.object(deliver_event, "apply_async") as publish:
        response = survey_services.record_response(survey=link.survey, submission=sub, complete=True,
                                                   language="en", distribution=link, token=uuid.uuid4(),
                                                   customer=customer)[0]
        sent = {call.kwargs["queue"]: call.kwargs["args"] for call in publish.call_args_list}
        deliver_event(*sent["loop"], lane="loop")
        assert not FeedbackItem.objects.filter(response=response, kind=FeedbackItem.Kind.CASE).exists()  # unread yet
        publish.reset_mock()
        deliver_event(*sent["events"], lane="events")
    assert FeedbackItem.objects.get(response=response).kind == FeedbackItem.Kind.CASE
    read = OutboxEvent.objects.get(name=COMMENT_READ, payload={"response_id": response.pk})
    assert not any(read.pk in call.kwargs["args"] for call in publish.call_args_list)  # no hop through a queue
    assert not read.deliveries.filter(status=EventDelivery.Status.PENDING).exists()
