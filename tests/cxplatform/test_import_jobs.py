"""The one job lifecycle every import shares (`cxplatform.import_jobs`): a job is claimed once, a
job whose worker was lost is taken over and resumes without doubling a row, an upload is deleted
when its job ends and a day after upload whatever happened, and no upload is ever served."""

import importlib
import io
import os
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import Resolver404, clear_url_caches, resolve
from django.utils import timezone

from cxplatform import import_jobs, tasks
from cxplatform.models import CustomerImportJob, Role
from feedback.models import FeedbackImportJob, FeedbackItem
from surveys import tasks as survey_tasks
from surveys.models import ImportJob
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(import_jobs, "BATCH_SIZE", 5)


def rows_csv(count: int) -> bytes:
    return ("text,source_id\r\n" + "".join(f"Row {n},id-{n}\r\n" for n in range(count))).encode()


def queued(org, data: bytes, name="reviews.csv", model=FeedbackImportJob, **fields):
    return import_jobs.create_job(model, organization=org, upload=ContentFile(data), original_name=name,
                                  enqueue=False, **fields)


def stored(job) -> bool:
    return bool(job.file.name) and default_storage.exists(job.file.name)


class WorkerLost(BaseException):
    """What a killed worker looks like from inside: nothing after it runs, nothing catches it."""


# --- Claimed once ----------------------------------------------------------------------------

def test_a_second_delivery_of_the_task_does_nothing(org_a):
    job = queued(org_a, rows_csv(3))
    assert tasks.run_import_job("feedback.feedbackimportjob", job.pk) == "done"
    assert tasks.run_import_job("feedback.feedbackimportjob", job.pk) is None
    job.refresh_from_db()
    assert (job.attempts, job.imported_rows, job.duplicate_rows) == (1, 3, 0)
    assert FeedbackItem.objects.count() == 3


def test_a_running_job_whose_worker_is_alive_is_not_claimed_again(org_a):
    job = queued(org_a, rows_csv(3))
    FeedbackImportJob.objects.filter(pk=job.pk).update(status="running", attempts=1, heartbeat_at=timezone.now())
    assert import_jobs.run_job(FeedbackImportJob, job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.attempts, job.processed_rows) == ("running", 1, 0)
    assert not FeedbackItem.objects.exists() and stored(job)


def test_a_job_whose_worker_was_lost_is_taken_over_and_resumes_without_doubling(org_a, small_batches, monkeypatch):
    job = queued(org_a, rows_csv(12))
    save = import_jobs._import_batch
    batches = []

    def die_on_the_second_batch(job_, importer, batch, on_error):
        batches.append(batch[0][0])
        if len(batches) == 2:
            raise WorkerLost
        save(job_, importer, batch, on_error)

    monkeypatch.setattr(import_jobs, "_import_batch", die_on_the_second_batch)
    with pytest.raises(WorkerLost):
        import_jobs.run_job(FeedbackImportJob, job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.imported_rows) == ("running", 5, 5)  # the first batch, counted
    monkeypatch.setattr(import_jobs, "_import_batch", save)

    # Redelivered at once: the job still looks alive, so the message is dropped...
    assert import_jobs.run_job(FeedbackImportJob, job.pk) is None
    # ...and once its counters have been still for a while, housekeeping queues it again (tasks run
    # in-process here, so the queued task runs at once) and it resumes after its last batch.
    FeedbackImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=11))
    assert import_jobs.housekeeping()["requeued"] == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.processed_rows, job.imported_rows, job.duplicate_rows) == (
        "done", 2, 12, 12, 0)
    assert FeedbackItem.objects.filter(organization=org_a).count() == 12
    assert not stored(job)


def test_a_job_rerun_from_the_start_still_adds_nothing_twice(org_a, small_batches):
    """Even without resuming, every kind keys its rows: inbox rows by source_id or content."""
    first = queued(org_a, rows_csv(7))
    import_jobs.run_job(FeedbackImportJob, first.pk)
    again = import_jobs.run_job(FeedbackImportJob, queued(org_a, rows_csv(7)).pk)
    assert (again.imported_rows, again.duplicate_rows) == (0, 7)
    assert FeedbackItem.objects.count() == 7


def test_a_worker_whose_job_was_taken_over_stops_and_keeps_nothing_of_its_batch(org_a, small_batches, monkeypatch):
    job = queued(org_a, rows_csv(8))
    save = import_jobs._count

    def taken_over_meanwhile(job_, processed, saved):
        FeedbackImportJob.objects.filter(pk=job_.pk).update(attempts=job_.attempts + 1)  # another worker claimed it
        save(job_, processed, saved)

    monkeypatch.setattr(import_jobs, "_count", taken_over_meanwhile)
    assert import_jobs.run_job(FeedbackImportJob, job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == ("running", 0)
    assert not FeedbackItem.objects.exists()  # the batch was rolled back with its counters
    assert stored(job)  # the other worker still needs the file


def test_a_job_lost_too_often_is_failed_and_its_file_deleted(org_a):
    job = queued(org_a, rows_csv(3))
    FeedbackImportJob.objects.filter(pk=job.pk).update(
        status="running", attempts=import_jobs.MAX_ATTEMPTS, heartbeat_at=timezone.now() - timedelta(hours=1))
    assert import_jobs.run_job(FeedbackImportJob, job.pk) is None  # no fourth claim
    assert import_jobs.housekeeping()["failed"] == 1
    job.refresh_from_db()
    assert job.status == "failed" and "stopped unexpectedly" in job.failure and not stored(job)
    assert not FeedbackItem.objects.exists()


def test_a_job_whose_message_was_lost_is_queued_again(org_a):
    job = queued(org_a, rows_csv(2))
    FeedbackImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    assert import_jobs.housekeeping()["requeued"] == 1
    job.refresh_from_db()
    assert job.status == "done" and job.imported_rows == 2


# --- The upload is deleted when the job ends, the report is kept -------------------------------

@pytest.mark.parametrize(("data", "status"), [(rows_csv(2), "done"), (b"comment\r\nNo text column\r\n", "failed")])
def test_the_upload_is_deleted_when_its_job_ends(org_a, data, status):
    job = queued(org_a, data)
    name = job.file.name
    assert name.startswith("imports/") and name.endswith(".csv") and "reviews" not in name  # a random name
    assert default_storage.exists(name)
    job = import_jobs.run_job(FeedbackImportJob, job.pk)
    assert job.status == status and job.file.name == "" and not default_storage.exists(name)
    assert job.total_rows == job.processed_rows and job.finished_at is not None
    if status == "failed":
        assert "text" in job.failure


def test_a_job_whose_file_is_gone_fails_with_a_clear_reason(org_a):
    job = queued(org_a, rows_csv(2))
    default_storage.delete(job.file.name)
    job = import_jobs.run_job(FeedbackImportJob, job.pk)
    assert job.status == "failed" and job.failure == "The uploaded file is no longer there."


def test_housekeeping_deletes_uploads_a_day_old_whatever_their_jobs_state(org_a, media_root):
    day_old = timezone.now() - timedelta(days=1, minutes=1)
    waiting = queued(org_a, rows_csv(2), "waiting.csv")
    undeleted = queued(org_a, rows_csv(2), "kept.csv", model=CustomerImportJob)
    CustomerImportJob.objects.filter(pk=undeleted.pk).update(status="done", imported_rows=2)
    fresh = queued(org_a, rows_csv(2), "fresh.csv")
    FeedbackImportJob.objects.filter(pk=waiting.pk).update(created_at=day_old)
    CustomerImportJob.objects.filter(pk=undeleted.pk).update(created_at=day_old)
    stray_old = default_storage.save("imports/2024/01/stray.csv", ContentFile(b"x"))
    stray_new = default_storage.save("imports/2024/01/stray-new.csv", ContentFile(b"x"))
    long_ago = time.time() - 2 * 86400
    os.utime(default_storage.path(stray_old), (long_ago, long_ago))

    counts = import_jobs.housekeeping()

    assert (counts["files_deleted"], counts["failed"], counts["strays_deleted"]) == (2, 1, 1)
    waiting.refresh_from_db()
    undeleted.refresh_from_db()
    fresh.refresh_from_db()
    assert waiting.status == "failed" and "did not finish within a day" in waiting.failure and not stored(waiting)
    assert undeleted.status == "done" and undeleted.imported_rows == 2 and not stored(undeleted)  # report kept
    assert fresh.status == "queued" and stored(fresh)
    assert not default_storage.exists(stray_old) and default_storage.exists(stray_new)


def test_housekeeping_runs_in_the_hourly_beat_task(org_a):
    job = queued(org_a, rows_csv(1))
    FeedbackImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert tasks.prune_housekeeping()["import_jobs"]["files_deleted"] == 1


# --- Uploads are never served ------------------------------------------------------------------

def test_uploads_are_not_served_even_with_debug_on(org_a, make_member, client_for, settings):
    job = queued(org_a, rows_csv(1))
    assert default_storage.exists(job.file.name)
    anonymous, member = Client(), client_for(make_member(org_a, Role.ADMIN))
    for client in (anonymous, member):
        assert client.get(f"/media/{job.file.name}").status_code in (302, 404)
    settings.DEBUG = True
    from cxplatform import urls

    try:
        clear_url_caches()
        importlib.reload(urls)
        with pytest.raises(Resolver404):
            resolve(f"/media/{job.file.name}")
        for client in (anonymous, member):
            answer = client.get(f"/media/{job.file.name}")
            assert answer.status_code in (302, 404) and b"Row 0" not in answer.content
    finally:
        settings.DEBUG = False
        importlib.reload(urls)
        clear_url_caches()


# --- The three kinds share it ------------------------------------------------------------------

def test_the_survey_imports_old_task_runs_the_same_job(org_a):
    survey = factories.survey(org_a, "nps")
    job = queued(org_a, b"submitted_at,score\n2024-01-05,9\n", "r.csv", model=ImportJob, survey=survey)
    assert survey_tasks.run_import(job.pk, "en") == "done"
    assert survey_tasks.run_import(job.pk, "en") is None
    job.refresh_from_db()
    assert (job.imported_rows, job.attempts, job.file.name) == (1, 1, "")


def test_every_kind_is_registered():
    labels = {model._meta.label_lower for model in import_jobs.registered_models()}
    assert labels == {"surveys.importjob", "feedback.feedbackimportjob", "cxplatform.customerimportjob"}


def test_run_now_checks_the_file_before_making_a_job(org_a):
    from cxplatform.tabular import ImportFileError

    with pytest.raises(ImportFileError, match="external_id"):
        import_jobs.run_now(CustomerImportJob, organization=org_a, fileobj=io.BytesIO(b"name\nAnna\n"), name="c.csv")
    assert not CustomerImportJob.objects.exists()
