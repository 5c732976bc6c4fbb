"""Read queries of the inbox."""

from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from cxplatform.tenancy import scoped

from .models import FeedbackItem

# The expression of the GIN index (migration 0006): Russian and English stemming, either matches.
FULL_TEXT = ("(to_tsvector('russian', \"feedback_feedbackitem\".\"text\") || "
             "to_tsvector('english', \"feedback_feedbackitem\".\"text\")) @@ "
             "(plainto_tsquery('russian', %s) || plainto_tsquery('english', %s))")
PAGE = 50

FILTERS = ("status", "source", "priority")  # exact-match filters; "tag" and "q" are handled apart


def items(organization, filters=None):
    """The organization's items, newest first, narrowed by status, source, priority and tag."""
    qs = scoped(FeedbackItem, organization).select_related("customer", "touchpoint", "assignee")
    filters = filters or {}
    for name in FILTERS:
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    if filters.get("tag"):
        qs = qs.filter(tags__name=filters["tag"])
    if filters.get("q"):
        qs = search(qs, filters["q"])
    return qs.prefetch_related("tags").order_by("-received_at", "-id")


def search(qs, words: str):
    """Items whose text matches `words` in any word form (PostgreSQL full-text search, Russian and
    English); a substring match on the embedded SQLite default."""
    if connection.vendor != "postgresql":
        return qs.filter(text__icontains=words)
    # The SQL is our constant (it must equal the index expression); the words are parameters.
    found = RawSQL(FULL_TEXT, (words, words), output_field=BooleanField())  # noqa: S611
    return qs.annotate(found=found).filter(found=True)


def page_after(qs, cursor: str = "") -> tuple[list, str]:
    """One page of `qs` (newest first) after `cursor` ("<received_at ISO>_<id>" of the last row
    seen), and the cursor of the next page: keyset pagination, as fast on page 1,000 as on page 1."""
    if cursor:
        try:
            moment, pk = cursor.rsplit("_", 1)
            moment, pk = datetime.fromisoformat(moment), int(pk)
        except ValueError:
            moment = None
        if moment is not None:
            qs = qs.filter(Q(received_at__lt=moment) | Q(received_at=moment, id__lt=pk))
    rows = list(qs[:PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return rows, (f"{rows[-1].received_at.isoformat()}_{rows[-1].pk}" if more else "")
