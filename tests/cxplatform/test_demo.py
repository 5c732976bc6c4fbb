import pytest

from cxplatform.demo import DEMO_PASSWORD, DEMO_SLUG, load_demo
from cxplatform.models import Customer, Membership, Organization, Role
from journeys.models import Touchpoint

pytestmark = pytest.mark.django_db


def test_demo_has_every_role_and_loads_twice_without_duplicates():
    load_demo()
    counts = (Customer.objects.count(), Touchpoint.objects.count(), Membership.objects.count())
    load_demo()
    assert (Customer.objects.count(), Touchpoint.objects.count(), Membership.objects.count()) == counts
    org = Organization.objects.get(slug=DEMO_SLUG)
    assert set(org.memberships.values_list("role", flat=True)) == set(Role.values)
    assert Touchpoint.objects.for_org(org).count() >= 5
    assert Customer.objects.for_org(org).count() >= 300
    manager = org.memberships.get(role=Role.CX_MANAGER).user
    assert manager.check_password(DEMO_PASSWORD)
