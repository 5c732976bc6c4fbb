from .models import Capability
from .tenancy import memberships_of


def tenancy(request):
    """The current organization and role, and the others the user may switch to."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "current_organization": getattr(request, "organization", None),
        "current_membership": membership,
        # What the member may do, so templates show only the buttons that will work.
        "can_design": bool(membership and membership.can(Capability.DESIGN)),
        "user_memberships": memberships_of(user),
    }


def notifications(request):
    """The unread count for the bell in the top bar, counted only when a page draws the bar."""
    from django.utils.functional import SimpleLazyObject

    from .selectors import unread_notifications

    user, organization = getattr(request, "user", None), getattr(request, "organization", None)
    if user is None or not user.is_authenticated or organization is None:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_notifications(user, organization))}
