"""Comment sentiment on texts from domains the shipped model never trained on, per language and
per domain, beside a simple offline reference trained (or not) on the same data, and the
throughput of the full reading of a comment (`textinsight.reading.read`: the comment and each of
its clauses).

Figures per test set:
- `stored_f1`: binary positive/negative macro-F1 over the polar texts, as the label stored beside
  a comment would score (a polar text read as neutral is a miss) — the figure the issue targets;
- `forced_f1`: the same with the sign of P(positive) − P(negative) (no neutral);
- `three_class_f1`: macro-F1 over positive / neutral / negative on every text.

Test sets (never trained on): `ru_mobility_test` (scooters, taxis, delivery), `en_cx_test`,
`lv_cx_test` (service comments), `{ru,en,lv}_heldout_test` (clinics, education, public services,
each domain apart), and English leave-one-VADER-domain-out (the model retrained without it).
References: Russian — navec mean vectors + logistic regression; English — VADER's compound
score; Latvian — character 1–5-gram TF-IDF + logistic regression; the trained ones on the same
training texts as the shipped model.
"""

import csv
import statistics
import time
from pathlib import Path

from .common import size

ROOT = Path(__file__).resolve().parent.parent
OWN = ROOT / "data" / "sentiment"
LABELS = ("negative", "neutral", "positive")
OTHER_DOMAIN = {"ru": "ru_mobility_test", "en": "en_cx_test", "lv": "lv_cx_test"}


def _read(path: Path, smoke: int = 60):
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        rows = [(r["text"], r["label"], r.get("domain") or path.stem) for r in csv.DictReader(f)]
    return rows[:size(len(rows), smoke)]


def scores(truth, predicted, forced) -> dict:
    from sklearn.metrics import f1_score

    from scripts.train_sentiment import stored_f1

    polar = [(t, f) for t, f in zip(truth, forced, strict=True) if t != "neutral"]
    return {
        "n": len(truth),
        "stored_f1": round(stored_f1(truth, predicted), 3),
        "forced_f1": round(float(f1_score([t for t, _ in polar], [f for _, f in polar], average="macro",
                                          labels=["negative", "positive"], zero_division=0)), 3),
        "three_class_f1": round(float(f1_score(truth, predicted, average="macro", labels=list(LABELS),
                                               zero_division=0)), 3),
    }


def _evaluate(rows, language, predict) -> dict:
    """`predict(texts, language)` → (labels, forced labels)."""
    texts, truth = [t for t, _, _ in rows], [lbl for _, lbl, _ in rows]
    predicted, forced = predict(texts, language)
    return scores(truth, predicted, forced)


def shipped(params=None):
    from cxplatform.textinsight.sentiment import probabilities

    def predict(texts, language):
        ps = [probabilities(t, language, params) for t in texts]
        return ([LABELS[max(range(3), key=p.__getitem__)] for p in ps],
                ["positive" if p[2] >= p[0] else "negative" for p in ps])
    return predict


def vader(texts, _language):
    from cxplatform.textinsight.lexicon import _vader as analyzer

    compounds = [analyzer().polarity_scores(t)["compound"] for t in texts]
    return (["positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral" for c in compounds],
            ["positive" if c >= 0 else "negative" for c in compounds])


def trained_reference(language, texts, labels):
    """Russian: navec mean vectors + LR; Latvian (and any other): character 1–5-grams + LR."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if language == "ru":
        from cxplatform.textinsight.sentiment import embeddings

        table = embeddings("ru")

        def featurise(batch):
            import re

            return np.asarray([table.mean(re.findall(r"[а-яё]+", t.lower())) for t in batch])
        clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000).fit(featurise(texts), labels)
    else:
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True, min_df=2, max_features=100_000)
        x = vec.fit_transform(texts)

        def featurise(batch):
            return vec.transform(batch)
        clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000).fit(x, labels)

    def predict(batch, _language):
        p = clf.predict_proba(featurise(batch))
        order = list(clf.classes_)
        neg, pos = order.index("negative"), order.index("positive")
        return list(clf.predict(featurise(batch))), ["positive" if r[pos] >= r[neg] else "negative" for r in p]
    return predict


REFERENCE_NAMES = {"ru": "navec mean vectors + LR", "en": "VADER compound", "lv": "char 1–5-grams + LR"}


def run() -> dict:
    from scripts.train_sentiment import TRAINING_SETS, fit, training_data

    results = {"training_sets": TRAINING_SETS}
    for language in ("ru", "en", "lv"):
        if language == "en":
            reference = vader
        else:
            texts, labels, _, _ = training_data(language)
            keep = size(len(texts), 400)
            reference = trained_reference(language, texts[:keep], labels[:keep])
        test_sets = {OTHER_DOMAIN[language]: _read(OWN / f"{OTHER_DOMAIN[language]}.csv")}
        heldout = _read(OWN / f"{language}_heldout_test.csv", smoke=90)
        for domain in sorted({d for _, _, d in heldout}):
            test_sets[f"{language}_heldout_test: {domain}"] = [r for r in heldout if r[2] == domain]
        if heldout:
            test_sets[f"{language}_heldout_test: all"] = heldout
        for name, rows in test_sets.items():
            if rows:
                results[f"{language}: {name}"] = {
                    "model": _evaluate(rows, language, shipped()),
                    REFERENCE_NAMES[language]: _evaluate(rows, language, reference),
                }
    # English across VADER's domains: retrain without one, test on it (the shipped settings).
    from cxplatform.textinsight.sentiment import model

    settings = model()["languages"]["en"]
    setting = (settings["C"], settings["lexicon_weight"], 1.0, settings.get("multidomain_weight", 1.0))
    vader_sets = [s for s in TRAINING_SETS["en"] if s.startswith("shared:en_vader")]
    for held_out in vader_sets:
        texts, labels, _, multidomain = training_data("en", sets=[s for s in TRAINING_SETS["en"] if s != held_out])
        keep = size(len(texts), 300)
        params = fit(texts[:keep], labels[:keep], "en", choose=False, setting=setting, multidomain=multidomain[:keep])
        rows = _read(ROOT.parent / "shared" / "data" / "sentiment" / f"{held_out.split(':')[1]}.csv")
        results[f"en: {held_out.split(':')[1]} (trained without it)"] = {
            "model": _evaluate(rows, "en", shipped(params)),
            "VADER compound": _evaluate(rows, "en", vader),
        }
    results["throughput"] = _throughput()
    results["cold_start"] = _cold_start()
    return results


COLD = """
import json, os, time
from cxplatform.textinsight.reading import read


def rss_mb():  # resident now, not the peak
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


before = rss_mb()
t = time.perf_counter()
read("Курьер опоздал на час", "ru")
ru = time.perf_counter() - t
after = rss_mb()
t = time.perf_counter()
read("Kurjers kavēja stundu", "lv")
read("The courier was an hour late", "en")
print(json.dumps({"first_russian_reading_s": round(ru, 2), "memory_added_mb": round(after - before),
                  "first_latvian_and_english_readings_s": round(time.perf_counter() - t, 2)}))
"""


def _cold_start() -> dict:
    """A new worker's first readings: the model file, pymorphy3, the navec table (memory-mapped
    from the natasha wheel, projected once onto the model's weights)."""
    import json
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", COLD], cwd=ROOT, capture_output=True, text=True, timeout=300)
    return json.loads(run.stdout.strip().splitlines()[-1]) if run.returncode == 0 else {"error": run.stderr[-500:]}


def _throughput() -> dict:
    """Full readings per second (`reading.read`: language, the comment's and each clause's
    sentiment, themes), one core, warm: the demo's comments, and 1,500-character Russian reviews."""
    from cxplatform.textinsight.reading import read
    from surveys.demo import COMMENTS

    demo = [c for by_language in COMMENTS.values() for pool in by_language.values() for c in pool]
    russian = [t for t, _, _ in _read(OWN / "ru_mobility_test.csv", smoke=60)]
    long_reviews, current = [], ""
    for text in russian * 10:
        current = f"{current} {text}".strip()
        if len(current) >= 1500:
            long_reviews.append(current[:1500])
            current = ""
    figures = {}
    for name, texts, rounds in (("demo comments", demo, size(50, 2)), ("1,500-character Russian reviews",
                                                                      long_reviews[:size(40, 3)], size(5, 1))):
        for t in texts:
            read(t)  # warm: the model and the navec table loaded once per worker
        started = time.perf_counter()
        for r in range(rounds):
            for t in texts:
                read(f"{t}{' ' * (r + 1)}")  # a new string each round: caches of words stay, as in production
        elapsed = time.perf_counter() - started
        figures[name] = {"median_chars": statistics.median(len(t) for t in texts), "comments": len(texts) * rounds,
                         "comments_per_second": round(len(texts) * rounds / elapsed)}
    figures["comments"] = sum(f["comments"] for f in figures.values())
    return figures
