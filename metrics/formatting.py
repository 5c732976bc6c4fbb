"""Figures as text, in the reader's language: one rule for every page, e-mail and title.

The value is first rounded by `definitions.shown` (the rule the API and `cx_metrics` use too),
then written with the locale's decimal mark ("4,1" in Latvian and Russian), its unit, or the
organization's currency for money.
"""

import copy
from decimal import Decimal

from babel import Locale
from django.utils.formats import number_format
from django.utils.translation import get_language, pgettext, to_locale

from .definitions import presentation, shown

NO_DATA = "—"


def number(metric: str, value, *, signed: bool = False) -> str:
    """The bare number as shown, without its unit ("-12", "4,1"; "+3" with `signed`)."""
    rounded = shown(metric, value)
    if rounded is None:
        return NO_DATA
    text = number_format(rounded, presentation(metric).decimals, use_l10n=True)
    return f"+{text}" if signed and rounded > 0 else text


def figure(metric: str, value, *, currency: str = "EUR", signed: bool = False) -> str:
    """`value` of `metric` with its unit: "41,2%", "3.5 h", "5 068 €"; "—" when there is no figure."""
    if value is None:
        return NO_DATA
    unit = presentation(metric).unit
    if unit == "money":
        rounded = shown(metric, value)
        return ("-" if rounded < 0 else "+" if signed and rounded > 0 else "") + money(abs(rounded), currency)
    text = number(metric, value, signed=signed)
    if unit == "%":
        return f"{text}%"
    if unit == "h":
        return f"{text} {pgettext('hours', 'h')}"
    return text


def money(amount, currency: str) -> str:
    """Whole units of `currency` in the reader's locale ("€5,068", "5 068 €"): an estimate like
    CLV has no cents."""
    locale = Locale.parse(to_locale(get_language() or "en"))
    pattern = copy.copy(locale.currency_formats["standard"])
    pattern.frac_prec = (0, 0)
    return pattern.apply(Decimal(str(amount)), locale, currency=currency or "EUR", currency_digits=False)
