"""The people who act on feedback. The inbox (items, tags, routing, SLAs) builds on these."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cxplatform.models import ImportJobBase, OrgScopedModel
from cxplatform.naming import NamedPerLanguage
from cxplatform.textinsight.tokens import search_text
from cxplatform.versioning import Versioned
from journeys.models import Touchpoint


class Team(Versioned, OrgScopedModel):
    """A frontline team: its agents, its lead (who gets escalations) and the touchpoints it
    answers for — its members' frontline view shows those touchpoints' figures."""

    name = models.CharField(_("name"), max_length=120)
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("team lead"))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="cx_teams",
                                     verbose_name=_("members"))
    touchpoints = models.ManyToManyField(Touchpoint, blank=True, related_name="teams", verbose_name=_("touchpoints"))
    # Round robin: the member who got the team's last item (the next one goes to the member after).
    last_assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="team_name_unique_per_org")]

    def __str__(self):
        return self.name


class Tag(NamedPerLanguage, OrgScopedModel):
    """A label agents put on items ("complaint", "feature request"); a managed list per
    organization, named in each of its languages (`shown_name`)."""

    name = models.CharField(_("name"), max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="tag_name_unique_per_org")]

    def __str__(self):
        return self.shown_name


class FeedbackItem(OrgScopedModel):
    """One customer voice in the inbox: a survey comment, an e-mail, a review, a chat… Its
    `source` and `source_id` identify it where it came from, so the same review imported twice
    is one item."""

    class Source(models.TextChoices):
        SURVEY = "survey", _("Survey comment")
        EMAIL = "email", _("E-mail")
        CHAT = "chat", _("Chat transcript")
        SOCIAL = "social", _("Social post")
        REVIEW = "review", _("Review site")
        CALL = "call", _("Call note")
        MANUAL = "manual", _("Manual entry")
        API = "api", _("API")
        IMPORT = "import", _("Import")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting on customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Priority(models.IntegerChoices):  # a number, so "most urgent first" is an ORDER BY
        URGENT = 1, _("Urgent")
        HIGH = 2, _("High")
        NORMAL = 3, _("Normal")
        LOW = 4, _("Low")

    class Kind(models.TextChoices):
        VOICE = "voice", _("Feedback")
        CASE = "case", _("Closed-loop case")  # an unhappy answer someone must call back about

    class LoopState(models.TextChoices):
        """Why an unhappy answer's item is not (or no longer) a call-back case."""

        NONE = "", "—"
        UNREACHABLE = "unreachable", _("Nobody to call back")  # a case rule took it; no e-mail, no phone
        WITHDRAWN = "withdrawn", _("Call-back withdrawn")  # the customer changed the answer

    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_id = models.CharField(_("id at the source"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices, default=Kind.VOICE)
    # The survey answer a survey comment came from (kept as an id: feedback sits above surveys,
    # but a survey response must never be deleted by the inbox).
    response = models.OneToOneField("surveys.Response", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="feedback_item")
    customer = models.ForeignKey("cxplatform.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="feedback_items", verbose_name=_("customer"))
    channel = models.ForeignKey("journeys.Channel", null=True, blank=True, on_delete=models.SET_NULL,
                                verbose_name=_("channel"))
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="feedback_items", verbose_name=_("touchpoint"))
    text = models.TextField(_("text"))
    # The text's search forms (textinsight.tokens.search_text), written with the text: the inbox's
    # search reads only this, the same way on PostgreSQL and SQLite (docs/adr/0016).
    search_words = models.TextField(default="", blank=True, editable=False)
    # When the platform wrote the text (a score without a comment), its message id and parameters:
    # shown in the reader's language; `text` keeps the organization's wording for search.
    text_message = models.JSONField(default=dict, blank=True)
    rating = models.SmallIntegerField(_("rating"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=5, blank=True)
    sentiment = models.SmallIntegerField(_("sentiment"), null=True, blank=True)  # −1, 0, +1
    # Whether the current text's sentiment, language and themes are in: a worker reads the text
    # (services.read_item), never the request that brought it (docs/adr/0021).
    text_read = models.BooleanField(default=False)
    received_at = models.DateTimeField(_("received"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="items",
                             verbose_name=_("team"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_feedback", verbose_name=_("assignee"))
    tags = models.ManyToManyField(Tag, blank=True, related_name="items", verbose_name=_("tags"))
    version = models.PositiveIntegerField(default=1)  # optimistic lock: an edit names the version it saw
    routed_at = models.DateTimeField(null=True, blank=True)  # claimed by the routing worker: rules run once
    # SLA clock (from the policy of the item's priority; see sla.py)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    sla_state = models.CharField(_("SLA"), max_length=10, blank=True,
                                 choices=[("", _("on time")), ("at_risk", _("about to breach")),
                                          ("breached", _("breached"))])
    # The closed loop (kind = case): the rule that opened it, why the customer was unhappy and what
    # was done (both needed to resolve it), and the follow-up that tells whether they were recovered.
    loop_rule = models.ForeignKey("CloseLoopRule", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="cases", verbose_name=_("close-loop rule"))
    # Of an item that is not a case although a case rule took its answer (docs/adr/0011).
    loop_state = models.CharField(_("call-back"), max_length=12, choices=LoopState.choices, blank=True, default="")
    root_cause = models.ForeignKey("RootCause", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="items", verbose_name=_("root cause"))
    resolution_note = models.TextField(_("what was done"), blank=True)
    follow_up_wanted = models.BooleanField(default=False)  # asked for on resolving; sent by a worker
    follow_up_sent_at = models.DateTimeField(_("follow-up sent"), null=True, blank=True)
    follow_up_score = models.SmallIntegerField(_("follow-up score"), null=True, blank=True)
    recovered = models.BooleanField(_("customer recovered"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "source", "source_id"], condition=~models.Q(source_id=""),
                                    name="one_item_per_source_id"),
            models.CheckConstraint(condition=models.Q(sentiment__in=[-1, 0, 1]) | models.Q(sentiment__isnull=True),
                                   name="item_sentiment_is_a_sign"),
        ]
        indexes = [
            models.Index(fields=["organization", "-received_at", "-id"]),
            models.Index(fields=["organization", "status", "-received_at"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["organization", "kind", "-received_at"], name="item_kind_idx"),
            # The inbox opens on the open items, newest first: a small index however many are closed.
            models.Index(fields=["organization", "-received_at", "-id"], name="item_open_newest_idx",
                         condition=models.Q(status__in=["new", "open", "waiting"])),
            # The views' counts read only this (an index-only scan of the open items).
            models.Index(fields=["organization"], name="item_open_counts_idx",
                         include=["assignee", "priority", "sla_state", "kind", "first_responded_at",
                                  "first_response_due", "resolution_due"],
                         condition=models.Q(status__in=["new", "open", "waiting"])),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_source_display()}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "text" in update_fields:
            self.search_words = search_text(self.text)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "search_words"}
        super().save(*args, **kwargs)
    @property
    def display_text(self) -> str:
        """The text in the reader's language when the platform wrote it, else as the customer wrote it."""
        from cxplatform.wording import text

        return text(self.text_message, fallback=self.text) if self.text_message else self.text


class ItemTheme(OrgScopedModel):
    """A theme of an item's text ("delivery", "battery range") with the sign of its own clauses:
    "fast delivery but the app crashes" is +1 under delivery and −1 under the app. The key is the
    one the reader found; pages show it through the organization's theme catalog."""

    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="themes")
    key = models.CharField(max_length=80)
    sentiment = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "key"], name="one_theme_row_per_item")]
        indexes = [models.Index(fields=["organization", "key"])]

    def __str__(self):
        return self.key


class ItemEvent(models.Model):
    """The item's activity log: who did what, when. `action` and `details` are for code; `message`
    ({"id", "params"}) is what it says, rendered in the reader's language (feedback.activity)."""

    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    action = models.CharField(max_length=40)
    details = models.JSONField(default=dict, blank=True)
    message = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.item_id} {self.action}"


class Note(models.Model):
    """An internal note on an item (customers never see it); @username mentions notify colleagues."""

    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("note"))
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="feedback_mentions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.item_id}: {self.text[:40]}"


class RoutingRule(Versioned, OrgScopedModel):
    """When an item matches every condition that is set, do the actions. Rules run in order as
    items arrive; a rule may stop the ones after it."""

    class Assign(models.TextChoices):
        NONE = "", _("Nobody")
        ROUND_ROBIN = "round_robin", _("Round robin in the team")
        LEAST_OPEN = "least_open", _("The team member with the fewest open items")

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    # Conditions (empty = any)
    source = models.CharField(_("source"), max_length=10, choices=FeedbackItem.Source.choices, blank=True)
    channel = models.ForeignKey("journeys.Channel", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("channel"))
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("touchpoint"))
    rating_min = models.SmallIntegerField(_("rating from"), null=True, blank=True)
    rating_max = models.SmallIntegerField(_("rating up to"), null=True, blank=True)
    sentiment = models.SmallIntegerField(_("sentiment"), null=True, blank=True,
                                         choices=[(-1, _("negative")), (0, _("neutral")), (1, _("positive"))])
    keywords = models.CharField(_("any of the words"), max_length=500, blank=True,
                                help_text=_("Comma-separated; every form of a word matches (задержка, задержкой)."))
    segment = models.CharField(_("customer segment"), max_length=100, blank=True)
    # Actions
    add_tags = models.ManyToManyField(Tag, blank=True, related_name="+", verbose_name=_("add tags"))
    set_priority = models.PositiveSmallIntegerField(_("set priority"), null=True, blank=True,
                                                    choices=FeedbackItem.Priority.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("assign to team"))
    assign = models.CharField(_("assign to an agent"), max_length=12, choices=Assign.choices, blank=True)
    stop = models.BooleanField(_("stop after this rule"), default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class SlaPolicy(Versioned, OrgScopedModel):
    """Targets for one priority: first response and resolution within so many hours — business
    hours (Monday to Friday, `day_start` to `day_end` in `time_zone`) or calendar hours."""

    priority = models.PositiveSmallIntegerField(_("priority"), choices=FeedbackItem.Priority.choices)
    first_response_hours = models.PositiveIntegerField(_("first response within (hours)"))
    resolution_hours = models.PositiveIntegerField(_("resolution within (hours)"))
    business_hours = models.BooleanField(_("count business hours only"), default=True)
    day_start = models.TimeField(_("business day starts"), default="09:00")
    day_end = models.TimeField(_("business day ends"), default="18:00")
    time_zone = models.CharField(_("time zone"), max_length=60, default="Europe/Riga")
    warn_before_minutes = models.PositiveIntegerField(_("warn this many minutes before a breach"), default=60)

    class Meta:
        ordering = ["priority"]
        constraints = [models.UniqueConstraint(fields=["organization", "priority"], name="one_sla_per_priority")]

    def __str__(self):
        return f"{self.get_priority_display()}: {self.first_response_hours} h / {self.resolution_hours} h"


class Message(OrgScopedModel):
    """The conversation with the customer on an item: replies agents send (out) and what the
    customer writes back (in). A reply is e-mailed by a worker after it is saved, never inside
    the transaction that saved it; `status` is its delivery, claimed with a conditional update so
    a retried task does not send it twice."""

    class Direction(models.TextChoices):
        OUT = "out", _("Reply to the customer")
        IN = "in", _("From the customer")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("not sent")
        RECEIVED = "received", _("received")

    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="messages")
    class Via(models.TextChoices):
        EMAIL = "email", _("E-mail")
        CALL = "call", _("Phone call")  # logged by the agent: nothing is sent

    direction = models.CharField(max_length=3, choices=Direction.choices)
    via = models.CharField(_("via"), max_length=5, choices=Via.choices, default=Via.EMAIL)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    text = models.TextField(_("message"))
    to_address = models.EmailField(_("to"), blank=True)
    # An incoming message's id at its source (a mail's Message-ID, a chat message id): sent twice, kept once.
    source_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "source_id"], condition=~models.Q(source_id=""),
                                    name="one_message_per_source_id"),
        ]
        indexes = [
            models.Index(fields=["item", "direction", "created_at"]),
            models.Index(fields=["status", "created_at"], condition=models.Q(status__in=["queued", "sending"]),
                         name="message_unsent_idx"),
        ]

    def __str__(self):
        return f"{self.item_id} {self.direction}: {self.text[:40]}"


class CannedReply(Versioned, OrgScopedModel):
    """A prepared answer agents start a reply from. {customer}, {agent} and {item} are filled in."""

    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, blank=True,
                                help_text=_("Offered for items in this language; empty for every language."))

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["organization", "title", "language"],
                                               name="canned_reply_title_unique")]

    def __str__(self):
        return self.title


class SavedView(OrgScopedModel):
    """A named set of inbox filters, the agent's own or shared with the whole organization."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(max_length=1000)  # the inbox's query string, checked by its filter form
    shared = models.BooleanField(_("share with the team"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "owner", "name"],
                                               name="saved_view_name_unique")]

    def __str__(self):
        return self.name


class WebhookEndpoint(Versioned, OrgScopedModel):
    """An address another tool (a review site, a chat widget, Zapier) posts feedback to. The key
    in the URL identifies the endpoint; when a secret is set, every request must also carry its
    HMAC-SHA256 signature of the body."""

    name = models.CharField(_("name"), max_length=120)
    source = models.CharField(_("source"), max_length=10, choices=FeedbackItem.Source.choices,
                              default=FeedbackItem.Source.API)
    key = models.CharField(max_length=64, unique=True)
    secret = models.CharField(_("signing secret"), max_length=128, blank=True)
    active = models.BooleanField(_("active"), default=True)
    received = models.PositiveIntegerField(default=0)
    last_received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class WebhookDelivery(models.Model):
    """A delivery id a signed endpoint has received: taken once, so a captured request cannot be
    replayed. Kept only as long as a timestamp is accepted (webhooks.TOLERANCE, twice over)."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "delivery_id"], name="one_delivery_per_id")]
        indexes = [models.Index(fields=["endpoint", "received_at"])]

    def __str__(self):
        return self.delivery_id


class PainPointEvidence(OrgScopedModel):
    """What shows a journey's pain point is real: an inbox item, or a tag (every item carrying it).
    It lives here, pointing down at journeys, so journeys never imports the inbox."""

    pain_point = models.ForeignKey("journeys.PainPoint", on_delete=models.CASCADE, related_name="evidence",
                                   verbose_name=_("pain point"))
    item = models.ForeignKey(FeedbackItem, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence",
                             verbose_name=_("item"))
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence",
                            verbose_name=_("tag"))
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(item__isnull=False, tag__isnull=True)
                                   | models.Q(item__isnull=True, tag__isnull=False), name="evidence_is_item_or_tag"),
            models.UniqueConstraint(fields=["pain_point", "item"], condition=models.Q(item__isnull=False),
                                    name="one_evidence_per_item"),
            models.UniqueConstraint(fields=["pain_point", "tag"], condition=models.Q(tag__isnull=False),
                                    name="one_evidence_per_tag"),
        ]

    def __str__(self):
        return f"{self.pain_point_id} ← {self.item_id or self.tag_id}"


class RootCause(NamedPerLanguage, Versioned, OrgScopedModel):
    """Why customers were unhappy, as a managed tree (delivery → late): a case is resolved with
    one, so the outer loop can count causes and fix the ones that matter."""

    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("part of"))
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["parent_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "parent", "name"], name="root_cause_unique",
                                    nulls_distinct=False),
        ]

    def __str__(self):
        return f"{self.parent} → {self.shown_name}" if self.parent_id else self.shown_name


class CloseLoopRule(Versioned, OrgScopedModel):
    """When a survey answer matches every condition that is set, open a case (call the customer
    back within `contact_within_hours`) or thank a promoter. Rules run once, when the answer is
    recorded; "apply to the last N days" runs one over older answers on purpose."""

    class Band(models.TextChoices):
        ANY = "", _("Any score")
        UNHAPPY = "unhappy", _("Unhappy: NPS 0–6, CSAT 1–2, CES 1–3")
        PROMOTER = "promoter", _("Promoters: NPS 9–10")

    class Action(models.TextChoices):
        OPEN_CASE = "case", _("Open a case to call the customer back")
        THANK = "thank", _("Thank the customer by e-mail")

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    # Conditions (empty = any)
    survey = models.ForeignKey("surveys.Survey", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("survey"))
    survey_type = models.CharField(_("survey type"), max_length=10, blank=True,
                                   choices=[("nps", "NPS"), ("csat", "CSAT"), ("ces", "CES"), ("csi", "CSI")])
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("touchpoint"))
    channel = models.ForeignKey("journeys.Channel", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("channel"))
    segment = models.CharField(_("customer segment"), max_length=100, blank=True)
    band = models.CharField(_("score"), max_length=10, choices=Band.choices, blank=True)
    keywords = models.CharField(_("comment has any of the words"), max_length=500, blank=True,
                                help_text=_("Comma-separated; every form of a word matches."))
    negative_comment = models.BooleanField(_("comment sounds negative"), default=False)
    # What to do
    action = models.CharField(_("then"), max_length=5, choices=Action.choices, default=Action.OPEN_CASE)
    tags = models.ManyToManyField(Tag, blank=True, related_name="+", verbose_name=_("tags"))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=FeedbackItem.Priority.choices,
                                                default=FeedbackItem.Priority.HIGH)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("team"))
    assign = models.CharField(_("assign to an agent"), max_length=12, choices=RoutingRule.Assign.choices, blank=True)
    contact_within_hours = models.PositiveIntegerField(_("contact the customer within (hours)"), default=48)
    close_within_hours = models.PositiveIntegerField(_("close the loop within (hours)"), default=120)
    script_hint = models.TextField(_("what to say on the call"), blank=True)
    follow_up = models.BooleanField(_("ask the customer again once resolved"), default=True,
                                    help_text=_("An e-mail with the same question: a better score means recovered."))
    review_url = models.URLField(_("ask promoters for a review at"), blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class PromoterThanks(OrgScopedModel):
    """The thank-you e-mail to a promoter: one per answer (the row is the claim), sent by a worker."""

    response = models.OneToOneField("surveys.Response", on_delete=models.CASCADE, related_name="thanks")
    rule = models.ForeignKey(CloseLoopRule, null=True, on_delete=models.SET_NULL, related_name="+")
    to_address = models.EmailField()
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"thanks for {self.response_id}"


class FeedbackImportJob(ImportJobBase):
    """An upload of inbox items (`feedback.importing`), imported in the background with its report."""

    COUNTERS = (("imported_rows", "created", _("new items")), ("duplicate_rows", "existing", _("already in the inbox")))

    class Meta(ImportJobBase.Meta):
        pass

    def get_absolute_url(self):
        return reverse("feedback:import_detail", kwargs={"feedbackimportjob_id": self.pk})
