from django import template

from metrics import formatting

register = template.Library()


@register.filter
def in_unit(value, kpi):
    """A KPI value as people read it: the dashboard's one rule (`metrics.formatting`)."""
    if value is None or value == "":
        return formatting.NO_DATA
    return formatting.figure(kpi.name, value)
