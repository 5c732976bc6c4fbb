"""Words of a customer comment, normalised per language so that word forms meet: Russian words
become pymorphy3 lemmas ("опоздали" → "опоздать"), Latvian words lose their diacritics (people
type "loti slikti" as often as "ļoti slikti"), everything is lower case.

Russians smile with ")))" and frown with "(((", everyone with emoji: both become tokens.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WORD = r"[^\W\d_]+(?:['’\-][^\W\d_]+)*"
EMOJI = r"[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2764]"
TOKEN = re.compile(
    rf"(?P<word>{WORD})|(?P<smile>[:;=]-?[)D]+|\){{2,}}|👍)|(?P<frown>[:;=]-?\(+|\({{2,}}|👎)"
    rf"|(?P<emoji>{EMOJI})|(?P<bang>!+)|(?P<question>\?+)|(?P<stop>[.,;…]|\s[—–-]\s)",
    re.UNICODE,
)
NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+|#", re.UNICODE)
CLAUSE_BREAKS = {"но", "однако", "зато", "а", "but", "however", "though", "bet", "tomēr", "taču"}

POSITIVE_EMOJI = set("😀😃😄😁😆😊🙂😍🥰😘😎🤩👌👏🙌💪🔥❤💯⭐✨🎉😉🤗☺")
NEGATIVE_EMOJI = set("😞😠😡🤬😢😭😤😩😫😒🙄😕🙁☹💩😱🤮😖😣😔")


@dataclass(frozen=True)
class Token:
    text: str  # the word as written, lower case
    norm: str  # the form features and lexicons use (lemma, folded word, or a marker such as ":)")
    kind: str  # word, smile, frown, emoji, bang, question, stop


def fold(text: str) -> str:
    """Lower case without diacritics: "Ļoti" → "loti"."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3  # loaded on first use: 0.1 s and 15 MB that pages without comments never need

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def russian_parse(word: str) -> tuple[str, str]:
    """(lemma, part of speech) of a Russian word; "ё" is written "е" as in the lexicon."""
    parse = _morph().parse(word)[0]
    return parse.normal_form.replace("ё", "е"), str(parse.tag.POS or "")


CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


def normalise(word: str, language: str) -> str:
    word = word.lower().replace("’", "'")
    if language == "ru" and CYRILLIC.search(word):
        return russian_parse(word.replace("ё", "е"))[0]
    if language == "lv":
        return fold(word)
    return word


def tokens(text: str, language: str) -> list[Token]:
    found = []
    for m in TOKEN.finditer(NOISE.sub(" ", text or "")):
        kind = m.lastgroup
        raw = m.group(0).strip().lower()
        if kind == "word":
            found.append(Token(raw, normalise(raw, language), "word"))
        elif kind == "emoji":
            mood = "smile" if raw in POSITIVE_EMOJI else "frown" if raw in NEGATIVE_EMOJI else "emoji"
            found.append(Token(raw, raw, mood))
        else:
            found.append(Token(raw, {"smile": ":)", "frown": ":(", "bang": "!", "question": "?"}.get(kind, "."), kind))
    return found


def clauses(found: list[Token]) -> list[list[Token]]:
    """Split at punctuation and at "but"-words: a negation or a mood does not cross them."""
    parts, current = [], []
    for token in found:
        if token.kind == "stop" or token.norm in CLAUSE_BREAKS:
            if current:
                parts.append(current)
            current = []
        else:
            current.append(token)
    if current:
        parts.append(current)
    return parts


# Where a comment's clauses part: the end of a sentence, and a contrast word ("but", "но", "bet")
# with what precedes it. A comma alone does not part them: "the courier, who was polite, was late".
CLAUSE_SPLIT = re.compile(
    r"(?<=[.!?;…])\s+|\n+|[,;]?\s+(?=(?:но|однако|зато|but|however|though|bet|tomēr|taču)\b)",
    re.IGNORECASE | re.UNICODE,
)


def clause_texts(text: str) -> list[str]:
    """The clauses of a comment as text, in order: each is read on its own (its sentiment, its
    themes). A comment without a break is one clause."""
    parts = [p.strip(" ,;—–-") for p in CLAUSE_SPLIT.split(text or "")]
    return [p for p in parts if p and any(c.isalnum() for c in p)] or ([text.strip()] if text and text.strip() else [])


# --- Search words: the one form in which stored texts and queries meet -------------------------

SEARCH_TOKEN = re.compile(rf"{WORD}|\d+", re.UNICODE)  # words, and numbers (an order number is searched)
# Endings dropped from a Latin-script word, longest first: English inflections and Latvian case
# endings, so "couriers" meets "courier" and "kurjeram" meets "kurjers". A crude stemmer — but
# the stored words and the query go through the same one, so it only has to be consistent; it
# needs no language guess, which a one-word query cannot give.
LATIN_ENDINGS = ("iem", "ing", "am", "em", "im", "os", "as", "es", "is", "us", "ai", "ei", "ed", "ly",
                 "s", "a", "e", "i", "u")
MIN_STEM = 3


def latin_stem(word: str) -> str:
    word = fold(word).replace("’", "'")
    if word.endswith("ies") and len(word) > 4:  # deliveries → delivery
        return word[:-3] + "y"
    for _pass in range(2):  # statuses → status → stat, as status → stat
        for ending in LATIN_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
                word = word[:-len(ending)]
                break
        else:
            break
    return word


def search_form(word: str) -> str:
    """The form a word is stored and searched in, chosen by its script, not by a language guess:
    a Russian lemma ("КУРЬЕРА" → "курьер"), a folded Latin stem ("Kurjeram" → "kurjer"), a number."""
    word = word.lower()
    if CYRILLIC.search(word):
        return russian_parse(word.replace("ё", "е"))[0]
    if word.isdigit():
        return word
    return latin_stem(word)


def search_words(text: str) -> list[str]:
    """The distinct search forms of `text`'s words and numbers, in order of first appearance."""
    return list(dict.fromkeys(search_form(m.group(0)) for m in SEARCH_TOKEN.finditer(text or "")))


@lru_cache(maxsize=1)
def _query_stop_forms() -> frozenset[str]:
    """The search forms of the function words a query may leave out (stopwords/search_*.txt)."""
    folder = Path(__file__).parent / "stopwords"
    words = (line.strip() for path in sorted(folder.glob("search_*.txt"))
             for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(search_form(word) for word in words if word and not word.startswith("#"))


def query_words(text: str) -> list[str]:
    """The search forms a query asks for: its words without the function words ("the", "was",
    "и", "ir") unless nothing else is left, so "the courier was late" finds "courier late again"
    while a search for "the" alone still means it."""
    words = search_words(text)
    meaningful = [word for word in words if word not in _query_stop_forms()]
    return meaningful or words


def search_text(text: str) -> str:
    """What an item stores to be searched: its search forms between spaces (" курьер опоздать "),
    so that one word is found as " курьер " by a plain substring match on any database."""
    words = search_words(text)
    return f" {' '.join(words)} " if words else ""
