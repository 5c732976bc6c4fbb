"""Choice questions on the dashboard, from ChoiceRollup alone: each question's distribution, a score
figure broken down by the option picked, and the options a filter may name (docs/adr/0031)."""

from dataclasses import dataclass, field, replace

from django.db.models import Sum
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cxplatform.tenancy import scoped
from surveys import piping
from surveys.models import Question
from surveys.services import localized

from .models import ChoiceRollup
from .selectors import SUM_FIELDS, Scope, _narrow, fold, score_figure


def choice_questions(organization, survey_ids=()):
    """The organization's choice questions (archived ones too: their old answers still count)."""
    qs = scoped(Question.all_objects.all(), organization).filter(kind__in=ChoiceRollup.KINDS)
    if survey_ids:
        qs = qs.filter(survey_id__in=survey_ids)
    return qs.select_related("survey").order_by("survey__name", "survey_id", "page", "position", "id")


def defined_options(question) -> list[str]:
    """The option values a question offers today, in its order (yes/no: yes, then no)."""
    if question.kind == Question.Kind.YES_NO:
        return ["yes", "no"]
    values = list(question.choice_values)
    if question.allow_other:
        values.append(Question.OTHER)
    return values


def option_label(question, value: str, language: str | None = None) -> str:
    """An option as the reader says it: its label in the reader's language, else in any language it
    has, else its value (an option removed from the question since)."""
    if value == ChoiceRollup.NO_ANSWER:
        return _("No answer")
    if value == Question.OTHER:
        return _("Other")
    if question.kind == Question.Kind.YES_NO:
        return {"yes": _("Yes"), "no": _("No")}.get(value, value)
    for choice in question.choices:
        if choice.get("value") == value:
            return localized(choice.get("label"), language or get_language() or "en") or value
    return value


def question_text(question, language: str | None = None) -> str:
    return piping.named(localized(question.text, language or get_language() or "en")) or question.key


def filter_choices(organization) -> list:
    """The dashboard filter's options, grouped by question: ("<question id>:<value>", label)."""
    groups = []
    for q in choice_questions(organization):
        name = f"{q.survey.name} · {question_text(q)}"
        if q.archived_at:
            name = _("%(question)s (removed)") % {"question": name}
        groups.append((name, [(f"{q.pk}:{value}", option_label(q, value)) for value in defined_options(q)]))
    return groups


def _rows(scope: Scope):
    """The scope's choice rollups; an answer filter does not apply (see `distributions`)."""
    qs = _narrow(scoped(ChoiceRollup, scope.organization).filter(day__gte=scope.start, day__lt=scope.end), scope)
    if scope.segments:
        qs = qs.filter(segment__in=scope.segments)
    if scope.languages:
        qs = qs.filter(language__in=scope.languages)
    return qs


@dataclass
class Distribution:
    question: Question
    text: str
    answered: int  # respondents who picked at least one option: the percentages are of them
    skipped: int  # counted responses that did not answer the question
    options: list[dict] = field(default_factory=list)

    @property
    def multiple(self) -> bool:
        return self.question.kind == Question.Kind.MULTIPLE_CHOICE


def distributions(scope: Scope) -> list[Distribution]:
    """Per choice question answered in the scope, each option's respondents and their share of
    those who answered it (of a multiple choice: the share who picked it, so they add up to more
    than 100%). One query over the rollups, O(days × groups × options). The distribution is of every
    answer in the scope, also under an answer filter: crossing two questions needs the raw answers."""
    sums = {(r["question_id"], r["option"]): (r["responses"] or 0) + (r["skipped"] or 0)
            for r in _rows(replace(scope, answer=())).values("question_id", "option")
            .annotate(responses=Sum("responses"), skipped=Sum("skipped")).order_by()}
    if not sums:
        return []
    questions = choice_questions(scope.organization).filter(pk__in={q for q, _o in sums})
    result = []
    for q in questions:
        answered = sums.get((q.pk, ChoiceRollup.ANSWERED), 0)
        seen = [o for (qid, o) in sums if qid == q.pk and o not in (ChoiceRollup.ANSWERED, ChoiceRollup.NO_ANSWER)]
        values = defined_options(q)
        values += sorted(o for o in seen if o not in values)  # options removed since: still counted
        options = [{"value": v, "label": option_label(q, v), "count": sums.get((q.pk, v), 0),
                    "percent": 100 * sums.get((q.pk, v), 0) / answered if answered else None} for v in values]
        result.append(Distribution(q, question_text(q), answered, sums.get((q.pk, ChoiceRollup.NO_ANSWER), 0),
                                   options))
    return result


def breakdown(scope: Scope, question, survey_type: str) -> list[dict] | None:
    """The `survey_type` score per option of `question` (NPS by "which scooter"), each with its
    margin of error and n, from the same formulas as every other figure; "no answer" last. None
    when the scope is filtered by an answer to another question (that crossing is not rolled up)."""
    if scope.answer and scope.answer[0] != question.pk:
        return None
    rows = (_rows(replace(scope, answer=())).filter(question=question, survey__survey_type=survey_type)
            .exclude(option=ChoiceRollup.ANSWERED)
            .values("option").annotate(**{f: Sum(f) for f in SUM_FIELDS}).order_by())
    if scope.answer:
        rows = rows.filter(option=scope.answer[1])
    by_option = fold(rows, lambda r: r["option"])
    values = [v for v in defined_options(question) if v in by_option]
    values += sorted(v for v in by_option if v not in values and v != ChoiceRollup.NO_ANSWER)
    if ChoiceRollup.NO_ANSWER in by_option:
        values.append(ChoiceRollup.NO_ANSWER)
    result = []
    for value in values:
        fig = score_figure(survey_type, by_option[value])
        if not fig.n:  # picked only by respondents who skipped the score: no figure to show
            continue
        result.append({"key": value, "name": option_label(question, value), **fig.as_dict()})
    return result
