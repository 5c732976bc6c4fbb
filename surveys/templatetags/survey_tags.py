from django import template
from django.utils.translation import get_language

from ..services import localized as localized_text

register = template.Library()


@register.filter
def localized(texts, language=None):
    """A survey text ({"en": …, "ru": …}) in the reader's language, else any language it has."""
    return localized_text(texts, language or get_language() or "en")
