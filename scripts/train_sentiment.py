"""Train the shipped sentiment model: `python -m scripts.train_sentiment [--shared DIR]`.

Reads the labelled sets (`../shared/data/sentiment/` beside the repository, and our own under
`data/sentiment/`), fits one logistic regression per language with scikit-learn over the
features `cxplatform.textinsight.sentiment.analyse` computes, picks its regularisation by
cross-validation on the training texts only, and writes `cxplatform/textinsight/model/
sentiment.json.gz`. The product reads only that file; the data stays out of it.

Test sets are never trained on: `ru_mobility_test`, `lv_cx_test`, `en_cx_test` (bench/sentiment.py).
"""

import argparse
import csv
import gzip
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWN_DATA = ROOT / "data" / "sentiment"
SHARED_DATA = ROOT.parent / "shared" / "data" / "sentiment"
LABELS = ("negative", "neutral", "positive")

TRAINING_SETS = {
    "ru": ["own:ru_reviews_train"],
    "lv": ["shared:lv_ltec_train"],
    "en": ["shared:en_vader_amazon", "shared:en_vader_tweets", "shared:en_vader_movies"],
}
MAX_FEATURES = {"ru": 12_000, "lv": 15_000, "en": 20_000}
GRID = [(c, s) for c in (1.0, 4.0) for s in (1.0, 3.0)]  # C, weight of the lexicon features


def read(name: str, shared: Path = SHARED_DATA) -> tuple[list[str], list[str]]:
    where, stem = name.split(":")
    path = (shared if where == "shared" else OWN_DATA) / f"{stem}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = [(r["text"], r["label"]) for r in csv.DictReader(f) if r["label"] in LABELS]
    return [t for t, _ in rows], [lbl for _, lbl in rows]


def featurise(texts, language):
    from cxplatform.textinsight.sentiment import analyse

    pairs = [analyse(t, language) for t in texts]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _matrix(vectorizer, sparse, dense, scale, fit=False):
    import numpy as np
    from scipy.sparse import csr_matrix, hstack

    words = vectorizer.fit_transform(sparse) if fit else vectorizer.transform(sparse)
    return hstack([words, csr_matrix(np.asarray(dense) * scale)]).tocsr()


def _vectorizer(language):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=lambda names: names, sublinear_tf=True, min_df=2,
                           max_features=MAX_FEATURES[language])


def fit(texts, labels, language, choose=True, setting=(1.0, 3.0)) -> dict:
    """Train one language's model (C and lexicon weight chosen by cross-validation over GRID, or
    `setting`); returns its parameters in the shipped format."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    sparse, dense = featurise(texts, language)
    y = np.array([LABELS.index(lbl) for lbl in labels])
    best = setting
    if choose:
        scores = {}
        folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=7)
        for c, s in GRID:
            f1s = []
            for train, test in folds.split(texts, y):
                vec = _vectorizer(language)
                x_train = _matrix(vec, [sparse[i] for i in train], [dense[i] for i in train], s, fit=True)
                x_test = _matrix(vec, [sparse[i] for i in test], [dense[i] for i in test], s)
                clf = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(x_train, y[train])
                f1s.append(f1_score(y[test], clf.predict(x_test), average="macro"))
            scores[(c, s)] = float(np.mean(f1s))
        best = max(scores, key=scores.get)
    c, s = best
    vec = _vectorizer(language)
    x = _matrix(vec, sparse, dense, s, fit=True)
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(x, y)
    vocabulary = vec.vocabulary_
    n_sparse = len(vocabulary)
    coef = clf.coef_  # (3, features)
    weights = {name: [round(float(vec.idf_[j]), 5), *(round(float(coef[k, j]), 5) for k in range(3))]
               for name, j in vocabulary.items()}
    dense_weights = [[round(float(coef[k, n_sparse + d]) * s, 5) for k in range(3)] for d in range(len(dense[0]))]
    return {"weights": weights, "dense": dense_weights, "bias": [round(float(b), 5) for b in clf.intercept_],
            "C": c, "lexicon_weight": s, "trained_on": len(texts)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "cxplatform" / "textinsight" / "model" / "sentiment.json.gz")
    args = parser.parse_args(argv)
    languages = {}
    for language, sets in TRAINING_SETS.items():
        texts, labels = [], []
        for name in sets:
            t, lbl = read(name, args.shared)
            texts += t
            labels += lbl
        languages[language] = fit(texts, labels, language)
        print(f"{language}: {len(texts)} texts, C={languages[language]['C']}, "
              f"lexicon weight={languages[language]['lexicon_weight']}, {len(languages[language]['weights'])} features")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model = {"version": 1, "labels": list(LABELS), "training_sets": TRAINING_SETS, "languages": languages}
    with gzip.open(args.out, "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(model, f, ensure_ascii=False, separators=(",", ":"))
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    import os
    import sys

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxplatform.settings")
    main()
