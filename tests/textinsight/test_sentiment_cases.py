"""What a CX analyst reads between the lines, per language: negation, contrast (the clause after
"но", "but", "bet" is what the customer is left with), and effort — waiting, coming back, no
answer — read as complaints even without an unkind word."""

import pytest

from cxplatform.textinsight import lexicon
from cxplatform.textinsight.reading import read
from cxplatform.textinsight.sentiment import classify, probabilities
from cxplatform.textinsight.tokens import tokens


@pytest.mark.parametrize(("text", "language"), [
    ("не плохо", "ru"),
    ("Совсем не плохо, даже понравилось", "ru"),
    ("not bad at all", "en"),
    ("nav slikti", "lv"),
])
def test_a_negated_complaint_is_not_a_complaint(text, language):
    p = probabilities(text, language)
    assert p[2] > p[0], p  # "not bad" leans positive
    assert classify(text, language).label != "negative"


@pytest.mark.parametrize(("text", "language"), [
    ("ничего не работает", "ru"),
    ("Вообще ничего не работает, приложение не открывается", "ru"),
    ("nothing works", "en"),
    ("Nothing works in this app, it does not even open", "en"),
    ("nekas nestrādā", "lv"),
    ("Nekas nestrādā, lietotne neatveras", "lv"),
])
def test_a_negated_service_is_a_complaint(text, language):
    assert classify(text, language).label == "negative"


@pytest.mark.parametrize(("text", "language", "first", "second"), [
    ("Доставили быстро, но приложение постоянно вылетает", "ru", 1, -1),
    ("Fast delivery but the app keeps crashing", "en", 1, -1),
    ("Piegāde bija ātra, bet lietotne visu laiku avarē", "lv", 1, -1),
    ("Дорого, зато курьер очень вежливый и всё привёз вовремя", "ru", -1, 1),
])
def test_each_side_of_a_contrast_keeps_its_sign(text, language, first, second):
    reading = read(text, language)
    assert [c.sentiment.value for c in reading.clauses] == [first, second]


@pytest.mark.parametrize(("text", "language", "label"), [
    ("Доставили быстро, но приложение постоянно вылетает", "ru", "negative"),
    ("The courier was polite, but my parcel arrived broken and nobody answers", "en", "negative"),
    ("Дорого, зато курьер очень вежливый и всё привёз вовремя", "ru", "positive"),
])
def test_the_clause_after_a_contrast_weighs_more_for_the_comment(text, language, label):
    assert classify(text, language).label == label


def test_the_contrast_weights_the_lexicon():
    found = tokens("быстро, но приложение вылетает", "ru")
    weights = [w for _, w in lexicon.weighted_clauses(found)]
    assert weights == [lexicon.BEFORE_CONTRAST, lexicon.AFTER_CONTRAST]
    after = lexicon.features("быстро, но приложение вылетает", found, "ru")[5]
    assert after < 0  # the balance of what follows "но"


@pytest.mark.parametrize(("text", "language"), [
    ("Repair took almost a month, no updates.", "en"),
    ("Ремонт занял почти месяц.", "ru"),
    ("Приложение не видит самокат", "ru"),
    ("Trešo reizi zvanu, nav atbildes", "lv"),
    ("Третий раз пишу в поддержку, до сих пор не вернули деньги", "ru"),
    ("I'm still waiting for my refund, third time I'm asking", "en"),
    ("Gaidu jau trīs dienas, joprojām nav atbildes", "lv"),
    ("Ждал курьера две недели", "ru"),
])
def test_effort_and_waiting_read_as_complaints(text, language):
    assert classify(text, language).label == "negative"


@pytest.mark.parametrize(("text", "language", "waited", "repeated"), [
    ("Ремонт занял почти месяц", "ru", 1.0, 0.0),
    ("Repair took almost a month", "en", 1.0, 0.0),
    ("Gaidīju 3 dienas", "lv", 1.0, 0.0),
    ("Третий раз звоню", "ru", 0.0, 1.0),
    ("calling for the third time", "en", 0.0, 1.0),
    ("Trešo reizi zvanu", "lv", 0.0, 1.0),
    ("Курьер приехал через час, всё отлично", "ru", 1.0, 0.0),  # a feature, not a verdict: the model weighs it
    ("Great scooter, fun to ride", "en", 0.0, 0.0),
])
def test_waiting_and_repeats_are_found(text, language, waited, repeated):
    found = tokens(text, language)
    assert (max(lexicon.effort(c, language)[0] for c, _ in lexicon.weighted_clauses(found)),
            max(lexicon.effort(c, language)[1] for c, _ in lexicon.weighted_clauses(found))) == (waited, repeated)
