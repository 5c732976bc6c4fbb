"""The life of a responses export too large for a web request (docs/adr/0022): the export link
queues a job, a worker writes the file, the job's page follows it and offers the file when done.

Mirrors `cxplatform.import_jobs` where it fits:
- `create_job` validates the filter through the same `ResponseFilter` as the list (a bad filter
  raises `ExportFilterError`, and no job exists); an identical job still queued, running or
  downloadable is reused, so reloading the export link does not queue the same work twice.
- `run_job` claims the job with a conditional UPDATE (queued, or running but stale → running,
  attempts + 1), so a second delivery of the same task does nothing. The rows are read from a
  server-side cursor in chunks and written to default_storage, chunk by chunk, under a random
  name no job points to yet (constant memory); each chunk moves `written_rows` (and the
  heartbeat) only while the claim is still ours. Only when every row is written does the job
  name the file and become done — one conditional UPDATE, with the row count — so a killed
  worker or an error never leaves a file offered as complete.
- Housekeeping (a beat task) starts a stale running job again from scratch, at most
  `MAX_ATTEMPTS` times (then it fails and says why), queues again a job whose message was lost,
  deletes the files of expired jobs and any stored file no job names (a worker killed between
  storing the file and marking the job done).
"""

import logging
import uuid
from datetime import datetime, timedelta
from functools import partial
from types import SimpleNamespace

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from cxplatform import audit, replica
from cxplatform.selectors import more_rows_than

from . import exporting, selectors
from .filters import ResponseFilter
from .models import ExportJob, Survey

logger = logging.getLogger(__name__)

Status = ExportJob.Status
Format = ExportJob.Format
STALE_AFTER = timedelta(minutes=10)  # a chunk takes a second: no heartbeat for this long means a lost worker
QUEUED_AFTER = timedelta(minutes=5)  # queued this long: the task's message was lost (broker outage)
MAX_ATTEMPTS = 3
FOLDER = "exports"  # under MEDIA_ROOT; never served directly (only through the download view)
STOPPED = gettext_lazy("The export stopped unexpectedly three times. Try again with fewer responses "
                       "(a shorter period), or ask your administrator to look at the workers.")
FAILED = gettext_lazy("The export stopped because of an error. Try again; if it fails again, ask your "
                      "administrator to look at the workers' log.")
BAD_FILTER = gettext_lazy("The export's filter is no longer valid (a touchpoint or channel in it was "
                          "deleted). Export again from the responses list.")


class ExportFilterError(ValueError):
    """The export's filter is invalid; `filterset` holds the form with its errors."""

    def __init__(self, filterset):
        super().__init__("invalid export filter")
        self.filterset = filterset


def stream_limit(format: str) -> int:
    """The most rows a web request may stream in `format`; above it the export becomes a job."""
    return settings.EXPORT_XLSX_STREAM_MAX_ROWS if format == Format.XLSX else settings.EXPORT_STREAM_MAX_ROWS


def too_large_to_stream(*, queryset, format: str) -> bool:
    return more_rows_than(queryset, stream_limit(format))


def response_filter(*, organization, survey: Survey, query: str) -> ResponseFilter:
    """The list's filter over `query` (a query string), with the same choices as on the list."""
    return ResponseFilter(QueryDict(query), queryset=selectors.responses(organization, survey),
                          request=SimpleNamespace(organization=organization), survey=survey)


def _filter_query(query: str) -> str:
    """The query string without what is not a filter (the list's page number), in a stable order,
    so the same export asked twice is recognised."""
    data = QueryDict(query)
    ordered = QueryDict(mutable=True)
    for key in sorted(k for k in data if k != "page"):
        ordered.setlist(key, data.getlist(key))
    return ordered.urlencode()


def create_job(*, organization, survey: Survey, user, query: str, format: str, personal: bool,
               language: str | None = None, enqueue: bool = True, request=None) -> ExportJob:
    """A job for the export of `survey`'s responses filtered by `query`, queued after commit (so
    the worker finds it). Raises ExportFilterError for a bad filter, creating nothing."""
    if format not in Format.values:
        raise ValueError(f"unknown export format {format!r}")
    query = _filter_query(query)
    filterset = response_filter(organization=organization, survey=survey, query=query)
    if not filterset.is_valid():
        raise ExportFilterError(filterset)
    # Read from the primary: a job created a moment ago may not be on the replica yet.
    same = ExportJob.objects.using(DEFAULT_DB_ALIAS).filter(
        organization=organization, survey=survey, created_by=user, query=query, format=format, personal=personal,
    )
    existing = same.filter(Q(status__in=[Status.QUEUED, Status.RUNNING])
                           | Q(status=Status.DONE, expires_at__gt=timezone.now()) & ~Q(file="")).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        job = ExportJob.objects.create(
            organization=organization, survey=survey, created_by=user, query=query, format=format, personal=personal,
            language=(language or translation.get_language() or "")[:10],
        )
        if personal:
            record_export(request=request, survey=survey, format=format, query=query, job=job)
    if enqueue:
        transaction.on_commit(partial(enqueue_job, job))
    return job


def record_export(*, request, survey: Survey, format: str, query: str, job: ExportJob | None = None) -> None:
    """PERSONAL_DATA_EXPORTED: an export carrying customers' e-mails and ids began (streamed, or
    as a job's file). A pseudonymous export carries none and is not recorded."""
    details = {"format": format, "filters": query, **({"job": job.pk} if job is not None else {})}
    audit.record(action=audit.AuditAction.PERSONAL_DATA_EXPORTED, organization=survey.organization, request=request,
                 actor=None if request is not None else getattr(job, "created_by", None), target=survey,
                 details=details)


def record_download(*, request, job: ExportJob) -> None:
    """PERSONAL_DATA_DOWNLOADED: a job's file with customers' personal data left the platform."""
    if job.personal:
        audit.record(action=audit.AuditAction.PERSONAL_DATA_DOWNLOADED, organization=job.organization,
                     request=request, target=job.survey, details={"format": job.format, "job": job.pk})


def enqueue_job(job: ExportJob) -> bool:
    from .tasks import run_export

    try:
        run_export.delay(job.pk)
    except Exception:  # broker outage: the job stays queued and housekeeping enqueues it again
        logger.warning("could not enqueue export job #%s", job.pk, exc_info=True)
        return False
    return True


# --- In the worker ---------------------------------------------------------------------------

def _stale(now: datetime) -> Q:
    return Q(status=Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)


class _ClaimLost(Exception):
    """Another worker took the job over (ours was thought lost): stop, offering nothing."""


def claim(*, job_id: int) -> ExportJob | None:
    now = timezone.now()
    claimable = Q(status=Status.QUEUED) | _stale(now) & Q(attempts__lt=MAX_ATTEMPTS)
    taken = ExportJob.objects.filter(claimable, pk=job_id).update(
        status=Status.RUNNING, attempts=F("attempts") + 1, heartbeat_at=now, written_rows=0,
        started_at=Coalesce(F("started_at"), Value(now)), failure="",
    )
    if not taken:
        return None
    return ExportJob.objects.select_related("organization", "survey").get(pk=job_id)


def _mine(job: ExportJob):
    return ExportJob.objects.filter(pk=job.pk, status=Status.RUNNING, attempts=job.attempts)


def run_job(*, job_id: int) -> ExportJob | None:
    """Write the job's file once. Returns the finished job, or None when it was not ours to run
    (claimed by another delivery, finished, or gone)."""
    job = claim(job_id=job_id)
    if job is None:
        return None
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            return _write(job)
        except _ClaimLost:
            return None
        except Exception:
            logger.exception("export job #%s stopped", job_id)
            return _fail(job, str(FAILED))


def _write(job: ExportJob) -> ExportJob | None:
    filterset = response_filter(organization=job.organization, survey=job.survey, query=job.query)
    if not filterset.is_valid():
        return _fail(job, str(BAD_FILTER))
    queryset = filterset.qs
    write = exporting.write_xlsx if job.format == Format.XLSX else exporting.write_csv

    def heartbeat(written: int) -> None:
        if not _mine(job).update(written_rows=written, heartbeat_at=timezone.now()):
            raise _ClaimLost

    with replica.reads():
        expected = queryset.count()
    if not _mine(job).update(expected_rows=expected, heartbeat_at=timezone.now()):
        raise _ClaimLost
    # A random name, reserved empty: the file holds customers' answers and must not be guessable,
    # and no job names it until every row is in it (a killed worker's half file is a stray).
    name = default_storage.save(f"{FOLDER}/{uuid.uuid4().hex}.{job.format}", ContentFile(b""))
    if not _mine(job).update(partial_name=name):
        default_storage.delete(name)
        raise _ClaimLost
    try:
        with replica.reads(), default_storage.open(name, "wb") as file:
            written = write(job.survey, queryset, file, personal=job.personal, on_chunk=heartbeat)
    except BaseException:
        default_storage.delete(name)
        raise
    now = timezone.now()
    done = _mine(job).update(
        status=Status.DONE, file=name, partial_name="", written_rows=written, finished_at=now, heartbeat_at=now,
        expires_at=now + timedelta(hours=settings.EXPORT_RETENTION_HOURS),
    )
    if not done:  # taken over while the file was stored: the other attempt writes its own
        default_storage.delete(name)
        raise _ClaimLost
    job.refresh_from_db()
    return job


def _fail(job: ExportJob, failure: str) -> ExportJob | None:
    if not _mine(job).update(status=Status.FAILED, failure=failure, finished_at=timezone.now()):
        return None
    job.refresh_from_db()
    return job


# --- Housekeeping (the beat) -----------------------------------------------------------------

def housekeeping(*, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    counts = {"files_deleted": 0, "restarted": 0, "requeued": 0, "failed": 0, "strays_deleted": 0}
    for job in ExportJob.objects.filter(expires_at__lt=now).exclude(file=""):
        counts["files_deleted"] += _delete_file(job)
    for job in ExportJob.objects.filter(status=Status.QUEUED, created_at__lt=now - QUEUED_AFTER):
        if job.attempts >= MAX_ATTEMPTS:
            _fail_lost(job)
            counts["failed"] += 1
        elif enqueue_job(job):
            counts["requeued"] += 1
    for job in ExportJob.objects.filter(_stale(now)):
        if job.attempts >= MAX_ATTEMPTS:
            _fail_lost(job)
            counts["failed"] += 1
        # From scratch: back to queued, nothing of the lost attempt kept, and its message sent again.
        elif ExportJob.objects.filter(_stale(now), pk=job.pk, attempts=job.attempts).update(
                status=Status.QUEUED, written_rows=0) and enqueue_job(job):
            counts["restarted"] += 1
    counts["strays_deleted"] = _delete_strays(now)
    return counts


def _fail_lost(job: ExportJob) -> None:
    with translation.override(job.language or settings.LANGUAGE_CODE):
        failure = str(STOPPED)
    ExportJob.objects.filter(pk=job.pk, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.FAILED, failure=failure, finished_at=timezone.now())


def _delete_file(job: ExportJob) -> bool:
    name = job.file.name
    try:
        default_storage.delete(name)
    except OSError:
        logger.warning("could not delete the export file %s of job #%s", name, job.pk, exc_info=True)
        return False
    ExportJob.objects.filter(pk=job.pk, file=name).update(file="")
    return True


def _delete_strays(now: datetime) -> int:
    """Files of attempts that never finished (a killed worker, taken over): no job names them."""
    try:
        _folders, files = default_storage.listdir(FOLDER)
    except (FileNotFoundError, NotImplementedError):
        return 0
    named = set(ExportJob.objects.exclude(file="").values_list("file", flat=True))
    named |= set(ExportJob.objects.filter(status=Status.RUNNING).exclude(partial_name="")
                 .values_list("partial_name", flat=True))
    deleted = 0
    for base in files:
        name = f"{FOLDER}/{base}"
        if name in named:
            continue
        try:
            # Old enough that it is not an attempt's file between its reservation and its job's claim.
            if default_storage.get_modified_time(name) < now - STALE_AFTER:
                default_storage.delete(name)
                deleted += 1
        except (OSError, NotImplementedError):
            logger.warning("could not delete the stray export file %s", name, exc_info=True)
    return deleted
