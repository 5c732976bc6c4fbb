"""Comment sentiment: balanced accuracy and macro-F1 per language on texts the shipped model never
saw, from another domain than its training texts, beside an off-the-shelf baseline, and the
throughput of the shipped classifier.

- Russian: trained on shop/restaurant/hotel/bank/telecom reviews, tested on scooter, taxi,
  delivery and transport comments (`data/sentiment/ru_mobility_test.csv`).
- Latvian: trained on food tweets (LTEC), tested on service comments (`lv_cx_test.csv`).
- English: trained on VADER's Amazon, tweet and movie sets; tested on service comments
  (`en_cx_test.csv`), and leave-one-domain-out over the three VADER sets (a model retrained
  without that domain).
Baselines: VADER's compound score (±0.05) for English, our lexicon alone for Russian and Latvian.
"""

import csv
import time
from pathlib import Path

from .common import size

ROOT = Path(__file__).resolve().parent.parent
OWN = ROOT / "data" / "sentiment"
LABELS = ("negative", "neutral", "positive")


def _read(path: Path):
    with path.open(encoding="utf-8", newline="") as f:
        rows = [(r["text"], r["label"]) for r in csv.DictReader(f)]
    rows = rows[:size(len(rows), 60)]
    return [t for t, _ in rows], [lbl for _, lbl in rows]


def _scores(truth, predicted) -> dict:
    from sklearn.metrics import balanced_accuracy_score, f1_score

    return {"n": len(truth), "balanced_accuracy": round(balanced_accuracy_score(truth, predicted), 3),
            "macro_f1": round(f1_score(truth, predicted, average="macro", labels=list(LABELS)), 3)}


def _lexicon_only(text, language):
    from cxplatform.textinsight import lexicon
    from cxplatform.textinsight.tokens import tokens

    balance = lexicon.features(text, tokens(text, language), language)[0]
    return "positive" if balance > 0.1 else "negative" if balance < -0.1 else "neutral"


def _shipped(text, language, params=None):
    from cxplatform.textinsight.sentiment import LABELS as ORDER
    from cxplatform.textinsight.sentiment import probabilities

    p = probabilities(text, language, params)
    return ORDER[max(range(3), key=p.__getitem__)]


def _with(params):
    """A classifier with other parameters than the shipped ones (leave-one-domain-out)."""
    return lambda text, language: _shipped(text, language, params)


def _evaluate(texts, labels, language, classify):
    return _scores(labels, [classify(t, language) for t in texts])


def run() -> dict:
    from scripts.train_sentiment import TRAINING_SETS, fit, read

    results = {}
    for language, test in (("ru", "ru_mobility_test"), ("lv", "lv_cx_test"), ("en", "en_cx_test")):
        texts, labels = _read(OWN / f"{test}.csv")
        baseline = "vader" if language == "en" else "lexicon only"
        results[f"{language}: {test} (other domain)"] = {
            "shipped model": _evaluate(texts, labels, language, _shipped),
            baseline: _evaluate(texts, labels, language,
                                _vader if language == "en" else _lexicon_only),
        }
    # English across domains: retrain without one VADER set, test on it.
    for held_out in TRAINING_SETS["en"]:
        train_texts, train_labels = [], []
        for name in TRAINING_SETS["en"]:
            if name != held_out:
                t, lbl = read(name)
                train_texts += t[:size(len(t), 300)]
                train_labels += lbl[:size(len(lbl), 300)]
        params = fit(train_texts, train_labels, "en", choose=False)
        texts, labels = read(held_out)
        texts, labels = texts[:size(len(texts), 60)], labels[:size(len(labels), 60)]
        results[f"en: {held_out.split(':')[1]} (trained on the other two)"] = {
            "model": _evaluate(texts, labels, "en", _with(params)),
            "vader": _evaluate(texts, labels, "en", _vader),
        }
    results["throughput"] = _throughput()
    return results


def _vader(text, _language):
    from cxplatform.textinsight.lexicon import _vader as analyzer

    compound = analyzer().polarity_scores(text)["compound"]
    return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"


def _throughput() -> dict:
    """Comments per second through `classify` (language detection included), one core, warm."""
    from cxplatform.textinsight.sentiment import classify

    texts = []
    for name in ("ru_mobility_test", "lv_cx_test", "en_cx_test"):
        texts += _read(OWN / f"{name}.csv")[0]
    for t in texts:
        classify(t)
    rounds = 5
    started = time.perf_counter()
    for _ in range(rounds):
        for t in texts:
            classify(t + " ")  # a new string each round: the lemma cache stays, as it would in production
    elapsed = time.perf_counter() - started
    return {"comments": len(texts) * rounds, "comments_per_second": round(len(texts) * rounds / elapsed)}
