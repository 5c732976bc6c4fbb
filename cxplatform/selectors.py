"""Reusable read queries of the platform core, always scoped to one organization."""

from django.db.models import Q
from django.db.models.functions import Lower

from .models import (
    DEFAULT_DELIVERY,
    Customer,
    Delivery,
    Notification,
    NotificationPreference,
    PersonalSettings,
)
from .tenancy import scoped


def customers(organization, search: str = ""):
    qs = scoped(Customer, organization)
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(email__icontains=search)
            | Q(external_id__iexact=search)
            | Q(phone__icontains=search)
        )
    return qs


def notifications(user, organization, limit: int = 100):
    """The member's bell in this organization, newest first."""
    return scoped(Notification, organization).filter(user=user, in_bell=True)[:limit]


def unread_notifications(user, organization) -> int:
    return scoped(Notification, organization).filter(user=user, in_bell=True, read_at__isnull=True).count()


def delivery_for(user, kind: str) -> str:
    """How `user` wants to hear of `kind`: their choice, else the platform's default."""
    chosen = NotificationPreference.objects.filter(user=user, kind=kind).values_list("delivery", flat=True).first()
    return chosen or DEFAULT_DELIVERY.get(kind, Delivery.BELL)


def own_language(user) -> str:
    """The language `user` chose for what the platform writes to them ("" if none)."""
    return PersonalSettings.objects.filter(user=user).values_list("language", flat=True).first() or ""


def language_of(user, organization) -> str:
    """The language the platform writes to `user` in: theirs, else the organization's."""
    from django.conf import settings

    return own_language(user) or organization.default_language or settings.LANGUAGE_CODE


def customers_by_reference(organization, references: list[str]) -> dict:
    """{reference: customer} for references that are a customer's id, external id or e-mail (any
    case), in three queries for any number. A reference naming no customer of the organization is
    left out (another organization's id is one)."""
    references = [str(ref).strip() for ref in references]
    found = {}
    rows = scoped(Customer, organization)
    ids = {int(ref) for ref in references if ref.isdigit() and len(ref) < 19}
    emails = {ref.lower() for ref in references if "@" in ref}
    by_external = {c.external_id: c for c in rows.filter(external_id__in=references).exclude(external_id="")}
    # E-mails compare in any case, as the unique constraint does.
    by_email = ({c.email.lower(): c for c in rows.annotate(lower_email=Lower("email")).filter(lower_email__in=emails)}
                if emails else {})
    by_id = {str(c.pk): c for c in rows.filter(pk__in=ids)} if ids else {}
    for ref in references:
        # The page's order: an external id first, then an e-mail; a bare number may also be our id.
        customer = by_external.get(ref) or by_email.get(ref.lower()) or by_id.get(ref)
        if customer is not None:
            found[ref] = customer
    return found


def more_rows_than(queryset, limit: int) -> bool:
    """Whether `queryset` has more than `limit` rows, counting at most one past it: the question
    an export asks before streaming (a count of every row would cost what the export does)."""
    return queryset.order_by().prefetch_related(None)[:limit + 1].count() > limit
