"""The dashboard's charts as plotly.js figure specs ({"data": …, "layout": …}).

Built as plain JSON rather than through plotly.graph_objects: the page draws them with the
plotly.js that the plotly package ships, and skipping the Python-side validation keeps the
dashboard's server time low.
"""

from django.utils.translation import gettext as _

from cxplatform.charts import figure_json

LAYOUT = {"margin": {"l": 40, "r": 10, "t": 10, "b": 40}, "height": 280, "paper_bgcolor": "rgba(0,0,0,0)",
          "plot_bgcolor": "rgba(0,0,0,0)", "font": {"family": "system-ui, sans-serif", "size": 12},
          "showlegend": False,
          # A click drills down, so the axes do not zoom (plotly needs its drag layer for hover and click).
          "xaxis": {"fixedrange": True}, "yaxis": {"fixedrange": True}}


RED_TO_GREEN = [[0, "#c62828"], [0.5, "#fff3c4"], [1, "#1a7f37"]]


def _figure(data, **layout) -> str:
    return figure_json(data, {**LAYOUT, **layout})


def trend_chart(points: list[dict], metric_label: str, urls: list[str]) -> str:
    x = [p["period"].isoformat() for p in points]
    low, high = [p["ci_low"] for p in points], [p["ci_high"] for p in points]
    return _figure([
        {"type": "scatter", "x": x + x[::-1], "y": high + low[::-1], "fill": "toself",
         "fillcolor": "rgba(31,111,235,0.12)", "line": {"width": 0}, "hoverinfo": "skip",
         "name": _("Confidence interval")},
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": [p["value"] for p in points], "name": metric_label,
         "line": {"color": "#1f6feb"}, "customdata": [[p["n"], url] for p, url in zip(points, urls, strict=True)],
         "hovertemplate": "%{x}: %{y:.1f} (n=%{customdata[0]})<extra></extra>"},
    ])


def distribution_chart(counts: dict[int, int], urls: list[str]) -> str:
    nps_scale = len(counts) == 11
    colours = [("#c62828" if s <= 6 else "#b35900" if s <= 8 else "#1a7f37") if nps_scale else "#1f6feb"
               for s in counts]
    return _figure([{"type": "bar", "x": [str(s) for s in counts], "y": list(counts.values()),
                     "customdata": [[n, url] for n, url in zip(counts.values(), urls, strict=True)],
                     "marker": {"color": colours}, "hovertemplate": "%{x}: %{y}<extra></extra>"}])


# The colour scale spans each metric's range, red (worst) to green (best).
RANGES = {"nps": (-100, 100), "csat": (0, 100), "ces": (1, 7)}


def heatmap_chart(data: dict, metric: str, urls: list[list[str | None]]) -> str:
    zmin, zmax = RANGES[metric]
    customdata = [[[n, url] for n, url in zip(ns, row, strict=True)] for ns, row in zip(data["n"], urls, strict=True)]
    return _figure(
        [{"type": "heatmap", "z": data["values"], "x": [p.isoformat() for p in data["periods"]],
          "y": [name for _id, name in data["touchpoints"]], "customdata": customdata, "colorscale": RED_TO_GREEN,
          "zmin": zmin, "zmax": zmax, "hovertemplate": "%{y} · %{x}: %{z:.1f} (n=%{customdata[0]})<extra></extra>"}],
        height=110 + 34 * len(data["touchpoints"]), margin={"l": 140, "r": 10, "t": 10, "b": 40},
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
