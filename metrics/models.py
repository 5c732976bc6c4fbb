"""Daily rollups: the sums every formula needs, per organization × survey × touchpoint × channel ×
customer segment × language × day. Dashboards read these, never raw responses, so a page costs
O(days × groups), not O(responses)."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cxplatform.models import Organization, OrgScopedModel
from surveys.models import Question, Survey

SCORE_COLUMNS = [f"c{i}" for i in range(11)]  # count of answers with score 0 … 10


class DailyRollup(OrgScopedModel):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    # Plain ids, 0 for "none": a unique key must treat "no touchpoint" as one value on every database.
    touchpoint_id = models.BigIntegerField(default=0)
    channel_id = models.BigIntegerField(default=0)
    segment = models.CharField(max_length=100, blank=True, default="")
    language = models.CharField(max_length=5, blank=True, default="")
    day = models.DateField()

    responses = models.PositiveIntegerField(default=0)  # answered the score (or rated ≥1 CSI attribute)
    skipped = models.PositiveIntegerField(default=0)  # started, but left the score unanswered
    completed = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    positive_comments = models.PositiveIntegerField(default=0)  # by the comment's sentiment
    neutral_comments = models.PositiveIntegerField(default=0)
    negative_comments = models.PositiveIntegerField(default=0)
    score_sum = models.BigIntegerField(default=0)
    c0 = models.PositiveIntegerField(default=0)
    c1 = models.PositiveIntegerField(default=0)
    c2 = models.PositiveIntegerField(default=0)
    c3 = models.PositiveIntegerField(default=0)
    c4 = models.PositiveIntegerField(default=0)
    c5 = models.PositiveIntegerField(default=0)
    c6 = models.PositiveIntegerField(default=0)
    c7 = models.PositiveIntegerField(default=0)
    c8 = models.PositiveIntegerField(default=0)
    c9 = models.PositiveIntegerField(default=0)
    c10 = models.PositiveIntegerField(default=0)
    # CSI: {"<question key>": [answers, score sum, importance answers, importance sum]}
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "survey", "touchpoint_id", "channel_id", "segment", "language", "day"],
                name="one_rollup_per_group_and_day",
            )
        ]
        indexes = [models.Index(fields=["organization", "day"]), models.Index(fields=["survey", "day"])]

    def __str__(self):
        return f"{self.survey_id} {self.day} tp={self.touchpoint_id} ch={self.channel_id}: {self.responses}"

    def score_counts(self) -> dict[int, int]:
        return {i: getattr(self, f"c{i}") for i in range(11)}


class ChoiceRollup(OrgScopedModel):
    """A choice question's answers per option, group and day, with the sums of DailyRollup over the
    responses that picked the option: the question's distribution, a figure broken down by option,
    and every figure filtered to one option come from these rows alone (docs/adr/0031).

    Besides the options, two rows per group and day: `ANSWERED` (the respondents who picked
    anything: a multiple choice's percentages are of them) and `NO_ANSWER` (those who did not:
    a skipped question is not an answer, but it is shown beside the distribution)."""

    ANSWERED = "*"
    NO_ANSWER = ""
    KINDS = (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTIPLE_CHOICE, Question.Kind.YES_NO)

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    option = models.CharField(max_length=100, blank=True, default="")
    touchpoint_id = models.BigIntegerField(default=0)
    channel_id = models.BigIntegerField(default=0)
    segment = models.CharField(max_length=100, blank=True, default="")
    language = models.CharField(max_length=5, blank=True, default="")
    day = models.DateField()

    # As in DailyRollup, over the responses of the row (those that picked `option`).
    responses = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    positive_comments = models.PositiveIntegerField(default=0)
    neutral_comments = models.PositiveIntegerField(default=0)
    negative_comments = models.PositiveIntegerField(default=0)
    score_sum = models.BigIntegerField(default=0)
    c0 = models.PositiveIntegerField(default=0)
    c1 = models.PositiveIntegerField(default=0)
    c2 = models.PositiveIntegerField(default=0)
    c3 = models.PositiveIntegerField(default=0)
    c4 = models.PositiveIntegerField(default=0)
    c5 = models.PositiveIntegerField(default=0)
    c6 = models.PositiveIntegerField(default=0)
    c7 = models.PositiveIntegerField(default=0)
    c8 = models.PositiveIntegerField(default=0)
    c9 = models.PositiveIntegerField(default=0)
    c10 = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "survey", "question", "option", "touchpoint_id", "channel_id", "segment",
                        "language", "day"],
                name="one_choice_rollup_per_option_group_and_day",
            )
        ]
        indexes = [models.Index(fields=["organization", "day"]), models.Index(fields=["question", "option", "day"]),
                   models.Index(fields=["survey", "day"])]

    def __str__(self):
        return f"{self.question_id}={self.option!r} {self.day}: {self.respondents}"

    @property
    def respondents(self) -> int:
        """The responses that picked the option (whether or not they answered the score)."""
        return self.responses + self.skipped


class ThemeRollup(OrgScopedModel):
    """How often a comment theme was mentioned per group and day, and with which sign of its own
    clauses ("fast delivery but the app crashes" is positive under delivery, negative under the
    app): the themes fragment reads O(days × themes) rows, not every comment (docs/adr/0033).

    `theme` is the key the reader stored (a concept or a free phrase); the organization's merges,
    renames and hidden themes are applied when read, so an edit of its catalog needs no rebuild.

    Besides the day rows (`grain` DAY), sums of them read by long periods for their whole months
    (`day` is the month's first): MONTH per group and theme, SURVEY_MONTH per survey and theme over
    all its groups (touchpoint, channel, segment and language left blank) — one row instead of
    thirty, or of thirty times the groups when the scope has no group filter."""

    DAY, MONTH, SURVEY_MONTH = 0, 1, 2

    # Millions of rows rewritten by a rebuild: no index of their own for the two keys, whose lookups
    # the unique index below starts with (organization, survey).
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    touchpoint_id = models.BigIntegerField(default=0)
    channel_id = models.BigIntegerField(default=0)
    segment = models.CharField(max_length=100, blank=True, default="")
    language = models.CharField(max_length=5, blank=True, default="")
    day = models.DateField()
    grain = models.PositiveSmallIntegerField(default=DAY)
    theme = models.CharField(max_length=80)

    mentions = models.PositiveIntegerField(default=0)  # comments naming the theme
    # By the sign of the theme's own clauses; a theme row without a sign counts in mentions only.
    positive = models.PositiveIntegerField(default=0)
    neutral = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "survey", "touchpoint_id", "channel_id", "segment", "language", "grain",
                        "day", "theme"],
                name="one_theme_rollup_per_group_period_and_theme",
            )
        ]
        indexes = [models.Index(fields=["organization", "grain", "day"])]

    def __str__(self):
        return f"{self.theme} {self.day} ({self.grain}): {self.mentions}"


class DigestSubscription(OrgScopedModel):
    """A member who gets the weekly digest e-mail of the organization's figures."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="one_digest_per_member")]

    def __str__(self):
        return f"{self.user} · {self.organization_id}"


class DigestDelivery(models.Model):
    """One week's digest to one subscriber: the row is claimed before the e-mail goes out, so a
    retried or duplicated task never sends the same week twice."""

    subscription = models.ForeignKey(DigestSubscription, on_delete=models.CASCADE, related_name="deliveries")
    week = models.DateField()  # the Monday the digest's week starts
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscription", "week"], name="one_digest_per_week")]

    def __str__(self):
        return f"{self.subscription_id} {self.week}"


class DirtyDay(models.Model):
    """A (survey, day) whose rollup rows may no longer match the raw answers. The answer's event
    only marks it; a worker rebuilds marked days in batches (metrics.rollups.rebuild_dirty), so a
    busy day costs one rebuild per batch, not one per answer (docs/adr/0019)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["survey", "day"], name="one_mark_per_survey_day")]
        indexes = [models.Index(fields=["marked_at"], name="dirty_day_marked_idx")]

    def __str__(self):
        return f"survey {self.survey_id} · {self.day}"


class RebuildRequest(models.Model):
    """The one rebuild run of marked days waiting to start (a single row, or none). A new mark, or
    a run that leaves a mark renewed meanwhile, asks for a run only when none is waiting, so runs
    never multiply however long a burst lasts; a request older than a minute is taken for lost."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    requested_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"rebuild requested at {self.requested_at:%H:%M:%S}"


class RereadJob(OrgScopedModel):
    """"Read all comments again" for one organization, after a model or dictionary change: every
    survey comment and inbox item, in chunks on a worker (metrics.reread), then the rollups of
    their days. At most one queued or running per organization."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # Only the comments of these days when set (the management command's --from/--to).
    since = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)  # comments and items to read, counted when it starts
    done = models.PositiveIntegerField(default=0)  # read so far: each chunk's count saved with the chunk
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # the last chunk saved
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["organization"], name="one_running_reread_per_org",
                                               condition=models.Q(status__in=["queued", "running"]))]

    def __str__(self):
        return f"reread #{self.pk} · {self.status}"

    def get_absolute_url(self):
        return reverse("metrics:reread_detail", kwargs={"rereadjob_id": self.pk})

    @property
    def running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0
