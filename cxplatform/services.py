"""Business rules of the platform core."""

from django.db import IntegrityError, transaction

from .models import Customer


def match_or_create_customer(organization, *, external_id="", email="", phone="", name="", language=""):
    """The organization's customer with this external id, else e-mail, else phone; created if new.

    Returns None when nothing identifies a customer. Safe under concurrency: two requests for
    the same new external id end with one customer.
    """
    external_id, email, phone = (external_id or "").strip(), (email or "").strip(), (phone or "").strip()
    customers = Customer.objects.for_org(organization)
    for field, value in (("external_id", external_id), ("email__iexact", email), ("phone", phone)):
        if value:
            found = customers.filter(**{field: value}).order_by("id").first()
            if found:
                return found
    if not (external_id or email or phone):
        return None
    fields = {"name": name[:200], "email": email[:254], "phone": phone[:40], "language": language}
    try:
        with transaction.atomic():
            return Customer.objects.create(organization=organization, external_id=external_id[:100], **fields)
    except IntegrityError:  # a concurrent request created the same external id first
        return customers.get(external_id=external_id[:100])
