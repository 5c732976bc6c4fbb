from dataclasses import replace
from datetime import timedelta

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST, require_safe

from cxplatform.permissions import member_required
from cxplatform.replica import reads_from_replica
from cxplatform.tenancy import get_for_org_or_404
from journeys.models import JourneyMap

from . import charts, choice_figures, definitions, digest, drivers, journey_figures, narrative, selectors
from .forms import SURVEY_TYPE_OF, CompareForm, DashboardForm, DrillDownForm, ScopeForm
from .models import ChoiceRollup, DigestSubscription

KPI_ORDER = ["nps", "csat", "ces", "csi", "responses", "response_rate", "sentiment", "churn_rate", "clv"]
# How the frontline answers (from the inbox), in a row of its own under the customers' figures.
OPERATIONS_ORDER = ["first_response_time", "resolution_time", "fcr", "sla_compliance"]
LOOP_ORDER = ["contacted_in_time", "loop_closed_rate", "loop_close_time", "recovery_rate", "unreachable"]
PER_PAGE = 50
# Query parameters that shape the page, not the figures: a drill-down link drops them.
VIEW_PARAMS = ("metric", "grain", "page", "by")
PERIOD_PARAMS = ("start", "end", "from", "to")
DIMENSION_PARAMS = {"touchpoint_id": "touchpoint", "channel_id": "channel", "segment": "segment",
                    "language": "language"}


class DrillLinks:
    """URLs of the responses behind a figure: the page's filters, narrowed to one bucket,
    group or score."""

    def __init__(self, query, scope, survey_type_key: str):
        self.base = query.copy()
        for name in VIEW_PARAMS:
            self.base.pop(name, None)
        self.scope, self.type = scope, survey_type_key
        self._lists = dict(self.base.lists())
        self._path = reverse("metrics:responses")

    def url(self, *, start=None, end=None, of_measure=True, **groups) -> str:
        # A plain dict of lists, not QueryDict.copy() (a deepcopy): a two-year heat map has a
        # thousand cells, and this ran at a tenth of a millisecond each.
        query = dict(self._lists)
        if of_measure:
            query["type"] = [self.type]
        if start is not None:
            for name in PERIOD_PARAMS:
                query.pop(name, None)
            query["from"] = [max(start, self.scope.start).isoformat()]
            query["to"] = [(min(end, self.scope.end) - timedelta(days=1)).isoformat()]
        for name, values in groups.items():
            query[name] = [str(v) for v in values]
        return f"{self._path}?{urlencode(query, doseq=True)}"

    def period(self, start, grain) -> str:
        return self.url(start=start, end=selectors.bucket_end(start, grain))

    def group(self, column, row) -> str | None:
        if column == "stage":  # a stage is its touchpoints
            return self.url(touchpoint=row["touchpoints"])
        if row["key"] in (0, ""):  # "no touchpoint" / "no segment" cannot be filtered on
            return None
        return self.url(**{DIMENSION_PARAMS[column]: [row["key"]]})


def _without(query, *names):
    query = query.copy()
    for name in names:
        query.pop(name, None)
    return query


def _card(name: str, metrics: dict, drill_url: str | None = None) -> dict:
    title, meaning = definitions.EXPLANATIONS[name]
    return {"name": name, "label": definitions.short_label(name), "title": title, "help": meaning,
            "goal": name not in ("responses", "clv"), "drill_url": drill_url, **metrics[name]}


@member_required
@require_safe
@reads_from_replica
def dashboard(request):
    form = DashboardForm(request.GET, organization=request.organization)
    context = {"form": form}
    if form.is_valid():
        scope = form.scope()
        metric, grain = form.cleaned_data["metric"], form.cleaned_data["grain"]
        data = selectors.dashboard(scope, SURVEY_TYPE_OF[metric], grain)
        metrics = data["summary"]["metrics"]
        links = DrillLinks(request.GET, scope, metric)
        for column, rows in data["breakdowns"].items():
            for row in rows:
                row["drill_url"] = links.group(column, row)
        context.update({
            "scope": scope,
            "metric": metric,
            "metric_label": metric.upper(),
            "grain": grain,
            "kpis": [_card(name, metrics, links.url() if name in SURVEY_TYPE_OF else None) for name in KPI_ORDER],
            "operations": [_card(name, metrics) for name in OPERATIONS_ORDER],
            "loop": [_card(name, metrics) for name in LOOP_ORDER],
            "trend_json": charts.trend_chart(data["trend"], metric,
                                             [links.period(p["period"], grain) for p in data["trend"]], grain),
            "distribution_json": charts.distribution_chart(
                data["distribution"], [links.url(score=[s]) for s in data["distribution"]]),
            "heatmap_json": charts.heatmap_chart(data["heatmap"], metric, [
                [links.url(start=p, end=selectors.bucket_end(p, grain), touchpoint=[tp]) if tp else None
                 for p in data["heatmap"]["periods"]]
                for tp, _name in data["heatmap"]["touchpoints"]
            ], grain),
            "breakdowns": data["breakdowns"],
            "sentiment": metrics["sentiment"],
            "themes_query": links.base.urlencode(),
            # The page's filters minus the one a comparison sets itself.
            "compare_query": _without(links.base, "touchpoint", "channel", "segment", "language"),
            "sentiment_links": {key: links.url(of_measure=False, sentiment=[value])
                                for key, value in (("positive", 1), ("neutral", 0), ("negative", -1))},
            **_choice_context(form, scope, metric, links),
        })
    template = "metrics/dashboard.htmx.html" if request.htmx else "metrics/dashboard.html"
    return render(request, template, context, status=200 if form.is_valid() else 400)


def _choice_context(form, scope, metric: str, links: DrillLinks) -> dict:
    """The choice questions' part of the dashboard: each one's distribution, the chosen "break down
    by" question, and what the answer filter keeps."""
    questions = []
    for d in choice_figures.distributions(scope):
        offered = choice_figures.defined_options(d.question)  # an option removed since cannot be filtered on
        urls = [links.url(of_measure=False, answer=[f"{d.question.pk}:{o['value']}"]) if o["value"] in offered
                else None for o in d.options]
        questions.append({"distribution": d, "chart_json": charts.choice_chart(d.options, urls, d.multiple)})
    context = {"choice_questions": questions}
    by = form.cleaned_data.get("by")
    if by is not None:
        rows = choice_figures.breakdown(scope, by, SURVEY_TYPE_OF[metric])
        for row in rows or ():
            row["drill_url"] = (links.url(answer=[f"{by.pk}:{row['key']}"])
                                if row["key"] != ChoiceRollup.NO_ANSWER else None)
        context["choice_breakdown"] = {
            "question": by, "text": choice_figures.question_text(by), "rows": rows,
            # Asked in a survey of another measure: its rows are empty for this one, say why.
            "other_measure": by.survey.get_survey_type_display() if by.survey.survey_type != SURVEY_TYPE_OF[metric]
            else None,
        }
    if scope.answer:
        question = form.answered_question()
        context["answer_filter"] = {
            "question": choice_figures.question_text(question),
            "option": choice_figures.option_label(question, scope.answer[1]),
            "clear_query": _without(form.data, "answer").urlencode(),
        }
    return context


@member_required
@require_safe
@reads_from_replica
def responses(request):
    """The responses behind a figure, reached by clicking a chart, a bar or a table row."""
    form = DrillDownForm(request.GET, organization=request.organization)
    page = None
    if form.is_valid():
        qs = selectors.responses_behind(form.scope(), **form.drill())
        page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    dashboard_query = request.GET.copy()
    for name in ("type", "score", "page", "theme", "sentiment"):
        dashboard_query.pop(name, None)
    return render(request, "metrics/responses.html", {
        "form": form, "page": page, "scope": form.scope() if page is not None else None,
        "dashboard_query": dashboard_query.urlencode(),
    }, status=200 if page is not None else 400)


@member_required
@require_safe
@reads_from_replica
def key_drivers(request):
    """Which touchpoints and attributes move NPS (or CSAT, CES) most."""
    form = DashboardForm(request.GET, organization=request.organization)
    context = {"form": form}
    if form.is_valid():
        metric = form.cleaned_data["metric"]
        found = drivers.key_drivers(form.scope(), metric)
        context.update({"scope": form.scope(), "metric_label": metric.upper(), "result": found,
                        "chart_json": charts.drivers_chart(found["drivers"]) if found["drivers"] else None})
    return render(request, "metrics/drivers.html", context, status=200 if form.is_valid() else 400)


@member_required
@require_safe
@reads_from_replica
def executive(request):
    """The few numbers that matter, in plain words."""
    form = ScopeForm(request.GET, organization=request.organization)
    context = {"form": form}
    if form.is_valid():
        context["summary"] = narrative.executive_summary(form.scope())
    context["subscribed"] = DigestSubscription.objects.filter(organization=request.organization,
                                                              user=request.user).exists()
    return render(request, "metrics/executive.html", context, status=200 if form.is_valid() else 400)


@member_required
@require_safe
@reads_from_replica
def frontline(request):
    """An agent's own teams and touchpoints: how customers rate them, whom to call back."""
    teams = selectors.teams(request.organization)
    # Anyone may look at any team of the organization; by default, one's own.
    chosen = [t for t in teams if str(t.pk) in request.GET.getlist("team")] or [
        t for t in teams if request.user in t.members.all() or t.lead_id == request.user.pk]
    form = ScopeForm(request.GET, organization=request.organization)
    context = {"form": form, "teams": teams, "chosen": chosen}
    if form.is_valid() and chosen:
        touchpoints = tuple(sorted({tp.pk for t in chosen for tp in t.touchpoints.all()}))
        if touchpoints:
            scope = replace(form.scope(), touchpoints=touchpoints)
            context.update({"scope": scope, "rows": selectors.by_touchpoint(scope),
                            "call_backs": selectors.call_backs(scope)})
    return render(request, "metrics/frontline.html", context, status=200 if form.is_valid() else 400)


@member_required
@require_POST
def digest_subscription(request):
    """Switch the weekly digest e-mail on or off for oneself."""
    digest.subscribe(request.organization, request.user, request.POST.get("on") == "1")
    return redirect("metrics:executive")


@member_required
@require_safe
@reads_from_replica
def themes(request):
    """The period's recurring themes, loaded by the dashboard after its figures: from the theme
    rollups (the comments themselves only under a filter those have no column for)."""
    form = ScopeForm(request.GET, organization=request.organization)
    context = {"form": form}
    if form.is_valid():
        scope = form.scope()
        links = DrillLinks(request.GET, scope, "")
        context["themes"] = [{**t, "drill_url": links.url(of_measure=False, theme=[t["phrase"]])}
                             for t in selectors.top_themes(scope)]
    return render(request, "metrics/themes.htmx.html", context, status=200 if form.is_valid() else 400)


@member_required
@require_safe
@reads_from_replica
def compare(request):
    """Two like groups side by side, with whether their difference is more than chance."""
    form = CompareForm(request.GET, organization=request.organization)
    context = {"form": form}
    if form.is_valid():
        metric = form.cleaned_data["metric"]
        (name_a, scope_a), (name_b, scope_b) = form.group_scopes()
        fig_a, fig_b = selectors.figures(scope_a)[metric], selectors.figures(scope_b)[metric]
        context.update({"metric_label": metric.upper(),
                        "a": {"name": name_a, **fig_a.as_dict()},
                        "b": {"name": name_b, **fig_b.as_dict()},
                        "difference": definitions.difference(fig_a, fig_b),
                        "explanation": definitions.EXPLANATIONS[metric]})
    return render(request, "metrics/compare.html", context, status=200 if form.is_valid() else 400)


@member_required
@require_safe
@reads_from_replica
def journey_map_figures(request, journey_map_id):
    """The live lane of a journey map (loaded by the map page)."""
    journey_map = get_for_org_or_404(JourneyMap, request.organization, pk=journey_map_id)
    form = ScopeForm(request.GET, organization=request.organization)
    context = {"form": form, "map": journey_map}
    if form.is_valid():
        data = journey_figures.map_figures(journey_map, form.scope())
        context.update({**data, "scope": form.scope(),
                        "emotion_json": charts.emotion_chart(data["touchpoints"]) if data["touchpoints"] else None})
    return render(request, "metrics/journey_figures.htmx.html", context, status=200 if form.is_valid() else 400)
