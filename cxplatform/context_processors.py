from .tenancy import memberships_of


def tenancy(request):
    """The current organization and role, and the others the user may switch to."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_organization": getattr(request, "organization", None),
        "current_membership": getattr(request, "membership", None),
        "user_memberships": memberships_of(user),
    }
