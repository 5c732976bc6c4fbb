"""Which of a survey's texts are missing in a language it is sent in.

The page falls back to another language for a missing text, so a Latvian customer would read an
English question in the middle of a Latvian survey: a survey cannot go live (or, once live, be
saved) with a text missing in one of its languages (surveys.revisions)."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from .models import Band, SurveyType

BAND_NAMES = dict(Band.choices)  # lazy labels: read in the reader's language


@dataclass(frozen=True)
class MissingText:
    where: str  # what the text is, as the editor names it ("Question “scooter”", "Thank-you message")
    language: str
    anchor: str = ""  # the editor's element id for a link to it ("question-12")


def _texts(survey, questions):
    """(where, anchor, {language: text}) of every text a respondent may read; a text written in no
    language at all (an optional title) is not asked for."""
    if survey.survey_type == SurveyType.CSI or survey.title:
        yield _("Title"), "survey-texts", survey.title or {}
    if survey.survey_type != SurveyType.CSI:
        yield _("Score question"), "survey-texts", survey.score_question or {}
    for band, texts in (survey.follow_up or {}).items():
        if any(texts.values()):
            yield _("Follow-up question (%(band)s)") % {"band": BAND_NAMES.get(band, band)}, "survey-texts", texts
    yield _("Thank-you message"), "survey-texts", survey.thank_you or {}
    for number, page in enumerate(survey.pages or [], start=1):
        if (page or {}).get("title"):
            yield _("Title of page %(number)d") % {"number": number}, f"page-{number}", page["title"]
    for q in questions:
        name = _("Question “%(key)s”") % {"key": q.key}
        anchor = f"question-{q.pk}"
        yield name, anchor, q.text or {}
        for option in q.choices or []:
            yield _("%(question)s, option “%(value)s”") % {"question": name, "value": option["value"]}, anchor, \
                option.get("label") or {}
        for row in q.rows or []:
            yield _("%(question)s, row “%(value)s”") % {"question": name, "value": row["value"]}, anchor, \
                row.get("label") or {}


def missing(survey, questions=None, languages=None) -> list[MissingText]:
    """Every text the survey lacks in one of `languages` (default: those it is sent in)."""
    questions = list(survey.questions.all()) if questions is None else questions
    languages = languages or survey.languages
    found = []
    for where, anchor, texts in _texts(survey, questions):
        for language in languages:
            if not str(texts.get(language) or "").strip():
                found.append(MissingText(where, language, anchor))
    return found
