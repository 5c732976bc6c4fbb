"""Reads that may lag a moment behind the primary — dashboards, figures, exports — go to a read
replica when one is configured (`DATABASE_REPLICA_URL`); every write, and every other read, goes
to the primary. A view opts in with `@reads_from_replica`; without a replica it changes nothing."""

import contextlib
import contextvars
import functools

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"
_reading = contextvars.ContextVar("cx_reads_from_replica", default=False)


def configured() -> bool:
    return REPLICA in settings.DATABASES


@contextlib.contextmanager
def reads():
    """Within the block, this thread's reads go to the replica (if there is one)."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def _streamed(chunks):
    with reads():
        yield from chunks


def reads_from_replica(view):
    """The view's reads — and a streamed body's, read after the view returned — use the replica.
    Put it below the permission decorators: who may see what is read from the primary."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        with reads():
            response = view(request, *args, **kwargs)
        if getattr(response, "streaming", False):
            response.streaming_content = _streamed(response.streaming_content)
        return response

    return wrapped


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return REPLICA if _reading.get() and configured() else None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, **hints):
        return db == DEFAULT_DB_ALIAS
