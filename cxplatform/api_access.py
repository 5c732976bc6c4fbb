"""The REST API's tenancy and roles: one mixin scopes every viewset to the request's organization.

Kept apart from the viewsets because DRF imports its default permission class while it loads.
"""

import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import permissions
from rest_framework.exceptions import ParseError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser

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
    """Reading needs the viewset's `read_capability` (membership by default); writing its `write_capability`."""

    def has_permission(self, request, view):
        membership = _membership(request)
        if membership is None:
            return False
        if request.method in permissions.SAFE_METHODS:
            return membership.can(getattr(view, "read_capability", Capability.VIEW))
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


class SafeJSONParser(JSONParser):
    """JSON bodies that are too large, too deep or not UTF-8 are a 400, never a 500."""

    max_depth = 32

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ParseError(_("The request body is larger than %(limit)d bytes.") % {"limit": limit})
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except RecursionError:
            raise ParseError(_("JSON is nested too deeply.")) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("Malformed JSON: %(error)s") % {"error": exc}) from None
        if _depth(data) > self.max_depth:
            raise ParseError(_("JSON is nested too deeply."))
        return data


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _depth(value):
    # Iterative, so a hostile document cannot exhaust the stack here either.
    stack, deepest = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > 64:
            return depth
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest
