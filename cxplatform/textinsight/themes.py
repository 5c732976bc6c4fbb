"""The themes of a comment: the things customers talk about ("курьер", "время ожидания",
"battery range"), so a period's comments can be summed up as its most recurring themes.

Words that name a concept of the dictionary (concepts.py) give its key, the same in every language
("доставку", "deliveries", "piegādi" → `delivery`); the other words give free phrases, so a theme
the dictionary does not know is still found. Free phrases, Russian: nouns (as lemmas) and
adjective + noun pairs with the adjective agreeing with its noun ("вежливый водитель", whatever
form the customer wrote). English and Latvian, without a tagger
here: content words and adjacent pairs of them, minus function and pure sentiment words.
"""

from functools import lru_cache
from pathlib import Path

from . import concepts, lexicon
from .language import detect
from .tokens import Token, _morph, clauses, russian_parse, tokens

MAX_PER_COMMENT = 12
MAX_LENGTH = 80


def _words(name: str) -> set[str]:
    path = Path(__file__).parent / "stopwords" / f"{name}.txt"
    return {w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip() and not w.startswith("#")}


STOPWORDS = {"en": _words("en"), "lv": _words("lv")}

# Nouns too general to be a theme ("раз", "вопрос").
RUSSIAN_STOP_NOUNS = _words("ru_nouns")


@lru_cache(maxsize=50_000)
def _agreeing(adjective: str, noun: str) -> str:
    """The adjective lemma inflected to its noun's gender and number ("быстрый" + "доставка" →
    "быстрая")."""
    noun_parse = _morph().parse(noun)[0]
    adj_parse = next((p for p in _morph().parse(adjective) if p.tag.POS == "ADJF"), None)
    if adj_parse is None:
        return adjective
    grammemes = {"nomn", "plur"} if "Pltm" in noun_parse.tag else {"nomn", "sing", noun_parse.tag.gender or "masc"}
    inflected = adj_parse.inflect(grammemes)
    return inflected.word if inflected else adjective


def _concepts_of(clause: list[Token]) -> dict[int, str | None]:
    """The clause's words that name a concept: token index → the concept's key on the name's first
    word, None on its other words (they are used up: no free phrase repeats them)."""
    at = [i for i, token in enumerate(clause) if token.kind == "word"]
    named: dict[int, str | None] = {}
    for start, end, key in concepts.match([concepts.form(clause[i].text) for i in at]):
        named[at[start]] = key
        named.update(dict.fromkeys(at[start + 1:end]))
    return named


def _russian(clause: list[Token]) -> list[str]:
    named = _concepts_of(clause)
    found = []
    previous = None  # (lemma, POS) of the word before
    for index, token in enumerate(clause):
        if index in named:
            if named[index]:
                found.append(named[index])
            previous = None
            continue
        if token.kind != "word" or len(token.text) < 3 or not token.text.isalpha():
            previous = None
            continue
        lemma, pos = russian_parse(token.text.replace("ё", "е"))
        if pos == "NOUN" and lemma not in RUSSIAN_STOP_NOUNS:
            found.append(lemma)
            if previous and previous[1] == "ADJF":
                found.append(f"{_agreeing(previous[0], lemma)} {lemma}")
            elif previous and previous[1] == "NOUN":
                found.append(f"{previous[0]} {token.text}")  # "время ожидания": the second noun as written
        previous = (lemma, pos)
    return found


def _content(token: Token, language: str) -> str | None:
    word = token.text
    if token.kind != "word" or len(word) < 3 or word in STOPWORDS[language]:
        return None
    if language == "en":
        if lexicon._vader().lexicon.get(word) is not None:
            return None  # "great", "terrible": a feeling, not a theme
        if len(word) > 5 and word.endswith("ed"):
            return None  # mostly verbs: "advertised", "delivered"
        if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    elif lexicon.word_score(token.norm, "lv"):
        return None
    return word


def _latin(clause: list[Token], language: str) -> list[str]:
    named = _concepts_of(clause)
    found, previous = [], None
    for index, token in enumerate(clause):
        if index in named:
            if named[index]:
                found.append(named[index])
            previous = None
            continue
        word = _content(token, language)
        if word:
            found.append(word)
            if previous:
                found.append(f"{previous} {word}")
        previous = word
    return found


def clause_themes(text: str, language: str) -> list[str]:
    """The distinct themes of one clause (its language already known): the keys of the concepts
    it names ("delivery"), then, as free phrases, its other content words and pairs of them."""
    found: list[str] = []
    for clause in clauses(tokens(text, language)):
        found += _russian(clause) if language == "ru" else _latin(clause, language)
    return list(dict.fromkeys(phrase[:MAX_LENGTH] for phrase in found))


def themes(text: str, language_hint: str = "") -> list[str]:
    """The distinct themes of a comment, in the order they appear (at most MAX_PER_COMMENT)."""
    if not text or not text.strip():
        return []
    return clause_themes(text, detect(text, language_hint))[:MAX_PER_COMMENT]
