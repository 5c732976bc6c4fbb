"""Sentiment lexicons: what the words of a comment say before any training.

Russian: our lexicon of lemmas (`lexicon/ru.tsv`); Latvian: our lexicon of stems (`lv.tsv`,
matched on folded text, longest stem first); English: VADER, which ships its lexicon inside its
package. A negation ("не", "ne", "nav") flips the next words of its clause, an intensifier
("очень", "ļoti") strengthens the next word. The lexicons feed the classifier as features, so
they carry the model across domains its training texts never covered.
"""

from functools import cache, lru_cache
from pathlib import Path

from .tokens import Token, clauses, fold

HERE = Path(__file__).parent / "lexicon"
NEGATION_REACH = 3  # words after a negation that it flips
FEATURES = 5  # length of the vector `features` returns


def _tsv(name: str) -> dict[str, str]:
    entries = {}
    path = HERE / name
    if not path.exists():
        return entries
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("\t")[:2]
            entries[key.strip()] = value.strip()
    return entries


@cache
def scores(language: str) -> dict[str, int]:
    table = _tsv(f"{language}.tsv")
    if language == "lv":
        return {fold(k): int(v) for k, v in table.items()}
    return {k.replace("ё", "е"): int(v) for k, v in table.items()}


@cache
def modifiers(language: str) -> dict[str, str]:
    table = _tsv(f"{language}_modifiers.tsv")
    return {fold(k) if language == "lv" else k: v for k, v in table.items()}


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def word_score(norm: str, language: str) -> int:
    table = scores(language)
    if language != "lv":
        return table.get(norm, 0)
    for end in range(len(norm), 2, -1):  # the longest Latvian stem that starts the word
        if (score := table.get(norm[:end])) is not None:
            return score
    return 0


def polarity(found: list[Token], language: str) -> tuple[float, float]:
    """(positive, negative) weight of the words, after negations and intensifiers."""
    mods = modifiers(language)
    positive = negative = 0.0
    for clause in clauses(found):
        negated_until, boost = -1, 1.0
        for i, token in enumerate(clause):
            if token.kind == "smile":
                positive += 1.5
                continue
            if token.kind == "frown":
                negative += 1.5
                continue
            kind = mods.get(token.norm)
            if kind == "negation":
                negated_until = i + NEGATION_REACH
                continue
            if kind in ("intensifier", "diminisher"):
                boost = 1.5 if kind == "intensifier" else 0.5
                continue
            score = word_score(token.norm, language) * boost
            boost = 1.0
            if score and i <= negated_until:
                score = -score * (0.5 if score < 0 else 0.8)  # "не плохо" is faint praise, "не хорошо" a complaint
            if score > 0:
                positive += score
            elif score < 0:
                negative -= score
    return positive, negative


def features(text: str, found: list[Token], language: str) -> list[float]:
    """[balance, positive, negative, any positive, any negative], each within −1…1."""
    if language == "en":
        v = _vader().polarity_scores(text)
        return [v["compound"], v["pos"], v["neg"], float(v["compound"] >= 0.05), float(v["compound"] <= -0.05)]
    positive, negative = polarity(found, language)
    balance = (positive - negative) / ((positive - negative) ** 2 + 4) ** 0.5
    return [balance, positive / (positive + 2), negative / (negative + 2), float(positive > 0), float(negative > 0)]
