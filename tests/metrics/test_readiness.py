"""The campaign readiness verdict per touchpoint: thresholds of the journey map, open pain points."""

from types import SimpleNamespace

import pytest

from metrics.readiness import summary, verdict


def pain(severity, status="open", description="It hurts"):
    return SimpleNamespace(severity=severity, status=status, description=description)


def fig(value, n=100):
    return {"value": value, "n": n, "small_sample": n < 30}


@pytest.mark.parametrize(("figures", "pains", "level"), [
    ({"nps": fig(45)}, [], "green"),
    ({"nps": fig(-1)}, [], "red"),  # below the threshold of 0
    ({"nps": fig(0)}, [], "amber"),  # at the threshold, under the target of 30
    ({"csat": fig(79.9)}, [], "amber"),
    ({"csat": fig(59)}, [], "red"),
    ({"ces": fig(5.2), "nps": fig(50)}, [], "green"),
    ({"ces": fig(3.9), "nps": fig(50)}, [], "red"),  # one bad score is enough
    ({"nps": fig(50)}, [pain(4)], "red"),
    ({"nps": fig(50)}, [pain(3)], "amber"),
    ({"nps": fig(50)}, [pain(2), pain(1)], "green"),  # medium and low pains do not block
    ({"nps": fig(50)}, [pain(4, status="resolved")], "green"),
    ({}, [], "unknown"),
    ({"nps": fig(None)}, [pain(2)], "unknown"),
    ({}, [pain(4)], "red"),
])
def test_levels(figures, pains, level):
    assert verdict(figures, pains).level == level


def test_reasons_are_plain_words_worst_first_and_small_samples_only_a_note():
    result = verdict({"csat": fig(72.4, n=12)}, [pain(4, description="Courier late")])
    assert result.reasons == ["A critical pain point is open: Courier late", "CSAT is 72%, under the target of 80%."]
    assert result.notes == ["CSAT rests on only 12 answers, so it may still move a lot."]
    assert str(result.label) == "At risk"
    assert verdict({"ces": fig(4.56)}, []).reasons == ["CES is 4.6, under the target of 5.0."]


def test_summary_counts_levels_and_says_when_every_step_is_ready():
    ready = [verdict({"nps": fig(50)}, []), verdict({"csat": fig(90)}, [])]
    assert summary(ready)["all_ready"] is True
    mixed = summary([*ready, verdict({}, [])])
    assert not mixed["all_ready"] and mixed["total"] == 3
    assert [(level, n) for _label, level, n in mixed["counts"]] == [("red", 0), ("amber", 0), ("unknown", 1),
                                                                    ("green", 2)]
    assert summary([])["all_ready"] is False
