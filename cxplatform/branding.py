"""An organization's look on the pages and e-mails its customers see, and the contrast rule
that keeps a brand colour readable (WCAG 2.x AA: 4.5:1 for body text).

The brand colour is used as the background of buttons and selected options (with white or
near-black text on it, whichever reads better) and as the colour of links on white, so it must
reach 4.5:1 against white; `colour_problem` refuses it otherwise and suggests the nearest shade
that does.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE = "#ffffff"
INK = "#1c2430"  # the pages' text colour
AA_NORMAL = 4.5
DEFAULT_COLOUR = "#1f6feb"

# The short list of fonts: stacks every phone already has, so a page never downloads one.
FONT_STACKS = {
    "system": 'system-ui,-apple-system,"Segoe UI",Roboto,sans-serif',
    "serif": 'Georgia,"Times New Roman",Times,serif',
    "rounded": 'ui-rounded,"SF Pro Rounded","Nunito","Varela Round",system-ui,sans-serif',
    "mono": 'ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace',
}


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours, 1…21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(colour: str) -> str:
    """White or the pages' ink, whichever reads better on `colour`."""
    return WHITE if contrast(colour, WHITE) >= contrast(colour, INK) else INK


def darker(colour: str, step: float = 0.06) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(max(0, int(v * (1 - step))) for v in (r, g, b)))


def readable_shade(colour: str) -> str:
    """The nearest darker shade of `colour` that reaches AA against white."""
    while contrast(colour, WHITE) < AA_NORMAL:
        colour = darker(colour)
    return colour


def colour_problem(colour: str) -> str:
    """Why `colour` cannot be the brand colour, in the reader's language; "" when it can."""
    if not isinstance(colour, str) or not HEX.match(colour):
        return _("Give the colour as # and six hexadecimal digits, e.g. #1f6feb.")
    ratio = contrast(colour.lower(), WHITE)
    if ratio < AA_NORMAL:
        return _("Links and buttons in %(colour)s would be hard to read: its contrast with white is "
                 "%(ratio).1f:1, and at least 4.5:1 is needed (WCAG AA). %(suggestion)s is the nearest "
                 "shade that is readable.") % {"colour": colour, "ratio": ratio,
                                               "suggestion": readable_shade(colour.lower())}
    return ""


@dataclass(frozen=True)
class BrandStyle:
    colour: str = DEFAULT_COLOUR
    on_colour: str = WHITE
    font_stack: str = FONT_STACKS["system"]
    logo_url: str = ""
    name: str = ""


def style_for(organization) -> BrandStyle:
    """The organization's brand for a page or an e-mail (the defaults when it has none). Reads
    `organization.branding` — load it with select_related where a page is hot."""
    from .models import Branding

    try:
        branding = organization.branding
    except Branding.DoesNotExist:
        return BrandStyle(name=organization.name)
    colour = branding.colour.lower() if not colour_problem(branding.colour) else DEFAULT_COLOUR
    return BrandStyle(colour=colour, on_colour=text_on(colour),
                      font_stack=FONT_STACKS.get(branding.font, FONT_STACKS["system"]),
                      logo_url=branding.logo.url if branding.logo else "", name=organization.name)
