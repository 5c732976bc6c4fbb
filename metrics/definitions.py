"""Every CX formula, in one place: the single source of truth for figures on every screen, in
the API and in `manage.py cx_metrics`.

Inputs are counts and sums (what the daily rollups hold), never raw rows, so a figure for any
period is computed from rollups alone. A skipped question is not an answer: it counts in
neither numerator nor denominator, and `skipped` is carried beside the figure.
"""

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

Z95 = 1.959963984540054  # two-sided 95% normal quantile
SMALL_SAMPLE = 30  # below this many answers a figure carries the small-sample mark


# --- How each figure is shown: precision and which way is better ------------------------------

@dataclass(frozen=True)
class Presentation:
    decimals: int = 1
    unit: str = ""  # "%", "h" (hours), "money" (the organization's currency), or "" (a score or a count)
    better: int = 1  # 1: higher is better; -1: lower is better; 0: neither (a count)


# Whole points where a figure's margin of error is whole points at any real sample (NPS, shares of
# customers, the CSI index); a decimal where the scale is short (CES 1–7) or the share small
# (response and churn rates), and for hours.
PRESENTATION = {
    "nps": Presentation(0), "csat": Presentation(0, "%"), "ces": Presentation(1), "csi": Presentation(0),
    "sentiment": Presentation(0), "responses": Presentation(0, better=0), "response_rate": Presentation(1, "%"),
    "churn_rate": Presentation(1, "%", better=-1), "clv": Presentation(0, "money"),
    "first_response_time": Presentation(1, "h", better=-1), "resolution_time": Presentation(1, "h", better=-1),
    "fcr": Presentation(0, "%"), "sla_compliance": Presentation(0, "%"),
    "contacted_in_time": Presentation(0, "%"), "loop_closed_rate": Presentation(0, "%"),
    "loop_close_time": Presentation(1, "h", better=-1), "recovery_rate": Presentation(0, "%"),
    "unreachable": Presentation(0, "%", better=-1),
}


def presentation(metric: str) -> Presentation:
    return PRESENTATION.get(metric, Presentation())


def shown(metric: str, value) -> float | None:
    """`value` rounded as every screen, the API and `cx_metrics` show it: to the metric's
    decimals, half up (4.05 → 4.1, never a float's 4.0)."""
    if value is None:
        return None
    step = Decimal(1).scaleb(-presentation(metric).decimals)
    return float(Decimal(repr(float(value))).quantize(step, ROUND_HALF_UP))


def judged(metric: str, change: dict) -> str:
    """"better", "worse" or "same": a change read in the metric's direction (a rising churn rate
    is worse), and "same" unless it is significant."""
    amount, direction = change.get("change"), presentation(metric).better
    if not amount or not change.get("significant") or not direction:
        return "same"
    return "better" if amount * direction > 0 else "worse"


@dataclass(frozen=True)
class Figure:
    metric: str
    value: float | None
    n: int
    skipped: int = 0
    counts: dict = field(default_factory=dict)
    margin_of_error: float | None = None  # half-width of the 95% confidence interval, in the value's unit
    unit: str = ""

    @property
    def small_sample(self) -> bool:
        return self.n < SMALL_SAMPLE

    @property
    def ci(self) -> tuple[float, float] | None:
        if self.value is None or self.margin_of_error is None:
            return None
        return self.value - self.margin_of_error, self.value + self.margin_of_error

    def as_dict(self) -> dict:
        data = asdict(self)
        data["small_sample"] = self.small_sample
        data["ci_low"], data["ci_high"] = self.ci or (None, None)
        for key in ("value", "margin_of_error", "ci_low", "ci_high"):
            data[key] = shown(self.metric, data[key])
        return data


def _count(counts: Mapping, scores) -> int:
    return sum(int(counts.get(s, 0) or 0) for s in scores)


def _mean_and_sd(counts: Mapping[int, int]) -> tuple[float | None, float | None, int]:
    n = sum(counts.values())
    if n == 0:
        return None, None, 0
    mean = sum(score * c for score, c in counts.items()) / n
    if n < 2:
        return mean, None, n
    variance = sum(c * (score - mean) ** 2 for score, c in counts.items()) / (n - 1)
    return mean, math.sqrt(variance), n


def _proportion_moe(p: float, n: int) -> float | None:
    """Wald half-width of a proportion's 95% interval, in percentage points."""
    return Z95 * math.sqrt(p * (1 - p) / n) * 100 if n else None


# --- Survey metrics ---------------------------------------------------------------------------

def nps(counts: Mapping[int, int], skipped: int = 0) -> Figure:
    """Net Promoter Score from the count of each answer 0–10: %promoters (9–10) − %detractors
    (0–6), −100…100, with the 95% margin of error 1.96·√((pP + pD − (pP − pD)²)/n)·100."""
    promoters, passives, detractors = _count(counts, (9, 10)), _count(counts, (7, 8)), _count(counts, range(0, 7))
    n = promoters + passives + detractors
    breakdown = {"promoters": promoters, "passives": passives, "detractors": detractors}
    if n == 0:
        return Figure("nps", None, 0, skipped, breakdown, None, "points")
    p_p, p_d = promoters / n, detractors / n
    moe = Z95 * math.sqrt(max(p_p + p_d - (p_p - p_d) ** 2, 0.0) / n) * 100
    return Figure("nps", (p_p - p_d) * 100, n, skipped, breakdown, moe, "points")


def net_sentiment(positive: int, neutral: int, negative: int) -> Figure:
    """Net sentiment of the comments: %positive − %negative, −100…100, with the same margin of
    error as NPS (it is the same difference of two shares of one sample)."""
    n = positive + neutral + negative
    breakdown = {"positive": positive, "neutral": neutral, "negative": negative}
    if n == 0:
        return Figure("sentiment", None, 0, 0, breakdown, None, "points")
    p_p, p_n = positive / n, negative / n
    moe = Z95 * math.sqrt(max(p_p + p_n - (p_p - p_n) ** 2, 0.0) / n) * 100
    return Figure("sentiment", (p_p - p_n) * 100, n, 0, breakdown, moe, "points")


def csat(counts: Mapping[int, int], skipped: int = 0) -> Figure:
    """Customer satisfaction (1–5): % of answers 4 or 5 (top-two box), the mean alongside."""
    satisfied = _count(counts, (4, 5))
    scored = {s: int(counts.get(s, 0) or 0) for s in range(1, 6)}
    mean, _sd, n = _mean_and_sd(scored)
    breakdown = {"satisfied": satisfied, "mean": None if mean is None else round(mean, 2)}
    if n == 0:
        return Figure("csat", None, 0, skipped, breakdown, None, "%")
    p = satisfied / n
    return Figure("csat", p * 100, n, skipped, breakdown, _proportion_moe(p, n), "%")


def ces(counts: Mapping[int, int], skipped: int = 0) -> Figure:
    """Customer effort (1–7 agreement with "the company made it easy"): the mean, and the %
    of answers 5–7 (easy). Margin of error of the mean: 1.96·sd/√n."""
    scored = {s: int(counts.get(s, 0) or 0) for s in range(1, 8)}
    mean, sd, n = _mean_and_sd(scored)
    easy = _count(counts, (5, 6, 7))
    breakdown = {"easy": easy, "easy_percent": round(100 * easy / n, 1) if n else None}
    if n == 0:
        return Figure("ces", None, 0, skipped, breakdown, None, "")
    moe = Z95 * sd / math.sqrt(n) if sd is not None else None
    return Figure("ces", mean, n, skipped, breakdown, moe, "")


@dataclass
class AttributeSums:
    """One CSI attribute's sums: answers, their total, and (when asked) importance answers."""

    n: int = 0
    score_sum: int = 0
    importance_n: int = 0
    importance_sum: int = 0

    @property
    def mean(self) -> float | None:
        return self.score_sum / self.n if self.n else None

    @property
    def weight(self) -> float:
        return self.importance_sum / self.importance_n if self.importance_n else 1.0


def csi(attributes: Mapping[str, AttributeSums], responses: int = 0, skipped: int = 0) -> Figure:
    """Customer Satisfaction Index 0–100: the importance-weighted mean, over attributes, of
    (mean score − 1) / 4 · 100; equal weights where no importance was asked."""
    rated = {key: a for key, a in attributes.items() if a.n}
    per_attribute = {key: round((a.mean - 1) / 4 * 100, 1) for key, a in rated.items()}
    if not rated:
        return Figure("csi", None, responses, skipped, {"attributes": per_attribute}, None, "/100")
    total_weight = sum(a.weight for a in rated.values())
    index = sum(a.weight * (a.mean - 1) / 4 * 100 for a in rated.values()) / total_weight
    return Figure("csi", index, responses or max(a.n for a in rated.values()), skipped,
                  {"attributes": per_attribute, "weights": {k: round(a.weight, 2) for k, a in rated.items()}},
                  None, "/100")


def response_rate(completed: int, opened: int) -> Figure:
    """Completed responses per opened link, in %."""
    if opened <= 0:
        return Figure("response_rate", None, 0, 0, {"completed": completed, "opened": opened}, None, "%")
    p = min(completed / opened, 1.0)
    return Figure("response_rate", p * 100, opened, 0, {"completed": completed, "opened": opened},
                  _proportion_moe(p, opened), "%")


# --- Operational and customer metrics ------------------------------------------------------------

def rate(metric: str, hits: int, total: int) -> Figure:
    """A share in %: FCR (resolved with one reply / resolved), SLA compliance (met / due),
    loop-closed rate (detractor cases closed within SLA / detractor cases)."""
    if hits < 0 or hits > total > 0:
        raise ValueError(f"{metric}: {hits} hits out of {total} is not a share")
    if total <= 0:
        return Figure(metric, None, 0, 0, {"hits": hits, "total": total}, None, "%")
    p = hits / total
    return Figure(metric, p * 100, total, 0, {"hits": hits, "total": total}, _proportion_moe(p, total), "%")


def median_duration(metric: str, seconds: list[float]) -> Figure:
    """First response time or resolution time: the median, in hours (robust to a few outliers)."""
    if not seconds:
        return Figure(metric, None, 0, 0, {}, None, "h")
    ordered = sorted(seconds)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return Figure(metric, median / 3600, len(ordered), 0, {}, None, "h")


def churn_rate(lost_in_period: int, customers_at_start: int) -> Figure:
    """Customers lost in the period / customers at its start, in %."""
    return rate("churn_rate", lost_in_period, customers_at_start)


def clv(average_revenue_per_period, gross_margin: float, churn_per_period: float, customers: int = 0) -> Figure:
    """Customer lifetime value: revenue per period × margin / churn per period (a customer
    stays 1/churn periods on average), over the `customers` whose revenue made the average.
    Without churn or without such customers there is no figure, never a number."""
    if not churn_per_period or churn_per_period <= 0 or customers <= 0:
        return Figure("clv", None, customers, 0, {}, None, "money")
    value = float(average_revenue_per_period) * gross_margin / churn_per_period
    return Figure("clv", value, customers, 0, {"expected_periods": round(1 / churn_per_period, 1)}, None, "money")


# --- Comparing two periods or two like groups --------------------------------------------------

def difference(a: Figure, b: Figure) -> dict:
    """Change from `b` (before) to `a` (now) and whether it is significant at 95%.

    The two figures are independent samples, so the standard error of the difference is the
    root of the summed squared standard errors; the change is significant when its own 95%
    interval excludes zero (for two NPS values this is the usual test for their difference,
    for two proportions the unpooled two-proportion z-test)."""
    if a.value is None or b.value is None or a.margin_of_error is None or b.margin_of_error is None:
        change = None if a.value is None or b.value is None else a.value - b.value
        verdict = {"change": shown(a.metric, change), "margin_of_error": None, "significant": False}
    else:
        change = a.value - b.value
        moe = math.sqrt(a.margin_of_error ** 2 + b.margin_of_error ** 2)
        verdict = {"change": shown(a.metric, change), "margin_of_error": shown(a.metric, moe),
                   "significant": bool(moe > 0 and abs(change) > moe)}
    return {**verdict, "verdict": judged(a.metric, verdict)}


# --- Plain words for people who do not know the abbreviations ---------------------------------

# The short name on a card; figures without an abbreviation use their title.
ABBREVIATIONS = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "csi": "CSI", "clv": "CLV", "fcr": "FCR",
                 "sla_compliance": "SLA"}


def short_label(metric: str) -> str:
    return ABBREVIATIONS.get(metric) or str(EXPLANATIONS[metric][0])


EXPLANATIONS = {
    "nps": (_("Net Promoter Score"), _(
        "How many customers would recommend us, minus how many would not. Customers answer 0–10: "
        "9–10 are promoters, 0–6 detractors. From −100 (everyone unhappy) to +100 (everyone a fan).")),
    "csat": (_("Customer satisfaction"), _(
        "The share of customers who said they were satisfied or very satisfied (4 or 5 out of 5).")),
    "ces": (_("Customer effort score"), _(
        "How easy we made it for customers to get things done, on average from 1 (very hard) to 7 "
        "(very easy). Higher is better.")),
    "csi": (_("Customer satisfaction index"), _(
        "Satisfaction with several parts of the service at once, weighted by how much each matters "
        "to customers, on a scale from 0 to 100.")),
    "sentiment": (_("Comment sentiment"), _(
        "What customers' comments sound like: the share of positive comments minus the share of "
        "negative ones, from −100 (all negative) to +100 (all positive), read by the platform itself.")),
    "responses": (_("Responses"), _("How many customers answered in the period.")),
    "response_rate": (_("Response rate"), _("Of the customers who opened a survey link, the share who answered.")),
    "churn_rate": (_("Churn rate"), _(
        "Of the customers we had at the start of the period, the share who cancelled during it. Lower is better.")),
    "first_response_time": (_("First response time"), _(
        "How long customers who wrote to us waited for the first answer: the middle value (half waited "
        "less, half more), in hours. Lower is better.")),
    "resolution_time": (_("Resolution time"), _(
        "How long it took from a customer's message to the problem being resolved: the middle value, in "
        "hours. Lower is better.")),
    "fcr": (_("First-contact resolution"), _(
        "Of the problems we resolved after writing to the customer, the share solved with our very first "
        "reply, so the customer did not have to come back.")),
    "sla_compliance": (_("SLA compliance"), _(
        "The share of customer messages answered and resolved within the times we promised (the service "
        "level agreement).")),
    "contacted_in_time": (_("Called back in time"), _(
        "Of the unhappy customers we promised to call back, the share we reached within the promised time.")),
    "loop_closed_rate": (_("Loops closed in time"), _(
        "Of the call-back cases, the share resolved — with the reason found and something done — within "
        "the time we set ourselves.")),
    "loop_close_time": (_("Time to close the loop"), _(
        "How long it takes from an unhappy answer to its case being resolved: the middle value, in hours.")),
    "recovery_rate": (_("Customers recovered"), _(
        "Of the customers who answered again after we resolved their case, the share who gave a better "
        "score than the first time.")),
    "unreachable": (_("Unhappy, nobody to call"), _(
        "Of the unhappy answers that called for a call-back, the share we could not call back: the customer "
        "did not say who they were, or left neither an e-mail address nor a phone number. Their answers are "
        "in the inbox as feedback, so what they say still counts; ask for contact details to lower this.")),
    "clv": (_("Customer lifetime value"), _(
        "What an average customer brings over all the time they stay with us: revenue per month times the "
        "months a customer stays, judging by how many leave.")),
}
