"""Dates, moments and periods as text in the reader's language: one format per locale, on every
page, e-mail and chart (Babel's CLDR data, as `metrics.formatting` does for figures).

A period is written as a phrase of its language, with the case its words ask for: Latvian "no
2026. gada 3. novembra līdz 2. decembrim" (genitive after "no", dative after "līdz"), Russian
"с 3 ноября по 2 декабря 2026 г.", English "from November 3 to December 2, 2026". CLDR has no
such phrase (its intervals are "3. nov. – 2. dec."), so the three we speak are written here and
any other locale gets CLDR's interval.
"""

from datetime import date, datetime
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_interval, format_skeleton, format_time, get_day_names, get_month_names
from django.utils import timezone
from django.utils.translation import get_language, to_locale

# Latvian month names by case; CLDR gives only the nominative ("novembris").
LV_GENITIVE = ["janvāra", "februāra", "marta", "aprīļa", "maija", "jūnija", "jūlija", "augusta", "septembra",
               "oktobra", "novembra", "decembra"]
LV_DATIVE = ["janvārim", "februārim", "martam", "aprīlim", "maijam", "jūnijam", "jūlijam", "augustam",
             "septembrim", "oktobrim", "novembrim", "decembrim"]
LV_LOCATIVE = ["janvārī", "februārī", "martā", "aprīlī", "maijā", "jūnijā", "jūlijā", "augustā", "septembrī",
               "oktobrī", "novembrī", "decembrī"]

YEAR_RU = "\u202fг."  # as CLDR writes it: "2026 г." never breaks across lines

# Chart dates (d3-time-format, which plotly.js speaks; %b is the locale's short month name).
# The same formats as `day` and `month` write on the page.
D3_DAY = {"en": "%b %-d, %Y", "ru": "%-d %b %Y" + YEAR_RU, "lv": "%Y. gada %-d. %b"}
D3_MONTH = {"en": "%b %Y", "ru": "%b %Y" + YEAR_RU, "lv": "%Y. g. %b"}
D3_DAY_MONTH = {"en": "%b %-d", "ru": "%-d %b", "lv": "%-d. %b"}


def language(value: str | None = None) -> str:
    """The language code of `value`, else of the request being answered ("lv", "ru", "en")."""
    return (value or get_language() or "en").split("-")[0].lower()


def locale(value: str | None = None) -> Locale:
    return _parsed(language(value))


@lru_cache(maxsize=16)
def _parsed(code: str) -> Locale:  # parsing a locale reads CLDR files; an inbox page writes 100 dates
    return Locale.parse(to_locale(code))


def _local(value):
    """An aware datetime in the current time zone; a date as it is."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def day(value, lang: str | None = None) -> str:
    """A date: "Nov 3, 2026", "3 нояб. 2026 г.", "2026. gada 3. nov."; "" for none."""
    if value in (None, ""):
        return ""
    return format_date(_local(value), "medium", locale=locale(lang))


def by_day(value, lang: str | None = None) -> str:
    """A deadline as it reads after "by" ("by 4 April 2027", "к 4 апреля 2027 г.", "līdz 2027. gada
    4. aprīlim"): Russian takes the month's genitive (CLDR's long date), Latvian the dative."""
    code = language(lang)
    if code == "lv":
        return f"{value.year}. gada {value.day}. {LV_DATIVE[value.month - 1]}"
    if code == "ru":
        return format_date(value, "long", locale=locale(code))
    return format_date(value, "d MMMM y", locale=locale(code))


def moment(value, lang: str | None = None) -> str:
    """A date and time of day: "Nov 3, 2026, 2:05 PM", "3 нояб. 2026 г., 14:05", "2026. gada 3. nov. 14:05"."""
    if value in (None, ""):
        return ""
    if not isinstance(value, datetime):
        return day(value, lang)
    value, where = _local(value), locale(lang)
    return where.datetime_formats["medium"].format(format_time(value, "short", locale=where),
                                                   format_date(value, "medium", locale=where))


def month(value, lang: str | None = None) -> str:
    """A month: "Nov 2026", "нояб. 2026 г.", "2026. g. nov."."""
    if value in (None, ""):
        return ""
    return format_skeleton("yMMM", _local(value), locale=locale(lang))


def period(start: date, last_day: date, lang: str | None = None) -> str:
    """The days from `start` to `last_day` (both included) as a phrase of the reader's language."""
    if isinstance(start, datetime):
        start = _local(start).date()
    if isinstance(last_day, datetime):
        last_day = _local(last_day).date()
    code = language(lang)
    if code == "lv":
        if start == last_day:
            return f"{start.year}. gada {start.day}. {LV_LOCATIVE[start.month - 1]}"
        until = f"{last_day.day}. {LV_DATIVE[last_day.month - 1]}"
        if last_day.year != start.year:
            until = f"{last_day.year}. gada {until}"
        return f"no {start.year}. gada {start.day}. {LV_GENITIVE[start.month - 1]} līdz {until}"
    if code == "ru":
        months = get_month_names("wide", "format", "ru")  # genitive: "ноября"
        if start == last_day:
            return f"{start.day} {months[start.month]} {start.year}{YEAR_RU}"
        since = f"{start.day} {months[start.month]}"
        if start.year != last_day.year:
            since += f" {start.year}{YEAR_RU}"
        return f"с {since} по {last_day.day} {months[last_day.month]} {last_day.year}{YEAR_RU}"
    if code == "en":
        if start == last_day:
            return format_date(start, "MMMM d, y", locale="en")
        since = format_date(start, "MMMM d" if start.year == last_day.year else "MMMM d, y", locale="en")
        return f"from {since} to {format_date(last_day, 'MMMM d, y', locale='en')}"
    return format_interval(start, last_day, "yMMMd", locale=locale(code))


def plotly_locale(lang: str | None = None) -> dict:
    """What plotly.js needs to write a chart's dates and numbers in the reader's locale: a locale
    to register (month and day names, formats) and the layout's `separators`. plotly.js ships no
    Russian or Latvian locale file, so it is made here from CLDR."""
    code, where = language(lang), locale(lang)
    symbols = where.number_symbols.get("latn", {})
    decimal, group = symbols.get("decimal", "."), symbols.get("group", ",")

    def weekdays(width):  # Sunday first, as d3 counts; Babel starts on Monday (0)
        names = get_day_names(width, "stand-alone", where)
        return [names[(i + 6) % 7] for i in range(7)]

    return {
        "name": code,
        "separators": decimal + group,
        "format": {
            "days": weekdays("wide"), "shortDays": weekdays("abbreviated"),
            "months": list(get_month_names("wide", "stand-alone", where).values()),
            "shortMonths": list(get_month_names("abbreviated", "stand-alone", where).values()),
            # d3's locale needs these too (plotly fails to draw without them).
            "periods": [where.day_periods["format"]["abbreviated"].get(p, p.upper()) for p in ("am", "pm")],
            "dateTime": "%x, %X", "time": "%-I:%M:%S %p" if code == "en" else "%H:%M:%S",
            "decimal": decimal, "thousands": group, "grouping": [3],
            "date": D3_DAY.get(code, D3_DAY["en"]), "dayMonthYear": D3_DAY.get(code, D3_DAY["en"]),
            "month": D3_MONTH.get(code, D3_MONTH["en"]), "dayMonth": D3_DAY_MONTH.get(code, D3_DAY_MONTH["en"]),
            "year": "%Y",
        },
    }


def d3_day(lang: str | None = None) -> str:
    """A chart's day format (hover text, ticks) for the reader's locale."""
    return D3_DAY.get(language(lang), D3_DAY["en"])


def d3_month(lang: str | None = None) -> str:
    return D3_MONTH.get(language(lang), D3_MONTH["en"])


def period_labels(starts: list, grain: str, lang: str | None = None) -> list[str]:
    """Axis labels of periods that start on `starts` (days, weeks or months): "Nov 2026" for a
    month, "Nov 3" for a day or week — with the year when the periods span more than one."""
    if grain == "month":
        return [month(start, lang) for start in starts]
    if len({start.year for start in starts}) > 1:
        return [day(start, lang) for start in starts]
    return [format_skeleton("MMMd", start, locale=locale(lang)) for start in starts]
