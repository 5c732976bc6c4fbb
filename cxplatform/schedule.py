"""The beat's schedule run in-process, for the embedded default (`make run`: SQLite, tasks run in
the calling process, no broker): Celery beat can only hand its tasks to a broker, so without one
the SLA checks, reminders, scheduled campaigns and digests would never run. `run_schedule` runs
each entry of CELERY_BEAT_SCHEDULE in this process when it is due, by Celery's own schedules; a
deployment with a broker runs `celery beat` instead (docker-compose, `make beat`)."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery.schedules import crontab, schedule
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass
class Entry:
    name: str
    task: str
    schedule: schedule | crontab
    last_run_at: datetime
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


def entries(beat_schedule: dict | None = None, now: datetime | None = None) -> list[Entry]:
    """The beat's entries, each as if it had just run: the first runs come one interval (or one
    crontab match) after the start, as with `celery beat`."""
    now = now or timezone.now()
    found = []
    for name, spec in (settings.CELERY_BEAT_SCHEDULE if beat_schedule is None else beat_schedule).items():
        every = spec["schedule"]
        if isinstance(every, int | float | timedelta):
            every = schedule(run_every=every if isinstance(every, timedelta) else timedelta(seconds=every))
        found.append(Entry(name, spec["task"], every, now, tuple(spec.get("args", ())), dict(spec.get("kwargs", {}))))
    return found


def tick(due_entries: list[Entry], now: datetime | None = None) -> tuple[list[str], float]:
    """Run every entry that is due (in this process, one after the other; a failing task is logged
    and the others still run); returns the names run and the seconds until the next is due."""
    from .celery import app

    app.loader.import_default_modules()  # the apps' tasks modules (what a worker's start-up imports)
    now = now or timezone.now()
    ran = []
    for entry in due_entries:
        if entry.schedule.is_due(entry.last_run_at).is_due:
            entry.last_run_at = now
            try:
                app.tasks[entry.task].apply(args=entry.args, kwargs=entry.kwargs, throw=True)
            except Exception:
                logger.exception("scheduled task %s (%s) failed", entry.name, entry.task)
            ran.append(entry.name)
    # Asked after the runs: the time they took counts against every entry's next turn.
    wait = min([entry.schedule.is_due(entry.last_run_at).next for entry in due_entries], default=60.0)
    return ran, max(min(wait, 60.0), 1.0)
