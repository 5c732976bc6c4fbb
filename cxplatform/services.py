"""Business rules of the platform core."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import selectors
from .models import (
    Customer,
    Delivery,
    Membership,
    Notification,
    NotificationKind,
    NotificationPreference,
    Organization,
    PersonalSettings,
)

logger = logging.getLogger(__name__)


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


# --- Notifications (docs/adr/0015) --------------------------------------------------------------

MAIL_REQUEUE_AFTER = timedelta(minutes=5)


def notify(*, user, organization: Organization, kind: str, message: dict, link: str = "",
           key: str = "", mailed_by_caller: bool = False) -> Notification | None:
    """Tell `user` something (`message` from `wording.message`) as they chose for `kind`: in the
    bell, by e-mail after the caller's transaction commits, both, or not at all. Only a member of
    `organization` is told; a `key` ("note:12") makes it once per person whatever re-runs. A caller
    with its own, fuller e-mail (reminders) sends it itself, asking `wants_mail` first."""
    if user is None or not Membership.objects.filter(user=user, organization=organization, is_active=True).exists():
        return None
    delivery = selectors.delivery_for(user, kind)
    if delivery == Delivery.NONE:
        return None
    fields = {"organization": organization, "kind": kind, "message_id": message["id"],
              "params": message.get("params") or {}, "link": link[:300],
              "in_bell": delivery in (Delivery.BELL, Delivery.BOTH),
              "mail_wanted": not mailed_by_caller and wants_mail(user=user, kind=kind, delivery=delivery)}
    if key:
        try:
            with transaction.atomic():
                notification = Notification.objects.create(user=user, key=key[:80], **fields)
        except IntegrityError:
            return None  # told already
    else:
        notification = Notification.objects.create(user=user, **fields)
    if notification.mail_wanted:
        transaction.on_commit(lambda: enqueue_mail(notification.pk))
    return notification


def wants_mail(*, user, kind: str, delivery: str | None = None) -> bool:
    delivery = delivery or selectors.delivery_for(user, kind)
    return delivery in (Delivery.EMAIL, Delivery.BOTH) and bool(user.email)


def enqueue_mail(notification_id: int) -> bool:
    from .tasks import mail_notification

    try:
        mail_notification.apply_async(args=[notification_id])
    except Exception:  # the broker is down: housekeeping hands it on later
        logger.warning("could not enqueue notification mail %s", notification_id, exc_info=True)
        return False
    return True


def mail_notification(notification_id: int) -> bool:
    """E-mail one notification in its recipient's language; False when there is nothing (left) to
    send. Claimed first, so a duplicated task never sends twice; released if sending fails."""
    claimed = Notification.objects.filter(pk=notification_id, mail_wanted=True, mailed_at__isnull=True).update(
        mailed_at=timezone.now())
    if not claimed:
        return False
    notification = Notification.objects.select_related("user", "organization").get(pk=notification_id)
    with translation.override(selectors.language_of(notification.user, notification.organization)):
        text = notification.rendered()
        subject = _("%(organization)s: %(text)s") % {"organization": notification.organization.name,
                                                       "text": text}
        body = text
        if notification.link:
            body += "\n\n" + settings.SITE_URL.rstrip("/") + notification.link
        body += "\n\n" + _("You can choose how you are told of each kind of notification: %(url)s") % {
            "url": settings.SITE_URL.rstrip("/") + reverse("notification_settings")}
    try:
        send_mail(subject[:200].replace("\n", " "), body + "\n", settings.DEFAULT_FROM_EMAIL, [notification.user.email])
    except Exception:
        Notification.objects.filter(pk=notification_id).update(mailed_at=None)
        raise
    return True


def requeue_unmailed(now=None) -> int:
    """Hand on the e-mails whose task never ran (a broker outage, a lost worker)."""
    now = now or timezone.now()
    ids = list(Notification.objects.filter(mail_wanted=True, mailed_at__isnull=True,
                                           created_at__lt=now - MAIL_REQUEUE_AFTER,
                                           created_at__gte=now - timedelta(days=2)).values_list("pk", flat=True))
    return sum(enqueue_mail(pk) for pk in ids)


def mark_read(*, user, organization: Organization, notification_id: int | None = None) -> int:
    """Mark one of the member's notifications read — with the others that lead to the same page, which
    they are about to see (an item given to them and a mention on it) — or all of them; another's
    ids change nothing."""
    unread = Notification.objects.for_org(organization).filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        link = unread.filter(pk=notification_id).values_list("link", flat=True).first()
        unread = unread.filter(Q(pk=notification_id) | Q(link=link)) if link else unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


def save_notification_settings(*, user, deliveries: dict[str, str], language: str) -> None:
    """A person's choice per kind of notification, and the language the platform writes to them in."""
    with transaction.atomic():
        for kind, delivery in deliveries.items():
            if kind not in NotificationKind.values or delivery not in Delivery.values:
                raise ValueError(f"not a notification choice: {kind}={delivery}")
            NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"delivery": delivery})
        PersonalSettings.objects.update_or_create(user=user, defaults={"language": language})
