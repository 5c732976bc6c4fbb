"""Rollups by dirty marks: an answer's event marks its (survey, day), one rebuild a moment later
folds in every answer of that moment, and nothing marked meanwhile is missed."""

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from cxplatform import events
from cxplatform.models import OutboxEvent
from metrics import rollups, tasks
from metrics.models import DailyRollup, DirtyDay, RebuildRequest
from surveys.comments import COMMENT_READ, COMMENT_WRITTEN
from surveys.services import RESPONSE_RECORDED
from tests import factories
from tests.metrics.test_rollups import from_scratch, record, snapshot

pytestmark = pytest.mark.django_db


def test_a_busy_day_is_marked_once_and_rebuilt_once(org_a, django_capture_on_commit_callbacks):
    link = factories.distribution(org_a)
    with mock.patch.object(tasks.rebuild_dirty_days, "apply_async") as scheduled, \
            mock.patch.object(rollups, "_replace", wraps=rollups._replace) as replaced:
        with django_capture_on_commit_callbacks(execute=True):
            for score in (10, 9, 7, 3, 0):
                record(link, score)
        # Five answers of one (survey, day): one mark, one rebuild asked for, none run yet.
        assert DirtyDay.objects.filter(survey=link.survey).count() == 1
        assert scheduled.call_count == 1
        assert scheduled.call_args.kwargs["countdown"] > 0  # debounced
        assert replaced.call_count == 0
        assert not DailyRollup.objects.filter(organization=org_a).exists()

        assert rollups.rebuild_dirty() == 1
        assert replaced.call_count == 1
    assert not DirtyDay.objects.exists()
    assert sum(r.responses for r in DailyRollup.objects.filter(organization=org_a)) == 5
    before, expected = from_scratch(org_a)
    assert before == expected


def _deliver(name, response):
    for pk in OutboxEvent.objects.filter(name=name, payload__response_id=response.pk, status="pending").values_list(
            "pk", flat=True):
        events.deliver(pk)


def _sentiment_counts(org):
    rows = DailyRollup.objects.filter(organization=org)
    return tuple(sum(getattr(r, f"{kind}_comments") for r in rows) for kind in ("positive", "neutral", "negative"))


def test_a_comment_read_after_its_answer_marks_its_day_again(org_a):
    """The worker reads the comment after the answer was counted: the day is marked again and its
    sentiment counts follow, equal to a rebuild. Until then the comment counts in no sentiment —
    unread is not neutral."""
    link = factories.distribution(org_a)
    response = record(link, 2, comment="Ужасный сервис, курьер опоздал", language="ru")
    _deliver(RESPONSE_RECORDED, response)
    assert rollups.rebuild_dirty() == 1
    assert sum(r.comments for r in DailyRollup.objects.filter(organization=org_a)) == 1
    assert _sentiment_counts(org_a) == (0, 0, 0)

    _deliver(COMMENT_WRITTEN, response)
    assert not DirtyDay.objects.exists()  # reading marks nothing itself: its event tells metrics
    _deliver(COMMENT_READ, response)
    assert DirtyDay.objects.filter(survey=link.survey).count() == 1
    assert rollups.rebuild_dirty() == 1
    assert _sentiment_counts(org_a) == (0, 0, 1)
    before, expected = from_scratch(org_a)
    assert before == expected


def test_marked_days_of_several_organizations_and_days_rebuild_in_batches(org_a, org_b):
    links = [factories.distribution(org_a), factories.distribution(org_a), factories.distribution(org_b)]
    today = timezone.now()
    for link in links:
        for days_ago in (0, 1, 2):
            response = factories.response(link.survey.organization, link, score=days_ago * 3,
                                          started_at=today - timedelta(days=days_ago),
                                          submitted_at=today - timedelta(days=days_ago))
            rollups.mark_for_response(response.pk)
    assert DirtyDay.objects.count() == 9
    assert rollups.rebuild_dirty(batch_size=4) == 9  # three transactions: 4 + 4 + 1
    assert not DirtyDay.objects.exists()
    for org in (org_a, org_b):
        before, expected = from_scratch(org)
        assert before == expected and before


def test_a_worker_killed_mid_batch_leaves_the_marks_and_the_old_rollups(org_a):
    link = factories.distribution(org_a)
    for days_ago in (0, 1):
        when = timezone.now() - timedelta(days=days_ago)
        rollups.mark_for_response(factories.response(org_a, link, started_at=when, submitted_at=when).pk)
    good = snapshot(org_a)
    calls = {"n": 0}
    real = rollups._replace

    def dies_on_the_second_day(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("killed")
        return real(*args, **kwargs)

    with mock.patch.object(rollups, "_replace", side_effect=dies_on_the_second_day), pytest.raises(SystemExit):
        rollups.rebuild_dirty()
    assert snapshot(org_a) == good  # the batch rolled back as one
    assert DirtyDay.objects.count() == 2  # and its marks wait for the next worker
    assert rollups.rebuild_dirty() == 2
    before, expected = from_scratch(org_a)
    assert before == expected and before


@pytest.mark.django_db(transaction=True)
def test_an_answer_marked_during_a_rebuild_neither_waits_nor_is_missed(org_a):
    """The rebuild does not hold the day's mark while it works: an answer marking the day
    meanwhile renews the mark at once (the loop lane never waits for a rebuild), the rebuild
    leaves the renewed mark, and its task asks for the run that folds the late answer in."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    link = factories.distribution(org_a)
    first = factories.response(org_a, link, score=10)
    rollups.mark_for_response(first.pk)
    rebuilt, go = threading.Event(), threading.Event()
    real = rollups._replace

    def pause_after_rebuilding(*args, **kwargs):
        folded = real(*args, **kwargs)
        rebuilt.set()
        assert go.wait(30)
        return folded

    outcome = {}

    def rebuild_in_a_worker():
        try:
            with mock.patch.object(rollups, "_replace", side_effect=pause_after_rebuilding), \
                    mock.patch.object(tasks.rebuild_dirty_days, "apply_async") as scheduled:
                outcome["rebuilt"] = tasks.rebuild_dirty_days()
                outcome["scheduled"] = scheduled.call_count
        finally:
            connection.close()

    worker = threading.Thread(target=rebuild_in_a_worker)
    worker.start()
    assert rebuilt.wait(30)
    # Committed after the rebuild read the day, and marked while it is still open.
    late = factories.response(org_a, link, score=0)
    def mark_in_another_worker():
        try:
            outcome["newly"] = rollups.mark_for_response(late.pk)
        finally:
            connection.close()

    marker = threading.Thread(target=mark_in_another_worker)
    marker.start()
    marker.join(10)
    assert not marker.is_alive(), "the mark waited for the rebuild"
    assert outcome == {"newly": False}  # it renewed the mark the rebuild is working on
    go.set()
    worker.join(30)
    assert outcome == {"newly": False, "rebuilt": 1, "scheduled": 1}  # rebuilt, and another run asked for
    assert DirtyDay.objects.filter(survey=link.survey).count() == 1  # the renewed mark outlived the rebuild
    assert sum(r.responses for r in DailyRollup.objects.filter(organization=org_a)) == 1  # not yet the late one
    assert rollups.rebuild_marked() == (1, 0)
    assert not DirtyDay.objects.exists()
    assert sum(r.responses for r in DailyRollup.objects.filter(organization=org_a)) == 2
    before, expected = from_scratch(org_a)
    assert before == expected


@pytest.mark.django_db(transaction=True)
def test_a_day_another_worker_is_rebuilding_is_left_to_it_and_taken_later(org_a):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    link = factories.distribution(org_a)
    response = factories.response(org_a, link, score=3)
    rollups.mark_for_response(response.pk)
    mark = DirtyDay.objects.get()
    key = rollups._day_key(mark.survey_id, mark.day)
    outcome = {}

    def rebuild_in_a_worker():
        try:
            outcome["rebuilt"] = rollups.rebuild_marked()
        finally:
            connection.close()

    with connection.cursor() as cursor:  # "another worker" rebuilding that very day
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [rollups.DAY_LOCK_NAMESPACE, key])
    try:
        worker = threading.Thread(target=rebuild_in_a_worker)
        worker.start()
        worker.join(30)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [rollups.DAY_LOCK_NAMESPACE, key])
    assert outcome == {"rebuilt": (0, 0)}  # did not wait for it; its mark is the other worker's to clear
    assert DirtyDay.objects.filter(pk=mark.pk).exists()
    assert rollups.rebuild_marked() == (1, 0)
    before, expected = from_scratch(org_a)
    assert before == expected and before


def test_runs_are_asked_for_once_however_many_marks_ask(org_a, django_capture_on_commit_callbacks):
    """A burst renews and re-creates marks all the time: a run is asked for only while none is
    waiting, so runs never pile up; the run takes the request when it starts, and a request whose
    message was lost (a minute old) is asked again."""
    links = [factories.distribution(org_a) for _ in range(3)]
    with mock.patch.object(tasks.rebuild_dirty_days, "apply_async") as scheduled:
        with django_capture_on_commit_callbacks(execute=True):
            for link in links:  # three clean days marked: three "newly"s, one run asked for
                record(link, 9)
        assert DirtyDay.objects.count() == 3 and scheduled.call_count == 1
        tasks.schedule_dirty_rebuild()
        assert scheduled.call_count == 1
        RebuildRequest.objects.update(requested_at=timezone.now() - timedelta(minutes=2))
        tasks.schedule_dirty_rebuild()
        assert scheduled.call_count == 2  # the waiting one was lost: asked again
        assert tasks.rebuild_dirty_days() == 3
        assert not RebuildRequest.objects.exists() and scheduled.call_count == 2  # nothing left, none asked
        with django_capture_on_commit_callbacks(execute=True):
            record(links[0], 3)
        assert scheduled.call_count == 3  # the next mark asks for the next run


def test_a_rebuild_that_leaves_nothing_asks_for_no_other_run(org_a):
    link = factories.distribution(org_a)
    rollups.mark_for_response(factories.response(org_a, link, score=9).pk)
    with mock.patch.object(tasks.rebuild_dirty_days, "apply_async") as scheduled:
        assert tasks.rebuild_dirty_days() == 1
        assert tasks.rebuild_dirty_days() == 0
    assert scheduled.call_count == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_worker_sigkilled_during_a_batch_rebuild_leaves_rollups_equal_to_a_rebuild(tmp_path, org_a, org_b):
    """A real `celery worker` rebuilds a batch holding two organizations' marks: it has replaced
    the first organization's days when it waits for the second's lock (held here), and is killed
    there (SIGKILL). Nothing of the batch stays: the marks wait, the rollups are what they were,
    and the next rebuild makes them equal to a from-scratch one."""
    import time

    from tests.workers import celery_worker, private_redis, using_broker, wait_until

    first, second = factories.distribution(org_a), factories.distribution(org_b)
    for link in (first, second):  # org A's marks first: the batch reaches org B last
        for days_ago in (0, 1):
            when = timezone.now() - timedelta(days=days_ago)
            rollups.mark_for_response(factories.response(link.survey.organization, link, score=9,
                                                         started_at=when, submitted_at=when).pk)
        time.sleep(0.01)
    assert DirtyDay.objects.count() == 4
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [rollups.LOCK_NAMESPACE, org_b.pk])
    try:
        with private_redis() as redis, using_broker(redis.url), \
                celery_worker(redis.url, tmp_path / "worker.log") as worker:
            tasks.rebuild_dirty_days.delay()

            def waiting_for_org_b():
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                        " AND classid = %s AND objid = %s"
                        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                        [rollups.LOCK_NAMESPACE, org_b.pk])
                    return cursor.fetchone()[0] == 1

            assert wait_until(waiting_for_org_b, timeout=60), (tmp_path / "worker.log").read_text()[-3000:]
            worker.kill()  # SIGKILL, mid-batch: org A's days are replaced inside the open transaction
            worker.wait(10)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [rollups.LOCK_NAMESPACE, org_b.pk])

    def killed_backend_gone():
        # Its backend, blocked on org B's lock, learns the worker is gone only once it has the
        # lock: until it ends its transaction, it holds the batch's day locks.
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                           " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
            return cursor.fetchone()[0] == 0

    assert wait_until(killed_backend_gone, timeout=30)
    assert DirtyDay.objects.count() == 4
    assert not DailyRollup.objects.exists()  # org A's rebuilt rows went with the killed transaction
    assert rollups.rebuild_dirty() == 4
    for org in (org_a, org_b):
        before, expected = from_scratch(org)
        assert before == expected and sum(r.responses for r in DailyRollup.objects.filter(organization=org)) == 2
