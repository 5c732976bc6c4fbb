"""Piping: the customer's name, the touchpoint and earlier answers inside a question's text.

A manager writes `{{name}}`, `{{touchpoint}}` or `{{answer.<key>}}` (optionally with a fallback:
`{{name|there}}`). The text is escaped piece by piece, so neither a customer's name nor an
answer can ever inject markup. An answer reference becomes `<span data-pipe="<key>">…</span>`,
so the page fills in an answer given a moment ago on an earlier page without a reload
(static/surveys/survey.js).
"""

import re
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PLACEHOLDER = re.compile(r"\{\{\s*(name|touchpoint|answer\.[a-z0-9_-]+)\s*(?:\|([^{}]*))?\}\}", re.IGNORECASE)


@dataclass
class PipeValues:
    name: str = ""
    touchpoint: str = ""
    answers: dict[str, str] = field(default_factory=dict)  # key → the answer as the respondent reads it


def references(text: str) -> set[str]:
    """The question keys a text pipes in ({{answer.<key>}})."""
    names = (m.group(1) for m in PLACEHOLDER.finditer(text or ""))
    return {name[len("answer."):] for name in names if name.lower().startswith("answer.")}


def render(text: str, values: PipeValues) -> SafeString:
    """The text as safe HTML with the placeholders filled in."""
    out, at = [], 0
    for match in PLACEHOLDER.finditer(text or ""):
        out.append(escape(text[at:match.start()]))
        name, fallback = match.group(1), (match.group(2) or "").strip()
        if name.lower().startswith("answer."):
            key = name[len("answer."):]
            shown = values.answers.get(key) or fallback
            out.append(f'<span data-pipe="{escape(key)}" data-fallback="{escape(fallback)}">{escape(shown)}</span>')
        else:
            out.append(escape(getattr(values, name.lower()) or fallback))
        at = match.end()
    out.append(escape((text or "")[at:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece above is escaped  # nosec B308 B703


def plain(text: str, values: PipeValues) -> str:
    """The text with placeholders filled in, unescaped (e-mail subjects, exports)."""
    def fill(match):
        name, fallback = match.group(1), (match.group(2) or "").strip()
        if name.lower().startswith("answer."):
            return values.answers.get(name[len("answer."):]) or fallback
        return getattr(values, name.lower()) or fallback

    return PLACEHOLDER.sub(fill, text or "")


def named(text: str) -> str:
    """The text as the team reads it where no customer is in view (the library, the figures):
    each piped-in value as its placeholder's name in brackets ("[product]", "[name]")."""
    def name(match):
        found = match.group(1)
        return f"[{found[len('answer.'):] if found.lower().startswith('answer.') else found}]"

    return PLACEHOLDER.sub(name, text or "")
