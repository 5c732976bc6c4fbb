"""The REST API's tenancy and roles: one mixin scopes every viewset to the request's organization.

Kept apart from the viewsets because DRF imports its default permission class while it loads.
"""

from rest_framework import permissions
from rest_framework.pagination import CursorPagination

from .models import Capability
from .tenancy import resolve_membership, scoped


def _membership(request):
    # Token-authenticated requests pass the session middleware unauthenticated: resolve here.
    if getattr(request, "_api_membership_resolved", False):
        return request._api_membership
    membership = resolve_membership(request, request.user) if request.user.is_authenticated else None
    request._api_membership, request._api_membership_resolved = membership, True
    return membership


class IsOrganizationMember(permissions.BasePermission):
    """Reading needs membership; writing needs the viewset's `write_capability`."""

    def has_permission(self, request, view):
        membership = _membership(request)
        if membership is None:
            return False
        if request.method in permissions.SAFE_METHODS:
            return membership.can(Capability.VIEW)
        return membership.can(getattr(view, "write_capability", Capability.ADMINISTER))


class OrgScopedViewSetMixin:
    """Lists and looks up only the request's organization's rows; creates rows in it."""

    write_capability = Capability.DESIGN

    @property
    def organization(self):
        membership = _membership(self.request)
        return membership.organization if membership else None

    def get_queryset(self):
        return scoped(super().get_queryset(), self.organization)

    def perform_create(self, serializer):
        serializer.save(organization=self.organization)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "organization": self.organization}


class NewestFirstPagination(CursorPagination):
    """Cursor pagination (stable under inserts, fast at any depth) over the primary key."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500
