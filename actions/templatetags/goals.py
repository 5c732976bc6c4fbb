from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


@register.filter
def in_unit(value, kpi):
    """A KPI value as people read it: one decimal, rounded like every figure on the dashboard, in
    the reader's number format, with its unit."""
    if value is None or value == "":
        return "—"
    return f"{floatformat(value, 1)}{kpi.unit}"
