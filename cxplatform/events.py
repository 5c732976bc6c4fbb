"""One small event dispatch between apps, through a transactional outbox (docs/adr/0001, 0018).

The app that emits an event declares it — name, payload fields, version — where it emits it:

    RESPONSE_RECORDED = events.declare("response.recorded", fields={"response_id"})
    events.emit(RESPONSE_RECORDED, organization=org, response_id=response.pk)

and each subscriber registers against the declaration in `AppConfig.ready`, under a stable key
that names it in the outbox whatever its function is called:

    events.subscribe(RESPONSE_RECORDED, "metrics.rollup", handlers.response_recorded, lane="loop")

A subscriber runs in a lane: the Celery queue its deliveries travel on ("events" unless it says).
What a customer or a figure waits for (the closed loop's case and thank-you, the rollup's mark)
runs in the "loop" lane, which a worker serves before the inbox's reading and routing, so a
burst of answers never queues a call-back behind a minute of comment reading (docs/adr/0034).

Emitting or subscribing to an undeclared event, or emitting the wrong fields, raises at once.
`emit` writes the event and one delivery row per subscriber (each that wants the organization's
events, see `subscribe`) in the caller's transaction; on
commit the event is handed to the workers, one message per lane for all the events of the
transaction. A worker claims a message's deliveries at once, runs each in its own transaction,
so one failing subscriber never re-runs the others, and settles the message's events together;
what a handler emits for the lane being delivered is delivered next by the same worker (the
chain, ADR 0034); a failure waits with exponential back-off
and a delivery that fails `OUTBOX_MAX_ATTEMPTS` times is dead (shown on /healthz and in the
admin, which can retry it). Handlers receive ids, never objects, and must be idempotent:
delivery is at least once.
"""

import logging
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone

logger = logging.getLogger(__name__)


class UndeclaredEvent(LookupError):
    """An event nobody declared: a typo or a rename, caught where it is written."""


@dataclass(frozen=True)
class EventType:
    name: str
    fields: frozenset[str]
    version: int = 1
    # upgrades[v] turns a payload of version v into one of version v + 1, so a worker of a newer
    # release still reads what the previous release wrote during a rolling deploy.
    upgrades: dict[int, Callable[[dict], dict]] = field(default_factory=dict, compare=False, hash=False)

    def current(self, payload: dict, version: int) -> dict:
        if version > self.version:
            raise ValueError(f"{self.name} v{version} is newer than this release knows (v{self.version})")
        for step in range(version, self.version):
            payload = self.upgrades[step](dict(payload))
        return payload


_types: dict[str, EventType] = {}
DEFAULT_LANE = "events"
_lanes: dict[str, str] = {}  # subscriber key → its lane (a Celery queue)
# The outbox event whose handler runs now: a subscriber that keys its side effect on the event
# itself (one webhook call per event and subscription) reads it through current_event().
_current_event: ContextVar = ContextVar("current_outbox_event", default=None)


@dataclass
class _Chain:
    """While a worker delivers a lane's message, the events its handlers emit for that same lane
    are delivered next by the same worker (`deliver_all`) instead of going round the broker: one
    publish and one task fewer per chained event (an answer's comment reading → its inbox
    reading, its inbox item → routing). Each joins the chain on its own transaction's commit, so
    an event rolled back with its savepoint never does; their deliveries carry no message, so if
    the worker dies first the beat sends them."""

    lane: str
    committed: list = field(default_factory=list)  # ids of the chained events, as they commit
    open: bool = True

    def join(self, event_id: int) -> None:
        """On the emitting transaction's commit: next in this chain, or — the chain is over (its
        deliveries ran inside a caller's transaction, which commits later) — to the broker."""
        if self.open:
            self.committed.append(event_id)
        else:
            _send_chained([event_id], self.lane)


_chain: ContextVar = ContextVar("outbox_chain", default=None)
INLINE_ROUNDS = 5  # a chain longer than this goes to the broker like any other


def current_event():
    """The OutboxEvent being delivered to the running handler (None outside a delivery)."""
    return _current_event.get()
_subscribers: dict[str, dict[str, Callable[..., None]]] = {}
# subscriber key → whether an organization (its id, or None) has anything for it: asked when an
# event is written, so a subscriber with nothing to do there (webhooks it has none of) gets no
# delivery to claim, run and settle.
_wanted: dict[str, Callable[[int | None], bool]] = {}


def declare(name: str, *, fields: Iterable[str], version: int = 1,
            upgrades: dict[int, Callable[[dict], dict]] | None = None) -> str:
    """Declare an event; returns its name, the constant emitters and subscribers use."""
    declared = EventType(name, frozenset(fields), version, dict(upgrades or {}))
    missing = [step for step in range(1, version) if step not in declared.upgrades]
    if missing:
        raise ValueError(f"{name} v{version} needs an upgrade from each earlier version: {missing}")
    known = _types.get(name)
    if known is not None and (known.fields, known.version) != (declared.fields, declared.version):
        raise ValueError(f"{name} is declared twice, differently")
    _types[name] = declared
    _subscribers.setdefault(name, {})
    return name


def event_type(name: str) -> EventType:
    try:
        return _types[name]
    except KeyError:
        raise UndeclaredEvent(f"no event {name!r} is declared") from None


def subscribe(event_name: str, key: str, handler: Callable[..., None], *, lane: str = DEFAULT_LANE,
              wanted: Callable[[int | None], bool] | None = None) -> None:
    """Register `handler` for a declared event under `key`, its stable name in the outbox, to run
    in `lane` (one of the Celery queues). `wanted(organization_id)`, when given, is asked as each
    event is written, in the emitter's transaction: an organization it says no for gets no
    delivery of that event (it must be cheap: it runs on the emitter's path)."""
    event_type(event_name)
    if lane not in {queue.name for queue in settings.CELERY_TASK_QUEUES}:
        raise ValueError(f"lane {lane!r} of {key!r} is not one of the Celery queues")
    for name, subscribers in _subscribers.items():
        if key in subscribers and (name != event_name or subscribers[key] is not handler):
            raise ValueError(f"subscriber key {key!r} is already taken")
    _subscribers[event_name][key] = handler
    _lanes[key] = lane
    if wanted is None:
        _wanted.pop(key, None)
    else:
        _wanted[key] = wanted


def lane_of(key: str) -> str:
    """The lane of a subscriber key; a key this release does not know (renamed, removed) goes to
    the default lane, where it fails visibly until it is dead."""
    return _lanes.get(key, DEFAULT_LANE)


def _lane_keys(lane: str) -> tuple[bool, list[str]]:
    """A lane's deliveries as (inside, keys): its own subscribers' keys, or — for the default lane,
    which also takes the keys this release does not know — every key but the other lanes'."""
    if lane == DEFAULT_LANE:
        return False, [key for key, its in _lanes.items() if its != DEFAULT_LANE]
    return True, [key for key, its in _lanes.items() if its == lane]


def _in_lane(lane: str) -> Q:
    inside, keys = _lane_keys(lane)
    return Q(subscriber__in=keys) if inside else ~Q(subscriber__in=keys)


def unsubscribe(event_name: str, key: str) -> None:
    _subscribers.get(event_name, {}).pop(key, None)
    _lanes.pop(key, None)
    _wanted.pop(key, None)


def subscribers_of(event_name: str) -> dict[str, Callable[..., None]]:
    return dict(_subscribers.get(event_name, {}))


def emit(event_name: str, *, organization=None, **ids):
    """Record `event_name` with its ids and one delivery per subscriber that wants it for
    `organization` in the current transaction; hand it to the workers after commit."""
    declared = event_type(event_name)
    if set(ids) != declared.fields:
        raise ValueError(f"{event_name} carries {sorted(declared.fields)}, not {sorted(ids)}")
    now = timezone.now()
    organization_id = organization.pk if organization is not None else None
    keys = [key for key in _subscribers[event_name] if key not in _wanted or _wanted[key](organization_id)]
    chain = _chain.get()
    event = _write(organization, event_name, ids, declared.version, now, {
        key: None if chain is not None and lane_of(key) == chain.lane else now for key in keys})
    if keys:
        for lane in sorted({lane_of(key) for key in keys}):
            if chain is not None and lane == chain.lane:
                transaction.on_commit(partial(chain.join, event.pk))
            else:
                _send_on_commit(event.pk, lane)
    return event


def _send_on_commit(event_id: int, lane: str) -> None:
    """The events one transaction emits go to the workers in one message per lane after it
    commits (an answer's two events: one publish per lane in the customer's request, one task per
    lane on the workers). Each emit registers the sending, so a savepoint rolled back with its
    callback loses nothing: the first callback to run sends every event waiting, the others find
    none. An event of a rolled back transaction may ride along later; its deliveries do not exist,
    so it costs nothing."""
    _waiting().append((event_id, lane))
    transaction.on_commit(_send_waiting)


def _waiting() -> list[tuple[int, str]]:
    """This thread's events waiting for their transaction's commit, kept on the thread's own
    connection object: the one `on_commit` follows."""
    return vars(connections[DEFAULT_DB_ALIAS]).setdefault("_outbox_waiting", [])


def forget_waiting() -> None:
    """Drop what waits for a commit that will never come (tests: their transactions roll back)."""
    _waiting().clear()


def _send_waiting() -> None:
    waiting = _waiting()
    if waiting:
        by_lane: dict[str, list[int]] = {}
        for event_id, lane in dict.fromkeys(waiting):  # a retry's repeats: once
            by_lane.setdefault(lane, []).append(event_id)
        waiting.clear()
        messages = [(lane, chunk) for lane, ids in by_lane.items() for chunk in _messages_of(ids)]
        for n, (lane, event_ids) in enumerate(messages):
            if not enqueue(*event_ids, lane=lane):
                # The broker is down or hangs: one publish's timeout is all a request waits; the
                # rest is left to the beat like the one that failed.
                for rest_lane, rest in messages[n + 1:]:
                    _unqueue(rest, rest_lane)
                break


def _messages_of(event_ids: list[int]) -> list[list[int]]:
    """Event ids cut into messages of at most OUTBOX_EVENTS_PER_MESSAGE (what one task delivers)."""
    size = max(settings.OUTBOX_EVENTS_PER_MESSAGE, 1)
    return [event_ids[start:start + size] for start in range(0, len(event_ids), size)]


def _unqueue(event_ids, lane: str) -> None:
    """No message carries these deliveries: the beat's next run sends them."""
    from .models import EventDelivery

    EventDelivery.objects.filter(_in_lane(lane), event_id__in=list(event_ids),
                                 status=EventDelivery.Status.PENDING).update(queued_at=None)


def enqueue(*event_ids: int, lane: str = DEFAULT_LANE) -> bool:
    """Hand events to the workers of `lane` in one message. Never raises: the delivery rows are
    the durable copy, and those the broker did not take are left for the beat task at once."""
    from .tasks import deliver_event

    try:
        deliver_event.apply_async(args=list(event_ids), kwargs={"lane": lane}, queue=lane)
    except Exception:  # a broker outage only delays delivery
        logger.warning("could not enqueue outbox events %s (%s); they stay pending", event_ids, lane, exc_info=True)
        _unqueue(event_ids, lane)
        return False
    return True


# The delivery hot path (claim, mark, settle) runs for every event a worker takes, several per
# answer: one plain SQL statement each instead of the ORM's several, whose query building cost
# the worker more than the statements themselves (bench/load.py).

def _tables():
    from .models import EventDelivery, OutboxEvent

    quote = connection.ops.quote_name
    return quote(EventDelivery._meta.db_table), quote(OutboxEvent._meta.db_table)


def _claim(event_ids: list[int], lane: str = "") -> list:
    """Take the due deliveries in `lane` (every lane: "") of a message's events that no live
    worker holds; returns them with their events, in the events' order. On PostgreSQL one
    statement claims and reads them (an UPDATE … RETURNING in a WITH, joined to the events);
    elsewhere (the embedded SQLite) the events are read after."""
    from .models import EventDelivery, OutboxEvent

    deliveries, events_table = _tables()
    now = timezone.now()
    until = now + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)
    lock = " FOR NO KEY UPDATE SKIP LOCKED" if connection.features.has_select_for_no_key_update else ""
    at = connection.ops.adapt_datetimefield_value
    in_lane, keys = "", []
    if lane:
        inside, keys = _lane_keys(lane)
        if keys:
            in_lane = f" AND subscriber {'IN' if inside else 'NOT IN'} ({', '.join(['%s'] * len(keys))})"
        elif inside:
            return []  # nobody subscribes in this lane any more
    claim = (f"UPDATE {deliveries} SET claimed_until = %s, queued_at = NULL WHERE id IN ("  # noqa: S608  # nosec B608 — names from _meta, values bound
             f"SELECT id FROM {deliveries} WHERE event_id IN ({', '.join(['%s'] * len(event_ids))}) AND status = %s "
             f"AND next_attempt_at <= %s AND (claimed_until IS NULL OR claimed_until < %s){in_lane}{lock}) "
             "RETURNING event_id, id, subscriber, attempts")
    params = [at(until), *event_ids, EventDelivery.Status.PENDING, at(now), at(now), *keys]
    if connection.vendor == "postgresql":
        columns = ", ".join(f"e.{connection.ops.quote_name(f.column)}" for f in OutboxEvent._meta.concrete_fields)
        # `raw` applies the fields' converters; the delivery's own columns ride along as attributes.
        found: dict[int, OutboxEvent] = {}
        rows = []
        for event in OutboxEvent.objects.db_manager(DEFAULT_DB_ALIAS).raw(
                f"WITH claimed AS ({claim}) SELECT {columns}, c.id AS delivery_id, "  # noqa: S608  # nosec B608
                f"c.subscriber AS delivery_subscriber, c.attempts AS delivery_attempts FROM claimed c "
                f"JOIN {events_table} e ON e.id = c.event_id", params):
            rows.append((event.pk, event.delivery_id, event.delivery_subscriber, event.delivery_attempts))
            found.setdefault(event.pk, event)
        rows.sort()
    else:
        with connection.cursor() as cursor:
            cursor.execute(claim, params)
            rows = sorted(cursor.fetchall())
        found = _events_by_id(sorted({row[0] for row in rows})) if rows else {}
    return [EventDelivery(pk=pk, event=found[event_id], subscriber=subscriber, attempts=attempts,
                          claimed_until=until)
            for event_id, pk, subscriber, attempts in rows]


def _write(organization, name: str, payload: dict, version: int, now, queued_at: dict):
    """The event and its deliveries (`queued_at` by subscriber key: on its way in a message, or
    None for the chain), in two plain statements on the default database; an event nobody listens
    to (yet) is written settled: nothing to hand to the workers. Every answer writes one or two
    events in the customer's request, and the ORM's building of these two INSERTs cost more than
    running them. Returns the event as saved."""
    from .models import EventDelivery, OutboxEvent

    deliveries, events_table = _tables()
    at = connection.ops.adapt_datetimefield_value
    status, delivered_at = ((OutboxEvent.Status.PENDING, None) if queued_at
                            else (OutboxEvent.Status.DELIVERED, now))
    # A failed statement marks the caller's transaction for rollback, as the ORM's create would.
    with transaction.mark_for_rollback_on_error(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {events_table} (organization_id, name, payload, version, status, attempts, "  # noqa: S608  # nosec B608 — names from _meta, values bound
            "claimed_until, last_error, created_at, delivered_at) VALUES (%s, %s, %s, %s, %s, 0, NULL, '', %s, %s) "
            "RETURNING id",
            [organization.pk if organization is not None else None, name,
             OutboxEvent._meta.get_field("payload").get_db_prep_value(payload, connection), version, status,
             at(now), at(delivered_at) if delivered_at else None])
        event_id = cursor.fetchone()[0]
        if queued_at:
            params = []
            for key, queued in queued_at.items():
                params += [event_id, key, EventDelivery.Status.PENDING, at(now), at(queued) if queued else None]
            rows = ", ".join(["(%s, %s, %s, 0, %s, %s, NULL, '', NULL)"] * len(queued_at))
            cursor.execute(
                f"INSERT INTO {deliveries} (event_id, subscriber, status, attempts, next_attempt_at, queued_at, "  # noqa: S608  # nosec B608
                f"claimed_until, last_error, delivered_at) VALUES {rows}", params)
    event = OutboxEvent(pk=event_id, organization=organization, name=name, payload=payload, version=version,
                        status=status, created_at=now, delivered_at=delivered_at)
    event._state.adding, event._state.db = False, DEFAULT_DB_ALIAS
    return event


def _events_by_id(event_ids: list[int]) -> dict:
    """The claimed events, in one plain SQL query like the rest of the hot path (no query to
    build); `raw` still applies the backend's and the fields' converters (aware datetimes on
    SQLite too)."""
    from .models import OutboxEvent

    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in OutboxEvent._meta.concrete_fields)
    return {event.pk: event for event in OutboxEvent.objects.db_manager(DEFAULT_DB_ALIAS).raw(
        f"SELECT {columns} FROM {quote(OutboxEvent._meta.db_table)} "  # noqa: S608  # nosec B608
        f"WHERE id IN ({', '.join(['%s'] * len(event_ids))})", event_ids)}


def _mark_delivered(delivery_id: int) -> None:
    from .models import EventDelivery

    deliveries, _events = _tables()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {deliveries} SET status = %s, delivered_at = %s, claimed_until = NULL, "  # noqa: S608  # nosec B608
            "attempts = attempts + 1, last_error = '' WHERE id = %s",
            [EventDelivery.Status.DELIVERED, connection.ops.adapt_datetimefield_value(timezone.now()), delivery_id])


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: doubling from OUTBOX_BACKOFF_SECONDS, at most an hour."""
    return timedelta(seconds=min(settings.OUTBOX_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), 3600))


def deliver(event_id: int, lane: str = "") -> int:
    """Run each due delivery of one event in `lane` (every lane: ""); see deliver_all."""
    return deliver_all([event_id], lane)


def deliver_all(event_ids: list[int], lane: str = "") -> int:
    """Deliver a message's events in `lane` (every lane: ""), then what their handlers emitted for
    the same lane, in rounds of at most OUTBOX_EVENTS_PER_MESSAGE events, INLINE_ROUNDS rounds at
    most (the rest is sent through the broker). Returns how many deliveries succeeded."""
    if not lane or _chain.get() is not None:
        return _deliver_message(event_ids, lane)
    chain = _Chain(lane)
    token = _chain.set(chain)
    try:
        done = _deliver_message(event_ids, lane)
        for _round in range(INLINE_ROUNDS):
            if not chain.committed:
                break
            ids = list(dict.fromkeys(chain.committed))
            this_round = _messages_of(ids)[0]
            chain.committed[:] = ids[len(this_round):]
            done += _deliver_message(this_round, lane)
    finally:
        chain.open = False
        _chain.reset(token)
    _send_chained(list(dict.fromkeys(chain.committed)), lane)  # a longer chain: any worker takes the rest
    return done


def _send_chained(event_ids: list[int], lane: str) -> None:
    """Chained events that the chain does not deliver, to the broker after all: marked as on their
    way first, so the beat does not send them a second message."""
    from .models import EventDelivery

    if not event_ids:
        return
    EventDelivery.objects.filter(_in_lane(lane), event_id__in=event_ids, status=EventDelivery.Status.PENDING,
                                 queued_at__isnull=True).update(queued_at=timezone.now())
    for chunk in _messages_of(event_ids):
        enqueue(*chunk, lane=lane)


def _deliver_message(event_ids: list[int], lane: str = "") -> int:
    """Run each due delivery of a message's events in `lane` (every lane: ""), in the events'
    order, each in its own transaction; returns how many succeeded. A failing subscriber is
    settled (back-off, or dead) and never re-runs the others. The message is claimed once for all
    its events, and they are settled together in its last delivery's transaction — all of the
    message's events, so one finished before a lost worker's retry is settled by the retry."""
    event_ids = list(event_ids)
    claimed = _claim(event_ids, lane)
    if not claimed:
        return 0
    done, settled = 0, False
    for delivery in claimed:
        settles = delivery is claimed[-1]
        for attempt in range(1, TRANSIENT_RETRIES + 2):
            try:
                _run(delivery, event_ids if settles else None)
            except Exception as exc:
                if attempt <= TRANSIENT_RETRIES and _transient(exc):
                    # Rolled back whole; the handlers are idempotent: run it again now rather than
                    # after a back-off and the beat's sweep (a case opened a minute late).
                    # A warning all the same: two of our own transactions conflicting is a defect
                    # (docs/adr/0035), and the database's words name the processes and tables.
                    logger.warning("delivery %s (%s → %s) met a conflict, run again: %s", delivery.pk,
                                   delivery.event.name, delivery.subscriber, exc)
                    continue
                _failed(delivery, exc)
            else:
                done, settled = done + 1, settled or settles
            break
    if not settled:
        _settle_events(event_ids)
    return done


# A deadlock or a serialization failure between two workers' transactions is no fault of the
# subscriber: its transaction is run again at once, this many times at most.
TRANSIENT_RETRIES = 2
TRANSIENT_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure


def _transient(exc: BaseException | None) -> bool:
    """Whether the error, or one it was raised from, is the database's deadlock or serialization
    failure (psycopg2 says `pgcode`, psycopg 3 `sqlstate`)."""
    seen = 0
    while exc is not None and seen < 10:
        if {getattr(exc, "pgcode", None), getattr(exc, "sqlstate", None)} & TRANSIENT_SQLSTATES:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _run(delivery, settle_events: list[int] | None) -> None:
    """One delivery's handler, marked delivered in the handler's own transaction: its work and
    "delivered" commit together; with the message's last one, the events' status too (one commit
    fewer per message)."""
    event = delivery.event
    handler = subscribers_of(event.name).get(delivery.subscriber)
    if handler is None:  # renamed or removed: kept visible until it is dead, never dropped
        raise UndeclaredEvent(f"no subscriber {delivery.subscriber!r} of {event.name!r} in this release")
    payload = event_type(event.name).current(event.payload, event.version)
    running = _current_event.set(event)
    try:
        with transaction.atomic():
            handler(**payload)
            _mark_delivered(delivery.pk)
            if settle_events is not None:
                _settle_events(settle_events)
    finally:
        _current_event.reset(running)


def _failed(delivery, exc: Exception) -> None:
    """A failed delivery waits its back-off (the beat sends it again), or is dead after the last try."""
    from .models import EventDelivery

    attempts = delivery.attempts + 1
    dead = attempts >= settings.OUTBOX_MAX_ATTEMPTS
    logger.warning("delivery %s (%s → %s) failed, attempt %s%s", delivery.pk, delivery.event.name,
                   delivery.subscriber, attempts, ", now dead" if dead else "", exc_info=exc)
    EventDelivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts, claimed_until=None, last_error=repr(exc)[:2000],
        status=EventDelivery.Status.DEAD if dead else EventDelivery.Status.PENDING,
        next_attempt_at=timezone.now() + backoff(attempts))


def _settle_events(event_ids: list[int]) -> None:
    """Each event's own status follows its deliveries: pending while any is, dead if any died
    (one UPDATE for the message that finds out both). Two lanes finishing one event at once each
    see the other's delivery still pending: the events' rows are locked first, in one order, so
    the later one reads the earlier one's commit and settles it."""
    from .models import EventDelivery, OutboxEvent

    deliveries, events_table = _tables()
    listed = ", ".join(["%s"] * len(event_ids))
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.features.has_select_for_no_key_update:
            cursor.execute(f"SELECT id FROM {events_table} WHERE id IN ({listed}) ORDER BY id FOR NO KEY UPDATE",  # noqa: S608  # nosec B608
                           event_ids)
        cursor.execute(
            f"UPDATE {events_table} SET delivered_at = %s, status = CASE WHEN EXISTS ("  # noqa: S608  # nosec B608
            f"SELECT 1 FROM {deliveries} WHERE event_id = {events_table}.id AND status = %s) THEN %s ELSE %s END "
            f"WHERE id IN ({listed}) AND NOT EXISTS ("
            f"SELECT 1 FROM {deliveries} WHERE event_id = {events_table}.id AND status = %s)",
            [connection.ops.adapt_datetimefield_value(timezone.now()), EventDelivery.Status.DEAD,
             OutboxEvent.Status.DEAD, OutboxEvent.Status.DELIVERED, *event_ids, EventDelivery.Status.PENDING])


def _materialise_legacy(written_before) -> None:
    """Events written before deliveries existed (or by a web process of the previous release
    during a deploy) get one delivery per current subscriber."""
    from .models import EventDelivery, OutboxEvent

    legacy = list(OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING, deliveries__isnull=True,
                                             created_at__lte=written_before).values_list("pk", "name")[:1000])
    for pk, name in legacy:
        keys = list(_subscribers.get(name, {})) or ["(none)"]  # an unknown event goes dead, visibly
        EventDelivery.objects.bulk_create(
            [EventDelivery(event_id=pk, subscriber=key, next_attempt_at=written_before) for key in keys],
            ignore_conflicts=True)


def due_event_ids(now=None, limit: int = 1000) -> list[int]:
    """Events with a delivery due and not on its way: never enqueued, released after a failure,
    or enqueued so long ago (OUTBOX_LOST_AFTER_SECONDS) that the message must have been lost."""
    from .models import EventDelivery

    now = now or timezone.now()
    lost_before = now - timedelta(seconds=settings.OUTBOX_LOST_AFTER_SECONDS)
    rows = (
        EventDelivery.objects.filter(status=EventDelivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=lost_before))
        .values("event_id").annotate(due=Min("next_attempt_at")).order_by("due")[:limit]
    )
    return [row["event_id"] for row in rows]


def redeliver_pending(older_than_seconds: int | None = None, limit: int = 1000) -> int:
    """Enqueue each event with a delivery due that no message carries. Marking them queued
    first means a queue that is merely slow is never fed the same event twice, and the next
    run reaches the rows after these — newest stuck rows included. Returns how many were sent."""
    from .models import EventDelivery

    now = timezone.now()
    if older_than_seconds is None:
        older_than_seconds = settings.OUTBOX_REDELIVERY_AFTER_SECONDS
    _materialise_legacy(now - timedelta(seconds=older_than_seconds))
    event_ids = due_event_ids(now, limit)
    if not event_ids:
        return 0
    pending = EventDelivery.objects.filter(event_id__in=event_ids, status=EventDelivery.Status.PENDING)
    lanes = _lanes_of(pending)
    pending.update(queued_at=now)
    sent = 0
    for event_id in event_ids:
        # Every lane is sent, even after one failed (a list, not all() over a generator).
        published = [enqueue(event_id, lane=lane) for lane in lanes.get(event_id, [])]
        sent += bool(published) and all(published)
    return sent


def _lanes_of(deliveries) -> dict[int, list[str]]:
    """Each event's lanes among `deliveries` (each lane has its own message)."""
    lanes: dict[int, set[str]] = {}
    for event_id, key in deliveries.values_list("event_id", "subscriber"):
        lanes.setdefault(event_id, set()).add(lane_of(key))
    return {event_id: sorted(its) for event_id, its in lanes.items()}


def retry(delivery_ids: Iterable[int]) -> int:
    """Give dead (or waiting) deliveries a fresh start now; the admin's "retry"."""
    from .models import EventDelivery, OutboxEvent

    now = timezone.now()
    with transaction.atomic():
        rows = EventDelivery.objects.filter(pk__in=list(delivery_ids)).exclude(status=EventDelivery.Status.DELIVERED)
        # Locked as a worker locks them, the deliveries (its mark) then the events in id order (its
        # settlement): a retry and a worker wait for each other, never deadlock.
        list(rows.order_by("pk").select_for_update(no_key=True).values_list("pk"))
        lanes = _lanes_of(rows)
        list(OutboxEvent.objects.filter(pk__in=lanes).order_by("pk").select_for_update(no_key=True).values_list("pk"))
        count = rows.update(status=EventDelivery.Status.PENDING, attempts=0, next_attempt_at=now,
                            claimed_until=None, queued_at=now)
        OutboxEvent.objects.filter(pk__in=lanes).update(status=OutboxEvent.Status.PENDING, delivered_at=None)
        for event_id, its in lanes.items():
            for lane in its:
                _send_on_commit(event_id, lane)
    return count


def health(now=None) -> dict:
    """For /healthz: how far behind delivery is (the oldest pending delivery's event age), the
    same per lane (a burst's comment reading lags by design; the loop lane must not), and how
    many deliveries are dead."""
    from .models import EventDelivery

    now = now or timezone.now()
    oldest_by_key = (EventDelivery.objects.filter(status=EventDelivery.Status.PENDING).values("subscriber")
                     .annotate(oldest=Min("event__created_at")).order_by().values_list("subscriber", "oldest"))
    lanes: dict[str, float] = {}
    for key, oldest in oldest_by_key:
        lane = lane_of(key)
        lanes[lane] = max(lanes.get(lane, 0.0), round((now - oldest).total_seconds(), 1))
    return {
        "lag_seconds": max(lanes.values(), default=0.0),
        "lanes": {lane: lanes.get(lane, 0.0) for lane in sorted({DEFAULT_LANE, *_lanes.values()})},
        "dead": EventDelivery.objects.filter(status=EventDelivery.Status.DEAD).count(),
    }


def settle_stragglers(older_than: timedelta = timedelta(minutes=10)) -> int:
    """Settle events left "pending" though none of their deliveries is: two lanes finishing one
    event at once, one of them a worker of a release before the settlement's lock (a rolling
    deploy), each saw the other pending. Events that have no deliveries yet (the previous
    release's, materialised by redelivery) are not touched. Returns how many were settled."""
    from .models import EventDelivery, OutboxEvent

    now = timezone.now()
    deliveries = EventDelivery.objects.filter(event=OuterRef("pk"))
    stuck = (OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING, created_at__lt=now - older_than)
             .filter(Exists(deliveries))
             .exclude(Exists(deliveries.filter(status=EventDelivery.Status.PENDING))))
    dead = stuck.filter(Exists(deliveries.filter(status=EventDelivery.Status.DEAD))).update(
        status=OutboxEvent.Status.DEAD, delivered_at=now)
    return dead + stuck.update(status=OutboxEvent.Status.DELIVERED, delivered_at=now)


def prune_delivered(older_than_days: int = 7) -> int:
    from .models import OutboxEvent

    cutoff = timezone.now() - timedelta(days=older_than_days)
    _, per_model = OutboxEvent.objects.filter(status=OutboxEvent.Status.DELIVERED, delivered_at__lt=cutoff).delete()
    return per_model.get(OutboxEvent._meta.label, 0)


# --- The platform's own event: an end-to-end probe of outbox → broker → worker → database.
PING = declare("platform.ping", fields={"token"})


def record_ping(token: str) -> None:
    from .models import PipelineProbe

    PipelineProbe.objects.get_or_create(token=token)


subscribe(PING, "platform.ping", record_ping)
