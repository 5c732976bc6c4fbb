"""Themes across languages: the concept dictionary gives one key for "доставка", "deliveries" and
"piegāde", free phrases still carry what it does not know, and each theme takes the sign of its
own clauses (docs/adr/0032). No database: the reader is pure."""

import time
from unittest import mock

import pytest

from cxplatform.textinsight import concepts, reading
from cxplatform.textinsight.sentiment import Sentiment
from cxplatform.textinsight.themes import clause_themes, themes


@pytest.mark.parametrize(("text", "language"), [
    ("Доставка опять сорвалась", "ru"),
    ("Жду доставку уже неделю", "ru"),
    ("Спасибо за быструю доставку!", "ru"),
    ("Про доставки ничего не скажу", "ru"),
    ("The delivery was on time", "en"),
    ("Deliveries keep slipping", "en"),
    ("Shipping to Riga took ages", "en"),
    ("Piegāde bija laikā", "lv"),
    ("Gaidu piegādi jau nedēļu", "lv"),
    ("Paldies par piegadi", "lv"),  # typed without diacritics
    ("piegade kavejas", "lv"),
])
def test_every_language_and_word_form_names_the_one_concept(text, language):
    assert "delivery" in themes(text, language)


@pytest.mark.parametrize(("text", "language", "key"), [
    ("Курьеры грубят", "ru", "courier"), ("Courier's van was late", "en", "courier"),
    ("Kurjeram nebija izdoties", "lv", "courier"),
    ("Время ожидания огромное", "ru", "waiting_time"), ("The waiting time is absurd", "en", "waiting_time"),
    ("Gaidīšanas laiks bija garš", "lv", "waiting_time"), ("gaidisanas laiku neviens neievero", "lv", "waiting_time"),
    ("Приложение не видит самокат", "ru", "scooter"), ("The scooters are filthy", "en", "scooter"),
    ("Skrejriteņi ir netīri", "lv", "scooter"),
    ("Тормоза не работают", "ru", "brakes"), ("brakes squeak", "en", "brakes"), ("Bremzes čīkst", "lv", "brakes"),
    ("Ремонт занял почти месяц", "ru", "repair"), ("Repair took almost a month, no updates.", "en", "repair"),
    ("Цены выросли", "ru", "price"), ("Prices went up", "en", "price"), ("Cenas pieauga", "lv", "price"),
])
def test_concepts_of_several_trades_are_found_in_each_language(text, language, key):
    assert key in themes(text, language)


def test_the_longest_name_wins_and_its_words_are_not_repeated_as_free_phrases():
    found = themes("Время ожидания огромное, быстрой доставки не дождался", "ru")
    assert found[:2] == ["waiting_time", "delivery"]
    # Neither "время", "ожидание" nor "быстрая доставка" come back as free phrases.
    assert not {"время", "ожидание", "время ожидания", "быстрая доставка", "доставка"} & set(found)
    assert themes("The battery range is poor", "en") == ["battery_range"]
    assert "battery" in themes("The battery died", "en")
    # "возврат денег" is a refund, "возврат" alone a return of goods.
    assert themes("Возврат денег задержали", "ru")[0] == "refund"
    assert themes("Возврат оформили", "ru")[0] == "returns"


def test_a_theme_the_dictionary_does_not_know_is_still_found_as_a_free_phrase():
    found = themes("Курьер оставил коробку у соседа, вежливый дворник помог", "ru")
    assert {"courier", "packaging", "сосед", "дворник"} <= set(found)
    found = themes("The courier left it with a neighbour in the stairwell", "en")
    assert {"courier", "neighbour", "stairwell"} <= set(found)
    assert "kaimiņš" in themes("Kurjers atstāja paku pie kaimiņš", "lv")


def test_a_free_phrase_never_shadows_a_concept_key():
    # A key is a name of its own concept, so a stored key read back is the same key.
    for key in concepts.dictionary():
        words = key.replace("_", " ")
        assert key in clause_themes(words, "en"), key


def test_the_dictionary_has_the_trades_and_every_concept_is_complete():
    dictionary = concepts.dictionary()
    assert len(dictionary) >= 120
    assert {c.trade for c in dictionary.values()} == {"general", "micromobility", "retail", "telecom", "banking",
                                                       "hospitality"}
    for concept in dictionary.values():
        assert set(concept.labels) == {"en", "ru", "lv"} and all(concept.labels.values()), concept.key
        assert all(concept.names[language] for language in ("en", "ru", "lv")), concept.key
    assert concepts.label("delivery", "ru") == "Доставка"
    assert concepts.label("delivery", "lv") == "Piegāde"
    assert concepts.label("delivery", "de") == "Delivery"  # a language without labels falls back to English
    assert concepts.label("дворник", "en") == "дворник"  # a free phrase is its own name


def test_a_name_two_concepts_share_is_refused_when_loading(tmp_path):
    (tmp_path / "a.toml").write_text(
        '[one]\nlabel = { en = "One", ru = "Один", lv = "Viens" }\nen = ["thing"]\nru = ["вещь"]\nlv = ["lieta"]\n'
        '[two]\nlabel = { en = "Two", ru = "Два", lv = "Divi" }\nen = ["things"]\nru = ["штука"]\nlv = ["divas"]\n',
        encoding="utf-8")
    concepts._loaded.cache_clear()
    try:
        with mock.patch.object(concepts, "DATA", tmp_path), pytest.raises(concepts.DictionaryError, match="thing"):
            concepts.dictionary()
    finally:
        concepts._loaded.cache_clear()
    assert "delivery" in concepts.dictionary()


@pytest.mark.parametrize(("text", "language"), [
    ("Быстрая доставка, но приложение вылетает", "ru"),
    ("Fast delivery, but the app keeps crashing", "en"),
    ("Ātra piegāde, bet lietotne avarē", "lv"),
])
def test_each_theme_takes_the_sign_of_its_own_clause(text, language):
    """The reader's clause split and theme assignment, with a classifier that judges clauses by
    one word each, so this holds whatever the shipped sentiment model makes of en and lv."""
    def classify(part, _language):
        low = part.lower()
        if any(w in low for w in ("вылетает", "crashing", "avarē")):
            return Sentiment("negative", -0.9, language)
        if any(w in low for w in ("быстрая", "fast", "ātra")):
            return Sentiment("positive", 0.9, language)
        return Sentiment("neutral", 0.0, language)

    with mock.patch.object(reading, "classify", side_effect=classify):
        signs = reading.read(text, language).theme_sentiments()
    assert signs["delivery"] == 1 and signs["app"] == -1


def test_the_shipped_model_reads_the_russian_contrast_per_clause():
    signs = reading.read("Быстрая доставка, но приложение вылетает", "ru").theme_sentiments()
    assert (signs["delivery"], signs["app"]) == (1, -1)


def test_a_clause_without_a_theme_judges_the_theme_before_it():
    def classify(part, language):
        label = "negative" if "ужасно" in part.lower() else "neutral"
        return Sentiment(label, -0.9 if label == "negative" else 0.0, language)

    with mock.patch.object(reading, "classify", side_effect=classify):
        assert reading.read("Заказ привезли через неделю. Ужасно.", "ru").theme_sentiments() == {"order": -1}
        # Said first, it judges the theme after it.
        assert reading.read("Ужасно! Курьер приехал.", "ru").theme_sentiments() == {"courier": -1}


def test_themes_are_read_fast():
    """The dictionary look-up costs little beside the rest of the reading: ≥ 1,000 clauses/s with
    words never seen before (the caches are cold for each distinct word)."""
    texts = [f"Курьер{'а' * (i % 3)} опоздал на {i} минут, доставка {i} ужасная, но приложение удобное. "
             f"Delivery {i} was late but the app works. Piegāde {i} kavējās, bet lietotne strādā." for i in range(2000)]
    start = time.perf_counter()
    for text in texts:
        for language in ("ru", "en", "lv"):
            clause_themes(text, language)
    assert len(texts) * 3 / (time.perf_counter() - start) > 1000


@pytest.mark.parametrize(("text", "language", "not_key"), [
    ("Fine overall, delivery could be faster.", "en", "penalties"),  # "fine" is not a fine
    ("Remonts ilga gandrīz mēnesi.", "lv", "menu"),  # "mēnesi" and "menu" must not share a stem
    ("Support kept me on hold for 40 minutes.", "en", "ride_fare"),
    ("Battery range is far below what was advertised.", "en", "ride_fare"),  # "far" is no fare
    ("Good scooter, the manual is confusing.", "en", "product"),  # "good" is no goods
    ("Всё ок, но приложение иногда тормозит.", "ru", "brakes"),  # an app that lags has no brakes
])
def test_words_that_only_look_like_a_name_are_left_alone(text, language, not_key):
    assert not_key not in themes(text, language)
