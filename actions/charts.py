"""The goal's progress and the root-cause trends as plotly.js figure specs, drawn by the plotly.js
the plotly package ships (the same plain-JSON approach as `metrics/charts.py`)."""

from django.utils.translation import gettext as _

from cxplatform import dates
from cxplatform.charts import figure_json, plain
from metrics.charts import LAYOUT, partial_note

PALETTE = ["#1f6feb", "#c62828", "#1a7f37", "#b35900", "#8250df", "#0a7ea4", "#bf3989", "#57606a"]


def _figure(data, **layout) -> str:
    return figure_json(data, {**LAYOUT, **layout})


def progress_chart(goal, result) -> str:
    """The actual curve (each point the 30 days ending on it, hollow where the sample is small)
    against the plan: a straight line from the baseline at the start to the target at the deadline."""
    kpi = goal.indicator
    points = result.points
    x = [p.day.isoformat() for p in points]
    data = [
        {"type": "scatter", "mode": "lines", "name": _("Plan"), "x": [goal.start_date.isoformat(),
                                                                     goal.deadline.isoformat()],
         "y": [float(goal.baseline), float(goal.target)], "line": {"dash": "dash", "color": "#8c959f"},
         "hovertemplate": "%{x}: %{y:.1f}<extra>" + _("Plan") + "</extra>"},
    ]
    with_ci = [p for p in points if p.value is not None and p.margin_of_error is not None]
    if len(with_ci) > 1:  # a band needs two points
        cx = [p.day.isoformat() for p in with_ci]
        data.append({"type": "scatter", "mode": "lines", "x": cx + cx[::-1], "fill": "toself",
                     "fillcolor": "rgba(31,111,235,0.12)",
                     "y": [float(p.value + p.margin_of_error) for p in with_ci]
                     + [float(p.value - p.margin_of_error) for p in with_ci][::-1],
                     "line": {"width": 0}, "hoverinfo": "skip", "name": _("Margin of error")})
    data.append({
        "type": "scatter", "mode": "lines+markers", "name": kpi.label, "x": x,
        "y": [None if p.value is None else float(p.value) for p in points],
        "customdata": [p.n for p in points], "line": {"color": "#1f6feb"},
        "marker": {"size": 8, "color": ["#ffffff" if p.small_sample else "#1f6feb" for p in points],
                   "line": {"color": "#1f6feb", "width": 2}},
        "hovertemplate": "%{x}: %{y:.1f} (n=%{customdata})<extra></extra>",
    })
    return _figure(data, showlegend=True, legend={"orientation": "h", "y": 1.12},
                   yaxis={"fixedrange": True, "zeroline": False}, height=300)


def root_cause_chart(months, causes, limit=8, current_month_days: tuple[int, int] | None = None) -> str:
    """Items per month for the most frequent root causes. The current month, not over yet, is a
    dotted, hollow last step labelled "so far" — drawn like a whole month, every line dropped."""
    x = [m.isoformat() for m in months]
    month = dates.d3_month()  # "2026. g. nov.", as the page's table writes it
    partial = bool(current_month_days and current_month_days[0] < current_month_days[1]) and len(x) > 1
    whole = len(x) - 1 if partial else len(x)
    data = []
    for i, row in enumerate(causes[:limit]):
        colour = PALETTE[i % len(PALETTE)]
        data.append({"type": "scatter", "mode": "lines+markers", "name": str(row.root_cause), "x": x[:whole],
                     "y": row.counts[:whole], "line": {"color": colour}, "legendgroup": str(i),
                     "hovertemplate": "%{x|" + month + "}: %{y}<extra>" + plain(row.root_cause) + "</extra>"})
        if partial:
            data.append({"type": "scatter", "mode": "lines+markers", "name": str(row.root_cause), "x": x[-2:],
                         "y": row.counts[-2:], "legendgroup": str(i), "showlegend": False,
                         "line": {"color": colour, "dash": "dot"},
                         "marker": {"color": "#ffffff", "line": {"color": colour, "width": 2}},
                         "hovertemplate": "%{x|" + month + "}: %{y}" + partial_note(current_month_days)
                         + "<extra>" + plain(row.root_cause) + "</extra>"})
    return _figure(data, showlegend=True, legend={"orientation": "h", "y": -0.2}, height=340,
                   xaxis={"fixedrange": True, "tickformat": month}, yaxis={"fixedrange": True, "rangemode": "tozero"})
