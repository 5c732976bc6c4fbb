from django.utils.functional import SimpleLazyObject

from . import selectors


def notifications(request):
    """The unread count for the bell in the top bar, counted only when a page draws the bar."""
    user, organization = getattr(request, "user", None), getattr(request, "organization", None)
    if user is None or not user.is_authenticated or organization is None:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: selectors.unread_count(user, organization))}
