"""A comment read whole: its language, its overall sentiment, and its clauses, each with its own
sentiment and the themes it speaks of — so "fast delivery but the app keeps crashing" counts under
delivery as praise and under the app as a complaint (docs/adr/0032).

This is the one entry point the apps call (on a worker, never in a customer's request): survey
comments (surveys.comments) and inbox items (feedback) store what it returns.
"""

from dataclasses import dataclass

from .language import detect
from .sentiment import Sentiment, classify
from .themes import MAX_PER_COMMENT, clause_themes
from .tokens import clause_texts


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
        sign (−1, 0, +1) of its own clauses: the sum of their scores when it is mentioned more
        than once, the comment's sign when its clauses have none."""
        scores: dict[str, float] = {}
        for clause in self.clauses:
            for theme in clause.themes:
                if clause.sentiment is not None:
                    score = clause.sentiment.value if clause.sentiment.value else 0.0
                elif self.sentiment is not None:
                    score = self.sentiment.value
                else:
                    score = 0.0
                scores[theme] = scores.get(theme, 0.0) + score
        return {theme: (score > 0) - (score < 0) for theme, score in list(scores.items())[:MAX_PER_COMMENT]}


def read(text: str, language_hint: str = "") -> Reading | None:
    """Read a comment, or None when it has no words or signs to judge."""
    if not text or not text.strip():
        return None
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
