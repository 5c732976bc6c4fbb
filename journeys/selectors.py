from cxplatform.tenancy import scoped

from .models import Channel, Touchpoint


def touchpoints(organization, include_archived: bool = False):
    qs = scoped(Touchpoint, organization).select_related("channel")
    return qs if include_archived else qs.filter(archived=False)


def channels(organization):
    return scoped(Channel, organization)
