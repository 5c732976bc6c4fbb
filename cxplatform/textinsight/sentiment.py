"""Sentiment of a comment — positive, neutral or negative — offline, from a small linear model
that ships in this repository (`model/sentiment.json.gz`, made by `scripts/train_sentiment.py`).

One model per language over TF-IDF weighted word, word-pair and character n-gram features of the
normalised text, the lexicon's features (words, negation, contrast, phrases, waiting times: see
lexicon.py) and, for Russian, pre-trained word vectors: navec (news, 250K words × 300, MIT), which
ships inside the natasha wheel — nothing is downloaded. A comment's vectors are mean-pooled in two
pools, words under a negation apart ("не понравилось" is not "понравилось").

The model is linear, so a word's vector is needed only through its dot product with the model's
vector weights: on first use the product-quantised navec table (25 MB, memory-mapped from the
wheel) is projected once onto those weights — 3 numbers per word per pool — and a comment then
costs a sum of a few rows. Training fits it with scikit-learn; running it needs numpy and this file.
"""

import gzip
import importlib.util
import json
import math
import tarfile
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
NAVEC_FILE = "navec_news_v1_1B_250K_300d_100q.tar"
VECTOR_LANGUAGES = {"ru": NAVEC_FILE}


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


@lru_cache(maxsize=200_000)
def latvian_lemma(word: str) -> str:
    """A Latvian word's lemma, folded ("kavēja" → "kavet"): inflected forms meet where the folded
    prefix stems of the lexicon do not reach (simplemma's dictionary, MIT/ODbL)."""
    from simplemma import lemmatize

    return fold(lemmatize(word, lang="lv"))


@lru_cache(maxsize=200_000)
def char_grams(word: str) -> tuple[str, ...]:
    """The character 3–5-gram feature names of a word, folded and padded (" kur", "urjer")."""
    padded = f" {fold(word)} "
    return tuple(f"c:{padded[j:j + n]}" for n in CHAR_GRAMS for j in range(len(padded) - n + 1))


def sparse_features(found: list[Token], language: str) -> tuple[list[str], list[str], list[str]]:
    """The names of the sparse features of a comment (repeated names count as frequency), and its
    words as written, outside and under a negation (the two pools of word vectors)."""
    negations = _negations(language)
    names, plain, negated = [], [], []
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
            under = i <= negated_until
            (negated if under else plain).append(token.text)
            names.append(f"w:NOT_{token.norm}" if under else f"w:{token.norm}")
            if language == "lv":
                lemma = latvian_lemma(token.text)
                names.append(f"l:NOT_{lemma}" if under else f"l:{lemma}")
            if previous is not None:
                names.append(f"b:{previous} {token.norm}")
            previous = token.norm
            names.extend(char_grams(token.text))
    return names, plain, negated


def analyse(text: str, language: str) -> tuple[list[str], list[float], tuple[list[str], list[str]]]:
    """(sparse feature names, lexicon features, (plain words, negated words))."""
    found = tokens(text, language)
    names, plain, negated = sparse_features(found, language)
    return names, lexicon.features(text, found, language), (plain, negated)


# --- Word vectors --------------------------------------------------------------------------------

class Embeddings:
    """A navec table read straight from its tar: the vocabulary, and the product-quantised vectors
    (per word, one centroid index per 3-dimension slice) memory-mapped, not copied."""

    def __init__(self, path: Path):
        import numpy as np

        with tarfile.open(path) as tar:
            members = {m.name: m for m in tar.getmembers()}
            with gzip.GzipFile(fileobj=tar.extractfile(members["vocab.bin"])) as f:
                size = int(np.frombuffer(f.read(4), np.uint32)[0])
                f.read(4 * size)  # word counts: unused
                words = f.read().decode("utf-8").split("\n")
            pq = members["pq.bin"]
        self.ids = {word: i for i, word in enumerate(words)}
        header = np.fromfile(path, np.uint32, count=4, offset=pq.offset_data)
        self.vectors, self.dim, self.qdim, self.centroids = (int(x) for x in header)
        start = pq.offset_data + 16
        self.indexes = np.memmap(path, np.uint8, "r", offset=start, shape=(self.vectors, self.qdim))
        self.codes = np.fromfile(path, np.float32, offset=start + self.vectors * self.qdim,
                                 count=self.qdim * self.centroids * (self.dim // self.qdim)
                                 ).reshape(self.qdim, self.centroids, -1)

    def lookup(self, words: list[str]) -> list[int]:
        ids = self.ids
        found = []
        for word in words:
            i = ids.get(word)
            if i is None and "ё" in word:
                i = ids.get(word.replace("ё", "е"))
            if i is not None:
                found.append(i)
        return found

    def mean(self, words: list[str]):
        """The mean vector of the words it knows (zeros when none), for training."""
        import numpy as np

        ids = self.lookup(words)
        if not ids:
            return np.zeros(self.dim, np.float32)
        parts = self.codes[np.arange(self.qdim), self.indexes[ids]]  # words × slices × 3
        return parts.reshape(len(ids), self.dim).mean(axis=0)

    def project(self, weights):
        """Every word's vector times `weights` (dim × k): a words × k table, computed slice by slice
        from the centroids, without unpacking the 250K × 300 vectors."""
        import numpy as np

        k = weights.shape[1]
        per_slice = np.einsum("qcd,qdk->qck", self.codes, weights.reshape(self.qdim, -1, k).astype(np.float32))
        table = np.zeros((self.vectors, k), np.float32)
        for q in range(self.qdim):
            table += per_slice[q][self.indexes[:, q]]
        return table


def vectors_path(language: str) -> Path | None:
    """Where the installed wheel keeps the language's vectors (None: no vectors for it)."""
    name = VECTOR_LANGUAGES.get(language)
    spec = importlib.util.find_spec("natasha") if name else None  # found, not imported: its import is heavy
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "data" / "emb" / name
    return path if path.exists() else None


@lru_cache(maxsize=2)
def embeddings(language: str) -> Embeddings | None:
    path = vectors_path(language)
    return Embeddings(path) if path else None


def _projection(params: dict, language: str):
    """(word ids lookup, plain-pool table, negated-pool table) for a model's vector weights, made
    once per model and kept beside its parameters."""
    if "_projection" not in params:
        import numpy as np

        table = embeddings(language)
        if table is None:
            raise RuntimeError(f"the {language} sentiment model needs {VECTOR_LANGUAGES[language]} (natasha)")
        w = np.asarray(params["vectors"]["weights"], np.float32)  # (2 × dim) × 3
        both = table.project(np.hstack([w[:table.dim], w[table.dim:]]))  # one pass over the table for both pools
        params["_projection"] = (table, both[:, :3], both[:, 3:])
    return params["_projection"]


# --- The model -----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def model() -> dict:
    with gzip.open(MODEL_PATH, "rt", encoding="utf-8") as f:
        return json.load(f)


def _compiled(params: dict):
    """(feature name → row, rows of [idf, weight per label]) of a model's sparse weights, as an
    array: a long review matches hundreds of features, summed in one product."""
    if "_compiled" not in params:
        import numpy as np

        names = list(params["weights"])
        params["_compiled"] = ({name: i for i, name in enumerate(names)},
                               np.asarray([params["weights"][n] for n in names], np.float64).reshape(-1, 4))
    return params["_compiled"]


def probabilities(text: str, language: str, params: dict | None = None) -> list[float]:
    """P(negative), P(neutral), P(positive); `params` replaces the shipped model (evaluation)."""
    params = params or model()["languages"][language]
    rows, table = _compiled(params)
    dense_weights = params["dense"]
    sparse, dense, (plain, negated) = analyse(text, language)
    logits = list(params["bias"])
    found = [(i, c) for name, c in Counter(sparse).items() if (i := rows.get(name)) is not None]
    if found:
        import numpy as np

        index = np.fromiter((i for i, _ in found), np.int64, len(found))
        tf = 1 + np.log(np.fromiter((c for _, c in found), np.float64, len(found)))  # sublinear tf
        matched = table[index]
        values = tf * matched[:, 0]  # × idf
        scores = (values / (np.sqrt(values @ values) or 1.0)) @ matched[:, 1:]  # l2-normalised, × weights
        for k in range(3):
            logits[k] += float(scores[k])
    for x, w in zip(dense, dense_weights, strict=True):
        for k in range(3):
            logits[k] += x * w[k]
    if params.get("vectors"):
        table, plain_table, negated_table = _projection(params, language)
        for words, projected in ((plain, plain_table), (negated, negated_table)):
            if ids := table.lookup(words):
                pooled = projected[ids].sum(axis=0) / len(ids)  # the mean vector, times the weights
                for k in range(3):
                    logits[k] += float(pooled[k])
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
