"""Surveys, their questions, the links they are sent through, and the answers that come back."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cxplatform.models import Customer, ImportJobBase, OrgScopedModel
from cxplatform.versioning import Versioned
from journeys.models import Channel, Touchpoint

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


class SurveyType(models.TextChoices):
    NPS = "nps", _("NPS — likelihood to recommend (0–10)")
    CSAT = "csat", _("CSAT — satisfaction (1–5)")
    CES = "ces", _("CES — ease of handling the issue (1–7)")
    CSI = "csi", _("CSI — satisfaction index over attributes (1–5)")


# The scale of the main score of each survey type (CSI attributes use the CSAT scale).
SCALES = {
    SurveyType.NPS: (0, 10),
    SurveyType.CSAT: (1, 5),
    SurveyType.CES: (1, 7),
    SurveyType.CSI: (1, 5),
}


class Band(models.TextChoices):
    """Where a score falls: decides the follow-up question and, later, the closed loop."""

    DETRACTOR = "detractor", _("Detractor")
    PASSIVE = "passive", _("Passive")
    PROMOTER = "promoter", _("Promoter")
    LOW = "low", _("Low")
    NEUTRAL = "neutral", _("Neutral")
    HIGH = "high", _("High")


class Survey(Versioned, OrgScopedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200)
    survey_type = models.CharField(_("type"), max_length=10, choices=SurveyType.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    default_language = models.CharField(
        _("default language"), max_length=5, choices=settings.LANGUAGES, default="en"
    )
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    # Texts per language: {"en": "...", "ru": "...", "lv": "..."}.
    title = models.JSONField(_("title"), default=dict, blank=True)
    score_question = models.JSONField(_("score question"), default=dict, blank=True)
    # The follow-up after the score, per band and language: {"detractor": {"en": "..."}, ...}.
    follow_up = models.JSONField(_("follow-up question"), default=dict, blank=True)
    thank_you = models.JSONField(_("thank-you message"), default=dict, blank=True)
    # Pages after the first and how to move between them (surveys.logic, docs/adr/0030):
    # [{"title": {"en": …}, "jumps": [{"when": <condition>, "to": <page number> | "end"}]}, …],
    # one entry per page; a question names its page by number (1 is the score's page).
    pages = models.JSONField(_("pages"), default=list, blank=True)
    # The languages the survey is sent in; empty: those its texts are written in (`languages`).
    # It cannot go live while a text is missing in one of them (surveys.translations).
    language_codes = models.JSONField(_("languages"), default=list, blank=True)
    # The number of the last published revision (SurveyRevision); 0 before the first.
    revision = models.PositiveIntegerField(_("revision"), default=0, editable=False)
    redirect_url = models.URLField(_("redirect after thanks"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    @property
    def scale(self):
        return SCALES[SurveyType(self.survey_type)]

    @property
    def languages(self):
        """The languages the survey is offered in: those chosen, else those with a score question
        (or CSI title)."""
        if self.language_codes:
            return [code for code in LANGUAGE_CODES if code in self.language_codes] or [self.default_language]
        texts = self.title if self.survey_type == SurveyType.CSI else self.score_question
        available = [code for code in LANGUAGE_CODES if (texts or {}).get(code)]
        return available or [self.default_language]

    def asks_answer_rows(self) -> bool:
        """Whether a question it asks now keeps its answer in a row of its own (the score and the
        comment live on the response): only then has a page a response's answers to read."""
        return any(question.is_answerable for question in self.questions.all())


class CurrentQuestions(models.Manager):
    """A survey's questions as asked now: a question deleted after it was answered is archived,
    not deleted, so its answers keep their question (`Question.all_objects` still sees it, and so
    does `answer.question`, which goes through the base manager)."""

    def get_queryset(self):
        return super().get_queryset().filter(archived_at__isnull=True)


class Question(Versioned, OrgScopedModel):
    """A question besides the main score: CSI attributes and the team's own questions, on a page
    of the survey, shown when its condition holds (surveys.logic)."""

    class Kind(models.TextChoices):
        CSI_ATTRIBUTE = "csi_attribute", _("CSI attribute (1–5)")
        TEXT = "text", _("Open text")
        SINGLE_CHOICE = "single_choice", _("Single choice")
        MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
        RATING = "rating", _("Rating scale")
        MATRIX = "matrix", _("Matrix (rows × scale)")
        RANKING = "ranking", _("Ranking")
        YES_NO = "yes_no", _("Yes / no")
        CONSENT = "consent", _("Consent checkbox")
        STATEMENT = "statement", _("Statement (text only)")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    page = models.PositiveSmallIntegerField(_("page"), default=1)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    text = models.JSONField(_("text"), default=dict)
    required = models.BooleanField(_("required"), default=False)
    # [{"value": "price", "label": {"en": "Price", "ru": "Цена", "lv": "Cena"}}, ...]: the options
    # of choice and ranking questions.
    choices = models.JSONField(_("choices"), default=list, blank=True)
    # A choice question's "Other" option with its own text box (its value is OTHER).
    allow_other = models.BooleanField(_("offer “Other” with a text box"), default=False)
    shuffle = models.BooleanField(_("shuffle the options"), default=False)
    # The rows of a matrix, shaped like `choices`; each is rated on scale_min..scale_max.
    rows = models.JSONField(_("rows"), default=list, blank=True)
    scale_min = models.SmallIntegerField(_("scale from"), default=1)
    scale_max = models.SmallIntegerField(_("scale to"), default=5)
    ask_importance = models.BooleanField(_("also ask how important it is"), default=False)
    # Shown only when this holds (surveys.logic's condition format); empty: always.
    show_if = models.JSONField(_("show only if"), default=dict, blank=True)
    # Column name in imports and exports ("q_delivery_speed").
    key = models.SlugField(_("key"), max_length=60)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CurrentQuestions()
    all_objects = models.Manager()

    # The value of the "Other" option of a choice question; its text is the answer's text.
    OTHER = "_other"
    CHOICE_KINDS = (Kind.SINGLE_CHOICE, Kind.MULTIPLE_CHOICE, Kind.RANKING)
    SCALE_KINDS = (Kind.CSI_ATTRIBUTE, Kind.RATING)

    class Meta:
        ordering = ["page", "position", "id"]
        base_manager_name = "all_objects"
        constraints = [models.UniqueConstraint(fields=["survey", "key"], name="question_key_unique_per_survey")]

    def __str__(self):
        return self.key

    @property
    def choice_values(self):
        return [c["value"] for c in self.choices]

    @property
    def row_values(self):
        return [r["value"] for r in self.rows]

    @property
    def scale(self) -> tuple[int, int]:
        """The numbers a rating or matrix is answered on (a CSI attribute always on 1–5)."""
        if self.kind == self.Kind.CSI_ATTRIBUTE:
            return (1, 5)
        return (self.scale_min, self.scale_max)

    @property
    def is_answerable(self) -> bool:
        return self.kind != self.Kind.STATEMENT


class SurveyRevision(models.Model):
    """A published state of a survey: its texts, pages and questions as customers saw them. Each
    publication of a changed survey adds one; an answer names the revision it was given on."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    # {"title": …, "score_question": …, "follow_up": …, "thank_you": …, "pages": …,
    #  "questions": [{"id", "key", "kind", "page", "text", "choices", "rows", …}, …]}
    snapshot = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["survey_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["survey", "number"], name="one_revision_number_per_survey")]

    def __str__(self):
        return f"{self.survey} v{self.number}"


def new_public_id():
    return uuid.uuid4().hex[:16]


class Distribution(Versioned, OrgScopedModel):
    """A survey sent at a touchpoint through a channel: it owns one link, its QR code and funnel."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="distributions")
    name = models.CharField(_("name"), max_length=200)
    touchpoint = models.ForeignKey(
        Touchpoint, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("touchpoint")
    )
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("channel"))
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name


class DistributionDay(models.Model):
    """Per link and day: how often it was opened, and how often the contact policy held back."""

    distribution = models.ForeignKey(Distribution, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    opened = models.PositiveIntegerField(default=0)
    skipped_by_policy = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["distribution", "day"], name="one_row_per_link_day")]

    def __str__(self):
        return f"{self.distribution} {self.day}: {self.opened} opened"


class Response(OrgScopedModel):
    class Status(models.TextChoices):
        """An answer counts once it is final: completed, or abandoned (left unfinished and unchanged
        for settings.ANSWER_ABANDON_AFTER), as its last state. One still started does not count yet."""

        STARTED = "started", _("Started")
        COMPLETED = "completed", _("Completed")
        ABANDONED = "abandoned", _("Left unfinished")

    class Source(models.TextChoices):
        WEB = "web", _("Survey page")
        ONE_CLICK = "one_click", _("One-click e-mail score")
        API = "api", _("API")
        IMPORT = "import", _("Import")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    distribution = models.ForeignKey(
        Distribution, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    # Denormalised from the distribution (or the import row), so metrics group without joins.
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.PROTECT)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_responses"
    )
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Idempotency keys: one from an API client, one from an import row.
    client_key = models.CharField(max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES)
    score = models.SmallIntegerField(_("score"), null=True, blank=True)
    band = models.CharField(_("band"), max_length=10, choices=Band.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # Of the comment, by cxplatform.textinsight: −1 negative, 0 neutral, +1 positive; null without one.
    sentiment = models.SmallIntegerField(_("sentiment"), null=True, blank=True)
    sentiment_score = models.SmallIntegerField(null=True, blank=True)  # P(positive) − P(negative), in %
    # False from the moment a comment is written until a worker has read it (surveys.comments):
    # "no sentiment yet" and "nothing to judge" (a comment of "…") are both a null sentiment,
    # and the closed loop must tell them apart. The database default covers rows written by SQL.
    comment_read = models.BooleanField(default=True, db_default=True)
    hidden_fields = models.JSONField(_("hidden fields"), default=dict, blank=True)
    # The survey's revision when the answer was given: its questions' wording is read from it.
    revision = models.PositiveIntegerField(_("survey revision"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.STARTED)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.WEB)
    started_at = models.DateTimeField(_("started"))
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "client_key"],
                condition=~models.Q(client_key=""),
                name="response_client_key_unique_per_org",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "survey", "-submitted_at"]),
            models.Index(fields=["customer", "-started_at"]),
            # The abandonment sweep reads only the answers still in progress, oldest change first.
            models.Index(fields=["updated_at"], name="response_in_progress_idx",
                         condition=models.Q(status="started")),
        ]

    def __str__(self):
        return f"{self.survey} #{self.pk}"

    @property
    def is_final(self) -> bool:
        """Whether the answer counts: in the figures, the inbox and the closed loop."""
        return self.status != self.Status.STARTED

    @property
    def given_at(self):
        """When the answer was given: submitted, or (left unfinished) started. The figures count it
        on this day, and the closed loop measures its age from it."""
        return self.submitted_at or self.started_at


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    number = models.SmallIntegerField(null=True, blank=True)
    importance = models.SmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)
    choices = models.JSONField(default=list, blank=True)  # in order for a ranking
    # A matrix: {row value: number}. The database default covers rows written by SQL (benchmarks, COPY).
    grid = models.JSONField(default=dict, blank=True, db_default={})

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="one_answer_per_question")]
        # The rollups ask "did this response rate anything?" once per CSI response (metrics.rollups.rated);
        # with no number stored anywhere the planner estimates one row and seq-scans the whole table per
        # response. This small index makes every such question one probe.
        indexes = [models.Index(fields=["response"], condition=models.Q(number__isnull=False), name="answer_rated")]

    def __str__(self):
        return f"{self.question}: {self.number if self.number is not None else self.text or self.choices}"


class ResponseTheme(models.Model):
    """A theme of a response's comment ("курьер", "battery range"): a period's comments sum up
    as their most recurring themes."""

    organization = models.ForeignKey("cxplatform.Organization", on_delete=models.CASCADE, related_name="+")
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="themes")
    # The theme's key: a concept of the dictionary ("delivery", any language) or a free phrase.
    phrase = models.CharField(max_length=80)
    # The sign of the comment's clauses about this theme (textinsight.reading): "fast delivery but
    # the app crashes" is +1 under delivery and −1 under the app. Null on rows read before clauses.
    sentiment = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "phrase"], name="one_theme_row_per_response")]
        indexes = [models.Index(fields=["organization", "phrase"])]

    def __str__(self):
        return self.phrase


class ContactPolicy(Versioned, models.Model):
    """Survey fatigue guard: ask the same customer at most once per N days across all surveys."""

    organization = models.OneToOneField(
        "cxplatform.Organization", on_delete=models.CASCADE, related_name="contact_policy"
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    min_days_between_surveys = models.PositiveSmallIntegerField(_("ask at most once per (days)"), default=30)
    # Invitations the platform sends: at most this many per person in `cap_days` (0: no cap).
    max_invitations = models.PositiveSmallIntegerField(_("at most this many invitations"), default=0)
    cap_days = models.PositiveSmallIntegerField(_("per period (days)"), default=90)

    def __str__(self):
        return f"{self.organization}: {self.min_days_between_surveys} days"


class ImportJob(ImportJobBase):
    """An upload of past responses (`surveys.importing`), imported in the background with its report."""

    COUNTERS = (("imported_rows", "imported", _("imported")),
                ("duplicate_rows", "duplicates", _("duplicates (already imported)")))

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="import_jobs")

    class Meta(ImportJobBase.Meta):
        pass

    def __str__(self):
        return f"{self.original_name} → {self.survey}"

    def get_absolute_url(self):
        return reverse("surveys:import_detail", kwargs={"survey_id": self.survey_id, "importjob_id": self.pk})


class ExportJob(OrgScopedModel):
    """A responses export too large to stream in a web request, written to a file by a worker
    (`surveys.export_jobs`). The file is offered only once every row is in it (status done)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="export_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    query = models.TextField(blank=True)  # the responses list's filter, as its query string
    format = models.CharField(max_length=4, choices=Format.choices)
    # Whether customers' e-mails and ids may be in the file: the asker's right when asking (and
    # again at every download).
    personal = models.BooleanField(default=False)
    language = models.CharField(max_length=10, blank=True)  # the asker's: a failure is written in it
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    expected_rows = models.PositiveIntegerField(default=0)
    written_rows = models.PositiveIntegerField(default=0)
    # Named only when the job is done: a file half written is never offered.
    file = models.FileField(upload_to="exports/", blank=True, max_length=200)
    # The file an attempt is writing, not offered: housekeeping leaves it alone while the job runs.
    partial_name = models.CharField(max_length=200, blank=True)
    failure = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # claims: a lost worker's job starts again
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # the last chunk written
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # the file is deleted then

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self):
        return f"{self.survey} · {self.format}"

    def get_absolute_url(self):
        return reverse("surveys:export_detail", kwargs={"survey_id": self.survey_id, "exportjob_id": self.pk})

    @property
    def running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def downloadable(self) -> bool:
        return self.status == self.Status.DONE and bool(self.file)

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, int(100 * self.written_rows / max(self.expected_rows, 1)))


class RetentionOffer(OrgScopedModel):
    """A counter-offer for a reason to leave: when a customer gives `reason` to the cancellation
    survey's `question`, the thank-you page offers this instead (pause instead of cancel, swap
    the product, change the date…). Accepting it is counted, and the team is told."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="offers",
                                 verbose_name=_("question"))
    reason = models.CharField(_("for the answer"), max_length=60)  # one of the question's choice values
    text = models.JSONField(_("offer"), default=dict)  # per language: {"en": "Pause for 3 months", …}
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["question_id", "reason", "position", "id"]

    def __str__(self):
        return self.text.get("en") or next(iter(self.text.values()), self.reason) if self.text else self.reason


class OfferAcceptance(OrgScopedModel):
    """A customer took a counter-offer: once per answer and offer."""

    offer = models.ForeignKey(RetentionOffer, on_delete=models.CASCADE, related_name="acceptances")
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="accepted_offers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["offer", "response"], name="one_acceptance_per_answer")]

    def __str__(self):
        return f"{self.response_id} took {self.offer_id}"
