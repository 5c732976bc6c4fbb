"""What the themes settings page lists: the organization's themes with how often its comments
mention them, and the edits it made (docs/adr/0032)."""

from django.db.models import Count

from cxplatform.models import ThemeSetting
from cxplatform.textinsight import concepts
from cxplatform.theme_catalog import catalog_for
from surveys.models import ResponseTheme

# The page lists the most mentioned themes; rarer ones matter less and would make it endless.
LIMIT = 200


def theme_rows(organization, language: str, limit: int = LIMIT) -> list[dict]:
    """The organization's most mentioned themes, then the edited ones with fewer mentions (so an
    edit can always be undone), each with its names, mentions and edits. Counted from the theme
    rows grouped by key: a settings page, opened rarely, may afford it."""
    mentions = dict(
        ResponseTheme.objects.filter(organization=organization).values("phrase").annotate(n=Count("id"))
        .order_by("-n", "phrase").values_list("phrase", "n")[:limit])
    settings = {s.theme: s for s in ThemeSetting.objects.for_org(organization)}
    extra = [key for key in settings if key not in mentions]
    if extra:
        mentions.update(ResponseTheme.objects.filter(organization=organization, phrase__in=extra)
                        .values("phrase").annotate(n=Count("id")).values_list("phrase", "n"))
    catalog = catalog_for(organization)
    dictionary = concepts.dictionary()
    counted_under: dict[str, int] = {}
    for key, n in mentions.items():
        target = catalog.canonical(key)
        if target is not None and target != key:
            counted_under[target] = counted_under.get(target, 0) + n
    rows = []
    for key in [*mentions, *(k for k in extra if k not in mentions)]:
        setting = settings.get(key)
        into = setting.merged_into if setting else ""
        rows.append({
            "theme": key,
            "label": catalog.label(key, language),
            "own_label": concepts.label(key, language),  # before the organization's rename
            "concept": key in dictionary,
            "renamed": bool(setting and setting.label),
            "rename_value": setting.label if setting else "",
            "hidden": bool(setting and setting.hidden),
            "merged_into": into,
            "merged_label": catalog.label(into, language) if into else "",
            "mentions": mentions.get(key, 0),
            "merged_mentions": counted_under.get(key, 0),
        })
    return rows


def merge_targets(rows: list[dict], language: str, organization) -> list[tuple[str, str]]:
    """(key, name) of every theme a theme may be merged into: the listed ones and every concept."""
    catalog = catalog_for(organization)
    targets = {row["theme"]: row["label"] for row in rows if not row["merged_into"]}
    for key in concepts.dictionary():
        targets.setdefault(key, catalog.label(key, language))
    return sorted(targets.items(), key=lambda item: item[1].casefold())
