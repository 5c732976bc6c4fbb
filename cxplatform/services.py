"""Business rules of the platform core."""

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from .models import Customer


def normalise_phone(phone: str) -> str:
    """One spelling per number — digits, after a leading "+" if there was one — so "+371 2000-0000"
    and "+37120000000" are the same customer (the database keeps one customer per phone)."""
    phone = (phone or "").strip()
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+{digits}" if digits and phone.startswith("+") else digits


def find_customer(organization, *, external_id: str = "", email: str = "", phone: str = ""):
    """The organization's customer with this external id, else e-mail (any case), else phone."""
    customers = Customer.objects.for_org(organization)
    # LOWER(email), as the unique index is built, so the lookup uses it.
    for field, value in (("external_id", external_id), ("email_key", email.lower()), ("phone", phone)):
        if value:
            found = customers.annotate(email_key=Lower("email")).filter(**{field: value}).order_by("id").first()
            if found:
                return found
    return None


def identity_taken(organization, *, field: str, value: str, exclude_pk=None) -> bool:
    """Whether another customer of the organization has this external id, e-mail or phone."""
    if not value:
        return False
    lookup = {"email_key": value.lower()} if field == "email" else {field: value}
    return (Customer.objects.for_org(organization).annotate(email_key=Lower("email")).filter(**lookup)
            .exclude(pk=exclude_pk).exists())


def match_or_create_customer(organization, *, external_id="", email="", phone="", name="", language=""):
    """The organization's customer with this external id, else e-mail, else phone; created if new.

    Returns None when nothing identifies a customer. A customer is unique per organization by each
    of the three (database constraints), so two requests racing to create the same new customer —
    two webhook deliveries of one review, say — end with one: the loser finds the winner's row.
    """
    external_id, email = (external_id or "").strip()[:100], (email or "").strip()[:254]
    phone = normalise_phone(phone)[:40]
    if not (external_id or email or phone):
        return None
    found = find_customer(organization, external_id=external_id, email=email, phone=phone)
    if found:
        return found
    try:
        with transaction.atomic():
            return Customer.objects.create(organization=organization, external_id=external_id, name=name[:200],
                                           email=email, phone=phone, language=language)
    except IntegrityError:
        found = find_customer(organization, external_id=external_id, email=email, phone=phone)
        if found is None:
            raise
        return found
