"""Read queries of the inbox."""

from cxplatform.tenancy import scoped

from .models import FeedbackItem

FILTERS = ("status", "source", "priority")


def items(organization, filters=None):
    """The organization's items, newest first, narrowed by status, source, priority and tag."""
    qs = scoped(FeedbackItem, organization).select_related("customer", "touchpoint", "assignee")
    filters = filters or {}
    for name in FILTERS:
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    if filters.get("tag"):
        qs = qs.filter(tags__name=filters["tag"])
    return qs.prefetch_related("tags").order_by("-received_at", "-id")
