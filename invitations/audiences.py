"""Who an audience is: its filter as a customer queryset (sized before anything is sent), or
its uploaded list. One function reads the criteria, so the size shown is the size sent to."""

from datetime import timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cxplatform.models import Customer
from surveys.models import Response

from .models import Audience, AudienceMember, Invitation

DAY_LIMIT = 3650


class CriteriaError(ValueError):
    """A filter that cannot be read; the message is for the manager."""


def clean_criteria(raw: dict, *, organization) -> dict:
    """The criteria as stored: known keys only, lists of strings, day counts in range."""
    criteria: dict = {}
    for key in ("segments", "languages"):
        values = [str(v).strip()[:100] for v in raw.get(key) or [] if str(v).strip()]
        if values:
            criteria[key] = values
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise CriteriaError(_("Attributes must be pairs of a name and a value."))
    attributes = {str(k).strip()[:50]: str(v).strip()[:200] for k, v in attributes.items() if str(k).strip()}
    if attributes:
        criteria["attributes"] = attributes
    for key in ("answered_within_days", "not_answered_within_days", "not_contacted_within_days"):
        value = raw.get(key)
        if value in (None, ""):
            continue
        try:
            days = int(value)
        except (TypeError, ValueError):
            raise CriteriaError(_("Days must be a whole number.")) from None
        if not 1 <= days <= DAY_LIMIT:
            raise CriteriaError(_("Days must be between 1 and %(limit)s.") % {"limit": DAY_LIMIT})
        criteria[key] = days
    touchpoints = [int(t) for t in raw.get("touchpoints") or [] if str(t).isdigit()]
    if touchpoints:
        from journeys.models import Touchpoint

        known = set(Touchpoint.objects.filter(organization=organization, pk__in=touchpoints)
                    .values_list("pk", flat=True))
        if known != set(touchpoints):
            raise CriteriaError(_("Pick touchpoints from the list."))
        criteria["touchpoints"] = sorted(known)
    return criteria


def customers(audience: Audience, *, now=None) -> QuerySet[Customer]:
    """The audience's customers, as one query (never loaded into memory)."""
    organization = audience.organization
    base = Customer.objects.filter(organization=organization)
    if audience.kind == Audience.Kind.LIST:
        return base.filter(Exists(AudienceMember.objects.filter(audience=audience, customer=OuterRef("pk"))))
    return filtered(base, audience.criteria or {}, organization=organization, now=now)


def filtered(base: QuerySet[Customer], criteria: dict, *, organization, now=None) -> QuerySet[Customer]:
    now = now or timezone.now()
    qs = base
    if criteria.get("segments"):
        qs = qs.filter(**{f"attributes__{organization.segment_attribute}__in": criteria["segments"]})
    if criteria.get("languages"):
        qs = qs.filter(language__in=criteria["languages"])
    for name, value in (criteria.get("attributes") or {}).items():
        qs = qs.filter(**{f"attributes__{name}": value})
    answers = Response.objects.filter(customer=OuterRef("pk"))
    if criteria.get("answered_within_days"):
        since = now - timedelta(days=criteria["answered_within_days"])
        qs = qs.filter(Exists(answers.filter(started_at__gte=since)))
    if criteria.get("not_answered_within_days"):
        since = now - timedelta(days=criteria["not_answered_within_days"])
        qs = qs.exclude(Exists(answers.filter(started_at__gte=since)))
    if criteria.get("not_contacted_within_days"):
        since = now - timedelta(days=criteria["not_contacted_within_days"])
        qs = qs.exclude(Exists(Invitation.objects.filter(customer=OuterRef("pk"), sent_at__gte=since)))
    if criteria.get("touchpoints"):
        qs = qs.filter(Exists(answers.filter(touchpoint_id__in=criteria["touchpoints"])))
    return qs


def size(audience: Audience) -> int:
    return customers(audience).count()


def preview_size(*, organization, criteria: dict) -> int:
    """The size of a filter not saved yet (the audience builder shows it as the manager types)."""
    return filtered(Customer.objects.filter(organization=organization), criteria, organization=organization).count()
