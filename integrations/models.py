"""Outgoing webhooks (docs/adr/0027): an admin's subscription of a URL to events, and each call
made to it — one per (subscription, outbox event), retried by workers until delivered or failed."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cxplatform.models import OrgScopedModel


class WebhookEvent(models.TextChoices):
    """The events a subscription may ask for; `ping` is the page's "send test" only."""

    RESPONSE_COMPLETED = "response.completed", _("An answer is completed")
    CASE_OPENED = "case.opened", _("A call-back case is opened")
    CASE_RESOLVED = "case.resolved", _("A call-back case is resolved")
    FEEDBACK_CREATED = "feedback.created", _("A feedback item arrives in the inbox")
    GOAL_UPDATED = "goal.updated", _("A goal is changed")
    CAMPAIGN_FINISHED = "campaign.finished", _("A campaign run has sent all its invitations")


PING = "ping"


class WebhookSubscription(OrgScopedModel):
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)  # WebhookEvent values
    include_personal_data = models.BooleanField(
        _("include personal data"), default=False,
        help_text=_("Send the customer's name, e-mail, phone and hidden fields; without it, only their ids."))
    active = models.BooleanField(_("active"), default=True)
    # Kept readable: every call is signed with it. Shown once, when made or rotated.
    secret = models.CharField(max_length=80)
    # The first failed attempt since the last delivered one (None while delivering fine): the
    # subscription is disabled when this is WEBHOOKS_DISABLE_AFTER_DAYS old and attempts still fail.
    failing_since = models.DateTimeField(null=True, blank=True)
    last_delivered_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled after failing"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self):
        return self.description or self.url

    def event_labels(self) -> list[str]:
        labels = dict(WebhookEvent.choices)
        return [str(labels.get(name, name)) for name in self.events]


class WebhookCall(OrgScopedModel):
    """One event sent to one subscription: its body is written once (so a retry or a resend sends
    the same bytes) and `delivery_id` is the receiver's idempotency key across all attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="calls")
    # The outbox event it was made for (a plain id: delivered outbox rows are pruned after a week,
    # the log is not). None for a test ping.
    outbox_event_id = models.BigIntegerField(null=True, blank=True)
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(_("event"), max_length=40)
    body = models.TextField()  # the JSON, exactly as signed and sent
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # The retry window (WEBHOOKS_RETRY_HOURS) runs from here; a resend starts a new one.
    window_started_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # When a message carrying it went to the broker, so the beat never feeds a slow queue twice.
    queued_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(_("code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    response_excerpt = models.TextField(_("response"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # An at-least-once handler that runs twice makes no second call.
            models.UniqueConstraint(fields=["subscription", "outbox_event_id"],
                                    condition=models.Q(outbox_event_id__isnull=False),
                                    name="one_webhook_call_per_event"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"),
                         name="webhook_call_due_idx"),
            models.Index(fields=["subscription", "-created_at"], name="webhook_call_log_idx"),
        ]

    def __str__(self):
        return f"{self.event} → {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request of a call: what the delivery log shows under it."""

    call = models.ForeignKey(WebhookCall, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(_("time"))
    status_code = models.PositiveSmallIntegerField(_("code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    response_excerpt = models.TextField(_("response"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    delivered = models.BooleanField(default=False)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self):
        return f"{self.call_id} @ {self.attempted_at:%Y-%m-%d %H:%M:%S} → {self.status_code}"
