"""Event handlers of the metrics app (registered in MetricsConfig.ready). Idempotent: each
recomputes from raw data."""

from django.db import transaction

from . import rollups, tasks


def response_recorded(*, response_id: int, **_ids) -> None:
    # Mark only; the rebuild of the day comes a moment later, once for all its answers since.
    if rollups.mark_for_response(response_id):
        transaction.on_commit(tasks.schedule_dirty_rebuild)


def comment_read(*, response_id: int, **_ids) -> None:
    # The answer's comment was read after it was recorded: its day's sentiment counts change.
    response_recorded(response_id=response_id)
