"""The dashboard's charts as plotly.js figure specs ({"data": …, "layout": …}).

Built as plain JSON rather than through plotly.graph_objects: the page draws them with the
plotly.js that the plotly package ships, and skipping the Python-side validation keeps the
dashboard's server time low.
"""

from django.utils.translation import gettext as _

from cxplatform import dates
from cxplatform.charts import figure_json

from .definitions import presentation

LAYOUT = {"margin": {"l": 40, "r": 10, "t": 10, "b": 40}, "height": 280, "paper_bgcolor": "rgba(0,0,0,0)",
          "plot_bgcolor": "rgba(0,0,0,0)", "font": {"family": "system-ui, sans-serif", "size": 12},
          "showlegend": False,
          # A click drills down, so the axes do not zoom (plotly needs its drag layer for hover and click).
          "xaxis": {"fixedrange": True}, "yaxis": {"fixedrange": True}}


RED_TO_GREEN = [[0, "#c62828"], [0.5, "#fff3c4"], [1, "#1a7f37"]]


def _figure(data, **layout) -> str:
    return figure_json(data, {**LAYOUT, **layout})


def partial_note(days: tuple[int, int] | None) -> str:
    """" · partial: 2 of 7 days" for a period the chosen dates cut (the current week ends today)."""
    if not days or days[0] >= days[1]:
        return ""
    return " · " + _("partial: %(covered)d of %(days)d days") % {"covered": days[0], "days": days[1]}


def trend_chart(points: list[dict], metric: str, urls: list[str], grain: str = "day") -> str:
    """The metric per period with its 95% band; a partial period (the current week or month, or
    one the chosen start cuts) is drawn hollow and says so. Periods are named in the reader's
    locale ("2026. g. nov.")."""
    x = dates.period_labels([p["period"] for p in points], grain)
    low, high = [p["ci_low"] for p in points], [p["ci_high"] for p in points]
    notes = [partial_note(p.get("days")) for p in points]
    decimals = presentation(metric).decimals
    return _figure([
        {"type": "scatter", "x": x + x[::-1], "y": high + low[::-1], "fill": "toself",
         "fillcolor": "rgba(31,111,235,0.12)", "line": {"width": 0}, "hoverinfo": "skip",
         "name": _("Confidence interval")},
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": [p["value"] for p in points], "name": metric.upper(),
         "line": {"color": "#1f6feb"},
         "marker": {"size": 8, "color": ["#ffffff" if note else "#1f6feb" for note in notes],
                    "line": {"color": "#1f6feb", "width": 2}},
         "customdata": [[p["n"], url, note] for p, url, note in zip(points, urls, notes, strict=True)],
         "hovertemplate": f"%{{x}}: %{{y:.{decimals}f}} (n=%{{customdata[0]}})%{{customdata[2]}}<extra></extra>"},
    ], xaxis={"fixedrange": True, "type": "category"})


def distribution_chart(counts: dict[int, int], urls: list[str]) -> str:
    nps_scale = len(counts) == 11
    colours = [("#c62828" if s <= 6 else "#b35900" if s <= 8 else "#1a7f37") if nps_scale else "#1f6feb"
               for s in counts]
    return _figure([{"type": "bar", "x": [str(s) for s in counts], "y": list(counts.values()),
                     "customdata": [[n, url] for n, url in zip(counts.values(), urls, strict=True)],
                     "marker": {"color": colours}, "hovertemplate": "%{x}: %{y}<extra></extra>"}])


# The colour scale spans each metric's range, red (worst) to green (best).
RANGES = {"nps": (-100, 100), "csat": (0, 100), "ces": (1, 7)}


def heatmap_chart(data: dict, metric: str, urls: list[list[str | None]], grain: str = "day") -> str:
    """Touchpoints × periods; a partial period's column is outlined and labelled "so far"."""
    zmin, zmax = RANGES[metric]
    notes = [partial_note(days) for days in data.get("days", [None] * len(data["periods"]))]
    customdata = [[[n, url, note] for n, url, note in zip(ns, row, notes, strict=True)]
                  for ns, row in zip(data["n"], urls, strict=True)]
    x = dates.period_labels(list(data["periods"]), grain)
    partial = [i for i, note in enumerate(notes) if note]
    decimals = presentation(metric).decimals
    return _figure(
        [{"type": "heatmap", "z": data["values"], "x": x,
          "y": [name for _id, name in data["touchpoints"]], "customdata": customdata, "colorscale": RED_TO_GREEN,
          "zmin": zmin, "zmax": zmax,
          "hovertemplate": f"%{{y}} · %{{x}}: %{{z:.{decimals}f}} (n=%{{customdata[0]}})%{{customdata[2]}}"
                           "<extra></extra>"}],
        height=110 + 34 * len(data["touchpoints"]), margin={"l": 140, "r": 10, "t": 24, "b": 40},
        # Periods as categories: a shape can outline a column, and one period is not a millisecond axis.
        xaxis={"fixedrange": True, "type": "category"},
        shapes=[{"type": "rect", "xref": "x", "yref": "paper", "x0": i - 0.5, "x1": i + 0.5, "y0": 0, "y1": 1,
                 "line": {"color": "#57606a", "width": 1.5, "dash": "dot"}} for i in partial],
        annotations=[{"xref": "x", "yref": "paper", "x": i, "y": 1, "yanchor": "bottom", "showarrow": False,
                      "text": _("so far"), "font": {"size": 11, "color": "#57606a"}} for i in partial],
    )


def drivers_chart(drivers: list[dict]) -> str:
    """Horizontal bars of correlation with the outcome, strongest on top, with 95% intervals."""
    ordered = drivers[::-1]  # plotly draws the first bar at the bottom
    return _figure(
        [{"type": "bar", "orientation": "h", "x": [d["correlation"] for d in ordered],
          "y": [d["name"] for d in ordered],
          "error_x": {"type": "data", "symmetric": False,
                      "array": [(d["ci_high"] - d["correlation"]) if d["ci_high"] is not None else 0 for d in ordered],
                      "arrayminus": [(d["correlation"] - d["ci_low"]) if d["ci_low"] is not None else 0
                                     for d in ordered]},
          "marker": {"color": ["#1a7f37" if d["significant"] and d["correlation"] > 0 else "#8c959f"
                               for d in ordered]},
          "customdata": [d["n"] for d in ordered],
          "hovertemplate": "%{y}: r=%{x:.2f} (n=%{customdata})<extra></extra>"}],
        height=80 + 36 * max(len(drivers), 1), margin={"l": 200, "r": 20, "t": 10, "b": 40},
        xaxis={"range": [-1, 1], "fixedrange": True, "zeroline": True},
    )


def emotion_chart(lane: list[dict]) -> str:
    """The designed and the measured emotion curve along the map's touchpoints (−2 … +2)."""
    x = [entry["touchpoint"].name for entry in lane]
    return _figure(
        [{"type": "scatter", "mode": "lines+markers", "x": x, "y": [e["designed"] for e in lane],
          "name": _("Designed"), "line": {"dash": "dash", "color": "#8c959f"}, "connectgaps": True},
         {"type": "scatter", "mode": "lines+markers", "x": x, "y": [e["measured"] for e in lane],
          "name": _("Measured"), "line": {"color": "#1f6feb"}, "connectgaps": True}],
        showlegend=True, legend={"orientation": "h", "y": 1.15},
        yaxis={"range": [-2.2, 2.2], "fixedrange": True, "zeroline": True, "dtick": 1},
    )


def choice_chart(options: list[dict], urls: list[str], multiple: bool = False) -> str:
    """A choice question's options as horizontal bars of their share of the respondents who answered
    it (of a multiple choice, the share who picked each: the bars add up to more than 100%), each
    labelled with its count; a click lists the responses that picked it."""
    ordered = options[::-1]  # plotly draws the first bar at the bottom
    share = _("%(percent)s%% of those who answered") if not multiple else _("%(percent)s%% picked it")
    return _figure(
        [{"type": "bar", "orientation": "h", "x": [o["percent"] or 0 for o in ordered],
          "y": [o["label"] for o in ordered],
          "text": [f"{o['count']} · {round(o['percent'] or 0)}%" for o in ordered], "textposition": "auto",
          "marker": {"color": "#1f6feb"},
          "customdata": [[o["count"], url, share % {"percent": round(o["percent"] or 0)}]
                         for o, url in zip(ordered, urls[::-1], strict=True)],
          "hovertemplate": "%{y}: n=%{customdata[0]} · %{customdata[2]}<extra></extra>"}],
        height=70 + 34 * max(len(options), 1), margin={"l": 160, "r": 20, "t": 10, "b": 30},
        xaxis={"range": [0, 100], "fixedrange": True, "ticksuffix": "%"},
        yaxis={"fixedrange": True, "automargin": True},
    )
