"""Campaign readiness: can a marketing campaign's promise be kept at every touchpoint it sends
customers through? One plain-language verdict per touchpoint, from its current figures (the
journey map's thresholds) and its open pain points (journeys data, which metrics may read)."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from journeys.models import PainPoint

from . import formatting
from .journey_figures import THRESHOLDS, tone

RED, AMBER, GREEN, UNKNOWN = "red", "amber", "green", "unknown"
LEVEL_LABELS = {
    RED: gettext_lazy("At risk"),
    AMBER: gettext_lazy("Watch"),
    GREEN: gettext_lazy("Ready"),
    UNKNOWN: gettext_lazy("Unmeasured"),
}


@dataclass
class Verdict:
    level: str
    headline: str
    reasons: list[str] = field(default_factory=list)  # what sets the level, worst first
    notes: list[str] = field(default_factory=list)  # caveats that do not change it

    @property
    def label(self):
        return LEVEL_LABELS[self.level]


def shown(metric: str, value: float) -> str:
    """A figure as the dashboard shows it (one rule: `metrics.formatting`)."""
    return formatting.figure(metric, value)


def verdict(figures: dict, pain_points) -> Verdict:
    """Red when a score is below its threshold or a critical pain point is open; amber when a
    score is under its target or a high-severity pain point is open; green when neither and
    the touchpoint has figures; unmeasured when it has no answers and nothing else is wrong."""
    red, amber, notes = [], [], []
    for metric, figure in figures.items():
        value = figure.get("value")
        if value is None:
            continue
        low, high = THRESHOLDS[metric]
        words = {"metric": metric.upper(), "value": shown(metric, value), "low": shown(metric, low),
                 "high": shown(metric, high)}
        level = tone(metric, value)
        if level == "bad":
            red.append(_("%(metric)s is %(value)s, below the threshold of %(low)s.") % words)
        elif level == "warn":
            amber.append(_("%(metric)s is %(value)s, under the target of %(high)s.") % words)
        if figure.get("small_sample"):
            notes.append(_("%(metric)s rests on only %(n)s answers, so it may still move a lot.")
                         % {"metric": metric.upper(), "n": figure.get("n", 0)})
    for pain_point in pain_points:
        if pain_point.status != PainPoint.Status.OPEN:
            continue
        if pain_point.severity == PainPoint.Severity.CRITICAL:
            red.append(_("A critical pain point is open: %(description)s") % {"description": pain_point.description})
        elif pain_point.severity == PainPoint.Severity.HIGH:
            amber.append(_("A high-severity pain point is open: %(description)s")
                         % {"description": pain_point.description})
    measured = any(f.get("value") is not None for f in figures.values())
    if red:
        return Verdict(RED, _("The campaign's promise is likely to break here."), red + amber, notes)
    if amber:
        return Verdict(AMBER, _("The promise holds only in part here."), amber, notes)
    if not measured:
        return Verdict(UNKNOWN, _("No answers in this period, so nobody can tell whether the promise holds "
                                  "here."), [], notes)
    return Verdict(GREEN, _("The figures meet their targets and no serious pain point is open."), [], notes)


def summary(verdicts) -> dict:
    """How many steps are at each level, and whether the promise holds at every step."""
    counts = dict.fromkeys((RED, AMBER, UNKNOWN, GREEN), 0)
    for item in verdicts:
        counts[item.level] += 1
    total = sum(counts.values())
    return {"counts": [(LEVEL_LABELS[level], level, n) for level, n in counts.items()],
            "total": total, "all_ready": total > 0 and counts[GREEN] == total}
