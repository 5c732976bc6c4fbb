"""The one scoping helper: every view, API view and selector reaches data through it.

An object of another organization is answered exactly like an id that does not exist (404), so
ids leak nothing across organizations.
"""

from django.db import models
from django.http import Http404

SESSION_KEY = "organization_id"


class OrgScopedQuerySet(models.QuerySet):
    def for_org(self, organization):
        if organization is None:
            return self.none()
        return self.filter(organization=organization)


def scoped(model_or_queryset, organization):
    """A queryset of `model_or_queryset` limited to `organization` (none when it is None)."""
    qs = model_or_queryset if isinstance(model_or_queryset, models.QuerySet) else model_or_queryset.objects.all()
    if organization is None:
        return qs.none()
    return qs.filter(organization=organization)


def get_for_org_or_404(model_or_queryset, organization, **lookup):
    try:
        return scoped(model_or_queryset, organization).get(**lookup)
    except (models.ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def memberships_of(user):
    from .models import Membership

    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, is_active=True).select_related("organization")


def resolve_membership(request, user):
    """The membership the request acts through: the one chosen in the session, else the first.

    An `X-Organization: <slug>` header chooses for API clients that carry no session.
    """
    memberships = memberships_of(user)
    slug = request.headers.get("X-Organization")
    if slug:
        return memberships.filter(organization__slug=slug).first()
    chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if chosen:
        membership = memberships.filter(organization_id=chosen).first()
        if membership:
            return membership
    return memberships.order_by("created_at", "id").first()
