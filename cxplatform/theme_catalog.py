"""How an organization sees its comments' themes: the concept dictionary's themes under the
organization's own names, with its merges and hidden themes applied when figures are read — so an
edit needs no re-reading of comments (docs/adr/0032).

Stored theme rows keep the key the reader found (a concept such as "delivery", or a free phrase);
every figure passes its keys through `ThemeCatalog.canonical` and shows `ThemeCatalog.label`.
"""

from dataclasses import dataclass, field

from cxplatform.textinsight import concepts


@dataclass(frozen=True)
class ThemeCatalog:
    merged_into: dict[str, str] = field(default_factory=dict)  # theme key → the key it was merged into
    hidden: frozenset[str] = frozenset()
    renamed: dict[str, str] = field(default_factory=dict)  # theme key → the organization's name for it

    def canonical(self, key: str) -> str | None:
        """The key a stored theme counts under (after merges), or None when it is hidden."""
        seen = set()
        while key not in self.hidden:
            if key not in self.merged_into or key in seen:  # edits refuse cycles; never loop on one
                return key
            seen.add(key)
            key = self.merged_into[key]
        return None  # a hidden theme, or one merged into a hidden theme, is left out

    def label(self, key: str, language: str) -> str:
        """What a theme is called on the organization's pages, in `language`."""
        if key in self.renamed:
            return self.renamed[key]
        return concepts.label(key, language)


def catalog_for(organization) -> ThemeCatalog:
    """The organization's catalog (its renames, merges and hidden themes), in one small query:
    ask once per page or task and pass it along. Not kept between calls, so an edit shows at once
    and a long-lived organization object (a worker's, a test's) never sees a stale one."""
    from .models import ThemeSetting

    merged, hidden, renamed = {}, set(), {}
    for theme, label, is_hidden, into in (ThemeSetting.objects.for_org(organization)
                                          .values_list("theme", "label", "hidden", "merged_into")):
        if into:
            merged[theme] = into
        if is_hidden:
            hidden.add(theme)
        if label:
            renamed[theme] = label
    return ThemeCatalog(merged_into=merged, hidden=frozenset(hidden), renamed=renamed)
