"""Revisions of a survey: what customers were asked, kept for as long as their answers are.

A survey in draft is edited freely. Publishing checks it (sound logic, no missing translation)
and stores its state as revision N; from then on every saved change to the live survey is checked
the same way and stored as the next revision, so each answer, which keeps the revision it was
given on, can always be shown under the wording its customer read (docs/adr/0030)."""

from django.db import transaction
from django.utils.translation import gettext as _

from . import logic, translations
from .models import Survey, SurveyRevision

LIVE = (Survey.Status.ACTIVE, Survey.Status.PAUSED)

QUESTION_FIELDS = ("key", "kind", "page", "position", "text", "required", "choices", "allow_other", "shuffle",
                   "rows", "scale_min", "scale_max", "ask_importance", "show_if")


class PublishBlocked(Exception):
    """The survey cannot go live as it is: `problems` says why, in the reader's language."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def snapshot(survey: Survey, questions=None) -> dict:
    questions = list(survey.questions.all()) if questions is None else questions
    return {
        "title": survey.title, "score_question": survey.score_question, "follow_up": survey.follow_up,
        "thank_you": survey.thank_you, "pages": survey.pages, "languages": survey.languages,
        "questions": [{"id": q.pk, **{name: getattr(q, name) for name in QUESTION_FIELDS}} for q in questions],
    }


def problems(survey: Survey, questions=None) -> list[str]:
    """Why the survey cannot go live as it is; empty when it can."""
    questions = list(survey.questions.all()) if questions is None else questions
    found = list(logic.problems(survey, questions))
    for gap in translations.missing(survey, questions):
        found.append(_("%(where)s is not written in %(language)s.") % {"where": gap.where,
                                                                       "language": gap.language.upper()})
    return found


@transaction.atomic
def publish(*, survey: Survey, user=None) -> SurveyRevision | None:
    """Make the survey live as it is now (PublishBlocked when it cannot be); returns the new
    revision, or None when nothing changed since the last one."""
    survey = Survey.objects.select_for_update(no_key=True).get(pk=survey.pk)
    revision = _record(survey, user)
    survey.status = Survey.Status.ACTIVE  # a draft goes live, a paused survey takes answers again
    survey.save(update_fields=["status", "revision", "updated_at"])
    return revision


@transaction.atomic
def record_change(*, survey: Survey, user=None) -> SurveyRevision | None:
    """After a change saved to a live survey, in its transaction: the next revision (None when the
    survey is a draft or nothing changed). PublishBlocked undoes the change with the transaction."""
    survey = Survey.objects.select_for_update(no_key=True).get(pk=survey.pk)
    if survey.status not in LIVE:
        return None
    revision = _record(survey, user)
    survey.save(update_fields=["revision", "updated_at"])
    return revision


def _record(survey: Survey, user) -> SurveyRevision | None:
    questions = list(survey.questions.all())
    found = problems(survey, questions)
    if found:
        raise PublishBlocked(found)
    state = snapshot(survey, questions)
    latest = survey.revisions.order_by("-number").first()
    if latest is not None and latest.snapshot == state:
        survey.revision = latest.number
        return None
    survey.revision = (latest.number if latest else 0) + 1
    return SurveyRevision.objects.create(survey=survey, number=survey.revision, snapshot=state,
                                         created_by=user if getattr(user, "is_authenticated", False) else None)


def wording(response, question) -> dict:
    """The question's text per language as the response's customer read it (its revision), else
    as it is now."""
    revision = getattr(response, "_revision_snapshot", None)
    if revision is None and response.revision:
        row = SurveyRevision.objects.filter(survey_id=response.survey_id, number=response.revision).first()
        revision = response._revision_snapshot = row.snapshot if row else {}
    for item in (revision or {}).get("questions", []):
        if item["id"] == question.pk:
            return item["text"]
    return question.text
