import pytest

from tests import factories


@pytest.fixture
def nps_link(org_a):
    """An active NPS survey with one link at a touchpoint, and a customer who speaks Russian."""
    survey = factories.survey(org_a, "nps")
    link = factories.distribution(org_a, survey)
    return link


@pytest.fixture
def customer(org_a):
    c = factories.customer(org_a)
    c.language = "ru"
    c.save()
    return c
