"""`{{ value|figure:"nps" }}` and friends: the one way a template writes a figure (see
`metrics.formatting`), and `{{ change|verdict:"churn_rate" }}` for its colour."""

from django import template

from .. import definitions, formatting

register = template.Library()


@register.filter
def figure(value, metric):
    """41,2% · 3.5 h · 33.3 · — (no data)."""
    return formatting.figure(metric, value)


@register.simple_tag(takes_context=True)
def money(context, value, metric="clv", signed=False):
    """Money in the organization's currency and the reader's locale: "€5,068", "5 068 €"."""
    organization = context.get("current_organization")
    return formatting.figure(metric, value, currency=getattr(organization, "currency", "EUR"), signed=signed)


@register.filter
def change(value, metric):
    """The change itself, signed: +3.2, −1.5, 0."""
    return formatting.figure(metric, value, signed=True) if value is not None else formatting.NO_DATA


@register.filter
def verdict(change_dict, metric):
    """better, worse or same: the change read in the metric's direction (CSS class)."""
    return definitions.judged(metric, change_dict or {})


@register.filter
def number(value, metric):
    """The bare number, rounded and written like the figure, without its unit (for sentences)."""
    return formatting.number(metric, value)


@register.filter
def metric_label(metric):
    """NPS, CSAT, CES, CSI, "Churn rate"…: the short name."""
    return definitions.short_label(metric)


@register.filter
def metric_title(metric):
    """The name spelled out, for an abbreviation's title: "Net Promoter Score"."""
    return definitions.EXPLANATIONS[metric][0]
