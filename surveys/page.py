"""The public survey page's content in the respondent's language, prefilled with what they
already answered (a one-click score, a partial save, or a form sent back with errors).

The page is one HTML document holding every page of the survey: with JavaScript the respondent
sees one page at a time and the logic live (static/surveys/survey.js, logic.js); without it, all
pages at once, and the server drops what the logic hides.
"""

import random

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from cxplatform.branding import style_for
from cxplatform.input_checks import int_or_none

from . import logic, piping, texts
from .models import Question, SurveyType
from .services import band_for, localized

Kind = Question.Kind


IMPORTANCE_SCALE = [str(n) for n in range(1, 6)]


def _answer_values(response) -> dict:
    """Form-shaped values of a stored response, named as the page's fields are:
    {"score": "9", "<key>": "4", "<key>__<row>": "3", "<key>__<choice>": "1" (a rank), …}."""
    if response is None:
        return {}
    values = {"score": "" if response.score is None else str(response.score), "comment": response.comment}
    if not response.survey.asks_answer_rows():
        return values  # no field of the page shows an answer row (an archived question's stays unread)
    for answer in response.answers.all():
        q = answer.question
        key = q.key
        if answer.number is not None:
            values[key] = str(answer.number)
        if answer.importance is not None:
            values[f"{key}__importance"] = str(answer.importance)
        for row, number in (answer.grid or {}).items():
            values[f"{key}__{row}"] = str(number)
        if q.kind == Kind.TEXT and answer.text:
            values[key] = answer.text
        elif answer.text:  # a choice question's "Other" text
            values[f"{key}__other"] = answer.text
        if not answer.choices:
            continue
        if q.kind == Kind.RANKING:
            values.update({f"{key}__{value}": str(rank) for rank, value in enumerate(answer.choices, 1)})
        elif q.kind == Kind.MULTIPLE_CHOICE:
            values[key] = list(answer.choices)
        else:
            values[key] = answer.choices[0]
    return values


def _posted_values(posted) -> dict:
    return {key: posted.getlist(key) if len(posted.getlist(key)) > 1 else posted.get(key) for key in posted}


def _as_list(value) -> list:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)] if value not in (None, "") else []


def _options(q: Question, lang: str, token) -> list[tuple[str, str]]:
    """(value, label) of a choice or ranking question, shuffled when asked: the same order for
    the same response (its token seeds it), so a reload or Back does not move the options."""
    options = [(c["value"], localized(c.get("label"), lang) or c["value"]) for c in q.choices]
    if q.shuffle and token:
        random.Random(f"{token}:{q.key}").shuffle(options)  # noqa: S311 - an order, not a secret  # nosec B311
    return options


def _shown(q: Question, values: dict, options: list, lang: str) -> str:
    """An answer as the respondent reads it, for piping it into a later question's text."""
    value = values.get(q.key)
    if q.kind in (Kind.RATING, Kind.CSI_ATTRIBUTE, Kind.TEXT):
        return value if isinstance(value, str) else ""
    if q.kind == Kind.YES_NO:
        return {"yes": _("Yes"), "no": _("No")}.get(value, "") if isinstance(value, str) else ""
    if q.kind in (Kind.SINGLE_CHOICE, Kind.MULTIPLE_CHOICE):
        labels = dict(options)
        chosen = [values.get(f"{q.key}__other") or _("Other") if v == Question.OTHER else labels.get(v, "")
                  for v in _as_list(value)]
        return ", ".join(c for c in chosen if c)
    return ""


def _item(q: Question, *, lang: str, default_language: str, values: dict, errors: dict, token) -> dict:
    value = values.get(q.key)
    options = _options(q, lang, token) if q.kind in Question.CHOICE_KINDS else []
    item = {
        "q": q,
        "key": q.key,
        "kind": q.kind,
        "raw_text": localized(q.text, lang, default_language),
        "value": value if isinstance(value, str) else "",
        "values": _as_list(value),
        "error": errors.get(q.key),
        "options": options,
        "other_text": values.get(f"{q.key}__other") or "",
        "shown": _shown(q, values, options, lang),
    }
    if q.kind in (Kind.RATING, Kind.CSI_ATTRIBUTE, Kind.MATRIX):
        low, high = q.scale
        item["scale"] = [str(n) for n in range(low, high + 1)]
        item["importance"] = values.get(f"{q.key}__importance") or ""
        item["importance_scale"] = IMPORTANCE_SCALE  # importance is always 1–5, whatever the rating's scale
    if q.kind == Kind.MATRIX:
        item["rows"] = [(r["value"], localized(r.get("label"), lang) or r["value"],
                         values.get(f"{q.key}__{r['value']}") or "") for r in q.rows]
    if q.kind == Kind.RANKING:
        item["ranks"] = [str(n) for n in range(1, len(options) + 1)]
        item["ranked"] = [(v, label, values.get(f"{q.key}__{v}") or "") for v, label in options]
    return item


def _fields_in(condition) -> set[str]:
    """The fields a condition reads (for sending the page only the facts its logic needs)."""
    if not isinstance(condition, dict) or not condition:
        return set()
    found = set()
    for group in ("all", "any"):
        for part in condition.get(group) or []:
            found |= _fields_in(part)
    if "not" in condition:
        found |= _fields_in(condition["not"])
    if isinstance(condition.get("field"), str):
        found.add(condition["field"])
    return found


def page_facts(plan: dict, facts: logic.Facts, survey) -> dict:
    """What the page's logic needs besides the answers: only the fields the plan reads, so a
    customer's segment or a hidden field the survey never looks at does not go into the page."""
    used = set()
    for condition in plan["show_if"].values():
        used |= _fields_in(condition)
    for page in plan["pages"]:
        for jump in page["jumps"]:
            used |= _fields_in(jump.get("when"))
    low, high = survey.scale
    return {
        "language": facts.language,
        "touchpoint": facts.touchpoint if "touchpoint" in used else "",
        "segment": facts.segment if "segment" in used else "",
        "hidden": {k: v for k, v in facts.hidden.items() if f"hidden.{k}" in used},
        # The band each score falls in (surveys.services.band_for), so the page needs no copy of the rule.
        "bands": {str(n): band_for(survey.survey_type, n) for n in range(low, high + 1)}
        if survey.survey_type != SurveyType.CSI else {},
    }


def context(visit, token=None, response=None, posted=None, errors=None, *, facts: logic.Facts | None = None,
            preview: bool = False, chosen_score: int | None = None) -> dict:
    """The survey page's context. `chosen_score` is shown chosen over the answer's own (the score
    a one-click link in an e-mail names)."""
    survey, lang = visit.survey, visit.language
    errors = errors or {}
    values = _posted_values(posted) if posted is not None else _answer_values(response)
    if chosen_score is not None:
        values = {**values, "score": str(chosen_score)}
    low, high = survey.scale
    ends = texts.SCALE_ENDS[SurveyType(survey.survey_type)]
    low_label, high_label = ends.get(lang) or ends["en"]
    questions = list(survey.questions.all())
    items = [_item(q, lang=lang, default_language=survey.default_language, values=values, errors=errors, token=token)
             for q in questions]
    pipes = piping.PipeValues(
        name=visit.customer.name if visit.customer is not None else "",
        touchpoint=visit.distribution.touchpoint.name if visit.distribution.touchpoint_id else "",
        answers={item["key"]: item["shown"] for item in items if item["shown"]},
    )
    for item in items:
        item["text"] = piping.render(item["raw_text"], pipes)
    plan = logic.plan_of(survey, questions)
    by_key = {item["key"]: item for item in items}
    pages = []
    for index, page in enumerate(plan["pages"]):
        meta = (survey.pages or [])[index] if index < len(survey.pages or []) else {}
        pages.append({"number": page["number"],
                      "title": localized((meta or {}).get("title"), lang, survey.default_language),
                      "items": [by_key[key] for key in page["questions"]]})

    score = values.get("score") or ""
    score = score if isinstance(score, str) else ""
    follow_ups = {band: piping.plain(localized(t, lang, survey.default_language), pipes)
                  for band, t in (survey.follow_up or {}).items()}
    number = int_or_none(score, low=low, high=high)  # the posted score is re-shown, even when refused
    band = band_for(survey.survey_type, number) if number is not None else ""
    # For the page script: which follow-up text each score shows.
    follow_up_by_score = {
        str(n): follow_ups.get(band_for(survey.survey_type, n), "") for n in range(low, high + 1)
    }
    public_id = visit.distribution.public_id
    if preview:
        page_url = reverse("respond:preview", kwargs={"survey_id": survey.pk})
        action_url, save_url, edit_url = f"{page_url}?{urlencode({'lang': lang, 'sent': 1})}", "", ""
    else:
        page_url = reverse("respond:page", kwargs={"public_id": public_id})
        action_url, save_url = page_url, reverse("respond:save", kwargs={"public_id": public_id})
        edit_url = page_address(visit, token)
    error_list = [("score", _("The score"))] if errors.get("score") else []
    error_list += [(item["key"], item["raw_text"] or item["key"]) for item in items if item["error"]]
    if errors.get("comment"):
        error_list.append(("comment", _("Your comment")))
    return {
        **_visit_context(visit, token, response),
        "preview": preview,
        "title": localized(survey.title, lang, survey.default_language),
        "score_question": piping.render(localized(survey.score_question, lang, survey.default_language), pipes),
        "has_score": survey.survey_type != SurveyType.CSI,
        "scale": list(range(low, high + 1)),
        "low_label": low_label,
        "high_label": high_label,
        "importance_question": texts.IMPORTANCE_QUESTION.get(lang, texts.IMPORTANCE_QUESTION["en"]),
        "score": score,
        "comment": values.get("comment") if isinstance(values.get("comment"), str) else "",
        "follow_up": follow_ups.get(band, ""),  # before a score is chosen: the neutral wording
        "follow_up_by_score": follow_up_by_score,
        "questions": items,
        "pages": pages,
        "plan": plan,
        "logic_facts": page_facts(plan, facts or logic.Facts(language=lang), survey),
        "errors": errors,
        "error_list": error_list,
        "action_url": action_url,
        "save_url": save_url,
        "edit_url": edit_url,
    }


def visit_query(visit, token) -> str:
    """What every address of a visit carries: its link, language and answer's token."""
    query = {"c": visit.signed, "lang": visit.language, "t": str(token or "")}
    return urlencode({k: v for k, v in query.items() if v})


def page_address(visit, token) -> str:
    """The visit's own page (its address, Back and "Change my answers")."""
    return reverse("respond:page", kwargs={"public_id": visit.distribution.public_id}) + "?" + visit_query(visit, token)


def thanks_address(visit, token) -> str:
    return reverse("respond:thanks", kwargs={"public_id": visit.distribution.public_id}) + "?" + visit_query(
        visit, token)


def thanks_context(visit, token=None, response=None) -> dict:
    """What the thank-you page shows: the survey's words for it and the way back to the answer
    (none of the questions, so none of their work)."""
    return {**_visit_context(visit, token, response), "edit_url": page_address(visit, token)}


def _visit_context(visit, token, response) -> dict:
    """What every respondent page of a visit knows: its survey, language, answer and brand."""
    survey, lang = visit.survey, visit.language
    return {
        "survey": survey,
        "visit": visit,
        "lang": lang,
        "token": token,
        "response": response,
        "brand": style_for(survey.organization),
        "thank_you": localized(survey.thank_you, lang, survey.default_language),
    }
