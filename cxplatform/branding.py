"""An organization's look on the pages and e-mails its customers see, and the contrast rule
that keeps a brand colour readable (WCAG 2.x AA: 4.5:1 for body text).

The brand colour is used as the background of buttons and selected options (with white or
near-black text on it, whichever reads better) and as the colour of links on white, so it must
reach 4.5:1 against white; `colour_problem` refuses it otherwise and suggests the nearest shade
that does.
"""

import io
import re
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
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
    """The nearest darker shade of `colour` (its channels scaled down together, so the hue stays)
    that reaches AA against white; black at worst, which always does."""
    for step in range(201):  # half a percent at a time: the first that passes is the nearest
        shade = darker(colour, step / 200)
        if contrast(shade, WHITE) >= AA_NORMAL:
            return shade
    return "#000000"


def shown_ratio(ratio: float) -> float:
    """The ratio as a person reads it, to two decimals; one that misses AA never reads as 4.50."""
    return round(ratio, 2) if ratio >= AA_NORMAL else min(round(ratio, 2), 4.49)


def colour_problem(colour: str) -> str:
    """Why `colour` cannot be the brand colour, in the reader's language; "" when it can."""
    if not isinstance(colour, str) or not HEX.match(colour):
        return _("Give the colour as # and six hexadecimal digits, e.g. #1f6feb.")
    ratio = contrast(colour.lower(), WHITE)
    if ratio < AA_NORMAL:
        return _("Links and buttons in %(colour)s would be hard to read: its contrast with white is "
                 "%(ratio).2f:1, and at least 4.5:1 is needed (WCAG AA). %(suggestion)s is the nearest "
                 "shade that is readable.") % {"colour": colour, "ratio": shown_ratio(ratio),
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
                      logo_url=logo_path(branding), name=organization.name)



# --- The logo ------------------------------------------------------------------------------------

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_SIDE = 2000
# Pillow's format name -> the extension and content type the logo is stored and served with. No
# SVG: it is a document that can carry scripts and links, not a picture.
LOGO_FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "WEBP": ("webp", "image/webp")}
LOGO_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")
LOGO_DIRECTORY = "branding/"


def logo_path(branding) -> str:
    """The site path the logo is served at (MEDIA_ROOT itself is never served), "" without one."""
    if not branding.logo:
        return ""
    name = branding.logo.name.removeprefix(LOGO_DIRECTORY)
    return reverse("branding:logo", args=[name]) if LOGO_NAME.match(name) else ""


def content_type_of(name: str) -> str:
    extension = name.rsplit(".", 1)[-1]
    return next(kind for ext, kind in LOGO_FORMATS.values() if ext == extension)


class BrandingRefused(ValueError):
    """Input that cannot become the organization's branding: `errors` maps each field to why, in
    the reader's language; `suggestion` is a readable shade when the colour was too light."""

    def __init__(self, errors: dict[str, str], suggestion: str = ""):
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.suggestion = suggestion


@dataclass(frozen=True)
class CheckedLogo:
    content: bytes
    extension: str


def _looks_like_svg(upload, head: bytes) -> bool:
    name = (getattr(upload, "name", "") or "").lower()
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return name.endswith((".svg", ".svgz")) or text.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in text


def check_logo(upload) -> CheckedLogo:
    """The upload as a clean PNG, JPEG or WebP, or BrandingRefused saying why not.

    The bytes are decoded and encoded again by Pillow, so what is stored is only a picture: a file
    that merely starts like one, appended data and metadata (a phone's location) do not survive."""
    from PIL import Image, UnidentifiedImageError

    refused = lambda message: BrandingRefused({"logo": message})  # noqa: E731 — four exits, one shape
    if getattr(upload, "oversized", False) or upload.size > MAX_LOGO_BYTES:
        raise refused(_("The logo is larger than 512 KB. Save it smaller (a logo needs no more than a few "
                        "hundred pixels) and upload it again."))
    upload.seek(0)
    raw = upload.read(MAX_LOGO_BYTES + 1)
    if len(raw) > MAX_LOGO_BYTES:
        raise refused(_("The logo is larger than 512 KB. Save it smaller (a logo needs no more than a few "
                        "hundred pixels) and upload it again."))
    if _looks_like_svg(upload, raw[:512]):
        raise refused(_("SVG logos are not accepted: an SVG file can carry scripts. Upload the logo as PNG, "
                        "JPEG or WebP."))
    not_a_picture = _("The file is not a PNG, JPEG or WebP picture (or it is damaged). Upload the logo as "
                      "PNG, JPEG or WebP.")
    try:
        with Image.open(io.BytesIO(raw), formats=list(LOGO_FORMATS)) as image:
            width, height = image.size  # from the header: nothing decoded yet
            if width > MAX_LOGO_SIDE or height > MAX_LOGO_SIDE:
                raise refused(_("The logo is %(width)d×%(height)d pixels; at most 2000×2000 is accepted.")
                              % {"width": width, "height": height})
            image_format = image.format
            image.load()
            if image_format == "JPEG" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            elif image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                image = image.convert("RGBA")
            out = io.BytesIO()
            image.save(out, format=image_format, **({"quality": 90} if image_format != "PNG" else {}))
    except BrandingRefused:
        raise
    except Image.DecompressionBombError:  # Pillow refuses a header this large before we could read its size
        raise refused(_("The logo has far more pixels than 2000×2000, the most accepted.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise refused(not_a_picture) from None
    return CheckedLogo(content=out.getvalue(), extension=LOGO_FORMATS[image_format][0])


# --- Changing it ---------------------------------------------------------------------------------

def branding_of(organization):
    """The organization's branding row, or an unsaved one with the defaults."""
    from .models import Branding
    from .tenancy import scoped

    return scoped(Branding, organization).first() or Branding(organization=organization)


def check_colour(colour: str) -> str:
    """`colour` as stored (#rrggbb, lower case), or BrandingRefused with the readable shade."""
    colour = colour.strip() if isinstance(colour, str) else colour
    problem = colour_problem(colour)
    if problem:
        suggestion = readable_shade(colour.lower()) if isinstance(colour, str) and HEX.match(colour) else ""
        raise BrandingRefused({"colour": problem}, suggestion=suggestion)
    return colour.lower()


def check_font(font: str) -> str:
    if font not in FONT_STACKS:
        raise BrandingRefused({"font": _("Choose one of the fonts in the list.")})
    return font


def save_branding(*, organization, request=None, colour: str | None = None, font: str | None = None,
                  logo=None, remove_logo: bool = False):
    """Change the organization's colour, font and logo (None leaves a value as it is), all or
    nothing: any refused value raises BrandingRefused (every field's reason) and nothing changes.
    The change is audited in its transaction; a replaced or removed logo file is deleted only once
    the change is committed."""
    from . import audit

    errors, suggestion = {}, ""
    checked = {}
    for name, value, check in (("colour", colour, check_colour), ("font", font, check_font)):
        if value is None:
            continue
        try:
            checked[name] = check(value)
        except BrandingRefused as refused:
            errors.update(refused.errors)
            suggestion = suggestion or refused.suggestion
    new_logo = None
    if logo is not None and not remove_logo:
        try:
            new_logo = check_logo(logo)
        except BrandingRefused as refused:
            errors.update(refused.errors)
    if errors:
        raise BrandingRefused(errors, suggestion=suggestion)

    from .models import Branding

    written = ""
    try:
        with transaction.atomic():
            # Locked, and created with the defaults when missing (two first saves at once meet here
            # rather than on the one-per-organization constraint); the log compares with those
            # defaults, so an organization's first save shows what it chose.
            branding, _created = (Branding.objects.select_for_update(no_key=True)
                                   .get_or_create(organization=organization))
            before = audit.snapshot(branding)
            old_logo = branding.logo.name if branding.logo else ""
            for name, value in checked.items():
                setattr(branding, name, value)
            if remove_logo:
                branding.logo = ""
            elif new_logo is not None:
                # A random name: the served path says nothing about the organization and cannot be guessed.
                branding.logo.save(f"{uuid.uuid4().hex}.{new_logo.extension}", ContentFile(new_logo.content),
                                   save=False)
                written = branding.logo.name
            branding.save()
            audit.record_setting(request=request, organization=organization, instance=branding, change="changed",
                                 before=before)
            if old_logo and old_logo != (branding.logo.name if branding.logo else ""):
                storage = branding.logo.storage
                transaction.on_commit(lambda: storage.delete(old_logo))
    except Exception:
        if written:  # the row never named it: no file is left behind for nothing
            Branding.logo.field.storage.delete(written)
        raise
    return branding


# --- Reading it --------------------------------------------------------------------------------

def with_logo(name: str):
    """The branding whose logo is stored under `name` (the served file name), or None. Not scoped
    to an organization: customers load the logo signed in to nothing, and the random name is what
    keeps a logo from being found without the page or e-mail that shows it."""
    from .models import Branding

    if not isinstance(name, str) or not LOGO_NAME.match(name):
        return None
    return Branding.objects.filter(logo=LOGO_DIRECTORY + name).first()


@dataclass(frozen=True)
class Sample:
    style: BrandStyle
    ratio: float
    problem: str
    suggestion: str


def sample(branding, *, colour: str, font: str) -> Sample:
    """How `colour` and `font` would look (the settings page's sample): a colour that is not
    #rrggbb is never put into CSS, the saved one is shown instead; a too-light one is shown as it
    is, beside why it is refused."""
    colour = (colour or "").strip()
    problem = colour_problem(colour)
    saved = branding.colour if HEX.match(branding.colour or "") else DEFAULT_COLOUR
    shown = colour.lower() if HEX.match(colour) else saved.lower()
    suggestion = readable_shade(shown) if problem and HEX.match(colour) else ""
    font = font if font in FONT_STACKS else branding.font
    style = BrandStyle(colour=shown, on_colour=text_on(shown), font_stack=FONT_STACKS.get(font, FONT_STACKS["system"]),
                       logo_url=logo_path(branding), name=branding.organization.name)
    return Sample(style=style, ratio=shown_ratio(contrast(shown, WHITE)), problem=problem, suggestion=suggestion)
