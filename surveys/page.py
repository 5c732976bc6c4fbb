"""The public survey page's content in the respondent's language, prefilled with what they
already answered (a one-click score, a partial save, or a form sent back with errors)."""

from django.urls import reverse
from django.utils.http import urlencode

from cxplatform.input_checks import int_or_none

from . import texts
from .models import Question, SurveyType
from .services import band_for, localized


def _answer_values(response):
    """Form-shaped values of a stored response: {"score": "9", "<key>": "4", ...}."""
    if response is None:
        return {}
    values = {"score": "" if response.score is None else str(response.score), "comment": response.comment}
    for answer in response.answers.all():
        key = answer.question.key
        if answer.number is not None:
            values[key] = str(answer.number)
        if answer.importance is not None:
            values[f"{key}__importance"] = str(answer.importance)
        if answer.text:
            values[key] = answer.text
        if answer.choices:
            values[key] = answer.choices
    return values


def _posted_values(posted):
    return {key: posted.getlist(key) if len(posted.getlist(key)) > 1 else posted.get(key) for key in posted}


def context(visit, token=None, response=None, posted=None, errors=None) -> dict:
    survey, lang = visit.survey, visit.language
    values = _posted_values(posted) if posted is not None else _answer_values(response)
    low, high = survey.scale
    ends = texts.SCALE_ENDS[SurveyType(survey.survey_type)]
    low_label, high_label = ends.get(lang) or ends["en"]
    questions = []
    for q in survey.questions.all():
        value = values.get(q.key)
        questions.append({
            "q": q,
            "text": localized(q.text, lang, survey.default_language),
            "value": value,
            "values": value if isinstance(value, list) else [value] if value else [],
            "importance": values.get(f"{q.key}__importance"),
            "choices": [(c["value"], localized(c.get("label"), lang) or c["value"]) for c in q.choices],
            "is_scale": q.kind in (Question.Kind.CSI_ATTRIBUTE, Question.Kind.RATING),
            "error": (errors or {}).get(q.key),
        })
    score = values.get("score") or ""
    follow_ups = {band: localized(t, lang, survey.default_language) for band, t in (survey.follow_up or {}).items()}
    number = int_or_none(score, low=low, high=high)  # the posted score is re-shown, even when refused
    band = band_for(survey.survey_type, number) if number is not None else ""
    # For the page script: which follow-up text each score shows.
    follow_up_by_score = {
        str(n): follow_ups.get(band_for(survey.survey_type, n), "") for n in range(low, high + 1)
    }
    public_id = visit.distribution.public_id
    base_query = {"c": visit.signed, "lang": lang}
    return {
        "survey": survey,
        "visit": visit,
        "lang": lang,
        "token": token,
        "response": response,
        "title": localized(survey.title, lang, survey.default_language),
        "score_question": localized(survey.score_question, lang, survey.default_language),
        "has_score": survey.survey_type != SurveyType.CSI,
        "scale": list(range(low, high + 1)),
        "low_label": low_label,
        "high_label": high_label,
        "attribute_scale": list(range(1, 6)),
        "importance_question": texts.IMPORTANCE_QUESTION.get(lang, texts.IMPORTANCE_QUESTION["en"]),
        "score": str(score),
        "comment": values.get("comment") or "",
        "follow_up": follow_ups.get(band, ""),  # before a score is chosen: the neutral wording
        "follow_up_by_score": follow_up_by_score,
        "questions": questions,
        "errors": errors or {},
        "thank_you": localized(survey.thank_you, lang, survey.default_language),
        "action_url": reverse("respond:page", kwargs={"public_id": public_id}),
        "save_url": reverse("respond:save", kwargs={"public_id": public_id}),
        "edit_url": (
            reverse("respond:page", kwargs={"public_id": public_id})
            + "?" + urlencode({k: v for k, v in {**base_query, "t": str(token or "")}.items() if v})
        ),
    }
