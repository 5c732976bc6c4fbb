"""A sign-in half done: the password was right, the second factor is still to come.

Until the code is given the person is not signed in at all (no `auth.login`), so the session
reaches no page and no API; the session only remembers who is on the way, for a few minutes.
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django_otp import login as otp_login

from . import services

PENDING_KEY = "signin.pending"


def needs_second_factor(user) -> bool:
    return services.has_two_factor(user)


def begin(request, *, user, backend: str, next_url: str) -> None:
    # A new session key: whoever knew the key before the password was given learns nothing.
    request.session.cycle_key()
    request.session[PENDING_KEY] = {"user": user.pk, "backend": backend, "next": next_url or "",
                                    "since": int(time.time())}


def pending_user(request):
    """The person between password and code, or None (nobody, or the few minutes have passed)."""
    state = request.session.get(PENDING_KEY)
    if not isinstance(state, dict):
        return None
    if time.time() - state.get("since", 0) > settings.TWO_FACTOR_PENDING_SECONDS:
        forget(request)
        return None
    return get_user_model().objects.filter(pk=state.get("user"), is_active=True).first()


def next_url(request) -> str:
    state = request.session.get(PENDING_KEY) or {}
    return state.get("next") or ""


def forget(request) -> None:
    request.session.pop(PENDING_KEY, None)


def finish(request, *, user, device) -> None:
    """Sign the person in, verified by `device` (django-otp marks the session)."""
    backend = (request.session.get(PENDING_KEY) or {}).get("backend") or settings.AUTHENTICATION_BACKENDS[1]
    forget(request)
    login(request, user, backend=backend)
    otp_login(request, device)


def finish_setup(request, *, device) -> None:
    """The signed-in person has just proved `device`: this session counts as verified."""
    otp_login(request, device)
