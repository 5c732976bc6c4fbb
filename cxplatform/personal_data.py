"""Customers' personal data leaving the platform: only for roles with `Capability.PERSONAL_DATA`;
everyone else gets a pseudonym — stable per customer, so answers can still be grouped by customer,
and meaningless outside this installation (a keyed hash, not the id)."""

import hashlib
import hmac

from django.conf import settings

# What an erased text says (privacy.services writes it). Non-empty on purpose: a comment still
# counts as a comment, and it keeps the sentiment and themes read before — no reader reads it again.
ERASED_TEXT = "[erased]"


def pseudonym(customer) -> str:
    if customer is None:
        return ""
    return pseudonym_of(customer.organization_id, customer.pk)


def pseudonym_of(organization_id: int, customer_id: int) -> str:
    """`pseudonym` from the ids alone (exports read rows as tuples, not customers)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"customer:{organization_id}:{customer_id}".encode(),
                      hashlib.sha256).hexdigest()
    return f"C-{digest[:12]}"
