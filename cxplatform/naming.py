"""Names an organization gives its own things (a tag, a root cause), one per language.

`name` stays the row's name — unique as before, used in URLs (`?tag=complaint`) and as the last
fallback; `names` holds {"lv": …, "ru": …, "en": …}. `shown_name` is the one rule: the reader's
language when it has a name, else the organization's default language, else `name`.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

LANGUAGE_CODES = tuple(code for code, _label in settings.LANGUAGES)
_DEFAULT_LANGUAGE_KEY = "organization-default-language:{}"


def shown_name(names: dict | None, name: str, *, language: str | None = None, default_language: str = "") -> str:
    """The name for a reader of `language` (the active one when None), falling back to
    `default_language`, then to `name`."""
    names = names or {}
    language = (language or translation.get_language() or "").split("-")[0]
    return names.get(language) or (names.get(default_language) if default_language else "") or name


def clean_names(names: dict | None, *, max_length: int) -> dict:
    """`names` kept to our languages, trimmed, without empty ones; ValueError on anything else."""
    if names in (None, ""):
        return {}
    if not isinstance(names, dict):
        raise ValueError(_("Give the names as an object of language codes, e.g. {\"lv\": \"…\", \"en\": \"…\"}."))
    out = {}
    for code, value in names.items():
        if code not in LANGUAGE_CODES:
            raise ValueError(_("“%(code)s” is not one of our languages (%(codes)s).") % {
                "code": str(code)[:10], "codes": ", ".join(LANGUAGE_CODES)})
        if not isinstance(value, str):
            raise ValueError(_("A name is text."))
        value = value.strip()
        if len(value) > max_length:
            raise ValueError(_("A name has at most %(n)d characters.") % {"n": max_length})
        if value:
            out[code] = value
    return out


def names_of_message(message) -> dict:
    """A translatable message (a default tag, a starting root cause) written in every language."""
    names = {}
    for code in LANGUAGE_CODES:
        with translation.override(code):
            names[code] = str(message)
    return names


def organization_language(organization_id: int) -> str:
    """The organization's default language, cached: a page of 50 items with their tags should
    not ask for it 100 times. Saving an organization forgets it (see `forget_language`)."""
    key = _DEFAULT_LANGUAGE_KEY.format(organization_id)
    language = cache.get(key)
    if language is None:
        from .models import Organization

        language = Organization.objects.filter(pk=organization_id).values_list(
            "default_language", flat=True).first() or ""
        cache.set(key, language, 300)
    return language


def forget_language(sender, instance, **kwargs) -> None:
    cache.delete(_DEFAULT_LANGUAGE_KEY.format(instance.pk))


class NamedPerLanguage(models.Model):
    """A row of an organization that people name in each of its languages."""

    names = models.JSONField(_("names per language"), default=dict, blank=True)

    class Meta:
        abstract = True

    @property
    def shown_name(self) -> str:
        names = self.names or {}
        language = (translation.get_language() or "").split("-")[0]
        if names.get(language):  # the common case asks nothing of the organization
            return names[language]
        cached = self._state.fields_cache.get("organization")
        default = cached.default_language if cached is not None else (
            organization_language(self.organization_id) if self.organization_id else "")
        return shown_name(names, self.name, language=language, default_language=default)
