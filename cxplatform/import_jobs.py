"""The life of an import job, one implementation for every import (survey responses, inbox items,
customers): an upload is checked up front, stored under a random name, and imported by a worker
in batches, with a progress bar and a row report.

- Each kind of import registers its job model (a subclass of `ImportJobBase`) with a factory of
  its `RowImporter` in its `AppConfig.ready`, so this module never imports the apps above it.
- `check_file` refuses a file that cannot be imported at all (kind, the reading limits, the
  header and its required columns) before a job exists, so the uploader sees why on the form.
- `run_job` claims the job with a conditional UPDATE (queued → running), so a second delivery of
  the same task does nothing. Before the first row is written the whole file is read once through
  the limits (CSV) or was inspected (XLSX): a file beyond them is refused with nothing imported.
  Then rows are parsed, and saved in batches, each batch in one transaction with the job's
  counters, so a progress bar can follow and a batch is counted exactly when it is kept.
- A worker that dies leaves its job running with counters that stop moving: after
  `STALE_AFTER` the job may be claimed again (housekeeping re-enqueues it), and it resumes after
  its last counted batch; rows are idempotent anyway (each kind keys them), so nothing doubles.
- When the job ends — done or failed — its file is deleted and its report kept; housekeeping
  deletes the file of any job older than `RETENTION`, whatever its state, and stray uploads.
"""

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import ImportJobBase
from .tabular import ImportFileError, blank_row, header, open_table

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# Bad rows kept in the job's report; the count stays exact beyond it (and the commands print all).
MAX_REPORTED_ERRORS = 1000
STALE_AFTER = timedelta(minutes=10)  # a batch takes seconds: counters still for this long mean a lost worker
QUEUED_AFTER = timedelta(minutes=5)  # queued this long: the task's message was lost (broker outage)
MAX_ATTEMPTS = 3
RETENTION = timedelta(days=1)
UPLOADS = "imports"  # the folder under MEDIA_ROOT that FileField(upload_to="imports/%Y/%m/") fills

Status = ImportJobBase.Status
STOPPED = gettext_lazy("The import stopped unexpectedly. Upload the file again: rows already imported are skipped.")
EXPIRED = gettext_lazy("The import did not finish within a day, and its file was deleted. Upload the file again: "
                       "rows already imported are skipped.")


class RowError(Exception):
    """One row cannot be imported; its reasons go into the report and the row is skipped."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass
class Saved:
    """What saving a batch did: rows created, updated, already there, and rows refused on saving."""

    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    errors: list[dict] = field(default_factory=list)  # {"row": n, "reason": "..."}


class RowImporter:
    """What a kind of import supplies. `parse` must not write; `save` runs inside the batch's
    transaction and must be idempotent (a row imported twice is found, not doubled)."""

    def start(self, header: list) -> list[str]:
        """Check the header (raise ImportFileError); return the names of the columns ignored."""
        raise NotImplementedError

    def parse(self, number: int, cells: list):
        """One row, checked, or RowError with every reason at once."""
        raise NotImplementedError

    def save(self, rows: list) -> Saved:
        raise NotImplementedError

    def skip(self, number: int, cells: list) -> None:
        """A row imported by an earlier attempt of the job (for importers that look across rows)."""


_kinds: dict[str, Callable[[ImportJobBase], RowImporter]] = {}


def register(model: type[ImportJobBase], importer: Callable[[ImportJobBase], RowImporter]) -> None:
    """Called from an app's `ready()`: `importer(job)` makes the RowImporter for one job."""
    _kinds[model._meta.label_lower] = importer


def registered_models() -> list[type[ImportJobBase]]:
    from django.apps import apps

    return [apps.get_model(label) for label in _kinds]


def importer_for(job: ImportJobBase) -> RowImporter:
    try:
        factory = _kinds[job._meta.label_lower]
    except KeyError:
        raise LookupError(f"{job._meta.label} is not a registered import job") from None
    return factory(job)


# --- Up front, in the request ----------------------------------------------------------------

def check_file(fileobj, name: str, job: ImportJobBase) -> int:
    """Raise ImportFileError when the file cannot be imported at all; else its data rows (an
    estimate for a workbook). `job` may be unsaved: it tells the kind and its context."""
    with open_table(fileobj, name) as table:
        importer_for(job).start(header(table))
        rows = table.estimate()
    fileobj.seek(0)
    if not rows:
        raise ImportFileError(_("The file has no rows below its header."))
    return rows


def create_job(model: type[ImportJobBase], *, organization, upload, original_name: str = "", user=None,
               language: str | None = None, enqueue: bool = True, **fields) -> ImportJobBase:
    """Store the upload and queue its import (after commit, so the worker finds the job)."""
    original_name = os.path.basename(original_name or upload.name or "")[:255]
    job = model(organization=organization, created_by=user, original_name=original_name,
                language=(language or translation.get_language() or "")[:10], **fields)
    # A random name: the stored file holds customers' data and must not be guessable.
    extension = os.path.splitext(original_name)[1].lower()
    job.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
    job.save()
    if enqueue:
        transaction.on_commit(partial(enqueue_job, job))
    return job


def enqueue_job(job: ImportJobBase) -> bool:
    from .tasks import run_import_job

    try:
        run_import_job.delay(job._meta.label_lower, job.pk)
    except Exception:  # broker outage: the job stays queued and housekeeping enqueues it again
        logger.warning("could not enqueue import job %s #%s", job._meta.label, job.pk, exc_info=True)
        return False
    return True


def run_now(model: type[ImportJobBase], *, organization, fileobj, name: str, user=None,
            on_error: Callable[[int, str], None] | None = None, **fields) -> ImportJobBase:
    """Check, store and import a file in this process (the import commands, and tests): the same
    job, with the same report, as an upload's. Raises ImportFileError for a file refused up front."""
    from django.core.files import File

    check_file(fileobj, name, model(organization=organization, created_by=user, **fields))
    job = create_job(model, organization=organization, upload=File(fileobj, name=name), original_name=name,
                     user=user, enqueue=False, **fields)
    finished = run_job(model, job.pk, on_error=on_error)
    if finished is None:  # cannot happen: the job was created above, queued, for this run only
        raise RuntimeError("the import job was taken by another process")
    return finished


# --- In the worker ---------------------------------------------------------------------------

def _stale(now: datetime) -> Q:
    """Running, but its counters have not moved for a while (or never did: jobs from before the
    heartbeat existed)."""
    return Q(status=Status.RUNNING) & (Q(heartbeat_at__lt=now - STALE_AFTER)
                                       | Q(heartbeat_at__isnull=True, created_at__lt=now - STALE_AFTER))


class _ClaimLost(Exception):
    """Another worker took the job over (ours was thought lost): stop without counting."""


def claim(model: type[ImportJobBase], job_id: int) -> ImportJobBase | None:
    now = timezone.now()
    claimable = Q(status=Status.QUEUED) | _stale(now) & Q(attempts__lt=MAX_ATTEMPTS)
    taken = model.objects.filter(claimable, pk=job_id).update(
        status=Status.RUNNING, attempts=F("attempts") + 1, heartbeat_at=now,
        started_at=Coalesce(F("started_at"), Value(now)),
    )
    if not taken:
        return None
    return model.objects.select_related("organization").get(pk=job_id)


def run_job(model: type[ImportJobBase], job_id: int, *,
            on_error: Callable[[int, str], None] | None = None) -> ImportJobBase | None:
    """Import the job's file once. Returns the finished job, or None when the job was not ours to
    run (claimed by another delivery of the same task, finished, or gone)."""
    job = claim(model, job_id)
    if job is None:
        return None
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            _import(job, on_error)
        except _ClaimLost:
            return None
        except ImportFileError as exc:
            return _finish(job, Status.FAILED, failure=str(exc))
        except FileNotFoundError:
            return _finish(job, Status.FAILED, failure=_("The uploaded file is no longer there."))
        except Exception:
            logger.exception("import job %s #%s stopped", job._meta.label, job_id)
            return _finish(job, Status.FAILED, failure=str(STOPPED))
    return _finish(job, Status.DONE)


def _import(job: ImportJobBase, on_error) -> None:
    importer = importer_for(job)
    if not job.file:  # deleted by housekeeping while the job waited
        raise FileNotFoundError(job.pk)
    with job.file.open("rb") as fileobj, open_table(fileobj, job.original_name or job.file.name) as table:
        ignored = importer.start(header(table))
        # CSV: a full pass through the limits; a workbook was inspected on opening. Either way a
        # file beyond them is refused here, before its first row is written.
        total = table.estimate()
        job.ignored_columns = ignored
        job.total_rows = max(total, job.processed_rows)
        _save_progress(job, ignored_columns=ignored)
        skip = job.processed_rows  # a job taken over from a lost worker resumes after its last batch
        batch = []
        for number, cells in table.records():
            if number == 1 or blank_row(cells):
                continue
            if skip:
                skip -= 1
                importer.skip(number, cells)
                continue
            batch.append((number, cells))
            if len(batch) >= BATCH_SIZE:
                _import_batch(job, importer, batch, on_error)
                batch = []
        if batch:
            _import_batch(job, importer, batch, on_error)


def _import_batch(job: ImportJobBase, importer: RowImporter, batch: list[tuple[int, list]], on_error) -> None:
    refused, rows = [], []
    for number, cells in batch:
        try:
            rows.append(importer.parse(number, cells))
        except RowError as exc:
            refused.append({"row": number, "reason": "; ".join(exc.reasons)})
    with transaction.atomic():
        saved = importer.save(rows) if rows else Saved()
        saved.errors = sorted(refused + saved.errors, key=lambda e: e["row"])
        _count(job, len(batch), saved)
    if on_error is not None:
        for error in saved.errors:
            on_error(error["row"], error["reason"])


def _count(job: ImportJobBase, processed: int, saved: Saved) -> None:
    job.processed_rows += processed
    job.imported_rows += saved.imported
    job.updated_rows += saved.updated
    job.duplicate_rows += saved.duplicates
    job.error_rows += len(saved.errors)
    job.total_rows = max(job.total_rows, job.processed_rows)
    changes = {}
    room = MAX_REPORTED_ERRORS - len(job.errors)
    if saved.errors and room > 0:
        job.errors = [*job.errors, *saved.errors[:room]]
        changes["errors"] = job.errors
    _save_progress(job, **changes)


def _save_progress(job: ImportJobBase, **changes) -> None:
    """Write the counters, only while the job is still ours (the attempt that claimed it)."""
    kept = type(job).objects.filter(pk=job.pk, status=Status.RUNNING, attempts=job.attempts).update(
        processed_rows=job.processed_rows, imported_rows=job.imported_rows, updated_rows=job.updated_rows,
        duplicate_rows=job.duplicate_rows, error_rows=job.error_rows, total_rows=job.total_rows,
        heartbeat_at=timezone.now(), **changes,
    )
    if not kept:
        raise _ClaimLost


def _finish(job: ImportJobBase, status: str, failure: str = "") -> ImportJobBase | None:
    changes = {"status": status, "failure": failure, "finished_at": timezone.now()}
    if status == Status.DONE:
        changes["total_rows"] = F("processed_rows")  # the estimate (a workbook's rows with values) made exact
    if not type(job).objects.filter(pk=job.pk, status=Status.RUNNING, attempts=job.attempts).update(**changes):
        return None
    _delete_file(job)
    job.refresh_from_db()
    return job


def _delete_file(job: ImportJobBase) -> bool:
    """The upload is needed no longer once its job ends: only the report stays."""
    name = job.file.name
    if name:
        try:
            job.file.storage.delete(name)
        except OSError:
            logger.warning("could not delete the upload %s of import job %s #%s", name, job._meta.label, job.pk,
                           exc_info=True)
            return False
        type(job).objects.filter(pk=job.pk, file=name).update(file="")
        job.file.name = ""
    return True


# --- Housekeeping (the hourly beat) ----------------------------------------------------------

def housekeeping(now: datetime | None = None) -> dict:
    """Files of jobs older than a day are deleted, whatever the job's state (an unfinished one is
    marked failed); a job whose message or worker was lost is queued again, at most
    MAX_ATTEMPTS times; a stored upload no job names, left by a rolled-back request, goes too."""
    now = now or timezone.now()
    counts = {"files_deleted": 0, "requeued": 0, "failed": 0, "strays_deleted": 0}
    for model in registered_models():
        for job in model.objects.filter(created_at__lt=now - RETENTION).exclude(file=""):
            if job.running:
                _fail_unfinished(job, EXPIRED)
                counts["failed"] += 1
            counts["files_deleted"] += _delete_file(job)
        lost = model.objects.filter(Q(status=Status.QUEUED, created_at__lt=now - QUEUED_AFTER) | _stale(now))
        for job in lost:
            if job.attempts >= MAX_ATTEMPTS:
                _fail_unfinished(job, STOPPED)
                _delete_file(job)
                counts["failed"] += 1
            elif enqueue_job(job):
                counts["requeued"] += 1
    counts["strays_deleted"] = _delete_strays(now)
    return counts


def _fail_unfinished(job: ImportJobBase, message) -> None:
    with translation.override(job.language or settings.LANGUAGE_CODE):
        failure = str(message)
    type(job).objects.filter(pk=job.pk, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.FAILED, failure=failure, finished_at=timezone.now())


def _delete_strays(now: datetime) -> int:
    named = set()
    for model in registered_models():
        named |= set(model.objects.exclude(file="").values_list("file", flat=True))
    deleted = 0
    for name in _stored_uploads(UPLOADS):
        if name in named:
            continue
        try:
            if default_storage.get_modified_time(name) < now - RETENTION:
                default_storage.delete(name)
                deleted += 1
        except (OSError, NotImplementedError):
            logger.warning("could not delete the stray upload %s", name, exc_info=True)
    return deleted


def _stored_uploads(folder: str):
    try:
        folders, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from _stored_uploads(f"{folder}/{sub}")
