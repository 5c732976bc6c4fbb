"""Role checks for HTML views. The API has its own in `api.py`, built on the same capabilities."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .models import Capability


def capability_required(capability: str = Capability.VIEW):
    """Logged in, a member of an organization, and allowed to `capability` there."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            membership = request.membership
            if membership is None:
                return render(request, "cxplatform/no_organization.html", status=403)
            if not membership.can(capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


member_required = capability_required(Capability.VIEW)
