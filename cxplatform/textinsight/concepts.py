"""The concept dictionary: themes that are one thing in every language ("доставка", "delivery",
"piegāde" → `delivery`), with the lemmas that name them in Russian, English and Latvian and a label
per language. A clause's words are looked up here first; words no concept knows stay free phrases.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Concept:
    key: str  # a stable English slug: "delivery", "waiting_time"
    labels: dict[str, str]  # language → the name shown ("Доставка", "Delivery", "Piegāde")


def dictionary() -> dict[str, Concept]:
    """Every concept, by key."""
    return {}


def label(key: str, language: str) -> str:
    """A theme's name in `language`: the concept's label, or a free phrase as it was written."""
    concept = dictionary().get(key)
    if concept is None:
        return key
    return concept.labels.get(language) or concept.labels.get("en") or key
