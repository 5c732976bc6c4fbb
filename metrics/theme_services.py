"""An organization's edits of its comment themes: rename, merge one into another, hide — and the
undo of each. Edits are rows of `cxplatform.ThemeSetting`, applied when figures are read
(`cxplatform.theme_catalog`), so no comment is read again (docs/adr/0032). Each edit is audited
as a settings change, in its transaction.

Here rather than in cxplatform because knowing which themes an organization has means reading
its comments' theme rows (surveys), which cxplatform may not import.
"""

from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext as _

from cxplatform import audit
from cxplatform.models import Organization, ThemeSetting
from cxplatform.textinsight import concepts
from cxplatform.theme_catalog import catalog_for
from feedback.models import ItemTheme
from surveys.models import ResponseTheme


class ThemeEditRefused(Exception):
    """An edit that would break the catalog or names no theme: the message says why, translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def rename_theme(*, organization: Organization, theme: str, label: str, request=None) -> ThemeSetting | None:
    """Show `theme` as `label` in every language; an empty label gives it back its own name."""
    label = " ".join(label.split())
    if len(label) > ThemeSetting.MAX_LENGTH:
        raise ThemeEditRefused(_("A theme's name can be at most %(max)d characters.")
                               % {"max": ThemeSetting.MAX_LENGTH})

    def change(setting):
        setting.label = label

    return _edit(organization, theme, request, change)


def merge_theme(*, organization: Organization, theme: str, into: str, request=None) -> ThemeSetting | None:
    """Count `theme`'s mentions under `into` from now on (and for every period already read).
    One step only: a theme others are merged into cannot be merged itself, and a theme cannot be
    merged into one that is merged elsewhere — so no chain can grow and no circle can close."""
    into = into.strip()
    if not into:
        raise ThemeEditRefused(_("Choose the theme to merge into."))
    if into == theme.strip():
        raise ThemeEditRefused(_("A theme cannot be merged into itself."))

    def change(setting):
        _known(organization, into)
        catalog = catalog_for(organization)
        language = _language()
        name, target = catalog.label(setting.theme, language), catalog.label(into, language)
        onward = catalog.merged_into.get(into)
        if onward == setting.theme:
            raise ThemeEditRefused(
                _("“%(target)s” is merged into “%(theme)s”: merging back would make a circle. Undo that merge "
                  "first.") % {"target": target, "theme": name})
        if onward:
            raise ThemeEditRefused(
                _("“%(target)s” is itself merged into “%(onward)s”: merge into “%(onward)s” instead.")
                % {"target": target, "onward": catalog.label(onward, language)})
        if any(parent == setting.theme for parent in catalog.merged_into.values()):
            raise ThemeEditRefused(
                _("Other themes are merged into “%(theme)s”: undo those merges first, or merge them into "
                  "“%(target)s” directly.") % {"theme": name, "target": target})
        setting.merged_into = into

    return _edit(organization, theme, request, change)


def unmerge_theme(*, organization: Organization, theme: str, request=None) -> ThemeSetting | None:
    """Undo a merge: `theme` counts on its own again."""

    def change(setting):
        setting.merged_into = ""

    return _edit(organization, theme, request, change)


def set_theme_hidden(*, organization: Organization, theme: str, hidden: bool, request=None) -> ThemeSetting | None:
    """Leave `theme` (and whatever is merged into it) out of figures, or show it again."""

    def change(setting):
        setting.hidden = hidden

    return _edit(organization, theme, request, change)


def known_themes(organization: Organization, candidates) -> set[str]:
    """Which of `candidates` are themes of the organization: a concept of the dictionary, a phrase
    found in its comments or inbox items, or a theme it has edited. Another organization's phrases are unknown."""
    candidates = set(candidates)
    known = candidates & set(concepts.dictionary())
    rest = candidates - known
    if rest:
        known |= set(ResponseTheme.objects.filter(organization=organization, phrase__in=rest)
                     .values_list("phrase", flat=True).distinct())
        known |= set(ItemTheme.objects.filter(organization=organization, key__in=rest)
                     .values_list("key", flat=True).distinct())
        known |= set(ThemeSetting.objects.for_org(organization).filter(theme__in=rest).values_list("theme", flat=True))
    return known


def _known(organization: Organization, theme: str) -> None:
    if not theme or len(theme) > ThemeSetting.MAX_LENGTH or theme not in known_themes(organization, [theme]):
        raise ThemeEditRefused(_("There is no theme “%(theme)s” in this organization's comments.")
                               % {"theme": theme[:ThemeSetting.MAX_LENGTH]})


def _language() -> str:
    from django.utils.translation import get_language

    return (get_language() or "en")[:2]


def _edit(organization: Organization, theme: str, request, change: Callable[[ThemeSetting], None]):
    """Apply `change` to the theme's setting row under the organization's lock (two edits at once
    could otherwise close a circle between them), audit it, and drop a row left with no edit.
    Returns the row, or None when nothing is left to keep."""
    theme = theme.strip()
    if not theme:
        raise ThemeEditRefused(_("Choose a theme."))
    with transaction.atomic():
        Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
        _known(organization, theme)
        setting = (ThemeSetting.objects.for_org(organization).filter(theme=theme).first()
                   or ThemeSetting(organization=organization, theme=theme))
        before = audit.snapshot(setting)
        change(setting)
        if setting.is_empty and setting.pk is None:
            return None
        setting.save()
        audit.record_setting(request=request, organization=organization, instance=setting, change="changed",
                             before=before)
        if setting.is_empty:
            setting.delete()
            return None
        return setting
