"""One queue per kind of work: a mail backlog never delays a case or a rollup."""

import pytest
from django.conf import settings
from django.db import transaction

from cxplatform import events
from cxplatform.celery import app
from cxplatform.models import PipelineProbe
from tests.workers import celery_worker, private_redis, using_broker, wait_until

QUEUES = {queue.name for queue in settings.CELERY_TASK_QUEUES}


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_each_kind_of_work_has_its_queue():
    assert queue_of("cxplatform.tasks.deliver_event") == "events"
    assert queue_of("metrics.tasks.rebuild_dirty_days") == "rollups"
    assert {queue_of(name) for name in ("feedback.tasks.send_thanks", "feedback.tasks.send_reply",
                                        "feedback.tasks.send_follow_up", "metrics.tasks.send_digest",
                                        "actions.tasks.send_action_reminder")} == {"mail"}
    assert queue_of("cxplatform.tasks.run_import_job") == "imports"


def test_every_task_of_the_platform_goes_to_a_queue_a_plain_worker_consumes():
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if name.split(".")[0] in
            {"cxplatform", "surveys", "journeys", "feedback", "metrics", "actions"}]
    assert len(ours) >= 15
    assert {name: queue_of(name) for name in ours if queue_of(name) not in QUEUES} == {}


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_mail_backlog_does_not_hold_up_events(tmp_path):
    """A thousand mails wait in their queue, nobody serving it; an answer's event still goes through
    the events worker at once."""
    from feedback.tasks import send_thanks

    with private_redis() as redis, using_broker(redis.url):
        for n in range(1000):
            send_thanks.delay(10**9 + n)  # no such thanks: harmless if ever run
        with celery_worker(redis.url, tmp_path / "worker.log", queues=["events", "rollups", "default"]):
            with transaction.atomic():
                events.emit(events.PING, token="past-the-mail")
            delivered = wait_until(lambda: PipelineProbe.objects.filter(token="past-the-mail").exists(), timeout=30)
            assert delivered, (tmp_path / "worker.log").read_text()[-3000:]
        import redis as redis_client

        assert redis_client.Redis.from_url(redis.url).llen("mail") == 1000  # untouched, still waiting
