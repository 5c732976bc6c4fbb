"""The outbox: a rollback sends nothing, a commit delivers once, a retry doubles nothing, and each
subscriber's delivery lives on its own row (attempts, back-off, dead, retry)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cxplatform import events
from cxplatform.models import EventDelivery, OutboxEvent, PipelineProbe

pytestmark = pytest.mark.django_db


def test_committed_event_is_delivered_to_its_handler(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = events.emit(events.PING, token="committed")
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED
    assert PipelineProbe.objects.filter(token="committed").count() == 1
    assert list(event.deliveries.values_list("subscriber", "status", "attempts")) == [
        ("platform.ping", EventDelivery.Status.DELIVERED, 1)]


def test_event_emitted_in_a_rolled_back_transaction_is_never_delivered(django_capture_on_commit_callbacks):
    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Abort), transaction.atomic():
        events.emit(events.PING, token="rolled-back")
        raise Abort
    assert callbacks == []
    assert not OutboxEvent.objects.exists() and not EventDelivery.objects.exists()
    assert events.redeliver_pending(older_than_seconds=0) == 0
    assert not PipelineProbe.objects.filter(token="rolled-back").exists()


def test_a_failed_enqueue_leaves_the_delivery_for_the_next_redelivery(django_capture_on_commit_callbacks):
    from cxplatform.tasks import deliver_event

    broker_down = mock.patch.object(deliver_event, "apply_async", side_effect=ConnectionRefusedError("broker down"))
    with broker_down, django_capture_on_commit_callbacks(execute=True):
        event = events.emit(events.PING, token="late")
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.PENDING
    assert event.deliveries.get().queued_at is None  # no message carries it
    assert not PipelineProbe.objects.filter(token="late").exists()

    assert events.redeliver_pending() == 1
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED
    assert PipelineProbe.objects.filter(token="late").count() == 1


def test_redelivery_never_feeds_a_slow_queue_the_same_event_twice(django_capture_on_commit_callbacks):
    from cxplatform.tasks import deliver_event

    with mock.patch.object(deliver_event, "apply_async") as publish:
        with django_capture_on_commit_callbacks(execute=True):
            event = events.emit(events.PING, token="queued")
        assert publish.call_count == 1  # on commit: the message is in the queue, not yet taken
        assert events.redeliver_pending() == 0
        assert events.redeliver_pending() == 0
        assert publish.call_count == 1
        # A message that no worker took for OUTBOX_LOST_AFTER_SECONDS was lost: it is sent again, once.
        EventDelivery.objects.filter(event=event).update(queued_at=timezone.now() - timedelta(minutes=11))
        assert events.redeliver_pending() == 1
        assert events.redeliver_pending() == 0
        assert publish.call_count == 2


def test_the_events_of_one_transaction_travel_in_one_message(django_capture_on_commit_callbacks):
    """An answer emits two events: one publish in the customer's request, one task on the worker.
    A savepoint rolled back with its callback loses nothing emitted after it."""
    from cxplatform.tasks import deliver_event

    with mock.patch.object(deliver_event, "apply_async") as publish:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            first = events.emit(events.PING, token="one")
            try:
                with transaction.atomic():
                    events.emit(events.PING, token="rolled back")
                    raise RuntimeError
            except RuntimeError:
                pass
            second = events.emit(events.PING, token="two")
        assert publish.call_count == 1
        ids = publish.call_args.kwargs["args"]
        assert first.pk in ids and second.pk in ids
        # The next transaction's events are its own message.
        with django_capture_on_commit_callbacks(execute=True):
            third = events.emit(events.PING, token="three")
        assert publish.call_count == 2 and publish.call_args.kwargs["args"] == [third.pk]
    # A transaction of many events (an import's batch) goes in several messages any worker takes.
    with override_settings(OUTBOX_EVENTS_PER_MESSAGE=2), mock.patch.object(deliver_event, "apply_async") as publish:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            many = [events.emit(events.PING, token=f"many {n}").pk for n in range(5)]
        assert [call.kwargs["args"] for call in publish.call_args_list] == [many[:2], many[2:4], many[4:]]
    # The worker delivers each event of the message; the rolled-back one has nothing to deliver.
    assert deliver_event(*ids) == 2
    assert set(PipelineProbe.objects.values_list("token", flat=True)) == {"one", "two"}
    # One event that cannot be read (a version newer than this release knows) holds back no
    # other of its message: its delivery fails and waits, the others are delivered, and the
    # message is claimed and settled once for all of them.
    OutboxEvent.objects.filter(pk=many[0]).update(version=99)
    with CaptureQueriesContext(connection) as sql:
        assert deliver_event(*many[:3]) == 2
    assert PipelineProbe.objects.filter(token__in=["many 1", "many 2"]).count() == 2
    failed = EventDelivery.objects.get(event_id=many[0])
    assert (failed.status, failed.attempts, "newer than this release" in failed.last_error) == ("pending", 1, True)
    status = dict(OutboxEvent.objects.filter(pk__in=many[:3]).values_list("pk", "status"))
    assert status == {many[0]: "pending", many[1]: "delivered", many[2]: "delivered"}
    statements = [q["sql"] for q in sql.captured_queries]
    claims = [q for q in statements if 'UPDATE "cxplatform_eventdelivery" SET claimed_until' in q]
    reads = [q for q in statements
             if q.startswith("SELECT") and "cxplatform_outboxevent" in q and "FOR NO KEY UPDATE" not in q]
    settles = [q for q in statements if q.startswith('UPDATE "cxplatform_outboxevent"')]
    assert (len(claims), len(reads), len(settles)) == (1, 0, 1)  # the claim reads the events too
    assert deliver_event(third.pk) == 1  # a message of the previous release: one id


def test_redelivery_reaches_the_newest_stuck_rows_too(declared):
    """The beat task used to take the oldest 1,000 pending events each time, so newer lost events
    starved behind them; now each run marks what it sent and the next run goes on from there."""
    from cxplatform.tasks import deliver_event

    name = declared("test.stuck", fields={"n"})
    events.subscribe(name, "test.stuck", lambda n: None)
    sent = [events.emit(name, n=n) for n in range(3)]
    EventDelivery.objects.update(queued_at=None)  # their messages were lost
    with mock.patch.object(deliver_event, "apply_async") as publish:
        assert events.redeliver_pending(limit=2) == 2
        assert events.redeliver_pending(limit=2) == 1
        assert events.redeliver_pending(limit=2) == 0
    assert sorted(call.kwargs["args"][0] for call in publish.call_args_list) == sorted(e.pk for e in sent)


def test_delivering_twice_runs_handlers_once():
    event = events.emit(events.PING, token="twice")
    assert events.deliver(event.pk) == 1
    assert events.deliver(event.pk) == 0  # already delivered: nothing to do
    assert PipelineProbe.objects.filter(token="twice").count() == 1


def test_a_claimed_delivery_is_left_to_its_worker_until_the_claim_expires():
    event = events.emit(events.PING, token="claimed")
    EventDelivery.objects.filter(event=event).update(claimed_until=timezone.now() + timedelta(minutes=1))
    assert events.deliver(event.pk) == 0
    # A worker killed mid-delivery leaves an expired claim: the next delivery takes over.
    EventDelivery.objects.filter(event=event).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert events.deliver(event.pk) == 1
    assert PipelineProbe.objects.filter(token="claimed").count() == 1


def test_one_failing_subscriber_never_reruns_the_others(declared):
    runs = {"ok": 0, "broken": 0}

    def ok(thing_id):
        runs["ok"] += 1

    def broken(thing_id):
        runs["broken"] += 1
        raise RuntimeError("downstream failed")

    name = declared("test.mixed", fields={"thing_id"})
    events.subscribe(name, "test.ok", ok)
    events.subscribe(name, "test.broken", broken)
    event = events.emit(name, thing_id=1)

    assert events.deliver(event.pk) == 1
    failed = event.deliveries.get(subscriber="test.broken")
    assert (failed.status, failed.attempts, failed.claimed_until) == (EventDelivery.Status.PENDING, 1, None)
    assert "downstream failed" in failed.last_error
    assert failed.next_attempt_at > timezone.now()  # waits its back-off
    assert event.deliveries.get(subscriber="test.ok").status == EventDelivery.Status.DELIVERED

    assert events.deliver(event.pk) == 0  # not due yet: nothing runs
    EventDelivery.objects.filter(pk=failed.pk).update(next_attempt_at=timezone.now())
    assert events.deliver(event.pk) == 0
    assert runs == {"ok": 1, "broken": 2}
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.PENDING


def _conflict(sqlstate: str) -> None:
    """The server's own error for a conflict between two transactions (not a Python stand-in)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '{sqlstate}'; END $$")


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])  # deadlock_detected, serialization_failure
def test_a_delivery_meeting_a_deadlock_runs_again_at_once_with_its_work_once(declared, sqlstate):
    runs = []

    def conflicted(thing_id):
        runs.append(thing_id)
        PipelineProbe.objects.create(token=f"work {len(runs)}")  # rolled back with the conflict
        if len(runs) == 1:
            _conflict(sqlstate)

    name = declared("test.conflicted", fields={"thing_id"})
    events.subscribe(name, "test.conflicted", conflicted)
    event = events.emit(name, thing_id=3)

    assert events.deliver(event.pk) == 1
    delivery = event.deliveries.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (EventDelivery.Status.DELIVERED, 1, "")
    assert runs == [3, 3]
    assert list(PipelineProbe.objects.values_list("token", flat=True)) == ["work 2"]
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED


def test_a_conflict_a_handler_wrapped_in_its_own_error_is_still_run_again(declared):
    runs = []

    class SettlementFailed(Exception):
        pass

    def wrapping(thing_id):
        runs.append(thing_id)
        if len(runs) == 1:
            try:
                with transaction.atomic():
                    _conflict("40P01")
            except Exception as exc:
                raise SettlementFailed("could not settle") from exc

    name = declared("test.wrapping", fields={"thing_id"})
    events.subscribe(name, "test.wrapping", wrapping)
    event = events.emit(name, thing_id=5)
    assert events.deliver(event.pk) == 1
    assert runs == [5, 5]


def test_a_conflict_that_lasts_waits_its_back_off_and_other_errors_are_not_run_again(declared):
    runs = {"deadlocked": 0, "broken": 0}

    def deadlocked(thing_id):
        runs["deadlocked"] += 1
        _conflict("40P01")

    def broken(thing_id):
        runs["broken"] += 1
        _conflict("23505")  # unique_violation: a fault, not a conflict between workers

    name = declared("test.conflicts", fields={"thing_id"})
    events.subscribe(name, "test.deadlocked", deadlocked)
    events.subscribe(name, "test.broken", broken)
    event = events.emit(name, thing_id=4)

    assert events.deliver(event.pk) == 0
    assert runs == {"deadlocked": 1 + events.TRANSIENT_RETRIES, "broken": 1}
    for delivery in event.deliveries.all():
        assert (delivery.status, delivery.attempts) == (EventDelivery.Status.PENDING, 1)
        assert delivery.next_attempt_at > timezone.now()
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.PENDING


def test_back_off_doubles_up_to_an_hour():
    assert [events.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert events.backoff(30).total_seconds() == 3600


@override_settings(OUTBOX_MAX_ATTEMPTS=3)
def test_a_delivery_failing_n_times_goes_dead_shows_on_healthz_and_can_be_retried(declared, client):
    state = {"fail": True, "runs": 0}

    def flaky(thing_id):
        state["runs"] += 1
        if state["fail"]:
            raise RuntimeError("still down")

    name = declared("test.flaky", fields={"thing_id"})
    events.subscribe(name, "test.flaky", flaky)
    event = events.emit(name, thing_id=7)
    for _attempt in range(3):
        EventDelivery.objects.filter(event=event).update(next_attempt_at=timezone.now())
        events.deliver(event.pk)
    delivery = event.deliveries.get()
    assert (delivery.status, delivery.attempts) == (EventDelivery.Status.DEAD, 3)
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DEAD
    assert events.redeliver_pending(older_than_seconds=0) == 0  # dead is not retried by itself
    body = client.get("/healthz").json()
    assert body["events"]["dead"] == 1

    state["fail"] = False
    assert events.retry([delivery.pk]) == 1
    assert events.deliver(event.pk) == 1
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED
    assert state["runs"] == 4
    assert client.get("/healthz").json()["events"]["dead"] == 0


def test_healthz_reports_how_far_delivery_lags(client):
    event = events.emit(events.PING, token="lagging")
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(seconds=90))
    assert client.get("/healthz").json()["events"]["lag_seconds"] >= 90
    events.deliver(event.pk)
    assert client.get("/healthz").json()["events"] == {
        "lag_seconds": 0.0, "lanes": {"events": 0.0, "loop": 0.0}, "dead": 0}


def test_undeclared_events_and_wrong_payloads_fail_where_they_are_written(declared):
    with pytest.raises(events.UndeclaredEvent):
        events.emit("response.recordd", response_id=1)
    with pytest.raises(events.UndeclaredEvent):
        events.subscribe("response.recordd", "test.typo", lambda response_id: None)
    with pytest.raises(ValueError):
        events.emit(events.PING, token="x", extra=1)
    name = declared("test.keys", fields={"a"})
    with pytest.raises(ValueError):  # a key names one subscriber, in the outbox, forever
        events.subscribe(name, "platform.ping", lambda a: None)
    with pytest.raises(ValueError):
        declared("test.v2-without-upgrade", fields={"a"}, version=2)


def test_every_subscription_of_the_platform_is_to_a_declared_event():
    for name, subscribers in events._subscribers.items():
        if subscribers:
            assert events.event_type(name).name == name


def test_a_payload_of_the_previous_release_is_still_read(declared):
    """Rolling deploy: the web of release N wrote `{"order": 5}` (v1); the worker of release N+1
    expects v2 `{"order_id": 5}` and reads the old row through the declared upgrade."""
    seen = []
    name = declared("test.versioned", fields={"order_id"}, version=2,
                    upgrades={1: lambda payload: {"order_id": payload.pop("order")}})
    events.subscribe(name, "test.versioned", lambda order_id: seen.append(order_id))
    old = OutboxEvent.objects.create(name=name, payload={"order": 5}, version=1)
    EventDelivery.objects.create(event=old, subscriber="test.versioned")
    assert events.deliver(old.pk) == 1
    assert seen == [5]
    # A payload newer than this release knows is never misread: it fails visibly and waits.
    newer = OutboxEvent.objects.create(name=name, payload={"order_id": 6, "currency": "EUR"}, version=3)
    EventDelivery.objects.create(event=newer, subscriber="test.versioned")
    assert events.deliver(newer.pk) == 0
    assert seen == [5]
    assert "newer than this release knows" in newer.deliveries.get().last_error


def test_a_delivery_to_a_subscriber_this_release_lacks_is_never_marked_delivered():
    event = events.emit(events.PING, token="renamed")
    EventDelivery.objects.filter(event=event).update(subscriber="platform.old-name")
    assert events.deliver(event.pk) == 0
    delivery = event.deliveries.get()
    assert delivery.status == EventDelivery.Status.PENDING and "platform.old-name" in delivery.last_error


def test_an_event_of_the_previous_release_without_deliveries_gets_them():
    legacy = OutboxEvent.objects.create(name=events.PING, payload={"token": "legacy"})
    OutboxEvent.objects.filter(pk=legacy.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert events.redeliver_pending() == 1
    assert PipelineProbe.objects.filter(token="legacy").count() == 1
    legacy.refresh_from_db()
    assert legacy.status == OutboxEvent.Status.DELIVERED


def test_housekeeping_prunes_only_old_rows():
    from cxplatform.tasks import prune_housekeeping

    old, fresh = events.emit(events.PING, token="old"), events.emit(events.PING, token="fresh")
    for event in (old, fresh):
        events.deliver(event.pk)
    OutboxEvent.objects.filter(pk=old.pk).update(delivered_at=timezone.now() - timedelta(days=8))
    pruned = prune_housekeeping()
    assert pruned["delivered_events"] == 1
    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert EventDelivery.objects.filter(event=old).count() == 0


def test_an_operator_retries_dead_deliveries_from_the_admin(admin_client, django_capture_on_commit_callbacks):
    event = events.emit(events.PING, token="revived")
    EventDelivery.objects.filter(event=event).update(status=EventDelivery.Status.DEAD, attempts=8,
                                                     last_error="RuntimeError('down')")
    OutboxEvent.objects.filter(pk=event.pk).update(status=OutboxEvent.Status.DEAD)
    page = admin_client.get("/admin/cxplatform/eventdelivery/?status__exact=dead")
    assert page.status_code == 200 and b"platform.ping" in page.content and b"RuntimeError" in page.content
    delivery = event.deliveries.get()
    with django_capture_on_commit_callbacks(execute=True):  # the retry enqueues on commit
        response = admin_client.post("/admin/cxplatform/eventdelivery/",
                                     {"action": "retry", "_selected_action": [delivery.pk]}, follow=True)
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (EventDelivery.Status.DELIVERED, 1)  # eager here: run at once
    assert PipelineProbe.objects.filter(token="revived").count() == 1


def test_a_subscriber_with_nothing_to_do_for_the_organization_gets_no_delivery(declared, org_a, org_b):
    asked, ran = [], []
    name = declared("test.wanted", fields={"thing_id"})
    events.subscribe(name, "test.always", lambda thing_id: ran.append(("always", thing_id)))
    events.subscribe(name, "test.only_a", lambda thing_id: ran.append(("only_a", thing_id)),
                     wanted=lambda organization_id: asked.append(organization_id) or organization_id == org_a.pk)

    for_a = events.emit(name, organization=org_a, thing_id=1)
    for_b = events.emit(name, organization=org_b, thing_id=2)
    assert asked == [org_a.pk, org_b.pk]  # asked as each event is written
    assert sorted(for_a.deliveries.values_list("subscriber", flat=True)) == ["test.always", "test.only_a"]
    assert list(for_b.deliveries.values_list("subscriber", flat=True)) == ["test.always"]
    events.deliver(for_a.pk)
    events.deliver(for_b.pk)
    assert sorted(ran) == [("always", 1), ("always", 2), ("only_a", 1)]

    # Nobody left who wants it: the event is written settled, nothing for the workers.
    events.unsubscribe(name, "test.always")
    alone = events.emit(name, organization=org_b, thing_id=3)
    assert alone.status == OutboxEvent.Status.DELIVERED and not alone.deliveries.exists()


def test_the_event_written_is_the_event_returned(declared, org_a):
    """emit writes the event and its deliveries in two plain statements (the answer's hot path):
    what it returns is the row as saved, and the deliveries wait for their message."""
    name = declared("test.written", fields={"thing_id", "note"}, version=2, upgrades={1: dict})
    events.subscribe(name, "test.events_lane", lambda thing_id, note: None)
    events.subscribe(name, "test.loop_lane", lambda thing_id, note: None, lane="loop")
    with CaptureQueriesContext(connection) as written:
        event = events.emit(name, organization=org_a, thing_id=5, note="Всё «хорошо» \"ok\"")
    assert len(written.captured_queries) == 2
    # Every column of both tables is written: a field added later cannot be left to chance.
    for model, query in zip((OutboxEvent, EventDelivery), written.captured_queries, strict=True):
        listed = query["sql"].split("(", 1)[1].split(")", 1)[0]
        assert {column.strip() for column in listed.split(",")} == {
            field.column for field in model._meta.concrete_fields if not field.primary_key}
    saved = OutboxEvent.objects.get(pk=event.pk)
    for field in ("organization_id", "name", "payload", "version", "status", "attempts", "claimed_until",
                  "last_error", "created_at", "delivered_at"):
        assert getattr(saved, field) == getattr(event, field), field
    assert saved.payload == {"thing_id": 5, "note": "Всё «хорошо» \"ok\""} and saved.status == "pending"
    assert saved.version == 2
    assert sorted(saved.deliveries.values_list("subscriber", "status", "attempts", "next_attempt_at", "queued_at")) \
        == [(key, "pending", 0, event.created_at, event.created_at) for key in ("test.events_lane", "test.loop_lane")]
    unheard = events.emit(declared("test.unheard", fields={"thing_id"}), thing_id=1)
    assert OutboxEvent.objects.filter(pk=unheard.pk, status="delivered", delivered_at=unheard.delivered_at,
                                      organization=None).exists()
