"""Words the platform writes (activity entries, notifications, case texts, generated titles) are
stored as a message id with parameters and rendered in the reader's language when shown: a page
in the request's language, an e-mail in the recipient's (docs/adr/0015).

Each app declares its own wordings (`define` at import of its `wordings` module), so an app
never imports another's labels against the dependency arrows. A parameter is stored as plain
JSON; how it reads is the wording's: a stored code is shown through a choice's label, a date in
the reader's format, a list of other messages each in turn.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

from . import dates

# A parameter renderer: the stored JSON value → text in the active language.
Renderer = Callable[[object], str]


@dataclass(frozen=True)
class Wording:
    template: object  # a gettext_lazy string with %(name)s placeholders
    params: Mapping[str, Renderer] = field(default_factory=dict)


_REGISTRY: dict[str, Wording] = {}


def define(message_id: str, template, **params: Renderer) -> str:
    """Declare a wording; returns its id, so callers write the id through a constant."""
    if message_id in _REGISTRY and _REGISTRY[message_id].template is not template:
        raise ValueError(f"wording {message_id!r} defined twice")
    _REGISTRY[message_id] = Wording(template, params)
    return message_id


def is_defined(message_id: str) -> bool:
    return message_id in _REGISTRY


def message(message_id: str, **params) -> dict:
    """A message to store: {"id": …, "params": …}; an unknown id fails when written, not when read."""
    if message_id not in _REGISTRY:
        raise KeyError(f"no wording {message_id!r}")
    return {"id": message_id, "params": params}


def render(message_id: str, params: Mapping | None = None, *, language: str | None = None,
           fallback: str = "") -> str:
    """The message in `language` (else the active one). An id no longer defined, or params the
    template cannot fill, read as `fallback`: an old row never breaks a page."""
    if language:
        with translation.override(language):
            return render(message_id, params, fallback=fallback)
    wording = _REGISTRY.get(message_id or "")
    if wording is None:
        return fallback
    params = dict(params or {})
    values = {name: (wording.params[name](value) if name in wording.params else plain(value))
              for name, value in params.items()}
    try:
        return str(wording.template) % values
    except (KeyError, TypeError, ValueError):
        return fallback


def text(stored: Mapping, *, language: str | None = None, fallback: str = "") -> str:
    """A stored message ({"id", "params"}) rendered."""
    return render(stored.get("id", ""), stored.get("params"), language=language, fallback=fallback)


# --- How parameters read ---------------------------------------------------------------------


def plain(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) or "—"
    return str(value)


def choice(labels: Callable[[], Mapping]) -> Renderer:
    """A stored code shown by its label (`labels` is called at render time, in the reader's
    language); a code since removed reads as itself."""
    def render_choice(value) -> str:
        if value is None or value == "":
            return "—"
        table = {str(k): v for k, v in dict(labels()).items()}
        return str(table.get(str(value), value))
    return render_choice


def day(value) -> str:
    """An ISO date in the reader's date format."""
    try:
        return formats.date_format(date.fromisoformat(str(value)[:10]), "DATE_FORMAT")
    except ValueError:
        return plain(value)


def moment(value) -> str:
    """An ISO date and time in the reader's format and the site's time zone."""
    from datetime import datetime

    from django.utils import timezone

    try:
        return formats.date_format(timezone.localtime(datetime.fromisoformat(str(value))), "SHORT_DATETIME_FORMAT")
    except ValueError:
        return plain(value)


def long_day(value) -> str:
    """An ISO date written out as a deadline ("by 31 March 2027", "к 31 марта 2027 г."), in the
    reader's language and grammar (dates.by_day)."""
    try:
        return dates.by_day(date.fromisoformat(str(value)[:10]))
    except ValueError:
        return plain(value)


def text_or_message(value) -> str:
    """A name kept as written, or a stored message (a generated title) rendered."""
    return text(value) if isinstance(value, Mapping) else plain(value)


def messages(value) -> str:
    """A list of stored messages ({"id", "params"}), each rendered, one after another."""
    parts = [text(m) for m in value or [] if isinstance(m, dict)]
    return ", ".join(p for p in parts if p) or "—"


def person(value) -> str:
    """A person's name as stored; nobody known reads as "Someone"."""
    return str(value) if value else str(_("Someone"))


def quoted(value) -> str:
    return str(_("“%(name)s”") % {"name": plain(value)})
