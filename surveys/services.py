"""Business rules of surveys: validating answers and recording responses exactly once.

`record_response()` is the one door every answer comes in by (survey page, one-click e-mail
score, API, import): it validates, writes the response in one transaction, idempotent on the
response token or the caller's key, and emits `response.recorded` through the outbox so the
follow-up work (metrics, inbox, closed loop) can never be lost by a broker outage. A changed
comment is only marked unread here; a worker reads its sentiment and themes (`comments`).

An answer counts once it is final (docs/adr/0011): completed, or left unfinished and unchanged for
`settings.ANSWER_ABANDON_AFTER` — then `abandon_unfinished()` (a beat task) makes it final as its
last state. `response.recorded` means "this answer counts, in this state": it is emitted when an
answer becomes final and on every later change of a final answer, never for an answer still in
progress, so a score clicked and then changed never reaches the figures or the loop.
"""

from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from cxplatform import audit, events
from cxplatform.input_checks import parse_int, text_problem
from cxplatform.versioning import lock_version

from . import answers, comments, logic
from .models import (
    Answer,
    Band,
    ContactPolicy,
    Distribution,
    DistributionDay,
    Question,
    Response,
    Survey,
    SurveyType,
)

# The event of an answer that counts (payload: response_id); see the module's docstring.
RESPONSE_RECORDED = events.declare("response.recorded", fields={"response_id"})
# A link from an invitation the platform sent was opened, or answered (in part or whole): the
# invitations app keeps its funnel and stops reminders. Only invited visits emit them.
INVITATION_OPENED = events.declare("invitation.opened", fields={"invitation_id"})
INVITATION_ANSWERED = events.declare("invitation.answered", fields={"invitation_id", "response_id"})


class SubmissionError(Exception):
    """Bad answers: `errors` maps a field ("score", "comment", a question key) to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class SurveyUnavailable(Exception):
    """The survey or link does not take answers now; `reason` is closed / not_started / paused."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- Bands ---------------------------------------------------------------------------------

def band_for(survey_type: str, score: float | None) -> str:
    """NPS: 0–6 detractor, 7–8 passive, 9–10 promoter. CSAT 1–2 low, 3 neutral, 4–5 high.
    CES (1–7): 1–3 low ("hard"), 4 neutral, 5–7 high. CSI: the mean attribute score on the CSAT cut-offs."""
    if score is None:
        return ""
    if survey_type == SurveyType.NPS:
        return Band.DETRACTOR if score <= 6 else Band.PASSIVE if score <= 8 else Band.PROMOTER
    if survey_type == SurveyType.CES:
        return Band.LOW if score <= 3 else Band.NEUTRAL if score < 5 else Band.HIGH
    return Band.LOW if score < 2.5 else Band.NEUTRAL if score < 3.5 else Band.HIGH


def localized(texts: dict | None, language: str, fallback: str = "en") -> str:
    texts = texts or {}
    return texts.get(language) or texts.get(fallback) or next((v for v in texts.values() if v), "")


# --- Availability --------------------------------------------------------------------------

def ensure_accepting(survey: Survey, distribution: Distribution | None = None, now=None) -> None:
    now = now or timezone.now()
    if survey.status == Survey.Status.PAUSED:
        raise SurveyUnavailable("paused")
    if survey.status != Survey.Status.ACTIVE or (distribution is not None and not distribution.active):
        raise SurveyUnavailable("closed")
    if survey.starts_at and now < survey.starts_at:
        raise SurveyUnavailable("not_started")
    if survey.ends_at and now >= survey.ends_at:
        raise SurveyUnavailable("closed")


# --- Validation ----------------------------------------------------------------------------

@dataclass
class Submission:
    """Validated answers. Keys absent from `answers` were not given (skipped)."""

    score: int | None = None
    comment: str = ""
    answers: dict[str, dict] = field(default_factory=dict)  # question key -> Answer field values
    given: set[str] = field(default_factory=set)  # which fields the caller sent at all


def clean_text(value, max_length: int | None = None) -> str:
    """Text a respondent typed, safe to store: no NUL, no lone surrogates, bounded length."""
    max_length = max_length or settings.SURVEY_TEXT_MAX_LENGTH
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(_("Expected text."))
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    value = value.strip()
    if len(value) > max_length:
        raise ValueError(_("Please keep it under %(limit)d characters (you wrote %(length)d).")
                         % {"limit": max_length, "length": len(value)})
    return value


def _blank(value) -> bool:
    return value is None or value == "" or value == []


def _get(data, key):
    """One value of a form (QueryDict) or a JSON object."""
    return data.get(key) if hasattr(data, "get") else None


def clean_submission(survey: Survey, data, *, complete: bool, language: str = "en",
                     facts: logic.Facts | None = None) -> Submission:
    """Validate a submission (form data or a JSON object). Raises SubmissionError.

    Fields: `score`, `comment`, and per question the names `surveys.answers` reads. With
    `complete=False` (a partial save) only what was sent is checked and required questions may
    still be missing. The survey's logic decides what is kept: an answer to a question the
    respondent was not shown (its condition fails, or a jump skipped its page) is dropped, and a
    required question is required only when shown. `facts` gives what the caller knows of the
    visit (language, touchpoint, segment, hidden fields); the answers are added here.
    """
    errors: dict[str, str] = {}
    sub = Submission()
    low, high = survey.scale

    if survey.survey_type != SurveyType.CSI:
        raw = _get(data, "score")
        if not _blank(raw):
            sub.given.add("score")
            try:
                sub.score = parse_int(raw, low=low, high=high)
            except (TypeError, ValueError):
                errors["score"] = _("Please choose a score from %(low)d to %(high)d.") % {"low": low, "high": high}
        elif complete:
            errors["score"] = _("Please choose a score.")

    raw_comment = _get(data, "comment")
    if raw_comment is not None:
        sub.given.add("comment")
        try:
            sub.comment = clean_text(raw_comment)
        except ValueError as exc:
            errors["comment"] = str(exc)

    questions = list(survey.questions.all())  # prefetched by the page: read once
    reader = answers.Reader(data)
    keys = frozenset(q.key for q in questions)
    parsed: dict[str, answers.Parsed] = {}
    answer_errors: dict[str, str] = {}
    for question in questions:
        try:
            found = answers.clean(question, reader, clean_text=clean_text, other_keys=keys - {question.key})
        except ValueError as exc:
            answer_errors[question.key] = str(exc) or _("Please check this answer.")
            continue
        if found is not None:
            parsed[question.key] = found

    flow = logic.evaluate(logic.plan_of(survey, questions), _facts(survey, sub, parsed, facts, language))
    for question in questions:
        key = question.key
        if key not in flow.visible or not question.is_answerable:
            continue  # not shown: whatever came for it is not an answer
        if key in answer_errors:
            errors[key] = answer_errors[key]
        elif key in parsed:
            if complete and question.required and answers.incomplete(question, parsed[key]):
                errors[key] = answers.required_message(question)
                continue
            sub.given.add(key)
            sub.answers[key] = parsed[key].fields
        elif complete and question.required:
            errors[key] = answers.required_message(question)

    if errors:
        raise SubmissionError(errors)
    return sub


def _facts(survey: Survey, sub: Submission, parsed: dict, given: logic.Facts | None, language: str) -> logic.Facts:
    """What the survey's conditions read: the caller's facts of the visit, with this submission's
    score, band and answers."""
    facts = replace(given) if given is not None else logic.Facts(language=language or "")
    if not facts.language:
        facts.language = language or ""
    facts.answers = {key: found.fact for key, found in parsed.items()}
    if survey.survey_type == SurveyType.CSI:
        numbers = [parsed[q.key].fact for q in survey.questions.all()
                   if q.kind == Question.Kind.CSI_ATTRIBUTE and q.key in parsed]
        facts.score = None
        facts.band = band_for(survey.survey_type, sum(numbers) / len(numbers) if numbers else None)
    else:
        facts.score = sub.score
        facts.band = band_for(survey.survey_type, sub.score)
    return facts


def visit_facts(*, survey: Survey, language: str = "", touchpoint=None, customer=None,
                hidden: dict | None = None) -> logic.Facts:
    """What survey logic knows of a visit before its answers: the language, the touchpoint (its id),
    the customer's segment (the organization's segment attribute) and the link's hidden fields."""
    segment = ""
    if customer is not None:
        attribute = survey.organization.segment_attribute or "segment"
        value = (customer.attributes or {}).get(attribute)
        segment = "" if value is None else str(value)
    touchpoint_id = getattr(touchpoint, "pk", touchpoint)
    return logic.Facts(language=language or "", touchpoint="" if touchpoint_id is None else str(touchpoint_id),
                       segment=segment, hidden=dict(hidden or {}))


# --- Recording -----------------------------------------------------------------------------

def _csi_mean(response: Response) -> float | None:
    numbers = [
        a.number for a in response.answers.all()
        if a.question.kind == Question.Kind.CSI_ATTRIBUTE and a.number is not None
    ]
    return sum(numbers) / len(numbers) if numbers else None


def record_response(
    *,
    survey: Survey,
    submission: Submission,
    complete: bool,
    language: str,
    source: str = Response.Source.WEB,
    distribution: Distribution | None = None,
    token=None,
    client_key: str = "",
    customer=None,
    hidden: dict | None = None,
    touchpoint=None,
    channel=None,
    submitted_at=None,
    invitation: int | None = None,
) -> tuple[Response, bool]:
    """Create or update the response identified by `token` (or `client_key`). Returns
    (response, created). Resubmitting updates the same response: never a duplicate."""
    now = timezone.now()
    if distribution is not None:
        touchpoint = touchpoint or distribution.touchpoint
        channel = channel or distribution.channel
    lookup = {"organization": survey.organization, "client_key": client_key} if client_key else {"token": token}
    if not client_key and token is None:
        raise ValueError("record_response needs a token or a client_key")

    with transaction.atomic():
        defaults = {
            "organization": survey.organization,
            "survey": survey,
            "distribution": distribution,
            "touchpoint": touchpoint,
            "channel": channel,
            "customer": customer,
            "language": language,
            "hidden_fields": hidden or {},
            "source": source,
            "started_at": submitted_at or now,
            "revision": survey.revision or None,  # its questions' wording is read from this revision
        }
        if client_key and token is not None:
            defaults["token"] = token
        # The first answer of a visit (the common case) is one locking lookup and one INSERT, its
        # row written whole; a later one (a resubmission, the next partial save) updates it.
        response = Response.objects.select_for_update().filter(**lookup).first()
        created = False
        if response is None:
            response = Response(**{**defaults, **lookup})
            _apply(response, submission, complete=complete, fresh=True)
            _settle_status(response, complete=complete, language=language, at=submitted_at or now)
            comments.mark_unread(response)  # read by a worker, never in the customer's request (docs/adr/0021)
            try:
                with transaction.atomic():
                    response.save(force_insert=True)
                created = True
            except IntegrityError:  # a concurrent first submission of the same token won the race
                response = Response.objects.select_for_update().get(**lookup)
        if created:
            _save_answers(response, submission, complete=complete, fresh=True)
            if response.comment:
                comments.comment_written(response, organization=survey.organization, fresh=True)
        else:
            if response.survey_id != survey.pk or (
                distribution is not None and response.distribution_id not in (None, distribution.pk)
            ):
                raise SubmissionError({"token": _("This answer belongs to another survey.")})
            response.survey = survey  # already loaded: spare the query
            comment_before = response.comment
            _apply(response, submission, complete=complete)
            _settle_status(response, complete=complete, language=language, at=submitted_at or now)
            comment_changed = response.comment != comment_before and (response.comment or comment_before)
            if comment_changed:
                comments.mark_unread(response)
            response.save()
            if comment_changed:
                comments.comment_written(response, organization=survey.organization, fresh=False)
        if response.is_final:  # an answer in progress tells nobody yet: it counts when final
            events.emit(RESPONSE_RECORDED, organization=survey.organization, response_id=response.pk)
        if invitation is not None and (created or response.is_final):
            events.emit(INVITATION_ANSWERED, organization=survey.organization, invitation_id=invitation,
                        response_id=response.pk)
    return response, created


def _settle_status(response: Response, *, complete: bool, language: str, at) -> None:
    response.language = language or response.language
    if complete and response.status != Response.Status.COMPLETED:
        response.status = Response.Status.COMPLETED
        response.submitted_at = at


def abandon_unfinished(*, now=None, limit: int = 1000) -> int:
    """Make final, as their last state, the answers left unfinished: started and unchanged for
    `settings.ANSWER_ABANDON_AFTER` (the beat's sweep). Each one is claimed by a conditional UPDATE
    (still started, still unchanged) in the transaction that emits its event, so a sweep run twice
    at once, or an answer changed meanwhile, never emits twice. Returns how many were abandoned."""
    cutoff = (now or timezone.now()) - settings.ANSWER_ABANDON_AFTER
    stale = (Response.objects.filter(status=Response.Status.STARTED, updated_at__lt=cutoff)
             .select_related("organization").order_by("updated_at")[:limit])
    abandoned = 0
    for response in stale:
        with transaction.atomic():
            claimed = Response.objects.filter(pk=response.pk, status=Response.Status.STARTED,
                                              updated_at__lt=cutoff).update(status=Response.Status.ABANDONED)
            if claimed:
                events.emit(RESPONSE_RECORDED, organization=response.organization, response_id=response.pk)
                abandoned += 1
    return abandoned


def _apply(response: Response, sub: Submission, *, complete: bool, fresh: bool = False) -> None:
    """Set the submission's score and comment, and the band they give. A complete submission is
    the whole form: what it leaves blank is removed; a partial one only adds or changes what it
    sends. The answers of a response already stored are written here too; a new response's
    (`fresh`) once its row exists (`_save_answers`)."""
    survey = response.survey
    if "score" in sub.given or complete:
        response.score = sub.score if "score" in sub.given else None
    if "comment" in sub.given or complete:
        response.comment = sub.comment
    if not fresh:
        _save_answers(response, sub, complete=complete)
    if survey.survey_type == SurveyType.CSI:
        response.band = band_for(survey.survey_type, _submitted_csi_mean(survey, sub) if fresh else _csi_mean(response))
    else:
        response.band = band_for(survey.survey_type, response.score)


def _save_answers(response: Response, sub: Submission, *, complete: bool, fresh: bool = False) -> None:
    if not sub.answers and (fresh or not complete):
        return
    questions = _questions_by_key(response.survey)
    blank = {"number": None, "importance": None, "text": "", "choices": [], "grid": {}}
    if fresh:  # nothing to update or drop: one INSERT
        Answer.objects.bulk_create([
            Answer(response=response, question=questions[key], **{**blank, **values})
            for key, values in sub.answers.items()
        ])
        return
    for key, values in sub.answers.items():
        Answer.objects.update_or_create(response=response, question=questions[key], defaults={**blank, **values})
    if complete:  # the whole form: what it leaves out (or the logic hid) is no longer an answer
        response.answers.exclude(question__key__in=list(sub.answers)).filter(
            question__archived_at__isnull=True).delete()  # an archived question's answer stays as given


def _questions_by_key(survey: Survey) -> dict:
    return {q.key: q for q in survey.questions.all()}


def _submitted_csi_mean(survey: Survey, sub: Submission) -> float | None:
    """The CSI mean of a first submission, from what it sends (its answers are not stored yet)."""
    questions = _questions_by_key(survey)
    numbers = [values.get("number") for key, values in sub.answers.items()
               if questions[key].kind == Question.Kind.CSI_ATTRIBUTE and values.get("number") is not None]
    return sum(numbers) / len(numbers) if numbers else None


# --- Funnel and contact policy --------------------------------------------------------------

def count_open(distribution: Distribution, *, skipped_by_policy: bool = False,
               invitation: int | None = None) -> None:
    """Atomically count one opening of the link (and whether the policy held the survey back);
    the opening of an invitation's link also tells its funnel."""
    if invitation is not None:
        with transaction.atomic():
            events.emit(INVITATION_OPENED, organization=distribution.survey.organization, invitation_id=invitation)
            _count_open(distribution, skipped_by_policy)
        return
    _count_open(distribution, skipped_by_policy)


def _count_open(distribution: Distribution, skipped_by_policy: bool) -> None:
    day = timezone.now().date()
    changes = {"opened": F("opened") + 1}
    if skipped_by_policy:
        changes["skipped_by_policy"] = F("skipped_by_policy") + 1
    # The day's row exists but for the day's first opening: one UPDATE, most of the time.
    if not DistributionDay.objects.filter(distribution=distribution, day=day).update(**changes):
        DistributionDay.objects.get_or_create(distribution=distribution, day=day)
        DistributionDay.objects.filter(distribution=distribution, day=day).update(**changes)


def contact_policy(organization) -> ContactPolicy:
    # The public page loads the policy with its survey's organization (select_related): no query.
    descriptor = type(organization).contact_policy
    if descriptor.is_cached(organization) and descriptor.related.get_cached_value(organization) is not None:
        return organization.contact_policy
    policy, _ = ContactPolicy.objects.get_or_create(organization=organization)
    return policy


def save_contact_policy(*, request, form) -> ContactPolicy:
    """Save the contact policy form (StaleEdit over a later version) and record what changed."""
    with transaction.atomic():
        policy = form.instance
        before = audit.snapshot(ContactPolicy.objects.get(pk=policy.pk)) if policy.pk else {}
        form.save()
        audit.record_setting(request=request, organization=policy.organization, instance=policy, change="changed",
                             before=before)
    return policy


def may_ask(customer, *, resuming_token=None, now=None) -> bool:
    """False when the customer was asked (any survey of the organization) within the policy's
    days. The respondent's own response in progress does not count against them."""
    if customer is None:
        return True
    policy = contact_policy(customer.organization)
    if not policy.enabled or policy.min_days_between_surveys == 0:
        return True
    since = (now or timezone.now()) - timedelta(days=policy.min_days_between_surveys)
    recent = Response.objects.filter(customer=customer, started_at__gte=since)
    if resuming_token is not None:
        recent = recent.exclude(token=resuming_token)
    return not recent.exists()


# --- Survey design --------------------------------------------------------------------------

@transaction.atomic
def save_survey(survey: Survey, texts: dict, *, fill_defaults: bool, version: int | None = None) -> Survey:
    """Store a survey with its texts. A new survey gets the default wording of its type in
    every language the manager left blank, so it is ready in English, Russian and Latvian. An
    edit names the `version` it was made on (StaleEdit when someone saved since)."""
    from . import texts as default_texts

    if fill_defaults:
        defaults = default_texts.defaults_for(survey.survey_type, survey.organization.name)
        for name in ("score_question", "thank_you"):
            texts[name] = {**defaults[name], **texts.get(name, {})}
        texts["follow_up"] = {
            band: {**defaults["follow_up"][band], **texts.get("follow_up", {}).get(band, {})}
            for band in defaults["follow_up"]
        }
    for name in ("title", "score_question", "thank_you", "follow_up"):
        if name in texts:
            setattr(survey, name, texts[name])
    if survey.pk:
        lock_version(survey, version)
    survey.save()
    return survey


@transaction.atomic
def save_question(question: Question, survey: Survey, text: dict, choices: list, *,
                  version: int | None = None) -> Question:
    question.survey = survey
    question.organization = survey.organization
    question.text = text
    question.choices = choices if question.kind in (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTIPLE_CHOICE) else []
    if question.kind not in (Question.Kind.CSI_ATTRIBUTE, Question.Kind.RATING):
        question.ask_importance = False
    if question.pk:
        lock_version(question, version)
    question.save()
    return question


RESERVED_QUESTION_KEYS = {"score", "comment", "token", "c", "lang"}  # the page's and the import's own names


def question_problems(survey: Survey, *, key: str, kind: str, text: dict, choices: list,
                      question: Question | None = None) -> dict[str, str]:
    """{field: reason} for a question the survey cannot take: a key already used (or one the
    survey page and imports use themselves), a choice question without options, no text in any
    language, or a new kind for a question that has answers (they would be read differently)."""
    problems = {}
    clash = Question.objects.filter(survey=survey, key=key)
    if question is not None and question.pk:
        clash = clash.exclude(pk=question.pk)
    if key in RESERVED_QUESTION_KEYS or clash.exists():
        problems["key"] = _("This key is already used in this survey.")
    if kind in (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTIPLE_CHOICE) and not choices:
        problems["choices"] = _("A choice question needs at least one option.")
    if not any(str(value).strip() for value in (text or {}).values()):
        problems["text"] = _("Write the question in at least one language.")
    if question is not None and question.pk and kind != question.kind and question.answers.exists():
        problems["kind"] = _("The kind cannot change once the question has answers.")
    return problems


@transaction.atomic
def delete_survey(survey: Survey) -> str:
    """Delete a survey nobody answered ("deleted"). One with answers is closed instead ("closed"):
    deleting it would take its answers out of every figure, case and export already given. One
    whose links invitations still send is kept ("in_use")."""
    lock_version(survey, None)  # locked, so no answer is recorded between the check and the delete
    if survey.responses.exists():
        survey.status = Survey.Status.CLOSED
        survey.save(update_fields=["status", "version", "updated_at"])
        return "closed"
    try:
        with transaction.atomic():
            survey.delete()
    except ProtectedError:  # its links are sent by invitation campaigns or trigger rules
        return "in_use"
    return "deleted"


@transaction.atomic
def delete_distribution(distribution: Distribution) -> str:
    """Delete a link nobody answered through ("deleted"); one with answers is switched off instead
    ("deactivated"), so its answers keep the touchpoint and channel they were given at; one that
    invitations still send is kept ("in_use")."""
    lock_version(distribution, None)
    if distribution.responses.exists():
        distribution.active = False
        distribution.save(update_fields=["active", "version"])
        return "deactivated"
    try:
        with transaction.atomic():
            distribution.delete()
    except ProtectedError:  # invitation campaigns or trigger rules send it
        return "in_use"
    return "deleted"


def delete_question(question: Question) -> bool:
    """A question that has answers is kept (its answers would be lost); returns whether deleted."""
    if question.answers.exists():
        return False
    question.delete()
    return True
