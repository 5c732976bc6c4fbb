"""Sentiment lexicons: what the words of a comment say before any training.

Russian: our lexicon of lemmas (`lexicon/ru.tsv`); Latvian: our lexicon of stems (`lv.tsv`,
matched on folded text, longest stem first); English: VADER, which ships its lexicon inside its
package. A negation ("не", "ne", "nav") flips the next words of its clause, an intensifier
("очень", "ļoti") strengthens the next word, and after a contrast ("но", "but", "bet", "зато")
the clause that follows outweighs the one before it. Phrases (`{language}_phrases.tsv`: "третий
раз", "took * month", "nav atbild*") and waiting times ("ждал две недели", "3 dienas gaidu") carry
the complaints a CX analyst reads between the lines. The lexicons feed the classifier as
features, so they carry the model across domains its training texts never covered.
"""

from functools import cache, lru_cache
from pathlib import Path

from .tokens import Token, fold, normalise

HERE = Path(__file__).parent / "lexicon"
NEGATION_REACH = 3  # words after a negation that it flips
FEATURES = 11  # length of the vector `features` returns

# A contrast word: the clause after it says what the customer is left with ("дорого, зато быстро").
CONTRASTS = {"но", "однако", "зато", "but", "however", "though", "although", "bet", "tomer", "tacu"}
AFTER_CONTRAST, BEFORE_CONTRAST = 1.5, 0.5  # weights of the clauses on either side of a contrast
# Units of waiting time, as the tokenizer normalises them (Latvian: folded prefixes).
TIME_UNITS = {
    "ru": {"минута", "час", "день", "сутки", "неделя", "месяц", "год", "полчаса", "полгода"},
    "en": {"minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months", "year", "years",
           "ages", "forever"},
    "lv": ("minut", "stund", "dien", "nedel", "menes", "gad", "pusgad", "mūžīb", "muzib"),
}
# Words that make a duration a wait or an effort ("ждал", "took", "gaidīju", "still", "уже").
WAITING = {
    "ru": {"ждать", "ожидать", "подождать", "прождать", "дождаться", "занять", "длиться", "тянуться", "затянуться",
           "висеть", "потратить", "уже", "целый", "почти", "больше", "более", "спустя", "через", "прийтись"},
    "en": {"wait", "waited", "waiting", "waits", "took", "take", "takes", "taking", "spent", "spend", "already",
           "still", "whole", "over", "almost", "nearly", "later", "after", "been"},
    "lv": ("gaid", "ilg", "aiznem", "pagaj", "prasij", "tereju", "jau", "vesel", "gandriz", "vairak", "pec", "velk",
           "nokav"),
}
# "Again", "still", "the third time": a problem that comes back is a complaint whatever the words.
REPEATS = {
    "ru": {"опять", "снова", "вновь", "повторно", "очередной"},
    "en": {"again", "still", "another", "yet"},
    "lv": ("atkal", "joprojam", "velreiz", "atkartot", "kartejo"),
}
# "The third time", "третий раз", "trešo reizi": an ordinal beside the word for a time.
ORDINALS = {
    "ru": ({"второй", "третий", "четвертый", "пятый", "десятый", "сотый", "энный"}, {"раз"}),
    "en": ({"second", "third", "fourth", "fifth", "tenth", "umpteenth", "nth"}, {"time", "times"}),
    "lv": (("otr", "tres", "ceturt", "piekt", "desmit", "simt"), ("reiz",)),
}


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


# --- Phrases -----------------------------------------------------------------------------------

PhrasePart = tuple[str, bool]  # (normalised word, matched as a prefix); ("", True) is the wildcard `*`


def _phrase_part(word: str, language: str) -> PhrasePart:
    if word == "*":
        return ("", True)
    prefix = word.endswith("*") or language == "lv"  # Latvian phrase words are stems, as in lv.tsv
    word = word.rstrip("*")
    if language == "lv":
        return (fold(word), prefix)
    # Through the tokenizer's own normalisation, so "до сих пор" meets the lemmas "до сей пора".
    return (word.lower() if prefix else normalise(word, language), prefix)


@cache
def phrases(language: str) -> tuple[dict, dict, list]:
    """The phrase table (`{language}_phrases.tsv`; a missing file is no phrases) as three indexes
    of (parts, score): by a whole first word, by the first letters (up to 3) of a prefix first
    word, and the phrases that start with `*`."""
    exact: dict[str, list] = {}
    prefixes: dict[str, list] = {}
    anything: list = []
    for phrase, score in _tsv(f"{language}_phrases.tsv").items():
        parts = tuple(_phrase_part(w, language) for w in phrase.split())
        if not parts or not score.lstrip("-+").isdigit():
            continue
        first, prefix = parts[0]
        entry = (parts, int(score))
        if not first:
            anything.append(entry)
        elif prefix:
            prefixes.setdefault(first[:3], []).append(entry)
        else:
            exact.setdefault(first, []).append(entry)
    return exact, prefixes, anything


def _part_matches(part: PhrasePart, word: str) -> bool:
    text, prefix = part
    return word.startswith(text) if prefix else word == text


def phrase_matches(words: list[str], language: str) -> list[tuple[int, int, int]]:
    """(start, end, score) of every phrase found in `words` — one clause's normalised words."""
    exact, prefixes, anything = phrases(language)
    if not (exact or prefixes or anything):
        return []
    found = []
    for start, word in enumerate(words):
        candidates = exact.get(word, []) + anything
        for head in {word[:1], word[:2], word[:3]}:  # a prefix phrase is indexed by up to 3 first letters
            candidates += prefixes.get(head, [])
        for parts, score in candidates:
            end = start + len(parts)
            if end <= len(words) and all(_part_matches(p, w) for p, w in zip(parts, words[start:end], strict=True)):
                found.append((start, end, score))
    # Only the longest of overlapping phrases counts: "not as described" is not also "as described".
    kept: list[tuple[int, int, int]] = []
    for match in sorted(set(found), key=lambda m: (m[0] - m[1], m[0])):
        if all(match[1] <= k[0] or match[0] >= k[1] for k in kept):
            kept.append(match)
    return sorted(kept)


# --- Clauses, polarity and features --------------------------------------------------------------

def weighted_clauses(found: list[Token]) -> list[tuple[list[Token], float]]:
    """The clauses of a comment (split at punctuation and at "but"-words: a negation or a mood does
    not cross them), each with its weight: the clause after a contrast word counts more, the one
    before it less."""
    parts: list[tuple[list[Token], float]] = []
    current: list[Token] = []
    weight = 1.0
    for token in found:
        contrast = token.kind == "word" and token.norm in CONTRASTS
        if token.kind == "stop" or contrast or token.norm == "а":
            if current:
                parts.append((current, weight))
            if contrast and parts and parts[-1][1] == 1.0:
                parts[-1] = (parts[-1][0], BEFORE_CONTRAST)
            current, weight = [], (AFTER_CONTRAST if contrast else 1.0)
        else:
            current.append(token)
    if current:
        parts.append((current, weight))
    return parts


def _in(word: str, table, language: str) -> bool:
    return word.startswith(table) if language == "lv" else word in table


def effort(clause: list[Token], language: str) -> tuple[float, float]:
    """(waited: a time unit beside a waiting word, repeated: "again", "still", "третий раз")."""
    words = [t.norm for t in clause if t.kind == "word"]
    units, waiting, repeats = TIME_UNITS[language], WAITING[language], REPEATS[language]
    has_unit = any(_in(w, units, language) for w in words)
    waited = has_unit and any(_in(w, waiting, language) for w in words)
    ordinals, times = ORDINALS[language]
    repeated = any(_in(w, repeats, language) for w in words) or (
        any(_in(w, ordinals, language) for w in words) and any(_in(w, times, language) for w in words))
    return float(waited), float(repeated)


def polarity(found: list[Token], language: str) -> tuple[float, float, float]:
    """(positive, negative) weight of the words after negations, intensifiers and contrast, and the
    balance of the last clause after a contrast word (0 without one)."""
    mods = modifiers(language)
    positive = negative = 0.0
    last_contrast = None
    for clause, weight in weighted_clauses(found):
        negated_until, boost = -1, 1.0
        pos = neg = 0.0
        for i, token in enumerate(clause):
            if token.kind == "smile":
                pos += 1.5
                continue
            if token.kind == "frown":
                neg += 1.5
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
                pos += score
            elif score < 0:
                neg -= score
        positive += pos * weight
        negative += neg * weight
        if weight == AFTER_CONTRAST:
            last_contrast = _squash(pos - neg)
    return positive, negative, last_contrast or 0.0


def _squash(balance: float) -> float:
    return balance / (balance * balance + 4) ** 0.5


def _vader_after_contrast(text: str) -> float:
    lowered = f" {text.lower()} "
    cut = max(lowered.rfind(f" {w} ") for w in ("but", "however", "though", "although"))
    if cut < 0:
        return 0.0
    return _vader().polarity_scores(lowered[cut:])["compound"]


def features(text: str, found: list[Token], language: str) -> list[float]:
    """[balance, positive, negative, any positive, any negative, balance after a contrast,
    phrases' complaint, phrases' praise, waited, repeated, complaint in the last clause], each
    within −1…1."""
    phrase_pos = phrase_neg = 0.0
    waited = repeated = last_complaint = 0.0
    clauses = weighted_clauses(found)
    for n, (clause, weight) in enumerate(clauses):
        words = [t.norm for t in clause if t.kind == "word"]
        clause_neg = 0.0
        for _start, _end, score in phrase_matches(words, language):
            if score > 0:
                phrase_pos += score * weight
            else:
                clause_neg -= score * weight
        phrase_neg += clause_neg
        w, r = effort(clause, language)
        waited, repeated = max(waited, w), max(repeated, r)
        if n == len(clauses) - 1:
            last_complaint = float(clause_neg > 0 or w > 0)
    tail = [phrase_neg / (phrase_neg + 2), phrase_pos / (phrase_pos + 2), waited, repeated, last_complaint]
    if language == "en":
        v = _vader().polarity_scores(text)
        return [v["compound"], v["pos"], v["neg"], float(v["compound"] >= 0.05), float(v["compound"] <= -0.05),
                _vader_after_contrast(text), *tail]
    positive, negative, after = polarity(found, language)
    return [_squash(positive - negative), positive / (positive + 2), negative / (negative + 2), float(positive > 0),
            float(negative > 0), after, *tail]
