"""Each new session remembers the sign-in generation it was made under (see SessionGeneration)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .services import SESSION_GENERATION_KEY, current_generation


@receiver(user_logged_in, dispatch_uid="team.remember_session_generation")
def remember_session_generation(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_GENERATION_KEY] = current_generation(user.pk)
