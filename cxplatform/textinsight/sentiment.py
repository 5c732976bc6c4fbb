"""Sentiment of a comment — positive, neutral or negative — offline, from a small linear model
that ships in this repository (`model/sentiment.json.gz`, made by `scripts/train_sentiment.py`).

One model per language over TF-IDF weighted word, word-pair and character n-gram features of the
normalised text, plus the lexicon's five features (see lexicon.py). Training fits it with
scikit-learn; running it needs nothing but this file: the weights are a dictionary, and a
prediction is a sparse dot product and a softmax (tens of microseconds per comment).
"""

import gzip
import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import lexicon
from .language import detect
from .tokens import Token, clauses, fold, tokens

MODEL_PATH = Path(__file__).parent / "model" / "sentiment.json.gz"
LABELS = ("negative", "neutral", "positive")
ENGLISH_NEGATIONS = {"not", "no", "never", "nothing", "nobody", "none", "nor", "without", "hardly", "cannot"}
CHAR_GRAMS = (3, 4, 5)


@dataclass(frozen=True)
class Sentiment:
    label: str  # negative, neutral or positive
    score: float  # P(positive) − P(negative), −1 … 1
    language: str

    @property
    def value(self) -> int:
        """−1, 0 or +1, as stored beside a comment."""
        return LABELS.index(self.label) - 1


def _negations(language: str) -> set[str]:
    if language == "en":
        return ENGLISH_NEGATIONS
    return {w for w, kind in lexicon.modifiers(language).items() if kind == "negation"}


def _is_negation(token: Token, negations: set[str]) -> bool:
    return token.norm in negations or token.norm.endswith("n't")


def sparse_features(found: list[Token], language: str) -> list[str]:
    """The names of the sparse features of a comment (repeated names count as frequency)."""
    negations = _negations(language)
    names = []
    for clause in clauses(found):
        negated_until = -1
        previous = None
        for i, token in enumerate(clause):
            if token.kind != "word":
                names.append(f"m:{token.norm}")
                previous = None
                continue
            if _is_negation(token, negations):
                negated_until = i + lexicon.NEGATION_REACH
                names.append(f"w:{token.norm}")
                previous = token.norm
                continue
            word = f"NOT_{token.norm}" if i <= negated_until else token.norm
            names.append(f"w:{word}")
            if previous is not None:
                names.append(f"b:{previous} {token.norm}")
            previous = token.norm
            padded = f" {fold(token.text)} "
            for n in CHAR_GRAMS:
                names.extend(f"c:{padded[j:j + n]}" for j in range(len(padded) - n + 1))
    return names


def analyse(text: str, language: str) -> tuple[list[str], list[float]]:
    found = tokens(text, language)
    return sparse_features(found, language), lexicon.features(text, found, language)


@lru_cache(maxsize=1)
def model() -> dict:
    with gzip.open(MODEL_PATH, "rt", encoding="utf-8") as f:
        return json.load(f)


def probabilities(text: str, language: str, params: dict | None = None) -> list[float]:
    """P(negative), P(neutral), P(positive); `params` replaces the shipped model (evaluation)."""
    params = params or model()["languages"][language]
    weights, dense_weights = params["weights"], params["dense"]
    sparse, dense = analyse(text, language)
    counts = Counter(name for name in sparse if name in weights)
    values = {name: (1 + math.log(c)) * weights[name][0] for name, c in counts.items()}  # sublinear tf × idf
    norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
    logits = list(params["bias"])
    for name, v in values.items():
        w = weights[name]
        for k in range(3):
            logits[k] += v / norm * w[k + 1]
    for x, w in zip(dense, dense_weights, strict=True):
        for k in range(3):
            logits[k] += x * w[k]
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def classify(text: str, language_hint: str = "") -> Sentiment | None:
    """The sentiment of a comment, or None when it has no words or signs to judge."""
    if not text or not text.strip():
        return None
    language = detect(text, language_hint)
    p = probabilities(text, language)
    return Sentiment(LABELS[max(range(3), key=p.__getitem__)], round(p[2] - p[0], 3), language)
