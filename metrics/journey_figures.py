"""Live figures on a journey map: each touchpoint's scores for the period, and the customer's
measured emotion beside the one the team designed (the map page loads this as a fragment, so
journeys never imports metrics)."""

from dataclasses import replace

from journeys.models import Stage, Touchpoint

from . import definitions, selectors
from .selectors import Scope

# Where a figure turns from red to amber to green (NPS points, CSAT %, CES mean, CSI index).
THRESHOLDS = {"nps": (0, 30), "csat": (60, 80), "ces": (4, 5), "csi": (60, 75)}
SCALE_01 = {"nps": lambda v: (v + 100) / 200, "csat": lambda v: v / 100, "ces": lambda v: (v - 1) / 6,
            "csi": lambda v: v / 100}


def tone(metric: str, value: float | None) -> str:
    if value is None:
        return ""
    low, high = THRESHOLDS[metric]
    return "good" if value >= high else "warn" if value >= low else "bad"


def measured_emotion(figures: dict, sentiment: definitions.Figure) -> float | None:
    """−2…+2 from what customers said at the touchpoint: the mean of its scores put on −2…+2
    and, when it has comments, their net sentiment (−100…+100 → −2…+2)."""
    parts = [SCALE_01[m](f["value"]) * 4 - 2 for m, f in figures.items() if f["value"] is not None]
    if sentiment.value is not None:
        parts.append(sentiment.value / 50)
    return round(max(-2.0, min(2.0, sum(parts) / len(parts))), 2) if parts else None


def map_figures(journey_map, scope: Scope) -> dict:
    stages = list(Stage.objects.filter(journey_map=journey_map).order_by("position", "id"))
    touchpoints = list(Touchpoint.objects.filter(stage__journey_map=journey_map)
                       .order_by("stage__position", "position", "id"))
    if not touchpoints:
        return {"stages": stages, "touchpoints": []}
    scope = replace(scope, touchpoints=tuple(t.pk for t in touchpoints))
    rows = {r["key"]: r for r in selectors.by_touchpoint(scope)}
    sums = selectors.fold(selectors.grouped(scope, "touchpoint_id"), lambda r: r["touchpoint_id"])
    lane = []
    for t in touchpoints:
        figures = rows.get(t.pk, {}).get("figures", {})
        for metric, figure in figures.items():
            figure["tone"] = tone(metric, figure["value"])
        s = sums.get(t.pk, {})
        sentiment = definitions.net_sentiment(s.get("positive_comments", 0), s.get("neutral_comments", 0),
                                              s.get("negative_comments", 0))
        lane.append({"touchpoint": t, "stage_id": t.stage_id, "figures": figures,
                     "sentiment": sentiment.as_dict(), "measured": measured_emotion(figures, sentiment),
                     "designed": t.expected_emotion})
    return {"stages": stages, "touchpoints": lane}

