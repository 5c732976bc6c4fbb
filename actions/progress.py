"""How a goal is doing: its KPI measured week by week against the straight line from the
baseline (at the start) to the target (at the deadline).

Every point is the KPI over the 30 days ending on that day — the window the baseline is
measured over — so the first point is the baseline itself, and one quiet week at a small
touchpoint does not swing the verdict (ADR 0007). Figures come from `metrics.selectors`, so a
point here is exactly what the dashboard shows for the same 30 days and filters.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metrics import definitions, selectors

from . import kpis

WINDOW_DAYS = 30
STEP_DAYS = 7
CENT = Decimal("0.01")

VERDICTS = {
    "not_started": _("Not started yet"),
    "not_enough_data": _("Not enough data"),
    "reached": _("Target reached"),
    "on_track": _("On track"),
    "behind": _("Behind plan"),
    "missed": _("Target missed"),
}


def to_decimal(value) -> Decimal | None:
    """A figure's float as a score in storage: two decimals, rounded half up."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class GoalScope:
    """The groups a goal measures; the same fields as `metrics.selectors.Scope`, without a period."""

    organization: object
    surveys: tuple[int, ...] = ()
    touchpoints: tuple[int, ...] = ()
    channels: tuple[int, ...] = ()
    segments: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @classmethod
    def of(cls, goal) -> "GoalScope":
        return cls(goal.organization, tuple(sorted(s.pk for s in goal.surveys.all())),
                   tuple(sorted(t.pk for t in goal.touchpoints.all())),
                   tuple(sorted(c.pk for c in goal.channels.all())),
                   tuple(goal.segments or ()), tuple(goal.languages or ()))

    def window(self, day: date) -> selectors.Scope:
        """The 30 days ending on `day` (inclusive)."""
        return selectors.Scope(self.organization, day - timedelta(days=WINDOW_DAYS - 1), day + timedelta(days=1),
                               surveys=self.surveys, touchpoints=self.touchpoints, channels=self.channels,
                               segments=self.segments, languages=self.languages)


SCORE_KPIS = {metric: survey_type for survey_type, metric in selectors.SCORE_METRICS.items()}  # nps, csat, ces


def measure(scope: GoalScope, kpi: str, day: date) -> definitions.Figure:
    """The KPI over the 30 days ending on `day`. NPS, CSAT and CES read only their rollup sums
    (one query, the same sums and formula `figures()` uses); the rest come from `figures()`."""
    window = scope.window(day)
    if kpi in SCORE_KPIS:
        survey_type = SCORE_KPIS[kpi]
        rows = [r for r in selectors.grouped(window) if r["survey__survey_type"] == survey_type]
        return selectors.score_figure(survey_type, selectors.fold(rows, lambda r: "all").get("all", {}))
    return selectors.figures(window)[kpi]


@dataclass(frozen=True)
class Point:
    day: date
    value: Decimal | None
    n: int
    margin_of_error: Decimal | None
    planned: Decimal

    @property
    def small_sample(self) -> bool:
        return self.n < definitions.SMALL_SAMPLE


@dataclass
class Progress:
    verdict: str
    points: list[Point] = field(default_factory=list)
    latest: Point | None = None
    planned_today: Decimal | None = None
    change: Decimal | None = None  # latest − baseline
    significant: bool | None = None  # None: the baseline was typed in, so no margin of error is known

    @property
    def verdict_label(self):
        return VERDICTS[self.verdict]


def planned(goal, day: date) -> Decimal:
    """The straight line from the baseline at the start to the target at the deadline."""
    day = min(max(day, goal.start_date), goal.deadline)
    share = Decimal((day - goal.start_date).days) / Decimal((goal.deadline - goal.start_date).days)
    return (goal.baseline + (goal.target - goal.baseline) * share).quantize(CENT, rounding=ROUND_HALF_UP)


def point_days(start: date, deadline: date, today: date) -> list[date]:
    """Weekly from the start, and the last day measured (today, or the deadline once it passed)."""
    last = min(today, deadline)
    if last < start:
        return []
    days = [start + timedelta(days=STEP_DAYS * k) for k in range((last - start).days // STEP_DAYS + 1)]
    if days[-1] != last:
        days.append(last)
    return days


def verdict(goal, latest: Point | None, today: date) -> str:
    kpi = kpis.get(goal.kpi)
    if today < goal.start_date:
        return "not_started"
    if latest is None or latest.value is None or latest.small_sample:
        return "not_enough_data"
    if kpi.better(latest.value, goal.target):
        return "reached"
    if latest.day >= goal.deadline:
        return "missed"
    return "on_track" if kpi.better(latest.value, planned(goal, latest.day)) else "behind"


def _significant(goal, latest: Point) -> bool | None:
    if goal.baseline_margin_of_error is None or latest.margin_of_error is None or latest.value is None:
        return None
    now = definitions.Figure(goal.kpi, float(latest.value), latest.n, margin_of_error=float(latest.margin_of_error))
    before = definitions.Figure(goal.kpi, float(goal.baseline), goal.baseline_n or 0,
                                margin_of_error=float(goal.baseline_margin_of_error))
    return definitions.difference(now, before)["significant"]


def progress(goal, today: date | None = None, *, latest_only: bool = False) -> Progress:
    """The goal's curve and verdict. `latest_only` measures the last point alone (lists of goals)."""
    today = today or timezone.now().date()
    scope = GoalScope.of(goal)
    days = point_days(goal.start_date, goal.deadline, today)
    if latest_only:
        days = days[-1:]
    points = []
    for day in days:
        figure = measure(scope, goal.kpi, day)
        points.append(Point(day, to_decimal(figure.value), figure.n, to_decimal(figure.margin_of_error),
                            planned(goal, day)))
    latest = points[-1] if points else None
    result = Progress(verdict(goal, latest, today), points, latest,
                      planned(goal, today) if today >= goal.start_date else None)
    if latest is not None and latest.value is not None:
        result.change = latest.value - goal.baseline
        result.significant = _significant(goal, latest)
    return result


def as_dict(goal, result: Progress) -> dict:
    """The progress as JSON for the API (Decimals as strings, like DRF's)."""
    def s(value):
        return None if value is None else str(value)

    return {
        "goal": goal.pk, "kpi": goal.kpi, "lower_is_better": goal.indicator.lower_is_better,
        "baseline": s(goal.baseline), "target": s(goal.target), "start_date": goal.start_date.isoformat(),
        "deadline": goal.deadline.isoformat(), "verdict": result.verdict, "verdict_label": str(result.verdict_label),
        "planned_today": s(result.planned_today), "change": s(result.change), "significant": result.significant,
        "window_days": WINDOW_DAYS,
        "points": [{"day": p.day.isoformat(), "value": s(p.value), "n": p.n, "margin_of_error": s(p.margin_of_error),
                    "planned": s(p.planned), "small_sample": p.small_sample} for p in result.points],
    }
