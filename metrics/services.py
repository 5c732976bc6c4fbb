"""Business rules of metrics that change state: rebuilding and reconciling rollups."""

from datetime import timedelta

from django.utils import timezone

from cxplatform.models import Organization

from . import rollups


def reconcile_recent(days: int) -> int:
    today = timezone.now().date()
    start, end = today - timedelta(days=days), today + timedelta(days=1)
    return sum(rollups.rebuild(org, start, end) for org in Organization.objects.all())


def rebuild_range(organization, start, end, *, chunk_days: int = 31) -> int:
    """Rebuild [start, end) in chunks of days, each in its own transaction, so a long rebuild
    holds the organization's rollup lock only briefly at a time."""
    folded, cursor = 0, start
    while cursor < end:
        chunk_end = min(cursor + timedelta(days=chunk_days), end)
        folded += rollups.rebuild(organization, cursor, chunk_end)
        cursor = chunk_end
    return folded
