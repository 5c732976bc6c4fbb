"""Root-cause analysis: how many cases and inbox items each root cause had, per touchpoint and
month, and whether it is growing — the list the outer loop picks its fixes from."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncMonth

from cxplatform.tenancy import scoped
from feedback.models import FeedbackItem, RootCause
from journeys.models import PainPoint, Touchpoint

from .models import ActionItem

TREND_MONTHS = 3  # the last three whole months against the three before them


def month_starts(today: date, months: int) -> list[date]:
    """The first days of the last `months` months, the current one last."""
    starts, year, month = [], today.year, today.month
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


@dataclass
class Row:
    """One root cause, or one root cause at one touchpoint."""

    root_cause: RootCause
    touchpoint: Touchpoint | None = None
    counts: list[int] = field(default_factory=list)
    pain_points: list = field(default_factory=list)
    open_actions: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def recent(self) -> int:
        return sum(self.counts[-TREND_MONTHS - 1:-1])

    @property
    def earlier(self) -> int:
        return sum(self.counts[-2 * TREND_MONTHS - 1:-TREND_MONTHS - 1])

    @property
    def trend(self) -> str:
        """"up", "down" or "flat": the last three whole months against the three before."""
        if self.recent == self.earlier:
            return "flat"
        return "up" if self.recent > self.earlier else "down"


def analysis(organization, today: date, months: int = 12, kind: str = "") -> dict:
    """Items with a root cause received in the last `months` months (of `kind`, or every kind):
    per root cause and per root cause × touchpoint, counts per month."""
    starts = month_starts(today, months)
    since = datetime.combine(starts[0], time.min, tzinfo=UTC)
    items = scoped(FeedbackItem, organization).filter(root_cause__isnull=False, received_at__gte=since)
    if kind:
        items = items.filter(kind=kind)
    counted = (items.annotate(month=TruncMonth("received_at", tzinfo=UTC))
               .values("root_cause_id", "touchpoint_id", "month").annotate(n=Count("id")).order_by())
    index = {start: i for i, start in enumerate(starts)}
    causes = {c.pk: c for c in scoped(RootCause, organization).select_related("parent")}
    touchpoints = {t.pk: t for t in scoped(Touchpoint, organization)}
    by_cause: dict[int, Row] = {}
    by_pair: dict[tuple, Row] = {}
    for entry in counted:
        month = entry["month"].date() if hasattr(entry["month"], "date") else entry["month"]
        i = index.get(month)
        cause = causes.get(entry["root_cause_id"])
        if i is None or cause is None:
            continue
        for key, rows, tp in ((cause.pk, by_cause, None),
                              ((cause.pk, entry["touchpoint_id"]), by_pair, touchpoints.get(entry["touchpoint_id"]))):
            row = rows.setdefault(key, Row(cause, tp, [0] * months))
            row.counts[i] += entry["n"]

    pain = {}
    for p in scoped(PainPoint, organization).filter(status=PainPoint.Status.OPEN,
                                                    touchpoint__in=[k[1] for k in by_pair if k[1]]).select_related(
                                                        "journey_map"):
        pain.setdefault(p.touchpoint_id, []).append(p)
    acting = dict(scoped(ActionItem, organization).filter(status__in=ActionItem.OPEN, root_causes__in=list(by_cause))
                  .values_list("root_causes").annotate(n=Count("id", distinct=True)).order_by())
    for (cause_id, tp_id), row in by_pair.items():
        row.pain_points = pain.get(tp_id, [])
        row.open_actions = acting.get(cause_id, 0)
    for cause_id, row in by_cause.items():
        row.open_actions = acting.get(cause_id, 0)

    def ranked(rows):
        return sorted(rows, key=lambda r: (-r.total, str(r.root_cause), r.touchpoint.name if r.touchpoint else ""))

    days_in_month = (month_starts(today.replace(day=28) + timedelta(days=4), 1)[0] - starts[-1]).days
    return {"months": starts, "causes": ranked(by_cause.values()), "rows": ranked(by_pair.values()),
            "total": sum(r.total for r in by_cause.values()),
            # The current month so far: a chart must not draw it like a whole month.
            "current_month_days": (today.day, days_in_month)}
