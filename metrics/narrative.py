"""The executive summary in plain words: a few sentences a reader who has never heard of "NPS"
understands, built from the same figures as the dashboard (and mailed as the weekly digest)."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from . import definitions, formatting, selectors
from .selectors import Scope

HEADLINE_METRICS = ["nps", "csat", "ces", "csi", "sentiment"]


@dataclass
class Line:
    metric: str
    title: str
    value: str
    sentence: str
    tone: str  # better, worse or same: how the figure moved, read in its direction, for colour
    caution: str = ""


def _number(figure: dict) -> str:
    return formatting.figure(figure["metric"], figure["value"])


def _movement(metric: str, change: dict) -> tuple[str, str]:
    """A sentence on the change, in the metric's direction (a lower churn rate is better), and
    its tone: better, worse or same."""
    if change["change"] is None:
        return _("There is nothing to compare it with from the period before."), "same"
    amount = formatting.number(metric, abs(change["change"]))
    if not change["significant"]:
        return _("About the same as in the period before (a change of %(amount)s is within chance).") % {
            "amount": amount}, "same"
    if change["verdict"] == "better":
        return _("Better than in the period before, by %(amount)s — more than chance would explain.") % {
            "amount": amount}, "better"
    return _("Worse than in the period before, by %(amount)s — more than chance would explain.") % {
        "amount": amount}, "worse"


def headline(name: str, figure: dict) -> Line | None:
    if not figure["n"]:
        return None
    title, meaning = definitions.EXPLANATIONS[name]
    movement, tone = _movement(name, figure["change"])
    caution = ""
    if figure["small_sample"]:
        caution = _("Only %(n)s answers: read this figure with care.") % {"n": figure["n"]}
    return Line(name, str(title), _number(figure), f"{meaning} {movement}", tone, caution)


def touchpoint_extremes(scope: Scope) -> dict:
    """The best and the worst touchpoint by NPS among those with enough answers."""
    rated = [(row["figures"]["nps"]["value"], row["name"]) for row in selectors.by_touchpoint(scope)
             if "nps" in row["figures"] and not row["figures"]["nps"]["small_sample"]]
    if len(rated) < 2:
        return {}
    rated.sort()
    return {"worst": {"name": rated[0][1], "value": rated[0][0]}, "best": {"name": rated[-1][1], "value": rated[-1][0]}}


def complaints(scope: Scope, limit: int = 3) -> list[str]:
    """The themes most often spoken of negatively (by the sign of their own clauses), as the
    organization names them."""
    themes = [t for t in selectors.top_themes(scope, limit=15) if t["negative"]]
    themes.sort(key=lambda t: -t["negative"])
    return [t["label"] for t in themes[:limit]]


def executive_summary(scope: Scope) -> dict:
    summary = selectors.summary(scope)
    metrics = summary["metrics"]
    lines = [line for name in HEADLINE_METRICS if (line := headline(name, metrics[name]))]
    return {
        "scope": scope,
        "responses": metrics["responses"]["n"],
        "lines": lines,
        "touchpoints": touchpoint_extremes(scope),
        "complaints": complaints(scope),
        "churn": metrics["churn_rate"],
        "clv": metrics["clv"],
    }
