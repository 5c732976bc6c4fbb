"""The outer loop: CX goals with a KPI target, the action items that should move it, their
history and comments, and the reminders and in-app notifications that keep them moving.

A goal's scope (surveys, touchpoints, channels, segments, languages) lives here, pointing down
at the apps it measures, so no lower app knows that goals exist.
"""

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cxplatform.models import OrgScopedModel
from cxplatform.versioning import Versioned

from . import kpis

SCORE = {"max_digits": 8, "decimal_places": 2}  # −100.00 … 999999.99 (hours), never a float


class Goal(Versioned, OrgScopedModel):
    """"NPS at Home delivery from 12 to 30 by 31 March": one KPI, its scope, where it stood
    (baseline), where it should be (target) and by when."""

    title = models.CharField(_("title"), max_length=200)
    # A title the platform generated, as a message id with parameters: shown in the reader's
    # language (`title` keeps the organization's wording for search and history). {} when typed.
    title_message = models.JSONField(default=dict, blank=True)
    description = models.TextField(_("description"), blank=True)
    kpi = models.CharField(_("KPI"), max_length=30, choices=kpis.choices())
    surveys = models.ManyToManyField("surveys.Survey", blank=True, related_name="+", verbose_name=_("surveys"))
    touchpoints = models.ManyToManyField("journeys.Touchpoint", blank=True, related_name="+",
                                         verbose_name=_("touchpoints"))
    channels = models.ManyToManyField("journeys.Channel", blank=True, related_name="+", verbose_name=_("channels"))
    segments = models.JSONField(_("customer segments"), default=list, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    baseline = models.DecimalField(_("baseline"), **SCORE)
    # Set when the baseline was measured (the KPI over the 30 days before the goal was set), empty
    # when someone typed it in: the review can then say whether the change is more than chance.
    baseline_n = models.PositiveIntegerField(_("baseline answers"), null=True, blank=True)
    baseline_margin_of_error = models.DecimalField(_("baseline margin of error"), null=True, blank=True, **SCORE)
    target = models.DecimalField(_("target"), **SCORE)
    start_date = models.DateField(_("start"))
    deadline = models.DateField(_("deadline"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("owner"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        constraints = [
            models.CheckConstraint(condition=models.Q(deadline__gt=models.F("start_date")),
                                   name="goal_deadline_after_start"),
        ]

    def __str__(self):
        return self.display_title

    @property
    def display_title(self) -> str:
        from cxplatform.wording import text

        return text(self.title_message, fallback=self.title) if self.title_message else self.title

    @property
    def indicator(self) -> kpis.Kpi:
        return kpis.get(self.kpi)


class ActionItem(Versioned, OrgScopedModel):
    """Something a person will do by a date to fix what hurts customers. It may start on its own
    (from a pain point, a root cause or an inbox item) and join a goal later."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    OPEN = (Status.PLANNED, Status.IN_PROGRESS)

    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions",
                             verbose_name=_("goal"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("owner"))
    due_date = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    pain_points = models.ManyToManyField("journeys.PainPoint", blank=True, related_name="+",
                                         verbose_name=_("pain points"))
    root_causes = models.ManyToManyField("feedback.RootCause", blank=True, related_name="+",
                                         verbose_name=_("root causes"))
    tags = models.ManyToManyField("feedback.Tag", blank=True, related_name="+", verbose_name=_("tags"))
    # The inbox item it was created from, if any: where the idea came from.
    from_item = models.ForeignKey("feedback.FeedbackItem", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("created from item"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        indexes = [
            # The daily reminders read the open actions by due date.
            models.Index(fields=["due_date"], name="action_open_due_idx",
                         condition=models.Q(status__in=["planned", "in_progress"])),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def is_overdue(self, today=None) -> bool:
        """Past its due date and neither done nor dropped."""
        return self.is_open and self.due_date < (today or timezone.now().date())


class ActionComment(OrgScopedModel):
    action_item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.action_item_id}: {self.text[:40]}"


class HistoryEntry(OrgScopedModel):
    """Who changed what on a goal or an action, and when. `changes` is {field: [before, after]}."""

    class Event(models.TextChoices):
        GOAL_CREATED = "goal_created", _("set the goal")
        GOAL_CHANGED = "goal_changed", _("changed the goal")
        ACTION_CREATED = "action_created", _("created the action")
        ACTION_CHANGED = "action_changed", _("changed the action")
        COMMENTED = "commented", _("commented")

    # An action's entries outlive its goal (the action stays when a goal is deleted).
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="history")
    action_item = models.ForeignKey(ActionItem, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="history")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    event = models.CharField(max_length=20, choices=Event.choices)
    subject = models.CharField(max_length=200, blank=True)
    # A generated goal title's message (cxplatform.wording): shown in the reader's language, where
    # `subject` keeps the organization's words (search, exports). db_default: older processes insert too.
    subject_message = models.JSONField(default=dict, blank=True, db_default={})
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["goal", "-created_at"]), models.Index(fields=["action_item", "-created_at"])]

    def __str__(self):
        return f"{self.actor or '—'} {self.get_event_display()} {self.subject}".strip()

    @property
    def shown_subject(self) -> str:
        from cxplatform.wording import text

        return text(self.subject_message, fallback=self.subject) if self.subject_message else self.subject

    def described_changes(self) -> list[tuple[str, str, str]]:
        """(field label, before, after) in the reader's language."""
        model = ActionItem if self.action_item_id else Goal
        rows = []
        for name, (before, after) in self.changes.items():
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:  # a field removed since: show its name
                rows.append((name, before, after))
                continue
            labels = dict(field.choices or ())
            rows.append((str(field.verbose_name), str(labels.get(before, before) or "—"),
                         str(labels.get(after, after) or "—")))
        return rows


class ReminderDelivery(models.Model):
    """One reminder of one kind about one action on one day: written before anything is sent, so
    a beat that runs twice, or a retried task, never reminds twice."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("due soon")
        OVERDUE = "overdue", _("overdue")

    action_item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)
    mailed_at = models.DateTimeField(null=True, blank=True)  # the e-mail's own claim (conditional update)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["action_item", "kind", "day"],
                                               name="one_reminder_per_action_kind_day")]

    def __str__(self):
        return f"{self.action_item_id} {self.kind} {self.day}"
