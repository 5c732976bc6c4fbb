"""Read queries behind the dashboards, the summary API and `cx_metrics`: figures from rollups
alone (metrics sits on top of the other apps, so it may read all of them)."""

from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.db.models import Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncWeek

from cxplatform.models import Customer
from cxplatform.tenancy import scoped
from journeys.models import Touchpoint
from surveys.models import DistributionDay, SurveyType

from . import definitions
from .models import SCORE_COLUMNS, DailyRollup

SCORE_METRICS = {SurveyType.NPS: "nps", SurveyType.CSAT: "csat", SurveyType.CES: "ces"}


@dataclass(frozen=True)
class Scope:
    """Which rollups a figure covers: the period [start, end) and optional group filters."""

    organization: object
    start: date
    end: date
    surveys: tuple[int, ...] = ()
    touchpoints: tuple[int, ...] = ()
    channels: tuple[int, ...] = ()
    segments: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> "Scope":
        """The period of the same length just before this one."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start)

    def as_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": (self.end - timedelta(days=1)).isoformat(),
                "survey": list(self.surveys), "touchpoint": list(self.touchpoints), "channel": list(self.channels),
                "segment": list(self.segments), "language": list(self.languages)}


def _narrow(qs, scope: Scope, prefix: str = ""):
    """Keep the rows of the scope's surveys, touchpoints and channels (`prefix` reaches them
    through a relation, e.g. "distribution__")."""
    for ids, column in ((scope.surveys, "survey_id"), (scope.touchpoints, "touchpoint_id"),
                        (scope.channels, "channel_id")):
        if ids:
            qs = qs.filter(**{f"{prefix}{column}__in": ids})
    return qs


def rollups(scope: Scope):
    qs = _narrow(scoped(DailyRollup, scope.organization).filter(day__gte=scope.start, day__lt=scope.end), scope)
    if scope.segments:
        qs = qs.filter(segment__in=scope.segments)
    if scope.languages:
        qs = qs.filter(language__in=scope.languages)
    return qs


SUM_FIELDS = ["responses", "skipped", "completed", "comments", *SCORE_COLUMNS]
SCALES = {SurveyType.NPS: (0, 10), SurveyType.CSAT: (1, 5), SurveyType.CES: (1, 7)}


def grouped(scope: Scope, *by: str) -> list[dict]:
    """Rollup sums per survey type and the `by` columns ("week": the Monday of the day), in
    one query: a page derives every figure and chart from these rows."""
    qs = rollups(scope)
    if "week" in by:
        qs = qs.annotate(week=TruncWeek("day"))
    return list(qs.values("survey__survey_type", *by).annotate(**{f: Sum(f) for f in SUM_FIELDS}).order_by())


def fold(rows, key) -> dict:
    """Add up the rows that share `key(row)`; a key of None drops the row."""
    folded: dict = {}
    for row in rows:
        k = key(row)
        if k is None:
            continue
        target = folded.setdefault(k, dict.fromkeys(SUM_FIELDS, 0))
        for f in SUM_FIELDS:
            target[f] += row[f] or 0
    return folded


def score_figure(survey_type: str, sums: dict):
    metric = SCORE_METRICS[SurveyType(survey_type)]
    counts = {i: sums.get(f"c{i}") or 0 for i in range(11)}
    return getattr(definitions, metric)(counts, skipped=sums.get("skipped") or 0)


def _csi_attributes(scope: Scope) -> dict[str, definitions.AttributeSums]:
    attributes: dict[str, definitions.AttributeSums] = {}
    for row in rollups(scope).filter(survey__survey_type=SurveyType.CSI).values_list("attributes", flat=True):
        for key, (n, total, imp_n, imp_total) in (row or {}).items():
            a = attributes.setdefault(key, definitions.AttributeSums())
            a.n, a.score_sum = a.n + n, a.score_sum + total
            a.importance_n, a.importance_sum = a.importance_n + imp_n, a.importance_sum + imp_total
    return attributes


def figures_from(scope: Scope, rows: list[dict]) -> dict:
    """NPS, CSAT, CES and CSI (each from the surveys of its type), responses and response rate."""
    empty = dict.fromkeys(SUM_FIELDS, 0)
    by_type = fold(rows, lambda r: r["survey__survey_type"])
    result = {metric: score_figure(t, by_type.get(t, empty)) for t, metric in SCORE_METRICS.items()}
    csi_sums = by_type.get(SurveyType.CSI, empty)
    attributes = _csi_attributes(scope) if csi_sums["responses"] else {}
    result["csi"] = definitions.csi(attributes, responses=csi_sums["responses"], skipped=csi_sums["skipped"])
    totals = fold(rows, lambda r: "all").get("all", empty)
    result["responses"] = definitions.Figure("responses", totals["responses"], totals["responses"],
                                             totals["skipped"], {"comments": totals["comments"]})
    result["response_rate"] = definitions.response_rate(totals["completed"], opened(scope))
    return result


def figures(scope: Scope) -> dict:
    return figures_from(scope, grouped(scope))


def opened(scope: Scope) -> int:
    """Link openings in the scope (segment and language are unknown when a link is opened, so
    a scope filtered by them has no response rate)."""
    if scope.segments or scope.languages:
        return 0
    days = _narrow(DistributionDay.objects.filter(
        distribution__organization=scope.organization, day__gte=scope.start, day__lt=scope.end),
        scope, "distribution__")
    return days.aggregate(n=Sum("opened"))["n"] or 0


def summary(scope: Scope, now: dict | None = None) -> dict:
    """Every KPI with its change against the previous period and whether that change is
    significant: the one shape the dashboard, the API and `cx_metrics` all use."""
    now = now if now is not None else figures(scope)
    before = figures(scope.previous())
    return {
        "scope": scope.as_dict(),
        "metrics": {
            name: {**fig.as_dict(), "previous": before[name].as_dict(),
                   "change": definitions.difference(fig, before[name])}
            for name, fig in now.items()
        },
    }


def _names(model, organization) -> dict:
    return dict(scoped(model, organization).values_list("pk", "name"))


def dashboard(scope: Scope, survey_type: str = SurveyType.NPS) -> dict:
    """Everything the dashboard page shows, from one grouped pass over the rollups (plus the
    previous period's totals): KPIs, trend by week, score distribution, touchpoint × week heat
    map and the touchpoint breakdown of the `survey_type` metric."""
    rows = grouped(scope, "week", "touchpoint_id")
    of_type = [r for r in rows if r["survey__survey_type"] == survey_type]
    names = _names(Touchpoint, scope.organization)

    weekly = fold(of_type, lambda r: r["week"])
    trend = [{"period": week.date() if hasattr(week, "date") else week,
              **score_figure(survey_type, sums).as_dict()} for week, sums in sorted(weekly.items())]

    by_touchpoint = []
    for tp, sums in fold(of_type, lambda r: r["touchpoint_id"]).items():
        fig = score_figure(survey_type, sums)
        if fig.n:
            by_touchpoint.append({"key": tp, "name": names.get(tp, "—"), **fig.as_dict()})
    by_touchpoint.sort(key=lambda r: (r["value"] is None, -(r["value"] or 0)))

    low, high = SCALES[SurveyType(survey_type)]
    total = fold(of_type, lambda r: "all").get("all", {})
    distribution = {i: total.get(f"c{i}", 0) for i in range(low, high + 1)}

    cells = {key: score_figure(survey_type, sums)
             for key, sums in fold(of_type, lambda r: (r["touchpoint_id"], r["week"])).items()}
    weeks = sorted(weekly)
    touchpoints = sorted({tp for tp, _w in cells}, key=lambda t: names.get(t, ""))
    heatmap = {
        "weeks": [w.date() if hasattr(w, "date") else w for w in weeks],
        "touchpoints": [(t, names.get(t, "—")) for t in touchpoints],
        "values": [[c.value if (c := cells.get((t, w))) else None for w in weeks] for t in touchpoints],
        "n": [[c.n if (c := cells.get((t, w))) else 0 for w in weeks] for t in touchpoints],
    }
    return {
        "summary": summary(scope, figures_from(scope, rows)),
        "trend": trend,
        "by_touchpoint": by_touchpoint,
        "distribution": distribution,
        "heatmap": heatmap,
    }


def segments(organization) -> list[str]:
    """The segment values of the organization's customers (cheap: customers, not responses)."""
    attr = organization.segment_attribute or "segment"
    values = (scoped(Customer, organization).order_by().annotate(seg=KeyTextTransform(attr, "attributes"))
              .values_list("seg", flat=True).distinct())
    return sorted(v for v in values if v)
