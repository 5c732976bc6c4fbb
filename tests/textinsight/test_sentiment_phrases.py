"""The phrase tables (`lexicon/{language}_phrases.tsv`): words as the tokenizer normalises them,
a trailing `*` for a prefix, a lone `*` for any one word, found inside one clause only."""

import pytest

from cxplatform.textinsight import lexicon
from cxplatform.textinsight.tokens import tokens


@pytest.fixture
def phrase_tables(tmp_path, monkeypatch):
    """Phrase tables of the test's own (the shipped ones grow with the lexicon)."""
    (tmp_path / "ru_phrases.tsv").write_text(
        "# comment line\nтретий раз\t-2\nдо сих пор не\t-2\nвсё * отлично\t3\n", encoding="utf-8")
    (tmp_path / "en_phrases.tsv").write_text(
        "took * month*\t-2\nstill wait*\t-2\nno update*\t-1\nas described\t2\nnot as described\t-2\n", encoding="utf-8")
    (tmp_path / "lv_phrases.tsv").write_text("nav atbild*\t-2\ntrešo reiz\t-2\n", encoding="utf-8")
    monkeypatch.setattr(lexicon, "HERE", tmp_path)
    lexicon.phrases.cache_clear()
    yield
    lexicon.phrases.cache_clear()


def found(text, language):
    return [(" ".join(words[s:e]), score)
            for clause, _ in lexicon.weighted_clauses(tokens(text, language))
            for words in [[t.norm for t in clause if t.kind == "word"]]
            for s, e, score in lexicon.phrase_matches(words, language)]


@pytest.mark.usefixtures("phrase_tables")
@pytest.mark.parametrize(("text", "language", "expected"), [
    ("Звоню уже в третий раз", "ru", [("третий раз", -2)]),
    ("До сих пор не вернули деньги", "ru", [("до сей пора не", -2)]),  # the phrase's words lemmatised as the text's
    ("Всё было отлично", "ru", [("все быть отлично", 3)]),  # `*`: any one word
    ("Всё очень было отлично", "ru", []),  # … but only one
    ("The repair took a month.", "en", [("took a month", -2)]),
    ("Repair took two months", "en", [("took two months", -2)]),  # `month*`: a prefix
    ("I am still waiting", "en", [("still waiting", -2)]),
    ("No updates at all", "en", [("no updates", -1)]),
    ("Not as described", "en", [("not as described", -2)]),  # the longest of overlapping phrases only
    ("Exactly as described", "en", [("as described", 2)]),
    ("Trešo reizi zvanu, nav atbildes", "lv", [("treso reizi", -2), ("nav atbildes", -2)]),  # Latvian: folded prefixes
    ("treso reizi zvanu nav atbildes", "lv", [("treso reizi", -2), ("nav atbildes", -2)]),  # typed without diacritics
    ("The repair took. A month later it broke", "en", []),  # a phrase never crosses a clause
    ("Всё хорошо, спасибо", "ru", []),
])
def test_phrases_are_found_as_the_tokenizer_normalises_words(text, language, expected):
    assert found(text, language) == expected


@pytest.mark.usefixtures("phrase_tables")
def test_phrases_become_features():
    feats = lexicon.features("Третий раз звоню", tokens("Третий раз звоню", "ru"), "ru")
    assert feats[6] > 0 and feats[7] == 0  # the phrases' complaint, no praise
    feats = lexicon.features("Всё было отлично", tokens("Всё было отлично", "ru"), "ru")
    assert feats[6] == 0 and feats[7] > 0


def test_a_missing_phrase_table_is_no_phrases(tmp_path, monkeypatch):
    monkeypatch.setattr(lexicon, "HERE", tmp_path)
    lexicon.phrases.cache_clear()
    try:
        assert lexicon.phrases("ru") == ({}, {}, [])
        assert lexicon.phrase_matches(["третий", "раз"], "ru") == []
    finally:
        lexicon.phrases.cache_clear()


def test_the_shipped_tables_load_and_match():
    for language, words in (("ru", ["третий", "раз"]), ("en", ["no", "updates"]), ("lv", ["nav", "atbildes"])):
        assert lexicon.phrase_matches(words, language), language
