"""Survey invitations the platform sends itself: audiences of the organization's customers,
campaigns to them, triggers from the shop/CRM/helpdesk, the suppression list, and one
`Invitation` row per person asked — the unit that is claimed, sent, reminded and counted."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cxplatform.models import Customer, OrgScopedModel
from cxplatform.versioning import Versioned
from surveys.models import Distribution, Response


class Medium(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class SendingProfile(models.Model):
    """How an organization's invitations go out. Its row is also the lock that serializes the
    organization's claims, so the throttle and the contact policy hold across workers."""

    organization = models.OneToOneField("cxplatform.Organization", on_delete=models.CASCADE,
                                        related_name="sending_profile")
    messages_per_minute = models.PositiveIntegerField(_("messages per minute"), default=600)
    from_name = models.CharField(_("sender name"), max_length=100, blank=True)
    reply_to = models.EmailField(_("reply-to address"), blank=True)

    def __str__(self):
        return f"{self.organization}: {self.messages_per_minute}/min"


class Suppression(OrgScopedModel):
    """An address the organization never writes to again, with why and since when."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Hard bounce")
        COMPLAINED = "complained", _("Spam complaint")
        ERASED = "erased", _("Personal data erased")
        ADDED = "added", _("Added by the team")

    class Source(models.TextChoices):  # how it came: shown in the reader's language
        LINK = "link", _("Unsubscribe link in the message")
        HEADER = "one-click header", _("One-click unsubscribe of the mail client")
        WEBHOOK = "webhook", _("Report from the mail provider")
        TEAM = "team", _("Added by the team")
        ERASURE = "erasure request", _("Erasure request")

    address = models.CharField(_("address"), max_length=254)  # lower-case e-mail or normalised phone
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    source = models.CharField(_("source"), max_length=40, blank=True, choices=Source.choices)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invitation = models.ForeignKey("Invitation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["organization", "address"], name="one_suppression_per_address")]
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")

    def __str__(self):
        return f"{self.address} ({self.reason})"


class Audience(Versioned, OrgScopedModel):
    """Who a campaign goes to: a saved filter over the customers, or an uploaded list."""

    class Kind(models.TextChoices):
        FILTER = "filter", _("Filter")
        LIST = "list", _("Uploaded list")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.FILTER)
    # {"segments": [...], "languages": [...], "attributes": {name: value}, "answered_within_days": n,
    #  "not_answered_within_days": n, "not_contacted_within_days": n, "touchpoints": [ids]}
    criteria = models.JSONField(_("filter"), default=dict, blank=True)
    members = models.ManyToManyField(Customer, through="AudienceMember", related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("audience")
        verbose_name_plural = _("audiences")

    def __str__(self):
        return self.name


class AudienceMember(models.Model):
    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["audience", "customer"], name="one_audience_member")]

    def __str__(self):
        return f"{self.audience_id}: {self.customer_id}"


class Message(models.Model):
    """The words of an invitation per language, shared by campaigns and trigger rules."""

    medium = models.CharField(_("sent by"), max_length=10, choices=Medium.choices, default=Medium.EMAIL)
    subject = models.JSONField(_("subject"), default=dict, blank=True)  # {"en": "...", "ru": "..."}
    body = models.JSONField(_("message"), default=dict, blank=True)
    # Days after the invitation on which a reminder goes to those who have not answered: [3, 7].
    reminder_days = models.JSONField(_("reminders after (days)"), default=list, blank=True)

    class Meta:
        abstract = True

    @property
    def languages(self) -> list[str]:
        return [code for code, _name in settings.LANGUAGES if (self.body or {}).get(code)]


class Campaign(Versioned, Message, OrgScopedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    class Recurrence(models.TextChoices):
        ONCE = "once", _("Once")
        WEEKLY = "weekly", _("Every week")
        MONTHLY = "monthly", _("Every month")

    name = models.CharField(_("name"), max_length=200)
    distribution = models.ForeignKey(Distribution, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("survey link"))
    audience = models.ForeignKey(Audience, on_delete=models.PROTECT, related_name="campaigns",
                                 verbose_name=_("audience"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)  # the next run; null: now
    recurrence = models.CharField(_("repeat"), max_length=10, choices=Recurrence.choices, default=Recurrence.ONCE)
    # A recurring relationship survey asks a rolling random sample, not everyone each time (0: all).
    sample_size = models.PositiveIntegerField(_("sample per run"), default=0)
    runs = models.PositiveIntegerField(default=0)  # runs prepared so far
    # Runs that have sent everything they queued (each told once: campaign.finished).
    runs_finished = models.PositiveIntegerField(default=0, db_default=0)  # db_default: older processes insert too
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "send_at"], name="campaign_due")]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self):
        return self.name


class TriggerRule(Versioned, Message, OrgScopedModel):
    """"CES 2 hours after a repair is closed": an event from another system, a survey link and a delay."""

    name = models.CharField(_("name"), max_length=200)
    event = models.SlugField(_("event"), max_length=60)  # e.g. order_delivered, inbox_item_resolved
    distribution = models.ForeignKey(Distribution, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("survey link"))
    delay_minutes = models.PositiveIntegerField(_("delay (minutes)"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event", "name"]
        indexes = [models.Index(fields=["organization", "event"], name="trigger_rule_event")]
        verbose_name = _("trigger rule")
        verbose_name_plural = _("trigger rules")

    def __str__(self):
        return f"{self.event} → {self.name}"


class TriggerEvent(OrgScopedModel):
    """One event received from another system; its idempotency key makes a retry a no-op."""

    event = models.SlugField(max_length=60)
    idempotency_key = models.CharField(max_length=200)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    touchpoint_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)  # what the caller sent, for the history
    received_at = models.DateTimeField(auto_now_add=True)
    rules_matched = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["organization", "idempotency_key"],
                                               name="one_trigger_per_key")]
        # A rule's history and the API's list filtered by event, newest first, at any size.
        indexes = [models.Index(fields=["organization", "event", "id"], name="trigger_event_history")]

    def __str__(self):
        return f"{self.event} ({self.idempotency_key})"


class SkipReason(models.TextChoices):
    POLICY = "policy", _("Asked recently (contact policy)")
    CAP = "cap", _("Over the contact limit for the period")
    SUPPRESSED = "suppressed", _("On the suppression list")
    NO_ADDRESS = "no_address", _("No address")
    DUPLICATE = "duplicate", _("Duplicate address")
    CLOSED = "closed", _("Survey not open")


class Invitation(OrgScopedModel):
    """One person asked once (with its reminders). Claimed by a conditional UPDATE before it is
    sent, so each is sent by one worker; a skip is recorded here with its reason."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="invitations")
    run = models.PositiveIntegerField(default=1)  # a recurring campaign's run
    trigger_rule = models.ForeignKey(TriggerRule, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="invitations")
    trigger_event = models.ForeignKey(TriggerEvent, null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="invitations")
    distribution = models.ForeignKey(Distribution, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    medium = models.CharField(max_length=10, choices=Medium.choices, default=Medium.EMAIL)
    address = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=5, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    skip_reason = models.CharField(max_length=12, choices=SkipReason.choices, blank=True)
    send_after = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # the invitation itself
    last_sent_at = models.DateTimeField(null=True, blank=True)  # it or its latest reminder: the throttle
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    response = models.ForeignKey(Response, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    bounced_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "run", "customer"], condition=Q(campaign__isnull=False),
                                    name="one_invitation_per_campaign_run"),
            models.UniqueConstraint(fields=["trigger_event", "trigger_rule"], condition=Q(trigger_event__isnull=False),
                                    name="one_invitation_per_trigger"),
        ]
        indexes = [
            models.Index(fields=["status", "send_after"], name="invitation_due",
                         condition=Q(status__in=["queued", "sending"])),
            models.Index(fields=["next_reminder_at"], name="invitation_reminder_due",
                         condition=Q(next_reminder_at__isnull=False)),
            models.Index(fields=["customer", "sent_at"], name="invitation_customer_sent"),
            models.Index(fields=["organization", "last_sent_at"], name="invitation_org_sent"),
            # The response-rate figures: an organization's invitations sent in a period.
            models.Index(fields=["organization", "sent_at"], name="invitation_org_sent_at"),
            models.Index(fields=["campaign", "status"], name="invitation_campaign_status"),
            models.Index(fields=["trigger_rule", "status"], name="invitation_rule_status"),
        ]

    def __str__(self):
        return f"{self.customer_id} ← {self.distribution_id} ({self.status})"
