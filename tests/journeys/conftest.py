import pytest

from cxplatform.models import Role
from journeys import services
from journeys.models import Persona


@pytest.fixture
def manager(org_a, make_member):
    return make_member(org_a, Role.CX_MANAGER)


@pytest.fixture
def persona(org_a):
    return Persona.objects.create(organization=org_a, name="Urban commuter",
                                  segment_rule={"attribute": "plan", "values": ["purchase"]})


@pytest.fixture
def journey_map(persona, manager):
    return services.create_map(persona, "Scooter purchase", manager)


def names(qs):
    return [obj.name for obj in qs]
