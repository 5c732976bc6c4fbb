"""Charts as plotly.js figure specs ({"data": …, "layout": …}), serialised in one place so that
every text a chart shows is plain text.

plotly.js reads a few HTML tags in any text it draws — trace names, axis and tick labels, hover
text, legends, titles, annotations (`<a href>`, `<b>`, `<br>`, `<span style>`) — and `%{…}` in
hover templates: a touchpoint named `<a href="…">Claim your refund</a>` would be a live link on the
dashboard. So every string of a figure is escaped, except the templates we write ourselves
(user text enters a template only through `plain()`) and `customdata`, which carries our
drill-down URLs and counts and is shown only through those templates.
"""

import json

from . import dates

OUR_KEYS = frozenset({"hovertemplate", "texttemplate", "customdata"})


def plain(value) -> str:
    """`value` as text plotly shows literally (it turns the entities back into characters)."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("%{", "% {")


def _escaped(value, key=None):
    if key in OUR_KEYS:
        return value
    if isinstance(value, str):
        return plain(value)
    if isinstance(value, dict):
        return {k: _escaped(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(v, key) for v in value]
    return value


def figure_json(data: list[dict], layout: dict) -> str:
    """The figure with the reader's locale: `separators` in its layout ("4,1", "5 068") and a
    `locale` (month and day names, date formats) that app.js registers with plotly.js, so its
    date axes and hover texts follow the page's language."""
    locale = dates.plotly_locale()
    layout = {"separators": locale["separators"], **layout}
    return json.dumps({"data": _escaped(data), "layout": _escaped(layout),
                       "locale": {"name": locale["name"], "format": locale["format"]}}, default=str)
