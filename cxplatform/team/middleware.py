from django.contrib.auth import logout

from .services import SESSION_GENERATION_KEY, current_generation


class SignOutDeactivatedMiddleware:
    """A session made before its person was deactivated (their generation raised) is signed out on
    its next request, whichever device or session store holds it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and request.session.get(SESSION_GENERATION_KEY, 0) < current_generation(user.pk):
            logout(request)
        return self.get_response(request)
