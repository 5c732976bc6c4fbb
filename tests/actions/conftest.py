from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from cxplatform.models import Role
from metrics import rollups
from tests import factories


@pytest.fixture
def manager(org_a, make_member):
    user = make_member(org_a, Role.CX_MANAGER)
    user.email = "manager@alpha.example"
    user.first_name, user.last_name = "Maksim", "Orlov"
    user.save()
    return user


@pytest.fixture
def agent(org_a, make_member):
    user = make_member(org_a, Role.AGENT)
    user.email = "agent@alpha.example"
    user.save()
    return user


@pytest.fixture
def delivery(org_a):
    return factories.touchpoint(org_a)


@pytest.fixture
def nps_link(org_a, delivery):
    return factories.distribution(org_a, factories.survey(org_a, "nps"), touchpoint=delivery)


@pytest.fixture
def answer(org_a):
    """answer(link, scores, day): NPS answers on `day`, folded into the daily rollups."""

    def make(link, scores, day):
        moment = datetime.combine(day, time(12), tzinfo=UTC)
        for score in scores:
            factories.response(org_a, link, score=score, started_at=moment, submitted_at=moment)
        rollups.rebuild(org_a, day, day + timedelta(days=1))

    return make


@pytest.fixture
def today():
    return timezone.now().date()
