"""The weekly digest: the executive summary of the last seven days, e-mailed every Monday to
the members who asked for it (console e-mail backend by default)."""

from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cxplatform.models import Membership

from .models import DigestDelivery, DigestSubscription
from .narrative import executive_summary
from .selectors import Scope


def subscribe(organization, user, on: bool) -> None:
    if on:
        DigestSubscription.objects.get_or_create(organization=organization, user=user)
    else:
        DigestSubscription.objects.filter(organization=organization, user=user).delete()


def last_week(today: date) -> tuple[date, date]:
    """[Monday, next Monday) of the last whole week before `today`."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7), monday


def send(subscription_id: int, week: date) -> bool:
    """Send one subscriber the digest of the week starting `week`; False if it was already sent
    (or the subscription is gone). The claim row is written first; if the e-mail fails, it is
    removed again so the retry sends it."""
    subscription = DigestSubscription.objects.select_related("organization", "user").filter(
        pk=subscription_id).first()
    if subscription is None or not subscription.user.email:
        return False
    if not Membership.objects.filter(user=subscription.user_id, organization=subscription.organization_id,
                                     is_active=True).exists():
        return False  # deactivated since the task was queued
    try:
        with transaction.atomic():
            claim = DigestDelivery.objects.create(subscription=subscription, week=week)
    except IntegrityError:
        return False
    try:
        _mail(subscription, week)
    except Exception:
        claim.delete()
        raise
    return True


def _mail(subscription, week: date) -> None:
    organization = subscription.organization
    with translation.override(organization.default_language or settings.LANGUAGE_CODE):
        scope = Scope(organization, week, week + timedelta(days=7))
        context = {"summary": executive_summary(scope), "organization": organization,
                   "url": settings.SITE_URL.rstrip("/") + reverse("metrics:executive")}
        subject = _("%(organization)s: your week in customer experience") % {"organization": organization.name}
        message = EmailMultiAlternatives(subject, render_to_string("metrics/digest_email.txt", context),
                                         settings.DEFAULT_FROM_EMAIL, [subscription.user.email])
        message.attach_alternative(render_to_string("metrics/digest_email.html", context), "text/html")
    message.send()


def due(today: date | None = None) -> tuple[list[int], date]:
    """The subscriptions that have not had last week's digest yet, and that week's Monday."""
    week, _end = last_week(today or timezone.now().date())
    sent = DigestDelivery.objects.filter(week=week).values("subscription_id")
    # A deactivated member no longer receives the organization's figures.
    subscribed = DigestSubscription.objects.filter(user__memberships__organization=F("organization"),
                                                  user__memberships__is_active=True)
    return list(subscribed.exclude(pk__in=sent).values_list("pk", flat=True)), week
