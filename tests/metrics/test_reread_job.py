""""Read all comments again" (metrics.reread): a job per organization, run by a worker in chunks
whose progress is saved with them; a failure keeps what was read; nothing doubles; one running job
per organization; admins only; another organization's job is a 404."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Role
from cxplatform.textinsight.reading import read
from feedback import services as inbox
from feedback.models import FeedbackItem, ItemTheme
from metrics import reread, selectors
from metrics.models import RereadJob
from surveys.models import Response, ResponseTheme
from tests import factories

pytestmark = pytest.mark.django_db

COMMENTS = ["Курьер опоздал, ужасный сервис", "Отличный самокат, спасибо!", "Доставка быстрая, но приложение падает",
            "Поддержка не отвечает неделю", "Всё понравилось, приеду ещё"]
ITEM_TEXTS = ["Приложение постоянно падает, ужасно", "Спасибо за быстрый ремонт, отлично"]


@pytest.fixture
def texts(org_a, org_b):
    """Comments and items as an older model left them: unread, no themes (written around the reader)."""
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    responses = [factories.response(org_a, link, score=5, comment=text, language="ru") for text in COMMENTS]
    factories.response(org_a, link, score=9, comment="")  # nothing to read
    items = [FeedbackItem.objects.create(organization=org_a, source="email", text=text, language="ru",
                                         received_at=timezone.now()) for text in ITEM_TEXTS]
    foreign = factories.response(org_b, score=5, comment="Ужасно, никогда больше")
    return responses, items, foreign


def _theme_rows(org):
    return (sorted(ResponseTheme.objects.filter(organization=org).values_list("response_id", "phrase", "sentiment")),
            sorted(ItemTheme.objects.filter(organization=org).values_list("item_id", "key", "sentiment")))


def test_the_job_reads_everything_in_chunks_with_progress(org_a, texts):
    responses, items, foreign = texts
    job = reread.start(organization=org_a, enqueue=False)
    seen = []
    finished = reread.run(job_id=job.pk, chunk_size=2, on_progress=lambda j: seen.append((j.done, j.total)))

    assert (finished.status, finished.done, finished.total) == ("done", 7, 7)
    # 5 comments in chunks of 2, then 2 items: progress saved after every chunk.
    assert seen == [(2, 7), (4, 7), (5, 7), (7, 7)]
    assert finished.started_at and finished.finished_at and finished.progress_percent == 100 and not finished.error
    for response in responses:
        response.refresh_from_db()
        expected = read(response.comment, "ru")
        assert response.sentiment == expected.sentiment.value
        assert dict(response.themes.values_list("phrase", "sentiment")) == expected.theme_sentiments()
    for item in items:
        item.refresh_from_db()
        expected = read(item.text, "ru")
        assert item.text_read and item.sentiment == expected.sentiment.value
        assert dict(item.themes.values_list("key", "sentiment")) == expected.theme_sentiments()
    foreign.refresh_from_db()
    assert foreign.sentiment is None and not foreign.themes.exists()  # another organization is left alone
    # The figures of the comments' days were recounted.
    today = timezone.now().date()
    figure = selectors.figures(selectors.Scope(org_a, today - timedelta(days=1), today + timedelta(days=1)))
    negative = sum(1 for r in responses if read(r.comment, "ru").sentiment.value == -1)
    assert figure["sentiment"].counts["negative"] == negative > 0


def test_running_twice_doubles_nothing(org_a, texts):
    reread.run(job_id=reread.start(organization=org_a, enqueue=False).pk, chunk_size=3)
    first = _theme_rows(org_a)
    assert first[0] and first[1]
    again = reread.run(job_id=reread.start(organization=org_a, enqueue=False).pk, chunk_size=3)
    assert again.status == "done"
    assert _theme_rows(org_a) == first


def test_a_redelivered_task_does_not_run_the_job_again(org_a, texts):
    job = reread.start(organization=org_a, enqueue=False)
    assert reread.run(job_id=job.pk).status == "done"
    assert reread.run(job_id=job.pk) is None  # claimed already


def test_a_failure_marks_the_job_failed_and_keeps_what_was_read(org_a, texts, monkeypatch):
    responses, items, _foreign = texts

    def broken(text, hint=""):
        raise RuntimeError("lexicon file missing")

    monkeypatch.setattr(inbox, "read", broken)  # the items' chunk fails; the comments were read before it
    job = reread.run(job_id=reread.start(organization=org_a, enqueue=False).pk, chunk_size=2)
    assert job.status == "failed" and "lexicon file missing" in job.error and job.finished_at
    assert (job.done, job.total) == (5, 7)
    assert all(r.sentiment is not None for r in Response.objects.filter(pk__in=[r.pk for r in responses]))
    assert ResponseTheme.objects.filter(organization=org_a).exists()
    assert not ItemTheme.objects.filter(organization=org_a).exists()  # the failed chunk left nothing half done
    # The organization may start again (the failed job is no longer running).
    monkeypatch.undo()
    assert reread.run(job_id=reread.start(organization=org_a, enqueue=False).pk).status == "done"
    assert ItemTheme.objects.filter(organization=org_a).exists()


def test_one_running_job_per_organization(org_a, org_b):
    job = reread.start(organization=org_a, enqueue=False)
    with pytest.raises(reread.AlreadyRunning) as running:
        reread.start(organization=org_a, enqueue=False)
    assert running.value.job == job
    assert reread.start(organization=org_b, enqueue=False).organization == org_b  # others are free
    # A job whose worker was lost long ago does not lock the organization out.
    RereadJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=timezone.now() - timedelta(hours=1))
    fresh = reread.start(organization=org_a, enqueue=False)
    job.refresh_from_db()
    assert fresh != job and job.status == "failed" and job.error


def test_an_admin_starts_it_from_the_page_and_follows_it(org_a, make_member, client_for,
                                                        django_capture_on_commit_callbacks, texts):
    admin = make_member(org_a, Role.ADMIN)
    client = client_for(admin)
    page = client.get("/metrics/reread/")
    assert page.status_code == 200 and 'id="reread-start"' in page.content.decode()
    assert "/metrics/reread/" in client.get("/settings/").content.decode()  # linked from the settings

    with django_capture_on_commit_callbacks(execute=False) as queued:
        started = client.post("/metrics/reread/")
    job = RereadJob.objects.get(organization=org_a)
    assert started.status_code == 302 and started["Location"] == f"/metrics/reread/{job.pk}/"
    assert job.status == "queued" and job.created_by == admin and len(queued) == 1
    entry = AuditEntry.objects.get(organization=org_a, action=AuditAction.SETTINGS_CHANGED)
    assert entry.actor == admin and entry.details["reread_comments"] == "started" and entry.details["job"] == job.pk

    # A second start shows the running one instead of queuing another.
    again = client.post("/metrics/reread/")
    assert again["Location"] == f"/metrics/reread/{job.pk}/" and RereadJob.objects.count() == 1
    fragment = client.get(f"/metrics/reread/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert f'hx-get="/metrics/reread/{job.pk}/"' in fragment and 'hx-trigger="every 2s"' in fragment
    assert "<script" not in fragment

    queued[0]()  # the worker (tasks run eagerly here)
    fragment = client.get(f"/metrics/reread/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-get" not in fragment and 'value="100"' in fragment  # done: the polling stops
    full = client.get(f"/metrics/reread/{job.pk}/").content.decode()
    assert 'id="reread-progress"' in full and "<html" in full.lower()


@pytest.mark.parametrize("role", [Role.CX_MANAGER, Role.AGENT, Role.VIEWER])
def test_only_admins_may_reread(role, org_a, make_member, client_for):
    job = factories.reread_job(org_a)
    client = client_for(make_member(org_a, role))
    assert client.get("/metrics/reread/").status_code == 403
    assert client.post("/metrics/reread/").status_code == 403
    assert client.get(f"/metrics/reread/{job.pk}/").status_code == 403
    assert RereadJob.objects.count() == 1


def test_another_organizations_job_is_a_404(org_a, org_b, make_member, client_for):
    theirs = factories.reread_job(org_b)
    mine = factories.reread_job(org_a)
    client = client_for(make_member(org_a, Role.ADMIN))
    assert client.get(f"/metrics/reread/{theirs.pk}/").status_code == 404
    assert client.get(f"/metrics/reread/{theirs.pk + 1000}/").status_code == 404
    assert client.get(f"/metrics/reread/{mine.pk}/").status_code == 200
    assert f"/metrics/reread/{theirs.pk}/" not in client.get("/metrics/reread/").content.decode()


def test_the_command_runs_a_job_and_prints_its_progress(org_a, texts):
    out = io.StringIO()
    call_command("reread_comments", "--org", org_a.slug, "--chunk", "3", stdout=out)
    printed = out.getvalue()
    assert "3/7 read" in printed and "7/7 read" in printed
    assert "Read 5 comments and 2 inbox items of alpha." in printed
    job = RereadJob.objects.get(organization=org_a)
    assert (job.status, job.done, job.total) == ("done", 7, 7)
    assert ItemTheme.objects.filter(organization=org_a).exists()
