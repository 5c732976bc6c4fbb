"""Fragments that journeys pages load from metrics (journeys sits below metrics and must not
import it): a touchpoint's recent comments, and a campaign's readiness per touchpoint."""

from dataclasses import replace

from django.shortcuts import render
from django.views.decorators.http import require_safe

from cxplatform.permissions import member_required
from cxplatform.tenancy import get_for_org_or_404
from journeys import selectors as journeys_selectors
from journeys.models import Touchpoint

from . import definitions, readiness, selectors
from .forms import ScopeForm
from .journey_figures import tone

SENTIMENT_CLASS = {1: "positive", 0: "neutral", -1: "negative"}


@require_safe
@member_required
def touchpoint_comments(request, touchpoint_id):
    """The latest comments at a touchpoint, each with its sentiment, and their net sentiment."""
    touchpoint = get_for_org_or_404(Touchpoint, request.organization, pk=touchpoint_id)
    form = ScopeForm(request.GET, organization=request.organization)
    context = {"form": form, "touchpoint": touchpoint}
    if form.is_valid():
        scope = replace(form.scope(), touchpoints=(touchpoint.pk,))
        comments = list(selectors.recent_comments(scope))
        for response in comments:
            response.sentiment_class = SENTIMENT_CLASS.get(response.sentiment, "")
        sums = selectors.fold(selectors.grouped(scope, "touchpoint_id"), lambda r: r["touchpoint_id"])
        s = sums.get(touchpoint.pk, {})
        context.update({"scope": scope, "comments": comments, "sentiment": definitions.net_sentiment(
            s.get("positive_comments", 0), s.get("neutral_comments", 0), s.get("negative_comments", 0))})
    return render(request, "metrics/touchpoint_comments.htmx.html", context, status=200 if form.is_valid() else 400)


@require_safe
@member_required
def campaign_readiness(request):
    """Per chosen touchpoint (?touchpoint=…): its figures for the period, coloured by the
    journey map's thresholds, and a verdict; the campaign readiness page swaps each into its
    touchpoint's card."""
    form = ScopeForm(request.GET, organization=request.organization)
    context = {"form": form, "steps": []}
    if form.is_valid() and form.cleaned_data["touchpoint"]:
        scope = form.scope()
        chosen = list(form.cleaned_data["touchpoint"])
        rows = {row["key"]: row for row in selectors.by_touchpoint(scope)}
        pain_points = journeys_selectors.open_pain_points(request.organization, [t.pk for t in chosen])
        for touchpoint in chosen:
            figures = rows.get(touchpoint.pk, {}).get("figures", {})
            for metric, figure in figures.items():
                figure["tone"] = tone(metric, figure["value"])
            context["steps"].append({"touchpoint": touchpoint, "figures": figures,
                                     "verdict": readiness.verdict(figures, pain_points.get(touchpoint.pk, []))})
        context.update({"scope": scope, "summary": readiness.summary(s["verdict"] for s in context["steps"])})
    return render(request, "metrics/campaign_readiness.htmx.html", context, status=200 if form.is_valid() else 400)
