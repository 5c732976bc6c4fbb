"""The survey builder: one page per survey where the manager adds, edits in place, duplicates,
deletes, reorders and moves questions across pages, writes show-if rules and page jumps, picks
the languages, sees what is still untranslated, previews the page and publishes.

Every change goes through `surveys.services` (checked per kind and against the survey's logic;
on a live survey stored as the next revision). An htmx request gets the builder's main fragment
back (`builder/main.htmx.html`), refused changes with their reasons and status 400 (409 for a
stale edit); a plain form post is redirected to the page with a message, so the page also works
without JavaScript.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cxplatform.input_checks import parse_int
from cxplatform.models import Capability
from cxplatform.permissions import capability_required, member_required
from cxplatform.tenancy import get_for_org_or_404
from cxplatform.versioning import StaleEdit

from .. import retention, revisions, services, translations
from ..forms import RULE_OPS, JumpForm, LanguagesForm, QuestionForm, RetentionOfferForm
from ..logic import END
from ..models import LANGUAGE_CODES, Question, Survey

design_required = capability_required(Capability.DESIGN)
MAIN = "surveys/builder/main.htmx.html"
# Tells the page's script a change was saved: it reloads the preview (static/surveys/builder.js).
SAVED_EVENT = "builder-saved"


def _number(value, default: int = 0) -> int:
    """A page number, position or index from a form: `default` for anything else (hostile digits,
    a number too long to read)."""
    try:
        return parse_int(value, low=0, high=32767)
    except ValueError:
        return default


def _survey(request, survey_id) -> Survey:
    return get_for_org_or_404(Survey, request.organization, pk=survey_id)


def _question(request, survey, question_id) -> Question:
    return get_for_org_or_404(survey.questions.all(), request.organization, pk=question_id)


def _describe(condition: dict, questions: dict) -> str:
    """A rule in words for the card ("Answer to “model” is one of pro, city")."""
    if not condition:
        return ""
    if "field" not in condition:
        return _("a rule of several parts")
    name = condition["field"]
    if name.startswith("answer."):
        key = name[len("answer."):]
        subject = _("the answer to “%(key)s”") % {"key": key}
        target = questions.get(key)
        labels = {c["value"]: services.localized(c.get("label"), _language()) or c["value"]
                  for c in (target.choices if target else [])}
    else:
        subject = name.replace("hidden.", _("hidden field") + " ")
        labels = {}
    ops = {op: str(label) for op, label in RULE_OPS}
    value = condition.get("value")
    values = value if isinstance(value, list) else ([] if value is None else [value])
    shown = ", ".join(labels.get(str(v), str(v)) for v in values)
    return f"{subject} {ops.get(condition.get('op'), condition.get('op'))} {shown}".strip()


def _language() -> str:
    return get_language() or "en"


def builder_context(request, survey: Survey, *, editing: Question | None = None, form=None,
                    new_page: int | None = None) -> dict:
    """What the builder shows: the pages with their questions (one of them, or a new one, open in
    its editor), the jumps, the languages, the missing translations and the publishing state."""
    questions = list(survey.questions.all())
    by_key = {q.key: q for q in questions}
    count = max([len(survey.pages or []), 1, *[q.page for q in questions]])
    page_data = (survey.pages or []) + [{}] * (count - len(survey.pages or []))
    pages = []
    for number in range(1, count + 1):
        meta = page_data[number - 1] or {}
        pages.append({
            "number": number,
            "title": meta.get("title") or {},
            "questions": [q for q in questions if q.page == number],
            "jumps": [{"index": i, "to": jump.get("to"), "ends": jump.get("to") == END,
                       "when": _describe(jump.get("when") or {}, by_key)}
                      for i, jump in enumerate(meta.get("jumps") or [])],
            "jump_form": JumpForm(survey=survey, number=number),
            "adding_here": editing is not None and editing.pk is None and editing.page == number,
        })
    for q in questions:
        q.rule_text = _describe(q.show_if, by_key)
        q.options_text = ", ".join(services.localized(c.get("label"), _language()) or c["value"]
                                   for c in q.choices or [])
    latest = survey.revisions.order_by("-number").first()
    return {
        "survey": survey,
        "pages": pages,
        "page_count": count,
        "editing": editing,
        "form": form,
        "kinds": Question.Kind.choices,
        "missing": translations.missing(survey, questions),
        "languages_form": LanguagesForm(initial={"languages": survey.languages}),
        "language_codes": LANGUAGE_CODES,
        "live": survey.status in revisions.LIVE,
        "latest_revision": latest,
        "unpublished": latest is None or latest.snapshot != revisions.snapshot(survey, questions),
        "can_design": request.membership is not None and request.membership.can(Capability.DESIGN),
    }


def _page(request, survey, *, status=200, **kwargs):
    context = builder_context(request, survey, **kwargs)
    if request.htmx:
        response = render(request, MAIN, context, status=status)
    else:
        distributions = survey.distributions.select_related("touchpoint", "channel")
        # The preview opens in the reader's language when the survey speaks it, else in the survey's own.
        reader = _language()[:2]
        context.update(distributions=distributions, offers=retention.figures(survey),
                       offer_form=RetentionOfferForm(survey=survey),
                       preview_language=reader if reader in survey.languages else survey.default_language)
        response = render(request, "surveys/survey_detail.html", context, status=status)
    if status == 200 and request.method == "POST":
        response["HX-Trigger"] = SAVED_EVENT
    return response


def _done(request, survey, notice: str, *, anchor: str = "") -> HttpResponse:
    """After a saved change: the refreshed builder for htmx, else back to the page."""
    if request.htmx:
        response = _page(request, survey)
        response["HX-Trigger"] = SAVED_EVENT
        return response
    messages.success(request, notice)
    return redirect(reverse("surveys:survey_detail", kwargs={"survey_id": survey.pk}) + (f"#{anchor}" if anchor
                                                                                          else ""))


def _refused(request, survey, problems: list[str], *, status: int = 400) -> HttpResponse:
    if request.htmx:
        context = builder_context(request, survey)
        context["problems"] = problems
        return render(request, MAIN, context, status=status)
    for problem in problems:
        messages.error(request, problem)
    return redirect("surveys:survey_detail", survey_id=survey.pk)


@member_required
def survey_detail(request, survey_id):
    return _page(request, _survey(request, survey_id))


# --- Questions -------------------------------------------------------------------------------

@design_required
def question_create(request, survey_id):
    survey = _survey(request, survey_id)
    kind = request.POST.get("kind") or request.GET.get("kind") or Question.Kind.SINGLE_CHOICE
    question = Question(survey=survey, organization=survey.organization,
                        kind=kind if kind in Question.Kind.values else Question.Kind.TEXT,
                        page=_number(request.GET.get("page"), default=1) or 1)
    if not request.POST:
        question.key = services.new_question_key(survey=survey)
    return _question_form(request, survey, question)


@design_required
def question_edit(request, survey_id, question_id):
    survey = _survey(request, survey_id)
    return _question_form(request, survey, _question(request, survey, question_id))


def _question_form(request, survey, question):
    form = QuestionForm(request.POST or None, instance=question, survey=survey)
    if request.method != "POST":
        return _page(request, survey, editing=question, form=form)
    if not form.is_valid():
        return _page(request, survey, editing=question, form=form, status=400)
    question = form.save(commit=False)
    question.show_if = form.show_if()
    try:
        services.save_question(question=question, survey=survey, text=form.localized_value("text"),
                               choices=form.cleaned_data["choices_text"], rows=form.cleaned_data["rows_text"],
                               user=request.user, version=form.cleaned_data.get("version"))
    except StaleEdit as exc:
        form.add_error(None, str(exc))
        return _page(request, survey, editing=question, form=form, status=409)
    except services.DesignRefused as exc:
        for field, message in exc.fields.items():
            target = {"text": f"text_{survey.default_language}", "choices": "choices_text",
                      "rows": "rows_text"}.get(field, field)
            form.add_error(target if target in form.fields else None, message)
        return _page(request, survey, editing=question, form=form, status=400)
    return _done(request, survey, _("Question saved."), anchor=f"question-{question.pk}")


@design_required
@require_POST
def question_delete(request, survey_id, question_id):
    survey = _survey(request, survey_id)
    question = _question(request, survey, question_id)
    try:
        outcome = services.delete_question(question=question, user=request.user)
    except services.DesignRefused as exc:
        return _refused(request, survey, exc.problems)
    return _done(request, survey, _("Question deleted.") if outcome == "deleted" else
                 _("The question has answers, so it was archived: it leaves the survey, its answers stay."))


@design_required
@require_POST
def question_duplicate(request, survey_id, question_id):
    survey = _survey(request, survey_id)
    try:
        copy = services.duplicate_question(question=_question(request, survey, question_id), user=request.user)
    except services.DesignRefused as exc:
        return _refused(request, survey, exc.problems)
    return _done(request, survey, _("Question duplicated as “%(key)s”.") % {"key": copy.key},
                 anchor=f"question-{copy.pk}")


@design_required
@require_POST
def question_move(request, survey_id, question_id):
    survey = _survey(request, survey_id)
    question = _question(request, survey, question_id)
    try:
        services.move_question(question=question, page=_number(request.POST.get("page")), user=request.user)
    except services.DesignRefused as exc:
        return _refused(request, survey, exc.problems)
    return _done(request, survey, _("Question moved."), anchor=f"question-{question.pk}")


@design_required
@require_POST
def question_order(request, survey_id):
    """The whole order at once ("id:page,id:page,…", first to last), saved atomically."""
    survey = _survey(request, survey_id)
    order = []
    for item in request.POST.get("order", "").split(","):
        question_id, _sep, page = item.strip().partition(":")
        try:
            order.append((parse_int(question_id, low=1), parse_int(page, low=1, high=32767)))
        except ValueError:
            return _refused(request, survey, [_("The order could not be read; reload the page and try again.")])
    try:
        services.reorder_questions(survey=survey, order=order, user=request.user)
    except services.DesignRefused as exc:
        return _refused(request, survey, exc.problems)
    return _done(request, survey, _("Order saved."))


# --- Pages -----------------------------------------------------------------------------------

def _page_number(request) -> int:
    return _number(request.POST.get("page"))


@design_required
@require_POST
def page_add(request, survey_id):
    survey = _survey(request, survey_id)
    try:
        number = services.add_page(survey=survey, user=request.user)
    except services.DesignRefused as exc:
        return _refused(request, survey, exc.problems)
    survey.refresh_from_db()
    return _done(request, survey, _("Page %(number)d added.") % {"number": number}, anchor=f"page-{number}")


@design_required
@require_POST
def page_remove(request, survey_id):
    survey = _survey(request, survey_id)
    try:
        services.remove_page(survey=survey, number=_page_number(request), user=request.user)
    except services.DesignRefused as exc:
        return _refused(request, survey, exc.problems)
    survey.refresh_from_db()
    return _done(request, survey, _("Page removed."))


@design_required
@require_POST
def jump_add(request, survey_id):
    survey = _survey(request, survey_id)
    number = _page_number(request)
    if not 1 <= number <= max([len(survey.pages or []), 1, *survey.questions.values_list("page", flat=True)]):
        return _refused(request, survey, [_("Choose one of the survey's pages.")])
    form = JumpForm(request.POST, survey=survey, number=number)
    if not form.is_valid():
        return _refused(request, survey, [f"{form.fields[name].label}: {' '.join(errors)}" if name in form.fields
                                          else " ".join(errors) for name, errors in form.errors.items()])
    page = (survey.pages or [])[number - 1] if len(survey.pages or []) >= number else {}
    try:
        services.save_page(survey=survey, number=number, title=(page or {}).get("title") or {},
                           jumps=[*((page or {}).get("jumps") or []), form.jump()], user=request.user)
    except services.DesignRefused as exc:
        return _refused(request, survey, exc.problems)
    survey.refresh_from_db()
    return _done(request, survey, _("Jump added."), anchor=f"page-{number}")


@design_required
@require_POST
def jump_remove(request, survey_id):
    survey = _survey(request, survey_id)
    number, index = _page_number(request), _number(request.POST.get("index"), default=-1)
    page = (survey.pages or [])[number - 1] if 1 <= number <= len(survey.pages or []) else None
    jumps = list((page or {}).get("jumps") or [])
    if page is None or not 0 <= index < len(jumps):
        return _refused(request, survey, [_("That jump is no longer there; reload the page.")])
    del jumps[index]
    try:
        services.save_page(survey=survey, number=number, title=page.get("title") or {}, jumps=jumps,
                           user=request.user)
    except services.DesignRefused as exc:
        return _refused(request, survey, exc.problems)
    survey.refresh_from_db()
    return _done(request, survey, _("Jump removed."), anchor=f"page-{number}")


# --- Languages, translations, publishing -----------------------------------------------------

@design_required
@require_POST
def languages(request, survey_id):
    survey = _survey(request, survey_id)
    form = LanguagesForm(request.POST)
    if not form.is_valid():
        return _refused(request, survey, [_("Choose at least one of English, Russian and Latvian.")])
    try:
        survey = services.set_languages(survey=survey, languages=form.cleaned_data["languages"], user=request.user)
    except services.DesignRefused as exc:
        return _refused(request, survey, exc.problems)
    return _done(request, survey, _("Languages saved."))


@member_required
def translations_view(request, survey_id):
    """Every text still missing per language, with a link to where it is written."""
    survey = _survey(request, survey_id)
    gaps = translations.missing(survey)
    by_language = [(code, [gap for gap in gaps if gap.language == code]) for code in survey.languages]
    template = "surveys/builder/translations.htmx.html" if request.htmx else "surveys/builder/translations.html"
    return render(request, template, {"survey": survey, "by_language": by_language, "gaps": gaps})


@design_required
@require_POST
def publish(request, survey_id):
    survey = _survey(request, survey_id)
    try:
        revision = services.set_status(survey=survey, status=Survey.Status.ACTIVE, user=request.user)
    except revisions.PublishBlocked as exc:
        return _refused(request, survey, exc.problems)
    survey.refresh_from_db()
    notice = (_("Published as revision %(number)d: customers see it now.") % {"number": revision.number}
              if revision else _("The survey is live; nothing changed since the last revision."))
    return _done(request, survey, notice)


@design_required
@require_POST
def status(request, survey_id):
    """Pause or close (publishing has its own button: it checks the survey first)."""
    survey = _survey(request, survey_id)
    try:
        revision = services.set_status(survey=survey, status=request.POST.get("status", ""), user=request.user)
    except (services.DesignRefused, revisions.PublishBlocked) as exc:  # "active" is publishing, checked
        return _refused(request, survey, exc.problems)
    survey.refresh_from_db()
    notices = {Survey.Status.PAUSED: _("The survey is paused."), Survey.Status.CLOSED: _("The survey is closed."),
               Survey.Status.ACTIVE: _("The survey is live; nothing changed since the last revision.")}
    if revision is not None:
        return _done(request, survey, _("Published as revision %(number)d: customers see it now.")
                     % {"number": revision.number})
    return _done(request, survey, notices.get(survey.status, ""))
