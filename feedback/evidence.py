"""Evidence for the pain points on journey maps: the inbox items and tags that show a pain is
real, so a map's "where it hurts" is backed by what customers said."""

from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from journeys.models import PainPoint

from . import sla
from .models import FeedbackItem, PainPointEvidence, Tag


class EvidenceError(ValueError):
    pass


def link(pain_point: PainPoint, actor, *, item: FeedbackItem | None = None, tag: Tag | None = None):
    """Link an item or a tag to the pain point (once: linking it again changes nothing).
    Returns (evidence, created)."""
    if (item is None) == (tag is None):
        raise EvidenceError("evidence is an item or a tag")
    for obj in (item, tag):
        if obj is not None and obj.organization_id != pain_point.organization_id:
            raise EvidenceError("another organization's evidence")
    lookup = {"pain_point": pain_point, "item": item, "tag": tag}
    try:
        with transaction.atomic():
            return PainPointEvidence.objects.get_or_create(organization_id=pain_point.organization_id, **lookup,
                                                           defaults={"added_by": actor})
    except IntegrityError:  # a colleague linked it at the same moment
        return PainPointEvidence.objects.get(**lookup), False


def unlink(evidence: PainPointEvidence) -> None:
    evidence.delete()


def items_behind(pain_point: PainPoint):
    """Every item that supports the pain point: linked one by one, or carrying a linked tag."""
    tags = PainPointEvidence.objects.filter(pain_point=pain_point, tag__isnull=False).values("tag_id")
    linked = PainPointEvidence.objects.filter(pain_point=pain_point, item__isnull=False).values("item_id")
    return (FeedbackItem.objects.filter(organization_id=pain_point.organization_id)
            .filter(Q(pk__in=linked) | Q(tags__in=tags)).distinct())


def summary(pain_point: PainPoint, recent: int = 5) -> dict:
    """What the pain point's evidence amounts to: how many items (and how many still open), the
    linked tags with their item counts, and the most recent items."""
    items = items_behind(pain_point)
    tags = (Tag.objects.filter(evidence__pain_point=pain_point)
            .annotate(items_count=Count("items", distinct=True)).order_by("name"))
    return {
        "pain_point": pain_point, "count": items.count(),
        "open": items.filter(status__in=sla.OPEN).count(),
        "tags": list(tags), "recent": list(items.order_by("-received_at", "-id")[:recent]),
        "links": list(PainPointEvidence.objects.filter(pain_point=pain_point).select_related("item", "tag")),
    }
