"""A comment read whole: its language, its overall sentiment, and its clauses, each with its own
sentiment and the themes it speaks of — so "fast delivery but the app keeps crashing" counts under
delivery as praise and under the app as a complaint (docs/adr/0032).

This is the one entry point the apps call (on a worker, never in a customer's request): survey
comments (surveys.comments) and inbox items (feedback) store what it returns.
"""

from dataclasses import dataclass
from functools import lru_cache

from .language import detect
from .sentiment import Sentiment, classify
from .themes import MAX_PER_COMMENT, clause_themes
from .tokens import CLAUSE_BREAKS, clause_texts


@dataclass(frozen=True)
class Clause:
    text: str
    sentiment: Sentiment | None
    themes: tuple[str, ...]  # theme keys: a concept of the dictionary ("delivery") or a free phrase


@dataclass(frozen=True)
class Reading:
    language: str
    sentiment: Sentiment | None  # of the whole comment
    clauses: tuple[Clause, ...]

    def theme_sentiments(self) -> dict[str, int]:
        """Each theme of the comment (in order of first mention, at most MAX_PER_COMMENT) → the
        sign (−1, 0, +1) of its own clauses: the sum of their signs when it is mentioned more than
        once. A clause that names no theme ("Ужасно.", "Thanks!") judges the themes of the clause
        before it (of the one after, when it comes first): it is said about them; when it opens
        with a contrast ("Курьер вежливый, но опоздал") its word is the last one on them."""
        signs = [self._sign(clause) for clause in self.clauses]
        scores: dict[str, int] = {}
        for index, clause in enumerate(self.clauses):
            for theme in clause.themes:
                scores[theme] = scores.get(theme, 0) + signs[index]
        for index, clause in enumerate(self.clauses):
            if clause.themes or not signs[index]:
                continue
            before = [c for c in self.clauses[:index] if c.themes]
            after = [c for c in self.clauses[index + 1:] if c.themes]
            target = before[-1] if before else after[0] if after else None
            for theme in target.themes if target else ():
                scores[theme] = signs[index] if _contrasts(clause.text) else scores[theme] + signs[index]
        return {theme: (score > 0) - (score < 0) for theme, score in list(scores.items())[:MAX_PER_COMMENT]}

    def _sign(self, clause: Clause) -> int:
        """A clause's own sign; the comment's when the clause could not be judged alone."""
        found = clause.sentiment if clause.sentiment is not None else self.sentiment
        return found.value if found is not None else 0


def _contrasts(text: str) -> bool:
    """Whether a clause opens with a contrast word ("but …", "но …", "bet …")."""
    first = text.split(maxsplit=1)[0].lower().strip(",;:") if text.strip() else ""
    return first in CLAUSE_BREAKS


# The readings a worker made last, by (text, hint): a reading is a pure function of both and is
# never changed (frozen), so an answer's comment read for the answer is not read again for its
# inbox item, nor a "Thank you!" for every customer who writes it. A new model or lexicon comes
# with a new release, hence a new process.
MEMO_SIZE = 512


def read(text: str, language_hint: str = "") -> Reading | None:
    """Read a comment, or None when it has no words or signs to judge."""
    if not text or not text.strip():
        return None
    return _read(text, language_hint or "")


def forget() -> None:
    """Drop the remembered readings (tests that swap the classifier)."""
    _read.cache_clear()


@lru_cache(maxsize=MEMO_SIZE)
def _read(text: str, language_hint: str) -> Reading | None:
    language = detect(text, language_hint)
    overall = classify(text, language)
    if overall is None:
        return None
    parts = clause_texts(text)
    clauses = tuple(
        Clause(part, classify(part, language) if len(parts) > 1 else overall, tuple(clause_themes(part, language)))
        for part in parts
    )
    return Reading(language, overall, clauses)
