"""Train the shipped sentiment model: `python -m scripts.train_sentiment [--shared DIR]`.

Reads the labelled sets (`../shared/data/sentiment/` beside the repository, and our own under
`data/sentiment/`), fits one logistic regression per language with scikit-learn over the
features `cxplatform.textinsight.sentiment.analyse` computes (sparse words and character n-grams,
the lexicon's features, and for Russian the navec word vectors mean-pooled), and writes
`cxplatform/textinsight/model/sentiment.json.gz`. The product reads only that file (and the navec
table inside the natasha wheel); the data stays out of it.

Settings (regularisation, the weight of the lexicon and of the vectors, the weight of the
multi-domain texts, the bias against "neutral") are chosen by cross-validation that holds out
whole domains of the training texts, since what matters is a domain the model never saw.
Test sets (`*_test.csv`) are never read here: bench/sentiment.py measures on them.
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
    "ru": ["own:ru_reviews_train", "own:ru_social_train", "own:ru_multidomain_train"],
    "lv": ["shared:lv_ltec_train", "own:lv_social_train", "own:lv_multidomain_train"],
    "en": ["shared:en_vader_amazon", "shared:en_vader_tweets", "shared:en_vader_movies", "own:en_social_train",
           "own:en_multidomain_train"],
}
MAX_FEATURES = {"ru": 40_000, "lv": 60_000, "en": 60_000}
# (C, lexicon weight, vector weight, weight of a multi-domain text); the first is the default.
GRID = [(1.0, 3.0, 1.0, 2.0), (4.0, 3.0, 1.0, 2.0), (1.0, 3.0, 1.0, 4.0), (1.0, 1.0, 1.0, 2.0), (1.0, 3.0, 3.0, 2.0)]
SEARCHED = {"en": 1}  # English trains on 20K texts: only the default settings (and the neutral bias) are searched
NEUTRAL_BIASES = [b / 4 for b in range(-12, 3)]
THREE_CLASS_SLACK = 0.03  # how much three-class macro-F1 the neutral bias may give up for the binary one


def read(name: str, shared: Path = SHARED_DATA) -> tuple[list[str], list[str], list[str]]:
    """(texts, labels, domains) of a set; a set without a domain column is one domain."""
    where, stem = name.split(":")
    path = (shared if where == "shared" else OWN_DATA) / f"{stem}.csv"
    if not path.exists():
        return [], [], []
    with path.open(encoding="utf-8", newline="") as f:
        rows = [(r["text"], r["label"], r.get("domain") or stem) for r in csv.DictReader(f) if r["label"] in LABELS]
    return [t for t, _, _ in rows], [lbl for _, lbl, _ in rows], [d for _, _, d in rows]


def featurise(texts, language):
    import numpy as np

    from cxplatform.textinsight.sentiment import analyse, embeddings

    table = embeddings(language) if language == "ru" else None
    sparse, dense, vectors = [], [], []
    for text in texts:
        names, lex, (plain, negated) = analyse(text, language)
        sparse.append(names)
        dense.append(lex)
        if table is not None:
            vectors.append(np.concatenate([table.mean(plain), table.mean(negated)]))
    return sparse, np.asarray(dense), (np.asarray(vectors) if vectors else None)


def _matrix(vectorizer, sparse, dense, vectors, setting, fit=False):
    from scipy.sparse import csr_matrix, hstack

    _c, s, v, _w = setting
    words = vectorizer.fit_transform(sparse) if fit else vectorizer.transform(sparse)
    blocks = [words, csr_matrix(dense * s)]
    if vectors is not None:
        blocks.append(csr_matrix(vectors * v))
    return hstack(blocks).tocsr()


def _vectorizer(language):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=lambda names: names, sublinear_tf=True, min_df=2,
                           max_features=MAX_FEATURES[language])


def stored_f1(truth, predicted) -> float:
    """Binary macro-F1 over the polar texts as a stored label would score: a polar text read as
    neutral is a miss."""
    from sklearn.metrics import f1_score

    pairs = [(t, p) for t, p in zip(truth, predicted, strict=True) if t != "neutral"]
    return float(f1_score([t for t, _ in pairs], [p for _, p in pairs], labels=["negative", "positive"],
                          average="macro", zero_division=0))


def _with_bias(probabilities, bias):
    import numpy as np

    logits = np.log(np.clip(probabilities, 1e-12, 1)) + np.array([0.0, bias, 0.0])
    return [LABELS[i] for i in logits.argmax(axis=1)]


def _fit_one(x, y, weights, c):
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # BLAS threads on a shared 2-core machine make it 10× slower, not faster
        return LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(x, y, sample_weight=weights)


def fit(texts, labels, language, choose=True, setting=None, domains=None, multidomain=None, log=print) -> dict:
    """Train one language's model (its settings chosen by cross-validation over held-out domains,
    or `setting`); returns its parameters in the shipped format."""
    import numpy as np
    from sklearn.metrics import f1_score
    from sklearn.model_selection import GroupKFold

    sparse, dense, vectors = featurise(texts, language)
    if vectors is not None:  # one scale for the pooled vectors: their mean norm is 1
        vectors_scale = 1.0 / (float(np.linalg.norm(vectors, axis=1).mean()) or 1.0)
        vectors = vectors * vectors_scale
    y = np.array([LABELS.index(lbl) for lbl in labels])
    domains = np.array(domains if domains is not None else ["all"] * len(texts))
    multidomain = np.array(multidomain if multidomain is not None else [False] * len(texts))
    setting = setting or GRID[0]
    neutral_bias = 0.0
    grid = [g for g in GRID if vectors is not None or g[2] == GRID[0][2]][:SEARCHED.get(language)]
    if choose and len(set(domains[multidomain])) >= 3:
        # Each fold holds out whole domains of the multi-domain comments; the other sets (reviews,
        # tweets, movie snippets) always train. Scores are over the held-out comments only: the
        # texts the product reads are customers' comments from a trade it has not seen.
        md = np.flatnonzero(multidomain)
        base = np.flatnonzero(~multidomain)
        folds = [(np.concatenate([base, md[train]]), md[test])
                 for train, test in GroupKFold(n_splits=min(5, len(set(domains[md])))).split(md, y[md], domains[md])]
        scored = np.concatenate([test for _, test in folds])
        results = {}
        for candidate in grid:
            oof = np.zeros((len(texts), 3))
            for train, test in folds:
                vec = _vectorizer(language)
                x_train = _matrix(vec, [sparse[i] for i in train], dense[train],
                                  None if vectors is None else vectors[train], candidate, fit=True)
                x_test = _matrix(vec, [sparse[i] for i in test], dense[test],
                                 None if vectors is None else vectors[test], candidate)
                weights = np.where(multidomain[train], candidate[3], 1.0)
                oof[test] = _fit_one(x_train, y[train], weights, candidate[0]).predict_proba(x_test)
            oof = oof[scored]
            truth = [LABELS[i] for i in y[scored]]
            by_bias = {b: _with_bias(oof, b) for b in NEUTRAL_BIASES}
            three = {b: f1_score(truth, p, average="macro") for b, p in by_bias.items()}
            allowed = [b for b in NEUTRAL_BIASES if three[b] >= max(three.values()) - THREE_CLASS_SLACK]
            best_bias = max(allowed, key=lambda b: stored_f1(truth, by_bias[b]))
            results[candidate] = (stored_f1(truth, by_bias[best_bias]), three[best_bias], best_bias)
            log(f"  {language} {candidate}: stored binary F1 {results[candidate][0]:.3f}, "
                f"three-class {results[candidate][1]:.3f}, neutral bias {best_bias}")
        setting = max(results, key=lambda k: results[k][0] + results[k][1] / 4)
        neutral_bias = results[setting][2]
    c, s, v, w = setting
    vec = _vectorizer(language)
    x = _matrix(vec, sparse, dense, vectors, setting, fit=True)
    clf = _fit_one(x, y, np.where(multidomain, w, 1.0), c)
    vocabulary = vec.vocabulary_
    n_sparse = len(vocabulary)
    coef = clf.coef_  # (3, features)
    weights = {name: [round(float(vec.idf_[j]), 5), *(round(float(coef[k, j]), 5) for k in range(3))]
               for name, j in vocabulary.items()}
    n_dense = dense.shape[1]
    dense_weights = [[round(float(coef[k, n_sparse + d]) * s, 5) for k in range(3)] for d in range(n_dense)]
    bias = [round(float(b), 5) for b in clf.intercept_]
    bias[1] = round(bias[1] + neutral_bias, 5)
    params = {"weights": weights, "dense": dense_weights, "bias": bias, "C": c, "lexicon_weight": s,
              "neutral_bias": neutral_bias, "multidomain_weight": w, "trained_on": len(texts)}
    if vectors is not None:
        from cxplatform.textinsight.sentiment import VECTOR_LANGUAGES

        first = n_sparse + n_dense
        params["vectors"] = {
            "file": VECTOR_LANGUAGES[language], "weight": v,
            "weights": [[round(float(coef[k, first + d]) * v * vectors_scale, 6) for k in range(3)]
                        for d in range(vectors.shape[1])],
        }
    return params


def training_data(language: str, shared: Path = SHARED_DATA, sets=None):
    texts, labels, domains, multidomain = [], [], [], []
    for name in sets or TRAINING_SETS[language]:
        t, lbl, d = read(name, shared)
        texts += t
        labels += lbl
        domains += d
        multidomain += [name.endswith("multidomain_train")] * len(t)
    return texts, labels, domains, multidomain


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "cxplatform" / "textinsight" / "model" / "sentiment.json.gz")
    parser.add_argument("--languages", default="ru,lv,en")
    parser.add_argument("--no-search", action="store_true", help="the default settings, no cross-validation")
    args = parser.parse_args(argv)
    languages = {}
    if args.out.exists():  # languages not retrained keep their parameters
        with gzip.open(args.out, "rt", encoding="utf-8") as f:
            languages = json.load(f)["languages"]
    for language in args.languages.split(","):
        texts, labels, domains, multidomain = training_data(language, args.shared)
        params = fit(texts, labels, language, choose=not args.no_search, domains=domains, multidomain=multidomain)
        languages[language] = params
        print(f"{language}: {len(texts)} texts, C={params['C']}, lexicon weight={params['lexicon_weight']}, "
              f"neutral bias={params['neutral_bias']}, {len(params['weights'])} features")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model = {"version": 2, "labels": list(LABELS), "training_sets": TRAINING_SETS, "languages": languages}
    with gzip.open(args.out, "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(model, f, ensure_ascii=False, separators=(",", ":"))
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    import os
    import sys

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxplatform.settings")
    main()
