from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def in_unit(value, kpi):
    """A KPI value as people read it: one decimal, in the reader's number format, with its unit."""
    if value is None or value == "":
        return "—"
    return f"{number_format(value, 1)}{kpi.unit}"
