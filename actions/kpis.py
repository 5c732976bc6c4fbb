"""The figures a CX goal can aim at, and which way is better for each: the one place that knows
that a shorter response time or a lower churn rate is the improvement.

Every KPI here is a metric name of `metrics.selectors.figures()`; its plain-language title and
help come from `metrics.definitions.EXPLANATIONS`. Counts (responses) and money (CLV) are left
out on purpose: a count over 30 days cannot be compared with a target set for another window,
and CLV is read from imported customer data, not measured week by week.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from metrics.definitions import EXPLANATIONS, presentation


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str  # the short name on buttons and charts ("NPS", "First response time")
    low: Decimal | None  # the scale's bounds: a baseline or target outside them is a typo
    high: Decimal | None
    unit: str = ""  # shown after a value in generated titles: "%", " h"

    @property
    def lower_is_better(self) -> bool:
        """Which way is better comes from the metric's definition, like every colour and verdict."""
        return presentation(self.name).better < 0

    @property
    def title(self):
        return EXPLANATIONS[self.name][0]

    @property
    def help(self):
        return EXPLANATIONS[self.name][1]

    def better(self, a: Decimal, b: Decimal) -> bool:
        """Whether `a` is at least as good as `b` on this KPI."""
        return a <= b if self.lower_is_better else a >= b

    def format(self, value) -> str:
        """For generated titles (plain text): the metric's precision, rounded half up like every figure."""
        if value is None:
            return "—"
        step = Decimal(1).scaleb(-presentation(self.name).decimals)
        return f"{Decimal(str(value)).quantize(step, ROUND_HALF_UP)}{self.unit}"


_PERCENT = (Decimal(0), Decimal(100))
KPIS = {k.name: k for k in [
    Kpi("nps", "NPS", Decimal(-100), Decimal(100)),
    Kpi("csat", "CSAT", *_PERCENT, unit="%"),
    Kpi("ces", "CES", Decimal(1), Decimal(7)),
    Kpi("csi", "CSI", *_PERCENT),
    Kpi("sentiment", _("Comment sentiment"), Decimal(-100), Decimal(100)),
    Kpi("response_rate", _("Response rate"), *_PERCENT, unit="%"),
    Kpi("fcr", "FCR", *_PERCENT, unit="%"),
    Kpi("sla_compliance", _("SLA compliance"), *_PERCENT, unit="%"),
    Kpi("churn_rate", _("Churn rate"), *_PERCENT, unit="%"),
    Kpi("first_response_time", _("First response time"), Decimal(0), None, unit=" h"),
    Kpi("resolution_time", _("Resolution time"), Decimal(0), None, unit=" h"),
]}


def choices():
    return [(k.name, k.label) for k in KPIS.values()]


def get(name: str) -> Kpi:
    return KPIS[name]
