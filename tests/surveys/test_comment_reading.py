"""A comment's sentiment and themes are read by a worker, never in the customer's request
(docs/adr/0021): the answer marks a changed comment unread and emits `surveys.comment_written`;
its subscriber reads the current comment once and emits `surveys.comment_read`."""

import uuid
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client, TestCase

from cxplatform import events, import_jobs
from cxplatform.models import EventDelivery, OutboxEvent
from cxplatform.textinsight import sentiment, themes
from surveys import comments, links, services
from surveys.models import ImportJob, Response, ResponseTheme
from tests import factories
from tests.respondent import thanked

pytestmark = pytest.mark.django_db

ANGRY = "Ужасный сервис, курьер опоздал и нагрубил"
HAPPY = "Поддержка помогла, отличная работа, спасибо"


def _record(link, score, comment, token):
    """An answer as the customer's request leaves it: committed, its events not yet delivered (a
    test's on-commit callbacks run only when captured)."""
    sub = services.clean_submission(link.survey, {"score": score, "comment": comment}, complete=True)
    response, _created = services.record_response(survey=link.survey, submission=sub, complete=True,
                                                  language="ru", distribution=link, token=token)
    return response


def _pending(name, response):
    return OutboxEvent.objects.filter(name=name, payload__response_id=response.pk, status="pending").order_by("pk")


def _deliver(name, response):
    """Deliver the response's oldest pending `name` event, as a worker would."""
    event = _pending(name, response).first()
    assert event is not None, f"no pending {name} for response {response.pk}"
    events.deliver(event.pk)


def _phrases(response):
    return set(ResponseTheme.objects.filter(response=response).values_list("phrase", flat=True))


def test_the_customers_request_never_reads_the_comment(nps_link):
    """The public page with the classifier and the theme reader broken: the answer is saved, its
    comment unread, and its reading waits in the outbox."""
    token = str(uuid.uuid4())
    broken = mock.Mock(side_effect=AssertionError("read in the customer's request"))
    # The reader and the model's core itself: whatever path reached the model would hit one.
    with mock.patch.object(comments, "read", broken), mock.patch.object(sentiment, "probabilities", broken), \
            mock.patch.object(themes, "clause_themes", broken):
        page = Client().post(links.survey_url(nps_link), {"token": token, "c": "", "score": "8", "comment": ANGRY})
    assert thanked(page)
    saved = Response.objects.get(token=token)
    assert (saved.comment, saved.sentiment, saved.sentiment_score, saved.comment_read) == (ANGRY, None, None, False)
    assert not _phrases(saved)
    assert broken.call_count == 0
    reading = EventDelivery.objects.get(event__in=_pending(comments.COMMENT_WRITTEN, saved))
    assert (reading.subscriber, reading.status) == ("surveys.read_comment", "pending")


def test_delivering_the_event_reads_sentiment_and_themes_and_tells_the_apps_above(nps_link):
    response = _record(nps_link, 8, ANGRY, uuid.uuid4())
    _deliver(comments.COMMENT_WRITTEN, response)
    response.refresh_from_db()
    assert response.comment_read is True
    assert response.sentiment == -1 and response.sentiment_score < 0
    assert {"courier", "service"} <= _phrases(response)
    read = _pending(comments.COMMENT_READ, response).get()
    assert set(read.deliveries.values_list("subscriber", flat=True)) == {"metrics.comment_read",
                                                                        "feedback.comment_read"}


def test_the_embedded_default_shows_the_sentiment_right_after_the_answer(nps_link, settings):
    """No broker: the events are delivered in-process on commit, so the page after the answer (and
    the demo) already has the comment's sentiment."""
    assert settings.CELERY_TASK_ALWAYS_EAGER
    token = str(uuid.uuid4())
    with TestCase.captureOnCommitCallbacks(execute=True):
        Client().post(links.survey_url(nps_link), {"token": token, "c": "", "score": "8", "comment": ANGRY})
    saved = Response.objects.get(token=token)
    assert (saved.sentiment, saved.comment_read) == (-1, True)
    assert "courier" in _phrases(saved)
    assert not EventDelivery.objects.filter(status="pending").exists()


def test_a_changed_comment_is_read_again_and_an_unchanged_one_is_not(nps_link):
    token = uuid.uuid4()
    response = _record(nps_link, 3, ANGRY, token)
    _deliver(comments.COMMENT_WRITTEN, response)

    with mock.patch.object(comments, "read", wraps=comments.read) as classify:
        response = _record(nps_link, 5, ANGRY, token)  # the score changed, the comment did not
    assert classify.call_count == 0
    assert not _pending(comments.COMMENT_WRITTEN, response).exists()
    response.refresh_from_db()
    assert (response.sentiment, response.comment_read) == (-1, True)  # what was read still holds
    assert "courier" in _phrases(response)

    response = _record(nps_link, 9, HAPPY, token)
    response.refresh_from_db()
    # What was read of the old comment is gone at once: unread, not "neutral", no old themes.
    assert (response.sentiment, response.sentiment_score, response.comment_read) == (None, None, False)
    assert not _phrases(response)
    _deliver(comments.COMMENT_WRITTEN, response)
    response.refresh_from_db()
    assert (response.sentiment, response.comment_read) == (1, True)
    assert "support" in _phrases(response) and "courier" not in _phrases(response)


def test_a_stale_event_reads_the_current_comment_and_the_latest_one_reads_nothing_twice(nps_link):
    token = uuid.uuid4()
    response = _record(nps_link, 3, ANGRY, token)
    _record(nps_link, 9, HAPPY, token)
    first, second = _pending(comments.COMMENT_WRITTEN, response)
    events.deliver(first.pk)  # the older event, late: it reads what is there now
    response.refresh_from_db()
    assert response.sentiment == 1 and "support" in _phrases(response)
    with mock.patch.object(comments, "read", wraps=comments.read) as classify:
        events.deliver(second.pk)
    assert classify.call_count == 0  # read already: nothing to do, and nothing told twice
    assert OutboxEvent.objects.filter(name=comments.COMMENT_READ, payload__response_id=response.pk).count() == 1
    assert not EventDelivery.objects.filter(event__in=[first, second]).exclude(status="delivered").exists()


def test_an_emptied_comment_needs_no_reading(nps_link):
    token = uuid.uuid4()
    response = _record(nps_link, 3, ANGRY, token)
    _deliver(comments.COMMENT_WRITTEN, response)
    response = _record(nps_link, 3, "", token)
    response.refresh_from_db()
    assert (response.sentiment, response.comment_read) == (None, True)
    assert not _phrases(response)
    assert OutboxEvent.objects.filter(name=comments.COMMENT_WRITTEN, payload__response_id=response.pk).count() == 1


def test_a_payload_of_the_declared_version_is_handled(nps_link):
    """Events are read by the release that declared them (or a newer one): a row as this version's
    web writes it — name, payload, version — is read by the worker."""
    written, read = events.event_type(comments.COMMENT_WRITTEN), events.event_type(comments.COMMENT_READ)
    assert (written.fields, written.version) == ({"response_id"}, 1)
    assert (read.fields, read.version) == ({"response_id"}, 1)
    response = _record(nps_link, 8, ANGRY, uuid.uuid4())
    OutboxEvent.objects.filter(name=comments.COMMENT_WRITTEN).delete()
    stored = OutboxEvent.objects.create(organization=nps_link.organization, name=comments.COMMENT_WRITTEN,
                                        payload={"response_id": response.pk}, version=1)
    EventDelivery.objects.create(event=stored, subscriber="surveys.read_comment",
                                 next_attempt_at=stored.created_at)
    assert events.deliver(stored.pk) == 1
    response.refresh_from_db()
    assert (response.sentiment, response.comment_read) == (-1, True)


def test_imported_answers_get_their_comments_read(org_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    survey = factories.survey(org_a, "nps")
    content = ("submitted_at,score,comment,language\n"
               f"2024-03-01,2,\"{ANGRY}\",ru\n2024-03-02,10,Great scooter and a fast delivery,en\n")
    job = import_jobs.create_job(ImportJob, organization=org_a, survey=survey, enqueue=False,
                                 upload=ContentFile(content.encode(), name="r.csv"), original_name="r.csv")
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_jobs.run_job(ImportJob, job.pk)
    imported = {r.comment: r for r in Response.objects.filter(survey=survey, source=Response.Source.IMPORT)}
    assert len(imported) == 2
    assert (imported[ANGRY].sentiment, imported[ANGRY].comment_read) == (-1, True)
    assert imported["Great scooter and a fast delivery"].sentiment == 1
    assert "courier" in _phrases(imported[ANGRY])


def test_rereading_keeps_the_mark_of_a_comment_still_waiting_for_its_worker(nps_link, org_a):
    """The worker's reading tells the closed loop; a batch re-read meanwhile must not take that
    from it."""
    response = _record(nps_link, 8, ANGRY, uuid.uuid4())
    call_command("reread_comments", org=org_a.slug, stdout=mock.Mock())
    response.refresh_from_db()
    assert (response.sentiment, response.comment_read) == (-1, False)
    _deliver(comments.COMMENT_WRITTEN, response)
    response.refresh_from_db()
    assert response.comment_read is True
    assert _pending(comments.COMMENT_READ, response).exists()


def test_an_answers_comment_is_read_once_for_the_answer_and_its_inbox_item(nps_link):
    """A worker remembers its last readings by (text, language hint): the inbox item of the answer
    takes the answer's reading, exactly, and a different hint is a reading of its own."""
    from cxplatform.textinsight import reading
    from feedback.models import FeedbackItem

    with mock.patch.object(reading, "detect", wraps=reading.detect) as detect:
        response = _record(nps_link, 3, ANGRY, uuid.uuid4())
        for _round in range(10):  # the whole chain, as workers do
            for pk in EventDelivery.objects.filter(status="pending").values_list("event_id", flat=True):
                events.deliver(pk)
        assert not EventDelivery.objects.filter(status="pending").exists()
        assert detect.call_count == 1
        item = FeedbackItem.objects.get(response=response)
        response.refresh_from_db()
        assert (item.text_read, item.sentiment, response.sentiment) == (True, -1, -1)
        assert reading.read(ANGRY, "ru") is reading.read(ANGRY, "ru")
        assert detect.call_count == 1
        assert reading.read(ANGRY, "lv") is not reading.read(ANGRY, "ru")
        assert detect.call_count == 2
