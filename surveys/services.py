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

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from cxplatform import audit, events
from cxplatform.input_checks import parse_int, text_problem
from cxplatform.models import Customer
from cxplatform.versioning import StaleEdit, lock_version

from . import answers, comments, logic, revisions
from .models import (
    LANGUAGE_CODES,
    Answer,
    Band,
    ContactPolicy,
    Distribution,
    DistributionDay,
    Question,
    Response,
    Survey,
    SurveyRevision,
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

    flow = logic.evaluate(logic.plan_of(survey, questions), _facts(survey, questions, sub, parsed, facts, language))
    for question in questions:
        key = question.key
        if key not in flow.visible or not question.is_answerable:
            continue  # not shown: whatever came for it is not an answer
        if key in answer_errors:
            if complete:
                errors[key] = answer_errors[key]
            # A partial save (the page keeps answers as the customer goes) skips one half-given
            # answer — "Other" ticked, its text not typed yet — rather than losing all the others.
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


def _facts(survey: Survey, questions: list[Question], sub: Submission, parsed: dict, given: logic.Facts | None,
           language: str) -> logic.Facts:
    """What the survey's conditions read: the caller's facts of the visit, with this submission's
    score, band and answers."""
    facts = replace(given) if given is not None else logic.Facts(language=language or "")
    if not facts.language:
        facts.language = language or ""
    facts.answers = {key: found.fact for key, found in parsed.items()}
    if survey.survey_type == SurveyType.CSI:
        numbers = [parsed[q.key].fact for q in questions if q.kind == Question.Kind.CSI_ATTRIBUTE and q.key in parsed]
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
    count_opening: bool = False,
    unless_changed_since: str | None = None,
) -> tuple[Response, bool]:
    """Create or update the response identified by `token` (or `client_key`). Returns
    (response, created). Resubmitting updates the same response: never a duplicate.
    `count_opening`: the link's opening is counted with the answer it creates (a page whose
    opening counted nothing: an e-mail's score link, docs/adr/0004). `unless_changed_since`: an
    existing answer is changed only if it is still as the caller saw it (`seen_as`; "" for an
    answer it saw none of) — read under the answer's lock, so nothing newer is overwritten."""
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
        response = Response.objects.select_for_update(no_key=True).filter(**lookup).first()
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
                response = Response.objects.select_for_update(no_key=True).get(**lookup)
        if created:
            _save_answers(response, submission, complete=complete, fresh=True)
            if count_opening and distribution is not None:
                count_open(distribution, invitation=invitation)
            if response.comment:
                comments.comment_written(response, organization=survey.organization, fresh=True)
        else:
            if response.survey_id != survey.pk or (
                distribution is not None and response.distribution_id not in (None, distribution.pk)
            ):
                raise SubmissionError({"token": _("This answer belongs to another survey.")})
            if unless_changed_since is not None and seen_as(response) != unless_changed_since:
                return response, False  # changed since the caller saw it: what is newer stays
            response.survey = survey  # already loaded: spare the query
            response.revision = survey.revision or response.revision  # the wording it is now given on
            comment_before = response.comment
            _apply(response, submission, complete=complete)
            _drop_hidden_answers(response, visit_facts(survey=survey, language=language or response.language,
                                                       touchpoint=response.touchpoint_id,
                                                       customer=customer or response.customer,
                                                       hidden=response.hidden_fields))
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


def _drop_hidden_answers(response: Response, given: logic.Facts) -> None:
    """A later write (a partial save, a one-click score, a resubmission) is read against what the
    response already holds: the stored answers of questions its logic now hides go, so a score
    changed from 3 to 10 after the detractor's question was saved never leaves that answer behind."""
    stored = [a for a in response.answers.select_related("question") if a.question.archived_at is None]
    if not stored:
        return
    questions = list(response.survey.questions.all())
    facts = replace(given, score=response.score,
                    answers={a.question.key: answers.fact_of(a.question, a) for a in stored})
    if response.survey.survey_type == SurveyType.CSI:
        numbers = [a.number for a in stored
                   if a.question.kind == Question.Kind.CSI_ATTRIBUTE and a.number is not None]
        facts.band = band_for(response.survey.survey_type, sum(numbers) / len(numbers) if numbers else None)
    else:
        facts.band = band_for(response.survey.survey_type, response.score)
    visible = logic.evaluate(logic.plan_of(response.survey, questions), facts).visible
    hidden = [a.pk for a in stored if a.question.key not in visible]
    if hidden:
        Answer.objects.filter(pk__in=hidden).delete()
        if response.survey.survey_type == SurveyType.CSI:
            response.band = band_for(response.survey.survey_type, _csi_mean(response))


def _questions_by_key(survey: Survey) -> dict:
    return {q.key: q for q in survey.questions.all()}


def _submitted_csi_mean(survey: Survey, sub: Submission) -> float | None:
    """The CSI mean of a first submission, from what it sends (its answers are not stored yet)."""
    questions = _questions_by_key(survey)
    numbers = [values.get("number") for key, values in sub.answers.items()
               if questions[key].kind == Question.Kind.CSI_ATTRIBUTE and values.get("number") is not None]
    return sum(numbers) / len(numbers) if numbers else None


# --- Funnel and contact policy --------------------------------------------------------------

def seen_as(response: Response | None) -> str:
    """How a page saw an answer, for `record_response(unless_changed_since=…)`: its last change."""
    return response.updated_at.isoformat() if response is not None else ""


def score_link_answer() -> dict:
    """How an answer made from an e-mail's score link page is recorded (whichever of its saves
    makes it: the keeping, a change, Send): a one-click answer (so a second click of the e-mail
    finds it), counting the opening that the link's page did not count (a scanner's would count
    eleven; docs/adr/0004)."""
    return {"source": Response.Source.ONE_CLICK, "count_opening": True}


def keep_one_click_score(*, survey: Survey, submission: Submission, language: str, distribution: Distribution,
                         token: uuid.UUID, seen: str, customer: Customer | None, hidden: dict | None,
                         invitation: int | None) -> Response:
    """A one-click e-mail score, kept by its page's script (never by opening the link, which mail
    scanners do: docs/adr/0004) on the answer `token` names, the link's opening counted with the
    answer it creates. The keeping travels beside what the customer does next: an answer changed
    since the page saw it (`seen`: sent, or saved by a change on the page) is newer and stays."""
    response, _created = record_response(
        survey=survey, submission=submission, complete=False, language=language, distribution=distribution,
        token=token, customer=customer, hidden=hidden, invitation=invitation, unless_changed_since=seen,
        **score_link_answer())
    return response


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
# The builder's changes (docs/adr/0030). Each one is checked before it is kept: per kind (the
# options a choice needs, a scale within 0..10), then the survey's logic as a whole (no loop, no
# rule on a later or deleted question), and on a live survey it becomes the next revision in the
# same transaction — a change that cannot go live is refused with its reasons and nothing is saved.

# The page's own field names and the columns exports and imports give a response itself: a question
# keyed so would be read as one of them, or written twice to a file.
RESERVED_QUESTION_KEYS = {"score", "comment", "token", "c", "lang", "response_id", "submitted_at", "status", "band",
                          "language", "touchpoint", "channel", "distribution", "customer_external_id",
                          "customer_email", "email", "source"}
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
OPTION_VALUE_PATTERN = re.compile(r"^[\w-]{1,100}$")
SCALE_BOUNDS = (0, 10)
MAX_OPTIONS = 50
MAX_TEXT, MAX_LABEL = 2000, 300


class DesignRefused(Exception):
    """A change the survey cannot take; nothing was saved. `problems` are the reasons in the
    reader's language, `fields` the same keyed by the form field they are about ("" for none)."""

    def __init__(self, problems: dict[str, str] | list[str]):
        self.fields = dict(problems) if isinstance(problems, dict) else {"": "; ".join(problems)}
        self.problems = list(problems.values()) if isinstance(problems, dict) else list(problems)
        super().__init__("; ".join(self.problems))


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
def edit_survey(*, survey: Survey, texts: dict, version: int | None, user=None) -> Survey:
    """The manager's edit of a survey's settings and texts: on a live survey it must still be
    publishable, and becomes its next revision (DesignRefused otherwise, nothing saved)."""
    save_survey(survey, texts, fill_defaults=False, version=version)
    _settle(survey, user)
    return survey


def _settle(survey: Survey, user) -> None:
    """After a change, in its transaction: refuse it when the logic no longer holds; on a live
    survey store it as the next revision (refused when it could not be published)."""
    found = logic.problems(survey)
    if found:
        raise DesignRefused(found)
    try:
        revisions.record_change(survey=survey, user=user)
    except revisions.PublishBlocked as exc:
        raise DesignRefused(exc.problems) from None


def _text_problems(texts, *, max_length: int) -> str | None:
    if not isinstance(texts, dict):
        return _("The text is not in a form the survey can store.")
    for code, value in texts.items():
        if code not in LANGUAGE_CODES or not isinstance(value, str):
            return _("Texts can be written only in English, Russian and Latvian.")
        if len(value) > max_length:
            return _("A text may be at most %(count)d characters long.") % {"count": max_length}
        problem = text_problem(value)
        if problem:
            return problem
    return None


def _option_messages(*, rows: bool) -> dict[str, str]:
    # Whole sentences per case: a translated "options"/"rows" pasted into one sentence would not
    # agree with it in Russian or Latvian.
    if rows:
        return {"form": _("The rows are not in a form the survey can store."),
                "many": _("A matrix can have at most %(count)d rows."),
                "value": _("Each row needs a value of letters, digits, “_” or “-” (at most 100), e.g. speed."),
                "unique": _("Each row needs its own value.")}
    return {"form": _("The options are not in a form the survey can store."),
            "many": _("A question can have at most %(count)d options."),
            "value": _("Each option needs a value of letters, digits, “_” or “-” (at most 100), e.g. price."),
            "unique": _("Each option needs its own value.")}


def _option_problems(options, *, rows: bool) -> str | None:
    """Why a list of options (or matrix rows) cannot be stored."""
    says = _option_messages(rows=rows)
    if not isinstance(options, list) or any(not isinstance(o, dict) for o in options):
        return says["form"]
    if len(options) > MAX_OPTIONS:
        return says["many"] % {"count": MAX_OPTIONS}
    values = [o.get("value") for o in options]
    for value in values:
        if not isinstance(value, str) or not OPTION_VALUE_PATTERN.match(value) or value == Question.OTHER:
            return says["value"]
    if len(set(values)) != len(values):
        return says["unique"]
    for option in options:
        problem = _text_problems(option.get("label") or {}, max_length=MAX_LABEL)
        if problem:
            return problem
    return None


def question_problems(survey: Survey, *, key: str, kind: str, text: dict, choices: list,
                      question: Question | None = None, rows: list | None = None,
                      scale_min: int | None = None, scale_max: int | None = None) -> dict[str, str]:
    """{field: reason} for a question the survey cannot take: a key already used (archived
    questions keep theirs: their answers are exported under it), a kind that does not exist,
    text missing or unstorable, a choice question without options, a matrix without rows, a
    scale outside 0..10 or upside down, or a new kind for a question that has answers."""
    problems = {}
    clash = Question.all_objects.filter(survey=survey, key=key)
    if question is not None and question.pk:
        clash = clash.exclude(pk=question.pk)
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        problems["key"] = _("The key may hold lowercase letters, digits, “_” and “-” (at most 60), e.g. "
                            "delivery_speed.")
    elif "__" in key or key.startswith("hidden_"):
        problems["key"] = _("A key may not contain “__” or start with “hidden_”: exports name their own columns so.")
    elif key in RESERVED_QUESTION_KEYS or clash.exists():
        problems["key"] = _("This key is already used in this survey.")
    if kind not in Question.Kind.values:
        problems["kind"] = _("Choose one of the kinds of question.")
    problem = _text_problems(text, max_length=MAX_TEXT)
    if problem:
        problems["text"] = problem
    elif not any(str(value).strip() for value in (text or {}).values()):
        problems["text"] = _("Write the question in at least one language.")
    if kind in Question.CHOICE_KINDS:
        problem = _option_problems(choices, rows=False)
        if problem:
            problems["choices"] = problem
        elif not choices:
            problems["choices"] = _("A choice question needs at least one option.")
        elif kind == Question.Kind.RANKING and len(choices) < 2:
            problems["choices"] = _("A ranking needs at least two options to put in order.")
    if kind == Question.Kind.MATRIX:
        problem = _option_problems(rows or [], rows=True)
        if problem:
            problems["rows"] = problem
        elif not rows:
            problems["rows"] = _("A matrix needs at least one row to rate.")
    if kind in (Question.Kind.RATING, Question.Kind.MATRIX) and scale_min is not None and scale_max is not None:
        low, high = SCALE_BOUNDS
        if not (low <= scale_min <= high and low <= scale_max <= high):
            problems["scale_max"] = _("A scale runs between %(low)d and %(high)d.") % {"low": low, "high": high}
        elif scale_min >= scale_max:
            problems["scale_max"] = _("The scale must end above where it starts.")
    if question is not None and question.pk and kind != question.kind and question.answers.exists():
        problems["kind"] = _("The kind cannot change once the question has answers.")
    return problems


def _page_count(survey: Survey, questions=None) -> int:
    questions = list(survey.questions.all()) if questions is None else questions
    return max([len(survey.pages or []), 1, *[q.page for q in questions]])


def _padded_pages(survey: Survey) -> list[dict]:
    """`survey.pages` with one entry for every page the questions are on."""
    pages = [dict(page or {}) for page in survey.pages or []]
    while len(pages) < _page_count(survey):
        pages.append({"title": {}, "jumps": []})
    return pages


def _normalize(question: Question, choices: list, rows: list) -> None:
    """Keep only what applies to the question's kind, so a kind changed in the form leaves no
    options or scale behind that the page would still show."""
    kind = question.kind
    question.choices = choices if kind in Question.CHOICE_KINDS else []
    question.rows = rows if kind == Question.Kind.MATRIX else []
    if kind not in (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTIPLE_CHOICE):
        question.allow_other = False
    if kind not in Question.CHOICE_KINDS:
        question.shuffle = False
    if kind not in Question.SCALE_KINDS:
        question.ask_importance = False
    if kind == Question.Kind.CSI_ATTRIBUTE:
        question.scale_min, question.scale_max = 1, 5
    if kind == Question.Kind.STATEMENT:
        question.required = False
        question.show_if = question.show_if or {}


def save_question(*, question: Question, survey: Survey, text: dict, choices: list | None = None,
                  rows: list | None = None, user=None, version: int | None = None) -> Question:
    """Store a question as the builder (or the API) set it: checked per kind, then with the
    survey's logic; on a live survey it becomes the next revision. DesignRefused (nothing saved)
    or StaleEdit when someone saved the question since `version`."""
    was_new, seen = question.pk is None, question.version
    try:
        return _save_question(question=question, survey=survey, text=text, choices=choices or [],
                              rows=rows or [], user=user, version=version)
    except (DesignRefused, StaleEdit):
        if was_new:  # the row was rolled back: the form shows a question still to be created
            question.pk = None
        question.version = seen
        raise


@transaction.atomic
def _save_question(*, question: Question, survey: Survey, text: dict, choices: list, rows: list, user,
                   version: int | None) -> Question:
    previous = Question.all_objects.filter(pk=question.pk).first() if question.pk else None
    problems = question_problems(survey, key=question.key, kind=question.kind, text=text, choices=choices,
                                 question=previous, rows=rows, scale_min=question.scale_min,
                                 scale_max=question.scale_max)
    if not 1 <= (question.page or 0) <= _page_count(survey):
        problems["page"] = _("Choose one of the survey's pages.")
    if problems:
        raise DesignRefused(problems)
    question.survey, question.organization, question.text = survey, survey.organization, text
    _normalize(question, choices, rows)
    if previous is None:
        last = survey.questions.filter(page=question.page).order_by("-position").first()
        question.position = (last.position + 1) if last else 1
    else:
        lock_version(question, version)
    question.save()
    _settle(survey, user)
    return question


@transaction.atomic
def delete_survey(survey: Survey) -> str:
    """Delete a survey nobody answered ("deleted"). One with answers is closed instead ("closed"):
    deleting it would take its answers out of every figure, case and export already given. One
    whose links invitations still send is kept ("in_use")."""
    lock_version(survey, None, deleting=True)  # so no answer is recorded between the check and the delete
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
    lock_version(distribution, None, deleting=True)
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


@transaction.atomic
def delete_question(*, question: Question, user=None) -> str:
    """Take a question out of the survey: "deleted" when nobody answered it, else "archived" — it
    leaves the survey but keeps its answers (and its key) for the responses and exports. Refused
    (DesignRefused) while a rule or jump still looks at it."""
    survey = question.survey
    lock_version(question, None, deleting=True)
    if question.answers.exists():
        question.archived_at = timezone.now()
        question.save(update_fields=["archived_at", "version"])
        outcome = "archived"
    else:
        # A copy is deleted, so a refusal below (rolled back) leaves the caller's question whole.
        Question.all_objects.get(pk=question.pk).delete()
        outcome = "deleted"
    _settle(survey, user)
    return outcome


def _unique_key(survey: Survey, key: str) -> str:
    taken = set(Question.all_objects.filter(survey=survey).values_list("key", flat=True)) | RESERVED_QUESTION_KEYS
    base = f"{key[:50]}_copy"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def new_question_key(*, survey: Survey) -> str:
    """A key no question of the survey has (archived ones included), for a new question."""
    taken = set(Question.all_objects.filter(survey=survey).values_list("key", flat=True))
    n = len(taken) + 1
    while f"q{n}" in taken:
        n += 1
    return f"q{n}"


@transaction.atomic
def duplicate_question(*, question: Question, user=None) -> Question:
    """A copy of the question right after it, with a key of its own (its answers are not copied)."""
    survey = Survey.objects.select_for_update(no_key=True).get(pk=question.survey_id)
    survey.questions.filter(page=question.page, position__gt=question.position).update(position=F("position") + 1)
    copy = Question(
        organization=question.organization, survey=survey, kind=question.kind, page=question.page,
        position=question.position + 1, text=dict(question.text), required=question.required,
        choices=list(question.choices), allow_other=question.allow_other, shuffle=question.shuffle,
        rows=list(question.rows), scale_min=question.scale_min, scale_max=question.scale_max,
        ask_importance=question.ask_importance, show_if=question.show_if, key=_unique_key(survey, question.key),
    )
    copy.save()
    _settle(survey, user)
    return copy


@transaction.atomic
def reorder_questions(*, survey: Survey, order: list[tuple[int, int]], user=None) -> None:
    """Put the survey's questions in `order` — (question id, page) pairs from first to last, every
    current question once — renumbering positions per page in one transaction. A rule that would
    then look at a later question refuses the whole order."""
    survey = Survey.objects.select_for_update(no_key=True).get(pk=survey.pk)
    questions = {q.pk: q for q in survey.questions.all()}
    ids = [item[0] for item in order]
    if sorted(ids) != sorted(questions) or len(set(ids)) != len(ids):
        raise DesignRefused([_("The order names other questions than the survey has; reload the page and "
                               "try again.")])
    count = _page_count(survey, list(questions.values()))
    positions: dict[int, int] = {}
    for question_id, page in order:
        if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= count:
            raise DesignRefused([_("Choose one of the survey's pages.")])
        positions[page] = positions.get(page, 0) + 1
        question = questions[question_id]
        question.page, question.position = page, positions[page]
    Question.objects.bulk_update(list(questions.values()), ["page", "position"])
    _settle(survey, user)


@transaction.atomic
def move_question(*, question: Question, page: int, user=None) -> Question:
    """Move a question to the end of another page."""
    survey = Survey.objects.select_for_update(no_key=True).get(pk=question.survey_id)
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= _page_count(survey):
        raise DesignRefused({"page": _("Choose one of the survey's pages.")})
    last = survey.questions.filter(page=page).exclude(pk=question.pk).order_by("-position").first()
    question.page, question.position = page, (last.position + 1) if last else 1
    question.save(update_fields=["page", "position"])
    _settle(survey, user)
    return question


@transaction.atomic
def add_page(*, survey: Survey, user=None) -> int:
    """A new empty page at the end; returns its number."""
    survey = Survey.objects.select_for_update(no_key=True).get(pk=survey.pk)
    pages = _padded_pages(survey)
    pages.append({"title": {}, "jumps": []})
    survey.pages = pages
    survey.save(update_fields=["pages", "updated_at"])
    _settle(survey, user)
    return len(pages)


@transaction.atomic
def remove_page(*, survey: Survey, number: int, user=None) -> None:
    """Remove an empty page (not the first: the score opens it); later pages move up one, and the
    jumps that went to them follow. Refused while a question is on it or a jump goes to it."""
    survey = Survey.objects.select_for_update(no_key=True).get(pk=survey.pk)
    pages = _padded_pages(survey)
    if isinstance(number, bool) or not isinstance(number, int) or not 2 <= number <= len(pages):
        raise DesignRefused([_("The first page holds the score and stays; choose another page.")])
    if survey.questions.filter(page=number).exists():
        raise DesignRefused([_("Page %(number)d still has questions: move or delete them first.")
                             % {"number": number}])
    for page in pages:
        if any(jump.get("to") == number for jump in page.get("jumps") or []):
            raise DesignRefused([_("A jump goes to page %(number)d: remove the jump first.") % {"number": number}])
    del pages[number - 1]
    for page in pages:
        page["jumps"] = [{**jump, "to": jump["to"] - 1 if isinstance(jump.get("to"), int) and jump["to"] > number
                          else jump.get("to")} for jump in page.get("jumps") or []]
    survey.pages = pages
    survey.save(update_fields=["pages", "updated_at"])
    survey.questions.filter(page__gt=number).update(page=F("page") - 1)
    _settle(survey, user)


@transaction.atomic
def save_page(*, survey: Survey, number: int, title: dict, jumps: list[dict], user=None) -> None:
    """A page's title and its jumps: [{"when": <condition>, "to": <later page> | "end"}, …], the first
    that holds decides. Checked with the logic: a jump goes only forward, on earlier answers."""
    survey = Survey.objects.select_for_update(no_key=True).get(pk=survey.pk)
    pages = _padded_pages(survey)
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(pages):
        raise DesignRefused([_("Choose one of the survey's pages.")])
    problem = _text_problems(title, max_length=MAX_LABEL)
    if problem:
        raise DesignRefused({"title": problem})
    if not isinstance(jumps, list) or any(not isinstance(j, dict) or not isinstance(j.get("when"), dict)
                                          for j in jumps):
        raise DesignRefused({"jumps": _("A jump needs a condition and a page to go to.")})
    pages[number - 1] = {**pages[number - 1], "title": {k: v for k, v in title.items() if v.strip()},
                         "jumps": [{"when": j["when"], "to": j.get("to")} for j in jumps]}
    survey.pages = pages
    survey.save(update_fields=["pages", "updated_at"])
    _settle(survey, user)


@transaction.atomic
def set_languages(*, survey: Survey, languages: list[str], user=None) -> Survey:
    """The languages the survey is sent in (at least one of the platform's)."""
    chosen = [code for code in LANGUAGE_CODES if code in set(languages or [])]
    if not chosen or len(chosen) != len(set(languages)):
        raise DesignRefused({"languages": _("Choose at least one of English, Russian and Latvian.")})
    survey = Survey.objects.select_for_update(no_key=True).get(pk=survey.pk)
    survey.language_codes = chosen
    survey.save(update_fields=["language_codes", "updated_at"])
    _settle(survey, user)
    return survey


@transaction.atomic
@transaction.atomic
def set_status(*, survey: Survey, status: str, user=None) -> SurveyRevision | None:
    """Publish (go live: revisions.publish, PublishBlocked when it cannot), pause or close a survey.
    Making a survey active always goes through publishing, so no unchecked survey reaches customers."""
    if status == Survey.Status.ACTIVE:
        return revisions.publish(survey=survey, user=user)
    if status not in (Survey.Status.PAUSED, Survey.Status.CLOSED):
        raise DesignRefused({"status": _("A survey can be published, paused or closed.")})
    survey = Survey.objects.select_for_update(no_key=True).get(pk=survey.pk)
    if status == Survey.Status.PAUSED and survey.status != Survey.Status.ACTIVE:
        raise DesignRefused({"status": _("Only a live survey can be paused.")})
    survey.status = status
    survey.save(update_fields=["status", "updated_at"])
    return None


def unpublished_changes(survey: Survey) -> bool:
    """Whether the survey differs from its last published revision (always, before the first)."""
    latest = survey.revisions.order_by("-number").first()
    return latest is None or latest.snapshot != revisions.snapshot(survey)
