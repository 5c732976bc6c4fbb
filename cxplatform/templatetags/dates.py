"""`{{ value|day }}`, `{{ value|moment }}`, `{{ value|month }}` and
`{{ start|period:last_day }}`: the one way a template writes a date or a period (see
`cxplatform.dates`), in the reader's locale."""

from django import template

from .. import dates

register = template.Library()


@register.filter
def day(value):
    """Nov 3, 2026 · 3 нояб. 2026 г. · 2026. gada 3. nov."""
    return dates.day(value)


@register.filter
def moment(value):
    """Nov 3, 2026, 2:05 PM · 3 нояб. 2026 г., 14:05 · 2026. gada 3. nov. 14:05."""
    return dates.moment(value)


@register.filter
def month(value):
    """Nov 2026 · нояб. 2026 г. · 2026. g. nov."""
    return dates.month(value)


@register.filter
def period(start, last_day):
    """from November 3 to December 2, 2026 · с 3 ноября по 2 декабря 2026 г. ·
    no 2026. gada 3. novembra līdz 2. decembrim."""
    if start in (None, "") or last_day in (None, ""):
        return ""
    return dates.period(start, last_day)
