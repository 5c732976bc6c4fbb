"""Journeys: where the customer meets the company. Surveys are sent at touchpoints.

A persona has journey maps; a map has ordered stages; a stage has ordered touchpoints, and the
map collects the pain points and opportunities found along the way. Every change to a map goes
through `services.py`, which keeps positions dense and writes the activity history.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cxplatform.models import OrgScopedModel
from cxplatform.versioning import Versioned

EMOTION_MIN, EMOTION_MAX = -2, 2
EMOTION_LABELS = {
    -2: _("Very negative"),
    -1: _("Negative"),
    0: _("Neutral"),
    1: _("Positive"),
    2: _("Very positive"),
}


class Persona(OrgScopedModel):
    """An archetypal customer the team designs for, tied to a segment of real customers."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # {"attribute": "plan", "values": ["corporate fleet"]}: customers whose attribute is one of
    # the values belong to the persona; {} means no rule.
    segment_rule = models.JSONField(_("segment rule"), default=dict, blank=True)
    goals = models.TextField(_("goals"), blank=True)
    photo_url = models.URLField(_("photo URL"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("persona")
        verbose_name_plural = _("personas")
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="persona_name_unique")]

    def __str__(self):
        return self.name

    @property
    def initials(self) -> str:
        """Up to two letters for the avatar when there is no photo ("Urban commuter" → "UC")."""
        words = [w for w in self.name.replace("-", " ").split() if w[:1].isalnum()]
        return "".join(w[0] for w in words[:2]).upper() or "?"

    @property
    def segment_attribute(self) -> str:
        return (self.segment_rule or {}).get("attribute", "")

    @property
    def segment_values(self) -> list:
        return list((self.segment_rule or {}).get("values", []))

    def customer_filter(self) -> models.Q:
        """A Q over `cxplatform.Customer` selecting the persona's segment (everyone without a rule)."""
        if not self.segment_attribute:
            return models.Q()
        return models.Q(**{f"attributes__{self.segment_attribute}__in": self.segment_values})


class JourneyMap(OrgScopedModel):
    """A persona's path through the company, from first awareness to loyalty."""

    persona = models.ForeignKey(Persona, on_delete=models.PROTECT, related_name="maps", verbose_name=_("persona"))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["persona__name", "name", "id"]
        verbose_name = _("journey map")
        verbose_name_plural = _("journey maps")

    def __str__(self):
        return self.name


class Stage(OrgScopedModel):
    """A column of the map (awareness, consideration, …); positions are dense from 0."""

    journey_map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="stages",
                                    verbose_name=_("journey map"))
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["journey_map", "position", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")

    def __str__(self):
        return self.name


class Channel(OrgScopedModel):
    """The medium a touchpoint or a survey reaches the customer through."""

    class Kind(models.TextChoices):
        WEB = "web", _("Web")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        MESSENGER = "messenger", _("Messenger")
        STORE = "store", _("Store")
        QR = "qr", _("In-store QR")
        APP = "app", _("In-app")
        CALL_CENTRE = "call_centre", _("Call centre")
        SOCIAL = "social", _("Social media")
        DELIVERY = "delivery", _("Delivery")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.WEB)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="channel_name_unique")]

    def __str__(self):
        return self.name


class Touchpoint(Versioned, OrgScopedModel):
    """A moment of the customer's journey (e.g. "Delivery of the scooter")."""

    name = models.CharField(_("name"), max_length=200)
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("channel")
    )
    description = models.TextField(_("description"), blank=True)
    archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Its place on a journey map: none until someone puts it on a stage.
    stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="touchpoints",
                              verbose_name=_("stage"))
    position = models.PositiveIntegerField(_("position"), default=0)
    customer_goal = models.TextField(_("customer goal"), blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    expected_emotion = models.SmallIntegerField(
        _("expected emotion"), null=True, blank=True, help_text=_("From -2 (very negative) to +2 (very positive).")
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="touchpoint_name_unique"),
            models.CheckConstraint(
                condition=models.Q(expected_emotion__isnull=True)
                | models.Q(expected_emotion__gte=EMOTION_MIN, expected_emotion__lte=EMOTION_MAX),
                name="touchpoint_expected_emotion_range",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def expected_emotion_label(self):
        return EMOTION_LABELS.get(self.expected_emotion, "")


class PainPoint(Versioned, OrgScopedModel):
    """Where the journey hurts. Its evidence (feedback items, tags) lives in feedback, which points here."""

    class Severity(models.IntegerChoices):
        LOW = 1, _("Low")
        MEDIUM = 2, _("Medium")
        HIGH = 3, _("High")
        CRITICAL = 4, _("Critical")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    journey_map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="pain_points",
                                    verbose_name=_("journey map"))
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="pain_points", verbose_name=_("touchpoint"))
    description = models.TextField(_("description"))
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-severity", "id"]
        verbose_name = _("pain point")
        verbose_name_plural = _("pain points")
        constraints = [
            models.CheckConstraint(condition=models.Q(severity__gte=1, severity__lte=4),
                                   name="pain_point_severity_range"),
        ]

    def __str__(self):
        return self.description[:80]


class Opportunity(Versioned, OrgScopedModel):
    """An idea for a better journey, often the answer to a pain point."""

    class Impact(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    journey_map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="opportunities",
                                    verbose_name=_("journey map"))
    idea = models.TextField(_("idea"))
    impact = models.CharField(_("expected impact"), max_length=10, choices=Impact.choices, default=Impact.MEDIUM)
    pain_point = models.ForeignKey(PainPoint, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="opportunities", verbose_name=_("pain point"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")

    def __str__(self):
        return self.idea[:80]


class ActivityEntry(OrgScopedModel):
    """One change to a map: who did what to which part, kept for the map's history."""

    class Action(models.TextChoices):
        MAP_CREATED = "map_created", _("created the map")
        MAP_IMPORTED = "map_imported", _("imported the map")
        MAP_UPDATED = "map_updated", _("changed the map")
        STAGE_ADDED = "stage_added", _("added a stage")
        STAGE_RENAMED = "stage_renamed", _("renamed a stage")
        STAGE_MOVED = "stage_moved", _("moved a stage")
        STAGE_DELETED = "stage_deleted", _("deleted a stage")
        TOUCHPOINT_ADDED = "touchpoint_added", _("added a touchpoint")
        TOUCHPOINT_UPDATED = "touchpoint_updated", _("changed a touchpoint")
        TOUCHPOINT_MOVED = "touchpoint_moved", _("moved a touchpoint")
        TOUCHPOINT_DELETED = "touchpoint_deleted", _("deleted a touchpoint")
        TOUCHPOINT_ARCHIVED = "touchpoint_archived", _("archived a touchpoint")
        PAIN_POINT_ADDED = "pain_point_added", _("added a pain point")
        PAIN_POINT_UPDATED = "pain_point_updated", _("changed a pain point")
        PAIN_POINT_DELETED = "pain_point_deleted", _("deleted a pain point")
        OPPORTUNITY_ADDED = "opportunity_added", _("added an opportunity")
        OPPORTUNITY_UPDATED = "opportunity_updated", _("changed an opportunity")
        OPPORTUNITY_DELETED = "opportunity_deleted", _("deleted an opportunity")

    journey_map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="activity",
                                    verbose_name=_("journey map"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("who"))
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("activity entry")
        verbose_name_plural = _("activity entries")
        indexes = [models.Index(fields=["journey_map", "-created_at"], name="journey_activity_map_idx")]

    def __str__(self):
        return f"{self.actor or '—'} {self.get_action_display()} {self.subject}".strip()
