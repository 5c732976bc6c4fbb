"""The shipped sentiment model and the theme finder on comments none of the training or test
sets hold."""

import pytest

from cxplatform.textinsight.language import detect
from cxplatform.textinsight.sentiment import classify
from cxplatform.textinsight.themes import themes


@pytest.mark.parametrize(("text", "hint", "label"), [
    ("Курьер опоздал на три часа и ещё нагрубил по телефону.", "ru", "negative"),
    ("Всё прошло отлично, спасибо огромное!", "ru", "positive"),
    ("Самокат мне совсем не понравился, тормоза скрипят", "ru", "negative"),
    ("Приложение не работает уже второй день", "ru", "negative"),
    ("The driver was friendly and the ride was great, thank you!", "en", "positive"),
    ("Terrible support, nobody answered my emails for a week.", "en", "negative"),
    ("Paldies, viss bija lieliski, ļoti laipns kurjers!", "lv", "positive"),
    ("Briesmīga apkalpošana, kurjers kavēja divas stundas.", "lv", "negative"),
])
def test_clear_comments_get_their_sentiment(text, hint, label):
    assert classify(text, hint).label == label


def test_score_and_value_follow_the_label():
    good, bad = classify("Отличный сервис, очень доволен!", "ru"), classify("Ужасный сервис, больше никогда", "ru")
    assert good.value == 1 and good.score > 0.3
    assert bad.value == -1 and bad.score < -0.3


def test_empty_comment_has_no_sentiment():
    assert classify("", "ru") is None and classify("   ", "en") is None


@pytest.mark.parametrize(("text", "hint", "language"), [
    ("Курьер опоздал", "en", "ru"),  # a Russian answer to an English survey
    ("loti slikti, kurjers kavēja", "ru", "lv"),
    ("paldies viss bija labi", "en", "lv"),  # Latvian without diacritics
    ("The app is slow", "lv", "en"),
    ("👍", "lv", "lv"),  # nothing to tell: the survey's language wins
])
def test_language_comes_from_the_text_with_the_survey_language_as_a_hint(text, hint, language):
    assert detect(text, hint) == language


def test_russian_themes_are_lemmas_and_adjectives_agree_with_their_noun():
    # Free phrases: words the concept dictionary does not know (tests/textinsight/test_concepts.py).
    found = themes("Нового дворника не дождался, соседи шумят. Стены подъезда грязные.", "ru")
    assert "сосед" in found  # "соседи" → the lemma
    assert "новый дворник" in found  # the adjective agrees with "дворник", whatever the case written
    assert "стена подъезда" in found


def test_english_and_latvian_themes_skip_function_and_feeling_words():
    found = themes("The stairwell carpet is terrible and the doorman keeps shouting", "en")
    assert "stairwell carpet" in found and "the" not in found and "terrible" not in found
    assert "kaimiņš" in themes("Kaimiņš tur ļoti maz, briesmīgi", "lv")
