"""Reusable read queries of the platform core, always scoped to one organization."""

from django.db.models import Q

from .models import Customer
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
