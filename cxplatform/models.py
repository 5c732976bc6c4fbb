"""Tenancy (organizations, memberships, roles), customers, the event outbox, import jobs."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .tenancy import OrgScopedQuerySet


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    default_language = models.CharField(
        _("default language"), max_length=5, choices=settings.LANGUAGES, default="en"
    )
    # The customer attribute that splits customers into segments for metrics (e.g. "plan").
    segment_attribute = models.CharField(_("segment attribute"), max_length=50, default="segment")
    # ISO 4217: the currency of imported revenue, so money (CLV) is never shown as a bare number.
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    # IANA name: "send at 9:00" and recurring campaigns mean the team's 9:00.
    time_zone = models.CharField(_("time zone"), max_length=60, default="UTC")
    # Every member must sign in with a second factor (docs/adr/0026); SSO sign-ins are exempt.
    require_two_factor = models.BooleanField(_("require two-factor sign-in"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self):
        return self.name


class Branding(models.Model):
    """How an organization's surveys look to its customers: on the public page, in embeds and in
    e-mails (cxplatform.branding). The colour is refused when text on it, or it as text on white,
    would fall below WCAG AA contrast."""

    class Font(models.TextChoices):
        SYSTEM = "system", _("System (the phone's own)")
        SERIF = "serif", _("Serif")
        ROUNDED = "rounded", _("Rounded")
        MONO = "mono", _("Monospace")

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="branding")
    colour = models.CharField(_("brand colour"), max_length=7, default="#1f6feb")
    font = models.CharField(_("font"), max_length=10, choices=Font.choices, default=Font.SYSTEM)
    logo = models.FileField(_("logo"), upload_to="branding/", blank=True, max_length=200)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.organization}: {self.colour}"


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    CX_MANAGER = "cx_manager", _("CX manager")
    AGENT = "agent", _("Support agent")
    VIEWER = "viewer", _("Viewer")


class Capability(models.TextChoices):
    """What a role may do. Views and the API ask for a capability, never for a role name."""

    VIEW = "view"  # read everything of the organization
    WORK_INBOX = "work_inbox"  # triage feedback, close loops
    DESIGN = "design"  # surveys, journey maps, goals and actions
    ADMINISTER = "administer"  # members, settings, integrations
    # Take customers' names, e-mails and phones out of the platform (exports, the API); without it,
    # exports carry a pseudonym instead.
    PERSONAL_DATA = "personal_data"


ROLE_CAPABILITIES = {
    Role.ADMIN: {Capability.VIEW, Capability.WORK_INBOX, Capability.DESIGN, Capability.ADMINISTER,
                 Capability.PERSONAL_DATA},
    Role.CX_MANAGER: {Capability.VIEW, Capability.WORK_INBOX, Capability.DESIGN, Capability.PERSONAL_DATA},
    Role.AGENT: {Capability.VIEW, Capability.WORK_INBOX, Capability.PERSONAL_DATA},
    Role.VIEWER: {Capability.VIEW},
}


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    # A deactivated member keeps their history (assignments, notes, audit entries) but acts nowhere:
    # no page, no API token of this organization answers them.
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")]
        ordering = ["organization__name"]

    def __str__(self):
        return f"{self.user} @ {self.organization} ({self.role})"

    def can(self, capability: str) -> bool:
        return capability in ROLE_CAPABILITIES[Role(self.role)]


class OrgScopedModel(models.Model):
    """Base of every domain row: it belongs to exactly one organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class Customer(OrgScopedModel):
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, blank=True)
    attributes = models.JSONField(_("segment attributes"), default=dict, blank=True)
    # Imported from the organization's own systems (CRM, billing) for churn rate and CLV.
    active_since = models.DateField(_("customer since"), null=True, blank=True)
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True)
    revenue = models.DecimalField(_("revenue to date"), max_digits=14, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~models.Q(external_id=""),
                name="customer_external_id_unique_per_org",
            ),
            # One customer per e-mail (in any case) and per phone (services.normalise_phone's
            # spelling): concurrent first contacts cannot make two.
            models.UniqueConstraint(
                models.F("organization"), Lower("email"),
                condition=~models.Q(email=""),
                name="customer_email_unique_per_org",
            ),
            models.UniqueConstraint(
                fields=["organization", "phone"],
                condition=~models.Q(phone=""),
                name="customer_phone_unique_per_org",
            ),
            models.CheckConstraint(
                condition=models.Q(revenue__gte=0), name="customer_revenue_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(active_since__isnull=True)
                | models.Q(cancelled_on__isnull=True)
                | models.Q(cancelled_on__gte=models.F("active_since")),
                name="customer_cancelled_not_before_active",
            ),
        ]
        indexes = [
            # Churn counts customers lost in a period: cancelled_on within [start, end) per organization.
            models.Index(fields=["organization", "cancelled_on"], name="customer_org_cancelled_idx"),
        ]

    def __str__(self):
        return self.name or self.email or self.external_id or f"#{self.pk}"


class ImportJobBase(OrgScopedModel):
    """An uploaded file imported row by row in the background, with its progress and row report.

    The base of every import's job (survey responses, inbox items, customers); its life — claimed
    once, counted batch by batch, finished, its file deleted — is `cxplatform.import_jobs`.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    # (field, key in the command's JSON report, label on the page) of each count the kind reports
    # besides the bad rows, which every kind has.
    COUNTERS: tuple[tuple[str, str, str], ...] = ()

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # Under a random name; emptied (and the file deleted) when the job ends, or a day after upload.
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    original_name = models.CharField(max_length=255)
    language = models.CharField(max_length=10, blank=True)  # the uploader's: the report is written in it
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    imported_rows = models.PositiveIntegerField(default=0)
    updated_rows = models.PositiveIntegerField(default=0)
    duplicate_rows = models.PositiveIntegerField(default=0)  # already there: skipped, or unchanged
    error_rows = models.PositiveIntegerField(default=0)
    # [{"row": 12, "reason": "..."}]: the first bad rows with their number in the file and the reason.
    errors = models.JSONField(default=list, blank=True)
    ignored_columns = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # claims: a lost worker's job is taken over
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # the last batch counted
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.original_name

    @property
    def running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def progress_percent(self) -> int:
        return 100 if self.status == self.Status.DONE else int(100 * self.processed_rows / max(self.total_rows, 1))

    @property
    def counters(self) -> list[dict]:
        return [{"field": name, "key": key, "label": label, "value": getattr(self, name)}
                for name, key, label in self.COUNTERS]

    def report(self) -> dict:
        """The job as the import commands print it with --json."""
        return {"job": self.pk, "status": self.status, "file": self.original_name, "rows": self.processed_rows,
                **{key: getattr(self, name) for name, key, _label in self.COUNTERS},
                "error_rows": self.error_rows, "errors": self.errors, "ignored_columns": self.ignored_columns,
                "failure": self.failure}


class CustomerImportJob(ImportJobBase):
    """An upload of customers (`cxplatform.customer_import`)."""

    COUNTERS = (("imported_rows", "created", _("Created")), ("updated_rows", "updated", _("Updated")),
                ("duplicate_rows", "unchanged", _("Unchanged")))

    class Meta(ImportJobBase.Meta):
        pass

    def get_absolute_url(self):
        return reverse("customer_import_detail", kwargs={"customerimportjob_id": self.pk})


class OutboxEvent(models.Model):
    """An event written in the emitter's transaction and delivered to handlers at least once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        DEAD = "dead", _("dead")

    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    version = models.PositiveSmallIntegerField(default=1)  # of the payload, as its declaration said
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="outbox_pending_idx",
            )
        ]

    def __str__(self):
        return f"{self.name} #{self.pk} ({self.status})"


class EventDelivery(models.Model):
    """One subscriber's delivery of one event: claimed, retried with back-off and settled on its
    own, so a failing subscriber never re-runs the others (docs/adr/0018)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        DEAD = "dead", _("dead")

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When a message carrying it was handed to the broker (cleared when a worker claims it), so
    # the beat task never feeds a slow queue the same work twice.
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = _("event deliveries")
        constraints = [models.UniqueConstraint(fields=["event", "subscriber"], name="one_delivery_per_subscriber")]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"),
                         name="delivery_due_idx"),
            models.Index(fields=["status"], condition=models.Q(status="dead"), name="delivery_dead_idx"),
        ]

    def __str__(self):
        return f"{self.subscriber} ← event #{self.event_id} ({self.status})"


class PipelineProbe(models.Model):
    """Proof that the event path works end to end: written by the `platform.ping` handler."""

    token = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.token


# --- Notifications: a platform service any app may use (docs/adr/0015) -------------------------


class NotificationKind(models.TextChoices):
    """What a notification is about; each person chooses per kind how to be told."""

    MENTION = "mention", _("Someone mentions me in a note")
    ASSIGNED = "assigned", _("I am given a goal or an action")
    COMMENT = "comment", _("Someone comments on my action")
    REMINDER = "reminder", _("My action is due soon or overdue")
    ITEM_ASSIGNED = "item_assigned", _("An inbox item or a call-back case is given to me")
    SLA = "sla", _("An item of mine is about to breach its SLA, or breached it")
    WEBHOOK_FAILING = "webhook_failing", _("A webhook of my organization stops working")  # admins only
    OTHER = "other", _("Other notices")  # those written before kinds existed; nothing is sent as one


# The kinds a person chooses for (the settings page). A failing webhook reaches only admins, always
# by bell and e-mail: it is not on everyone's page.
CHOSEN_KINDS = [kind for kind in NotificationKind
                if kind not in (NotificationKind.OTHER, NotificationKind.WEBHOOK_FAILING)]


class Delivery(models.TextChoices):
    BOTH = "both", _("Bell and e-mail")
    BELL = "bell", _("Bell only")
    EMAIL = "email", _("E-mail only")
    NONE = "none", _("Not at all")


# Until a person chooses: what the platform did before preferences existed.
DEFAULT_DELIVERY = {NotificationKind.MENTION: Delivery.BOTH, NotificationKind.REMINDER: Delivery.BOTH,
                    NotificationKind.WEBHOOK_FAILING: Delivery.BOTH, NotificationKind.ITEM_ASSIGNED: Delivery.BOTH,
                    NotificationKind.SLA: Delivery.BOTH}


class Notification(OrgScopedModel):
    """A message to one member (the bell in the top bar, an e-mail, or both). Its words are a
    message id with parameters, rendered in the reader's language; rows written before that
    keep their frozen `text`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices,
                            default=NotificationKind.OTHER)
    message_id = models.CharField(max_length=80, blank=True)
    params = models.JSONField(default=dict, blank=True)
    text = models.CharField(_("text"), max_length=300, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    in_bell = models.BooleanField(default=True)
    mail_wanted = models.BooleanField(default=False)
    mailed_at = models.DateTimeField(null=True, blank=True)  # the e-mail's claim (conditional update)
    # What the notice is about ("note:12"), so a redelivered event or a re-run never tells twice.
    key = models.CharField(max_length=80, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "organization"], name="cx_notification_unread_idx",
                                condition=models.Q(read_at__isnull=True, in_bell=True))]
        constraints = [models.UniqueConstraint(fields=["user", "key"], condition=~models.Q(key=""),
                                               name="one_notification_per_user_key")]

    def __str__(self):
        return self.rendered()

    def rendered(self, language: str | None = None) -> str:
        from .wording import render

        return render(self.message_id, self.params, language=language, fallback=self.text) or self.text


class NotificationPreference(models.Model):
    """How one person wants to hear of one kind of notification."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    delivery = models.CharField(_("how"), max_length=5, choices=Delivery.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_user_kind")]

    def __str__(self):
        return f"{self.user_id} {self.kind}: {self.delivery}"


class PersonalSettings(models.Model):
    """A person's own settings, whichever organization they work in: the language the platform
    writes to them in (e-mails); blank means their organization's language."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_settings")
    language = models.CharField(_("language of my e-mails"), max_length=5, choices=settings.LANGUAGES, blank=True)

    def __str__(self):
        return f"{self.user_id}: {self.language or '—'}"


class AuditEntryQuerySet(OrgScopedQuerySet):
    """The audit log is append-only: nothing in the platform edits or deletes an entry, except the
    retention purge (`cxplatform.audit.purge_expired`), which PostgreSQL's trigger lets through."""

    def update(self, **kwargs):
        raise PermissionError("audit log entries are append-only")

    def delete(self):
        raise PermissionError("audit log entries are append-only")


class AuditEntry(models.Model):
    """Who did what that matters, when and from where (docs/adr/0025).

    Who and what are also kept as text, so an entry still reads right after the person, the token
    or the object is gone; no foreign key constraint ties an entry to a row that may be deleted.
    """

    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.DO_NOTHING,
                                     db_constraint=False, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+")
    actor_label = models.CharField(_("who"), max_length=200, blank=True)
    token_id = models.PositiveIntegerField(null=True, blank=True)  # the API token it acted through
    action = models.CharField(_("what"), max_length=60)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(_("on what"), max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("from"), null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_time"),
            models.Index(fields=["organization", "action", "-created_at"], name="audit_org_action_time"),
            # The log page's "person" filter walks one member's entries newest first.
            models.Index(fields=["organization", "actor", "-created_at"], name="audit_org_actor_time"),
            models.Index(fields=["created_at"], name="audit_time"),  # the retention purge
        ]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("audit log entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit log entries are append-only")


class ThemeSetting(OrgScopedModel):
    """An organization's edit of one comment theme (a concept key such as "delivery", or a free
    phrase): its own name for it, a merge into another theme, or hiding it from figures. Applied
    when figures are read (cxplatform.theme_catalog), so an edit needs no re-reading of comments
    (docs/adr/0032). A theme with no edit left has no row."""

    MAX_LENGTH = 80  # as surveys.ResponseTheme.phrase

    theme = models.CharField(_("theme"), max_length=MAX_LENGTH)
    label = models.CharField(_("name"), max_length=MAX_LENGTH, blank=True)  # shown in every language
    hidden = models.BooleanField(_("hidden"), default=False)
    merged_into = models.CharField(_("merged into"), max_length=MAX_LENGTH, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "theme"], name="one_theme_setting_per_theme"),
            models.CheckConstraint(condition=~models.Q(merged_into=models.F("theme")),
                                   name="theme_not_merged_into_itself"),
        ]
        verbose_name = _("theme setting")

    def __str__(self):
        return self.theme

    @property
    def is_empty(self) -> bool:
        return not (self.label or self.hidden or self.merged_into)


# Models of cxplatform's sub-packages (team, sign-in, API tokens), so Django finds them in this app.
from .signin.models import SSODomain  # noqa: E402, F401
from .team.models import MemberInvitation, SessionGeneration  # noqa: E402, F401
from .tokens.models import ApiToken  # noqa: E402, F401
