"""A floor under the shipped model's quality on comments from trades it never trained on (clinics,
education, public services: `data/sentiment/*_heldout_test.csv`, test-only files), scored as the
stored label is: a polar comment read as neutral is a miss. The model before issue 18 scored
0.816 (ru), 0.709 (en) and 0.750 (lv) on this sample, under every floor."""

import csv
from pathlib import Path

import pytest
from sklearn.metrics import f1_score

from cxplatform.textinsight.sentiment import LABELS, probabilities

DATA = Path(__file__).resolve().parents[2] / "data" / "sentiment"
FLOORS = {"ru": 0.85, "en": 0.82, "lv": 0.80}


@pytest.mark.parametrize("language", sorted(FLOORS))
def test_binary_f1_on_unseen_domains_is_above_the_floor(language):
    with (DATA / f"{language}_heldout_test.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[::3]  # a third of each domain, spread over the file
    polar = [r for r in rows if r["label"] != "neutral"]
    assert len(polar) > 60
    predicted = [LABELS[max(range(3), key=p.__getitem__)] for p in (probabilities(r["text"], language) for r in polar)]
    f1 = f1_score([r["label"] for r in polar], predicted, labels=["negative", "positive"], average="macro")
    assert f1 >= FLOORS[language], f1
