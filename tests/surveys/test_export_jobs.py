"""Exports too large for a web request become jobs: written by a worker, followed on a page,
downloaded only once every row is in the file (docs/adr/0022)."""

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone, translation

from cxplatform import audit
from cxplatform.models import AuditEntry, Role
from surveys import export_jobs, exporting, selectors
from surveys.models import ExportJob
from tests import factories
from tests.surveys import test_responses as streamed
from tests.surveys.test_responses import EXPECTED_COLUMNS, INJECTIONS, answer

# The streamed exports' fixtures: the same responses, the same roles.
csi, exported, manager, viewer = streamed.csi, streamed.exported, streamed.manager, streamed.viewer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def limit_two(settings):
    """`exported` has three responses: one more than a page may stream."""
    settings.EXPORT_STREAM_MAX_ROWS = 2
    settings.EXPORT_XLSX_STREAM_MAX_ROWS = 2


def export_url(survey, extension="csv", query=""):
    return f"/surveys/{survey.pk}/responses/export.{extension}{query}"


def ask(client, survey, extension="csv", query="", capture=None):
    """The export button pressed (a POST): the job it queued, run (as the worker would) when
    `capture` runs the after-commit callbacks."""
    if capture is None:
        response = client.post(export_url(survey, extension, query))
    else:
        with capture(execute=True):
            response = client.post(export_url(survey, extension, query))
    assert response.status_code == 302, response.status_code
    job = ExportJob.objects.get()
    assert response["Location"] == job.get_absolute_url()
    return job


def csv_rows(client, job):
    response = client.get(f"/surveys/{job.survey_id}/exports/{job.pk}/download")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    raw = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(raw)
    assert raw.startswith(b"\xef\xbb\xbf")
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    header, *rows = list(reader)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_below_the_limit_the_export_streams_as_before(settings, manager, exported):
    settings.EXPORT_STREAM_MAX_ROWS = 3
    response = manager.get(export_url(exported["survey"]))
    assert response.status_code == 200 and response.streaming
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_a_head_of_the_export_makes_no_file_and_records_nothing(settings, manager, exported, extension):
    """A link checker or a browser's prefetch looking at the export: its headers only."""
    settings.EXPORT_STREAM_MAX_ROWS = settings.EXPORT_XLSX_STREAM_MAX_ROWS = 3
    before = AuditEntry.objects.count()
    response = manager.head(export_url(exported["survey"], extension))
    assert response.status_code == 200 and "Content-Length" not in response  # not "an empty file"
    assert response["Content-Type"] == exporting.CONTENT_TYPES[extension]
    assert response["Content-Disposition"].startswith("attachment;")
    assert AuditEntry.objects.count() == before and not ExportJob.objects.exists()
    # The GET does record the export of customers' personal data.
    assert manager.get(export_url(exported["survey"], extension)).status_code == 200
    assert AuditEntry.objects.filter(action=audit.AuditAction.PERSONAL_DATA_EXPORTED).count() == 1


def test_below_the_limit_the_button_streams_the_file_too(settings, manager, exported):
    settings.EXPORT_STREAM_MAX_ROWS = 3
    response = manager.post(export_url(exported["survey"], "csv", "?language=en"))
    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 1 + 2  # the header, the two English responses
    assert not ExportJob.objects.exists()


def test_above_the_limit_a_get_asks_to_confirm_and_makes_no_job(limit_two, manager, viewer, exported):
    """A job is work for a worker and a file kept for days: never made by following a link
    (a bookmark, a browser's prefetch), only by the button's POST."""
    for client, extension in ((manager, "csv"), (viewer, "xlsx")):
        page = client.get(export_url(exported["survey"], extension, "?status=completed"))
        assert page.status_code == 200
        body = page.content.decode()
        assert "more than 2" in body and "Prepare the file" in body
        assert '<form method="post">' in body  # posts back to this very address, filters and all
    assert not ExportJob.objects.exists()


def test_above_the_limit_the_button_queues_one_job(limit_two, manager, exported, org_a):
    job = ask(manager, exported["survey"], query="?status=completed&page=3&language=")
    assert job.status == ExportJob.Status.QUEUED and job.format == ExportJob.Format.CSV
    assert job.organization == org_a and job.survey == exported["survey"] and job.personal
    assert job.created_by.memberships.get().role == Role.CX_MANAGER
    assert job.query == "language=&status=completed"  # the filter, not the list's page
    # Pressing it again (a reload, a double click) leads to the same job.
    again = manager.post(export_url(exported["survey"], query="?language=&status=completed"))
    assert again["Location"] == job.get_absolute_url()
    assert ExportJob.objects.count() == 1


def test_the_job_writes_every_row_and_offers_the_file(limit_two, manager, exported, django_capture_on_commit_callbacks):
    job = ask(manager, exported["survey"], capture=django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    assert job.expected_rows == job.written_rows == 3
    assert job.expires_at > timezone.now() + timedelta(hours=71)

    page = manager.get(job.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert f"/surveys/{job.survey_id}/exports/{job.pk}/download" in body
    assert "hx-get" not in body  # done: nothing left to poll

    rows = csv_rows(manager, job)
    assert list(rows[0]) == EXPECTED_COLUMNS
    by_id = {row["response_id"]: row for row in rows}
    assert set(by_id) == {str(exported[name].token) for name in ("hostile", "plain", "russian")}
    hostile = by_id[str(exported["hostile"].token)]
    assert hostile["customer_email"] == exported["customer"].email
    assert hostile["comment"] == "'" + INJECTIONS[0]  # neutralised, as in a streamed file
    assert hostile["speed"] == "4" and hostile["speed__importance"] == "5" and hostile["reasons"] == "price; staff"


def test_a_head_of_the_download_is_not_a_download(limit_two, manager, exported, django_capture_on_commit_callbacks):
    job = ask(manager, exported["survey"], capture=django_capture_on_commit_callbacks)
    url = f"/surveys/{job.survey_id}/exports/{job.pk}/download"
    downloaded = AuditEntry.objects.filter(action=audit.AuditAction.PERSONAL_DATA_DOWNLOADED)
    head = manager.head(url)
    assert head.status_code == 200 and int(head["Content-Length"]) > 0 and not downloaded.exists()
    assert b"".join(manager.get(url).streaming_content) and downloaded.count() == 1


def test_the_file_equals_the_streamed_export(settings, manager, exported, django_capture_on_commit_callbacks):
    """One implementation of the columns: the job's file and the streamed file are the same rows."""
    settings.EXPORT_STREAM_MAX_ROWS = 10
    streamed = b"".join(manager.get(export_url(exported["survey"])).streaming_content)
    settings.EXPORT_STREAM_MAX_ROWS = 2
    job = ask(manager, exported["survey"], capture=django_capture_on_commit_callbacks)
    downloaded = b"".join(manager.get(f"/surveys/{job.survey_id}/exports/{job.pk}/download").streaming_content)
    assert downloaded == streamed


def test_a_viewers_export_has_pseudonyms_and_a_personal_one_is_not_theirs(
        limit_two, viewer, manager, exported, django_capture_on_commit_callbacks):
    job = ask(viewer, exported["survey"], capture=django_capture_on_commit_callbacks)
    assert not job.personal
    rows = csv_rows(viewer, job)
    assert "customer_email" not in rows[0] and "customer_external_id" not in rows[0]
    hostile = next(r for r in rows if r["response_id"] == str(exported["hostile"].token))
    assert hostile["customer_pseudonym"].startswith("C-")
    assert exported["customer"].email not in str(rows)

    ExportJob.objects.all().delete()
    personal = ask(manager, exported["survey"], capture=django_capture_on_commit_callbacks)
    assert personal.personal
    # Re-checked at download: a member without the right to personal data gets neither page nor file.
    assert viewer.get(personal.get_absolute_url()).status_code == 403
    assert viewer.get(f"/surveys/{personal.survey_id}/exports/{personal.pk}/download").status_code == 403


def test_an_xlsx_job_writes_the_workbook(limit_two, manager, exported, django_capture_on_commit_callbacks):
    job = ask(manager, exported["survey"], "xlsx", capture=django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.format == ExportJob.Format.XLSX and job.written_rows == 3
    response = manager.get(f"/surveys/{job.survey_id}/exports/{job.pk}/download")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert header == EXPECTED_COLUMNS and len(rows) == 3


def test_the_progress_fragment_polls_while_the_job_runs(limit_two, manager, exported):
    job = ask(manager, exported["survey"])
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, expected_rows=3, written_rows=2)
    fragment = manager.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    assert f'hx-get="{job.get_absolute_url()}"' in body and "hx-trigger" in body
    assert "2 of 3 responses written" in body and 'value="66"' in body
    assert "/download" not in body
    # Nothing to download before the job is done.
    assert manager.get(f"/surveys/{job.survey_id}/exports/{job.pk}/download").status_code == 404


def test_the_responses_list_leads_back_to_the_askers_exports(limit_two, manager, viewer, exported):
    job = ask(manager, exported["survey"])
    listed = manager.get(f"/surveys/{exported['survey'].pk}/responses/").content.decode()
    assert 'id="recent-exports"' in listed and job.get_absolute_url() in listed
    # Another member's list shows only their own.
    assert job.get_absolute_url() not in viewer.get(f"/surveys/{exported['survey'].pk}/responses/").content.decode()


def test_another_organizations_job_is_404(org_b, manager):
    theirs = factories.export_job(org_b)
    for url in (theirs.get_absolute_url(), f"/surveys/{theirs.survey_id}/exports/{theirs.pk}/download"):
        assert manager.get(url).status_code == 404


def test_a_job_under_another_survey_is_404(org_a, manager):
    job = factories.export_job(org_a)
    other = factories.survey(org_a)
    assert manager.get(f"/surveys/{other.pk}/exports/{job.pk}/").status_code == 404


def test_a_bad_filter_is_refused_and_queues_nothing(limit_two, manager, exported):
    response = manager.post(export_url(exported["survey"], query="?from=tomorrow"))
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    assert not ExportJob.objects.exists()
    with pytest.raises(export_jobs.ExportFilterError):
        export_jobs.create_job(organization=exported["survey"].organization, survey=exported["survey"], user=None,
                               query="band=nonsense", format="csv", personal=False)
    assert not ExportJob.objects.exists()


def test_another_organizations_touchpoint_in_the_filter_is_refused(limit_two, manager, exported, org_b):
    foreign = factories.touchpoint(org_b)
    response = manager.post(export_url(exported["survey"], query=f"?touchpoint={foreign.pk}"))
    assert response.status_code == 400
    assert not ExportJob.objects.exists()


class WorkerKilled(BaseException):
    """What a killed worker looks like from inside: nothing after it runs, nothing catches it."""


def stored_exports():
    try:
        return default_storage.listdir("exports")[1]
    except FileNotFoundError:
        return []


def breaks_midway(monkeypatch, format: str, error: BaseException) -> None:
    """The job's writing raises `error` after one part of the rows is in the file: the second
    chunk of rows Python makes (the workbook), or the second row of PostgreSQL's COPY (CSV)."""
    if format == "xlsx":
        monkeypatch.setattr(exporting, "CHUNK_SIZE", 1)
        real, calls = exporting._Plan.rows, []

        def rows(plan, chunk):
            calls.append(chunk)
            if len(calls) == 2:
                raise error
            return real(plan, chunk)

        monkeypatch.setattr(exporting._Plan, "rows", rows)
        return
    monkeypatch.setattr(exporting, "COPY_BUFFER", 1)  # bytes: every row goes to the file at once
    real_write = exporting._Copying.write

    def write(copying, data):
        if copying.rows == 1:  # one row written, then the second
            raise error
        real_write(copying, data)

    monkeypatch.setattr(exporting._Copying, "write", write)


def offered_rows(client, job) -> int:
    if job.format == ExportJob.Format.CSV:
        return len(csv_rows(client, job))
    response = client.get(f"/surveys/{job.survey_id}/exports/{job.pk}/download")
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0].max_row - 1


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_a_job_whose_worker_dies_midway_is_never_offered_and_starts_again(
        limit_two, manager, exported, monkeypatch, format):
    job = ask(manager, exported["survey"], format)
    undo = pytest.MonkeyPatch()
    breaks_midway(undo, format, WorkerKilled())
    with pytest.raises(WorkerKilled):
        export_jobs.run_job(job_id=job.pk)
    job.refresh_from_db()
    # The workbook's progress moved with its first chunk; PostgreSQL's COPY tells it at the end.
    assert job.status == ExportJob.Status.RUNNING and not job.file
    assert job.written_rows == (1 if format == "xlsx" else 0)
    assert not stored_exports()
    assert manager.get(f"/surveys/{job.survey_id}/exports/{job.pk}/download").status_code == 404
    assert "/download" not in manager.get(job.get_absolute_url()).content.decode()
    # The task delivered again while the claim is fresh does nothing: the job is someone's.
    assert export_jobs.run_job(job_id=job.pk) is None

    undo.undo()
    later = timezone.now() + export_jobs.STALE_AFTER + timedelta(minutes=1)
    monkeypatch.setattr(export_jobs.timezone, "now", lambda: later)
    # Housekeeping starts it from scratch (the eager task runs it here, as a worker would).
    assert export_jobs.housekeeping()["restarted"] == 1
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and job.written_rows == 3 and job.attempts == 2
    assert offered_rows(manager, job) == 3


def test_a_job_lost_too_often_fails_and_says_why(limit_two, manager, exported, monkeypatch):
    job = ask(manager, exported["survey"])
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, attempts=export_jobs.MAX_ATTEMPTS,
                                               heartbeat_at=timezone.now() - timedelta(hours=1), language="ru")
    assert export_jobs.housekeeping()["failed"] == 1
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    with translation.override("ru"):
        assert job.failure == str(export_jobs.STOPPED)
    page = manager.get(job.get_absolute_url()).content.decode()
    assert "The file was not written:" in page and "/download" not in page


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_an_error_fails_the_job_and_stores_nothing(limit_two, manager, exported, monkeypatch, format):
    job = ask(manager, exported["survey"], format)
    breaks_midway(monkeypatch, format, OSError("disk full"))
    finished = export_jobs.run_job(job_id=job.pk)
    assert finished.status == ExportJob.Status.FAILED
    assert finished.failure == str(export_jobs.FAILED) and not finished.file
    assert not stored_exports()
    assert manager.get(f"/surveys/{job.survey_id}/exports/{job.pk}/download").status_code == 404


def test_a_second_delivery_of_the_task_does_nothing(limit_two, manager, exported):
    job = ask(manager, exported["survey"])
    assert export_jobs.run_job(job_id=job.pk).status == ExportJob.Status.DONE
    assert export_jobs.run_job(job_id=job.pk) is None
    assert len(stored_exports()) == 1


def test_expiry_deletes_the_file(limit_two, manager, exported, django_capture_on_commit_callbacks):
    job = ask(manager, exported["survey"], capture=django_capture_on_commit_callbacks)
    job.refresh_from_db()
    name = job.file.name
    assert default_storage.exists(name)
    assert export_jobs.housekeeping()["files_deleted"] == 0  # not yet
    assert export_jobs.housekeeping(now=job.expires_at + timedelta(minutes=1))["files_deleted"] == 1
    job.refresh_from_db()
    assert not default_storage.exists(name) and not job.file
    assert manager.get(f"/surveys/{job.survey_id}/exports/{job.pk}/download").status_code == 404
    assert "deleted after its retention period" in manager.get(job.get_absolute_url()).content.decode()
    # An expired export asked again is a new job, not the old one.
    assert manager.post(export_url(exported["survey"]))["Location"] != job.get_absolute_url()


def test_a_file_no_job_names_is_deleted(org_a):
    kept = factories.export_job(org_a).file.name
    stray = default_storage.save("exports/left-by-a-killed-worker.csv", io.BytesIO(b"partial"))
    # A workbook being written for an hour (openpyxl writes the file only at the end) is not a stray.
    being_written = default_storage.save("exports/being-written.xlsx", io.BytesIO(b""))
    factories.export_job(org_a, file="", status=ExportJob.Status.RUNNING, partial_name=being_written,
                         heartbeat_at=timezone.now() + timedelta(minutes=55))
    assert export_jobs.housekeeping(now=timezone.now() + timedelta(hours=1))["strays_deleted"] == 1
    assert default_storage.exists(kept) and default_storage.exists(being_written)
    assert not default_storage.exists(stray)


def test_a_queued_job_whose_message_was_lost_is_sent_again(limit_two, manager, exported):
    job = ask(manager, exported["survey"])  # its after-commit enqueue never ran: the message is lost
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert export_jobs.housekeeping()["requeued"] == 1
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and job.written_rows == 3


@pytest.mark.parametrize("at", [datetime(2025, 3, 5, 12, 0, 7, tzinfo=UTC),
                                datetime(2025, 3, 5, 12, 0, 7, 120, tzinfo=UTC),
                                datetime(999, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)])
def test_submitted_at_is_written_as_python_writes_it(org_a, csi, at):
    """PostgreSQL formats the timestamp (a million isoformat() calls cost a second): the same text."""
    response = answer(csi, {"speed": "3"}, at=at)
    rows = list(exporting.table(csi, selectors.responses(org_a, csi)))
    assert rows[1][rows[0].index("submitted_at")] == response.submitted_at.isoformat() == at.isoformat()
