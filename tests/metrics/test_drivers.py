"""Key drivers: the touchpoint and the attribute that move NPS come out on top, with the
correlation a hand computation gives."""

import random

import numpy as np
import pytest

from cxplatform.models import Role
from metrics import drivers
from metrics.selectors import Scope
from surveys.models import Answer, Question
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def experience(org_a):
    rng = random.Random(3)
    nps_link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    support = factories.distribution(org_a, factories.survey(org_a, "csat"))  # moves NPS
    parking = factories.distribution(org_a, factories.survey(org_a, "csat"))  # does not
    csi = factories.survey(org_a, "csi")
    pairing = factories.question(org_a, csi, kind=Question.Kind.CSI_ATTRIBUTE)
    csi_link = factories.distribution(org_a, csi)
    rows = []
    for _ in range(60):
        customer = factories.customer(org_a)
        mood = rng.gauss(0, 1)
        nps = max(0, min(10, round(7 + 2 * mood + rng.gauss(0, 0.7))))
        support_score = max(1, min(5, round(3 + mood + rng.gauss(0, 0.5))))
        parking_score = rng.randint(1, 5)
        factories.response(org_a, nps_link, score=nps, customer=customer)
        factories.response(org_a, support, score=support_score, customer=customer)
        factories.response(org_a, parking, score=parking_score, customer=customer)
        rated = factories.response(org_a, csi_link, score=None, customer=customer)
        pairing_score = max(1, min(5, round(3 + 0.7 * mood + rng.gauss(0, 0.8))))
        Answer.objects.create(response=rated, question=pairing, number=pairing_score)
        rows.append((nps, support_score, parking_score, pairing_score))
    return {"rows": np.array(rows, dtype=float), "support": support, "parking": parking, "pairing": pairing}


def _scope(org):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.now().date()
    return Scope(org, today - timedelta(days=1), today + timedelta(days=1))


def test_the_driver_that_moves_nps_ranks_first_with_the_hand_computed_correlation(org_a, experience):
    found = drivers.key_drivers(_scope(org_a), "nps")
    by_name = {d["name"]: d for d in found["drivers"]}
    support = by_name[experience["support"].touchpoint.name]
    parking = by_name[experience["parking"].touchpoint.name]
    rows = experience["rows"]
    assert support["correlation"] == pytest.approx(np.corrcoef(rows[:, 0], rows[:, 1])[0, 1], abs=1e-3)
    assert parking["correlation"] == pytest.approx(np.corrcoef(rows[:, 0], rows[:, 2])[0, 1], abs=1e-3)
    assert found["drivers"][0]["name"] == support["name"]
    assert support["significant"] and support["n"] == 60 and not support["small_sample"]
    assert not parking["significant"]
    pairing = next(d for d in found["drivers"] if d["kind"] == "attribute")
    assert pairing["correlation"] > 0.4 and pairing["significant"]
    assert found["customers"] == 60
    shares = [d["importance"] for d in found["drivers"]]
    assert sum(shares) == pytest.approx(100, abs=0.5) and support["importance"] > parking["importance"]


def test_no_data_means_no_drivers_not_an_error(org_a):
    assert drivers.key_drivers(_scope(org_a), "csat") == {"outcome": "csat", "customers": 0, "drivers": []}


def test_drivers_page_explains_the_method_and_stays_in_its_organization(org_a, org_b, experience, make_member,
                                                                        client_for):
    page = client_for(make_member(org_a, Role.VIEWER)).get("/metrics/drivers/", {"metric": "nps"})
    body = page.content.decode()
    assert page.status_code == 200 and "not proof of cause" in body
    assert experience["support"].touchpoint.name in body and 'id="chart-drivers"' in body
    foreign = client_for(make_member(org_b, Role.VIEWER)).get("/metrics/drivers/", {"metric": "nps"})
    assert experience["support"].touchpoint.name not in foreign.content.decode()
    assert foreign.context["result"]["drivers"] == []
