"""The concept dictionary: themes that are one thing in every language ("доставка", "delivery",
"piegāde" → `delivery`), with the lemmas that name them in Russian, English and Latvian and a label
per language. A clause's words are looked up here first; words no concept knows stay free phrases.

The data lives in `concepts/<trade>.toml` (the format is in concepts/README.md). Every name is
reduced to the form a comment's words are reduced to (`form`: a Russian lemma, a folded Latin
stem), once, when the dictionary is loaded; matching a clause is then dictionary look-ups only.
"""

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .tokens import LATIN_ENDINGS, MIN_STEM, fold, russian_parse

DATA = Path(__file__).parent / "concepts"
LANGUAGES = ("en", "ru", "lv")
# The longest name in words ("время ожидания ответа"): a clause is looked up no further ahead.
MAX_WORDS = 4


@dataclass(frozen=True)
class Concept:
    key: str  # a stable English slug: "delivery", "waiting_time"
    labels: dict[str, str]  # language → the name shown ("Доставка", "Delivery", "Piegāde")
    trade: str = ""  # the file it comes from: "general", "micromobility"…
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language → names as written


class DictionaryError(ValueError):
    """A data file is malformed, or two concepts claim the same name."""


@lru_cache(maxsize=200_000)
def form(word: str) -> str:
    """The form a word is looked up in, chosen by its script: a Russian lemma ("доставку" →
    "доставка"), or a folded Latin stem for English and Latvian alike ("deliveries" → "delivery",
    "piegādi" and "piegade" → "piegad"). Names in the data pass through the same function."""
    word = word.lower().replace("’", "'").replace("ё", "е")
    if word.endswith("'s"):
        word = word[:-2]
    if any("а" <= c <= "я" for c in word):
        return russian_parse(word)[0]
    return _latin_stem(fold(word))


def _latin_stem(word: str) -> str:
    """One ending off, English or Latvian ("deliveries" → "delivery", "kurjeram" → "kurjer"). One
    pass only, unlike the search stem (tokens.latin_stem): stripping twice makes short words meet
    ("mēnesi" → "men" ← "menu"), harmless in a search, wrong for a theme."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for ending in LATIN_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[:-len(ending)]
    return word


def _load_file(path: Path) -> list[Concept]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise DictionaryError(f"{path.name}: {error}") from error
    found = []
    for key, entry in data.items():
        labels = entry.get("label", {})
        if not key.isascii() or not key.replace("_", "").isalnum() or key != key.lower():
            raise DictionaryError(f"{path.name}: {key!r} is not a lower-case English slug")
        if set(labels) != set(LANGUAGES) or not all(isinstance(v, str) and v for v in labels.values()):
            raise DictionaryError(f"{path.name}: {key} needs a label in each of {LANGUAGES}")
        names = {language: tuple(entry.get(language, ())) for language in LANGUAGES}
        if not all(names.values()):
            raise DictionaryError(f"{path.name}: {key} needs names in each of {LANGUAGES}")
        found.append(Concept(key=key, labels=dict(labels), trade=path.stem, names=names))
    return found


@lru_cache(maxsize=1)
def _loaded() -> tuple[dict[str, Concept], dict[tuple[str, ...], str]]:
    concepts: dict[str, Concept] = {}
    phrases: dict[tuple[str, ...], str] = {}
    for path in sorted(DATA.glob("*.toml")):
        for concept in _load_file(path):
            if concept.key in concepts:
                raise DictionaryError(f"{path.name}: {concept.key} is defined twice")
            concepts[concept.key] = concept
            # The key itself names its concept (a stored key read again gives the same key).
            for name in (concept.key.replace("_", " "), *(n for names in concept.names.values() for n in names)):
                words = tuple(form(w) for w in name.split())
                if not words or len(words) > MAX_WORDS:
                    raise DictionaryError(f"{path.name}: {concept.key}: {name!r} has 1–{MAX_WORDS} words")
                owner = phrases.setdefault(words, concept.key)
                if owner != concept.key:
                    raise DictionaryError(f"{path.name}: {name!r} names both {owner} and {concept.key}")
    return concepts, phrases


def dictionary() -> dict[str, Concept]:
    """Every concept, by key."""
    return _loaded()[0]


def phrases() -> dict[tuple[str, ...], str]:
    """Each name as a tuple of word forms → its concept's key."""
    return _loaded()[1]


def match(forms: list[str]) -> list[tuple[int, int, str]]:
    """The concepts named in a run of word forms, longest name first, left to right: each as
    (start, end, key) with words[start:end] naming it. Words inside a match match nothing else."""
    table = phrases()
    found, i, n = [], 0, len(forms)
    while i < n:
        for size in range(min(MAX_WORDS, n - i), 0, -1):
            key = table.get(tuple(forms[i:i + size]))
            if key is not None:
                found.append((i, i + size, key))
                i += size
                break
        else:
            i += 1
    return found


def label(key: str, language: str) -> str:
    """A theme's name in `language`: the concept's label, or a free phrase as it was written."""
    concept = dictionary().get(key)
    if concept is None:
        return key
    return concept.labels.get(language) or concept.labels.get("en") or key
