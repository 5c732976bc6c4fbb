"""Read queries behind the dashboards (metrics sits on top: it may read every app)."""

from cxplatform.models import Customer
from cxplatform.tenancy import scoped
from journeys.models import Touchpoint


def organization_overview(organization) -> dict:
    """The counts the landing dashboard shows while no survey data exists yet."""
    return {
        "customers": scoped(Customer, organization).count(),
        "touchpoints": scoped(Touchpoint, organization).filter(archived=False).count(),
        "members": organization.memberships.count(),
    }
