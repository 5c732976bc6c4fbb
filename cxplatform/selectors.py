"""Reusable read queries of the platform core, always scoped to one organization."""

from django.db.models import Q

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
