""""Read all comments again" (issue 18): after an upgrade of the sentiment model or a change of the
concept dictionary, an admin starts one job for the organization; a worker reads every survey
comment and inbox item again in chunks, then rebuilds the rollups of the days they fall on.

- `start` makes the job, or returns the one already queued or running (one per organization: a
  partial unique constraint, so two admins clicking at once still get one job), records the start
  in the audit log and queues the task after commit.
- `run` claims the job with a conditional UPDATE (queued → running), so a second delivery of the
  task does nothing. Each chunk is one transaction with its progress (`done`), so the page follows
  it and a failure keeps what was read: the job is marked failed with the error, and starting
  again reads everything again (idempotent: theme rows are replaced, never added twice).
- A running job whose worker was lost (no chunk saved for STALE_AFTER) is marked failed when the
  next start is asked for, so the organization is never locked out of re-reading.
"""

import logging
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cxplatform import audit
from cxplatform.personal_data import ERASED_TEXT
from feedback import services as inbox
from feedback.models import FeedbackItem
from surveys import comments
from surveys.models import Response

from .models import RereadJob
from .services import rebuild_range

logger = logging.getLogger(__name__)

Status = RereadJob.Status
ACTIVE = [Status.QUEUED, Status.RUNNING]
CHUNK = 500  # comments per transaction: a second or so of reading, so progress moves visibly
STALE_AFTER = timedelta(minutes=15)
LOST = _("The worker reading the comments stopped without finishing. Start the re-reading again.")


class AlreadyRunning(Exception):
    """A re-reading of the organization is queued or running: `job` is that one."""

    def __init__(self, job: RereadJob):
        super().__init__(f"re-read job #{job.pk} is {job.status}")
        self.job = job


def _in_period(qs, day_field: str, job: RereadJob):
    if job.since:
        qs = qs.filter(**{f"{day_field}__date__gte": job.since})
    if job.until:
        qs = qs.filter(**{f"{day_field}__date__lte": job.until})
    return qs


def responses_of(job: RereadJob):
    # An erased comment keeps what was read before it was erased (privacy): nothing to read again.
    return _in_period(Response.objects.filter(organization_id=job.organization_id)
                      .exclude(comment__in=["", ERASED_TEXT]), "started_at", job)


def items_of(job: RereadJob):
    return _in_period(FeedbackItem.objects.filter(organization_id=job.organization_id)
                      .exclude(text__in=["", ERASED_TEXT]), "received_at", job)


def _give_up_lost(organization) -> None:
    stale = timezone.now() - STALE_AFTER
    lost = Q(status=Status.RUNNING, heartbeat_at__lt=stale) | Q(status=Status.QUEUED, created_at__lt=stale)
    RereadJob.objects.filter(lost, organization=organization).update(
        status=Status.FAILED, error=str(LOST), finished_at=timezone.now())


def active_job(organization) -> RereadJob | None:
    """The organization's queued or running job — after giving up one whose worker was lost, so a
    lost job never hides the start button for good."""
    _give_up_lost(organization)
    return RereadJob.objects.filter(organization=organization, status__in=ACTIVE).first()


def start(*, organization, user=None, request=None, since: date | None = None, until: date | None = None,
          enqueue: bool = True) -> RereadJob:
    """A new job for the organization, queued for a worker after commit. Raises AlreadyRunning
    (with that job) when one is queued or running."""
    running = active_job(organization)
    if running is not None:
        raise AlreadyRunning(running)
    try:
        with transaction.atomic():
            job = RereadJob.objects.create(organization=organization, created_by=user, since=since, until=until)
            audit.record(action=audit.AuditAction.SETTINGS_CHANGED, organization=organization, request=request,
                         actor=user if request is None else None, target=job,
                         details={"reread_comments": "started", "job": job.pk,
                                  **({"since": since.isoformat()} if since else {}),
                                  **({"until": until.isoformat()} if until else {})})
    except IntegrityError:  # another admin's start won a moment ago
        raise AlreadyRunning(active_job(organization)) from None
    if enqueue:
        transaction.on_commit(partial(enqueue_job, job.pk))
    return job


def enqueue_job(job_id: int) -> bool:
    from .tasks import reread_comments

    try:
        reread_comments.delay(job_id)
    except Exception:  # broker outage: the job stays queued; the next start gives it up and begins anew
        logger.warning("could not enqueue re-read job #%s", job_id, exc_info=True)
        return False
    return True


# --- In the worker ---------------------------------------------------------------------------

def claim(*, job_id: int) -> RereadJob | None:
    now = timezone.now()
    if not RereadJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
            status=Status.RUNNING, started_at=now, heartbeat_at=now):
        return None
    return RereadJob.objects.select_related("organization").get(pk=job_id)


def _chunks(qs, size: int):
    """The ids of `qs` in ascending chunks (keyset pages: constant memory at a million rows)."""
    last = 0
    while True:
        ids = list(qs.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids
        last = ids[-1]


def run(*, job_id: int, chunk_size: int = CHUNK,
        on_progress: Callable[[RereadJob], None] | None = None) -> RereadJob | None:
    """Read the job's comments and items once. Returns the finished job, or None when it was not
    this delivery's to run (claimed already, finished, or gone)."""
    job = claim(job_id=job_id)
    if job is None:
        return None
    try:
        _read_all(job, chunk_size, on_progress)
    except Exception as exc:
        logger.exception("re-read job #%s stopped", job_id)
        RereadJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
            status=Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now())
    else:
        RereadJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
            status=Status.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def _read_all(job: RereadJob, chunk_size: int, on_progress) -> None:
    responses, items = responses_of(job), items_of(job)
    RereadJob.objects.filter(pk=job.pk).update(total=responses.count() + items.count(), heartbeat_at=timezone.now())
    job.refresh_from_db()

    def saved(read: int) -> None:
        # In the chunk's transaction: the progress shown is exactly what is committed.
        RereadJob.objects.filter(pk=job.pk).update(done=F("done") + read, heartbeat_at=timezone.now())

    for ids in _chunks(responses, chunk_size):
        with transaction.atomic():
            saved(comments.reread(Response.objects.filter(pk__in=ids), chunk_size=len(ids)))
        _progress(job, on_progress)
    for ids in _chunks(items, chunk_size):
        with transaction.atomic():
            saved(inbox.reread_items(FeedbackItem.objects.filter(pk__in=ids), chunk_size=len(ids)))
        _progress(job, on_progress)
    _rebuild_rollups(job, responses)


def _progress(job: RereadJob, on_progress) -> None:
    if on_progress is not None:
        job.refresh_from_db(fields=["done", "total"])
        on_progress(job)


def _rebuild_rollups(job: RereadJob, responses) -> None:
    """The days of the comments read: their sentiment and theme counts change."""
    span = responses.aggregate(first=Min("started_at"), last=Max(Coalesce("submitted_at", "started_at")))
    if span["first"] is None:
        return
    RereadJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())  # alive: a long rebuild follows
    # A response counts on the UTC day it was submitted, which may follow its start by a day.
    rebuild_range(job.organization, span["first"].date(), span["last"].date() + timedelta(days=2))
