"""The REST API's tenancy and roles: one mixin scopes every viewset to the request's organization.

Kept apart from the viewsets because DRF imports its default permission class while it loads.
"""

import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import permissions, serializers
from rest_framework.exceptions import ParseError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.relations import ManyRelatedField, RelatedField
from rest_framework.serializers import BaseSerializer, ListSerializer

from .input_checks import find_text_problem
from .models import ApiToken, Capability, Organization, OrgScopedModel
from .tenancy import resolve_membership, scoped
from .tokens.services import token_membership
from .versioning import lock_version


def _membership(request):
    # Token-authenticated requests pass the session middleware unauthenticated: resolve here.
    if getattr(request, "_api_membership_resolved", False):
        return request._api_membership
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        # A token acts for its own organization only, whatever the session or X-Organization say.
        membership = token_membership(auth)
    else:
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


def choices_for(queryset, organization):
    """The rows of `queryset` a member of `organization` may pick or filter by: its own rows, or,
    for people, its members. Anything else is refused at once, so a new relation cannot offer
    another organization's rows by default (django-filter and DRF offer every row of the table)."""
    queryset = queryset.all()  # a manager, as DRF's relations may hold, becomes a queryset
    model = queryset.model
    if organization is None:
        return queryset.none()
    if issubclass(model, OrgScopedModel):
        return scoped(queryset, organization)
    if model is get_user_model():
        # In one filter(): the same membership is of this organization and active.
        return queryset.filter(memberships__organization=organization, memberships__is_active=True)
    if model is Organization:
        return queryset.filter(pk=organization.pk)
    raise ImproperlyConfigured(f"{model.__name__} belongs to no organization: it cannot be offered as a choice")


def scope_choices(serializer, organization) -> None:
    """Narrow every writable relation of `serializer` (nested ones too) to `organization`'s rows,
    so another organization's id is refused exactly like a missing one and the browsable API's
    forms list only the organization's rows."""
    pending = [serializer]
    while pending:
        current = pending.pop()
        if isinstance(current, ListSerializer):
            pending.append(current.child)
            continue
        for field in current.fields.values():
            relation = field.child_relation if isinstance(field, ManyRelatedField) else field
            if isinstance(relation, RelatedField) and relation.queryset is not None:
                relation.queryset = choices_for(relation.queryset, organization)
            elif isinstance(field, BaseSerializer):
                pending.append(field)


class OrgScopedFilterBackend(DjangoFilterBackend):
    """django-filter's backend with every model choice (declared or made from `filterset_fields`)
    narrowed to the request's organization: a foreign id in a filter is "not a valid choice",
    exactly like a missing one, and the HTML filter form lists only the organization's rows."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            membership = _membership(request)
            organization = membership.organization if membership else None
            for declared in filterset.filters.values():
                choices = getattr(declared, "queryset", None)
                if choices is not None:
                    declared.queryset = choices_for(choices(request) if callable(choices) else choices, organization)
        return filterset


class OrgScopedViewSetMixin:
    """Lists and looks up only the request's organization's rows; creates rows in it; offers
    only its rows as choices."""

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
        membership = _membership(self.request)
        return {**super().get_serializer_context(), "organization": self.organization,
                "personal_data": bool(membership and membership.can(Capability.PERSONAL_DATA))}

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        scope_choices(serializer, self.organization)
        return serializer


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
        _refuse_unstorable_text(data)
        return data


def _refuse_unstorable_text(data):
    """NUL and lone surrogates ("\\ud800" in JSON) are refused before any field sees them (a
    field's error would echo the text, and an answer holding a lone surrogate cannot be encoded),
    with the error where the field's own would be: {"answers": {"comment": ["…"]}}."""
    found = find_text_problem(data)
    if found is None:
        return
    path, problem = found
    if not path:
        raise ParseError(problem)
    detail = [problem]
    for key in reversed(path):
        detail = {str(key): detail}
    raise serializers.ValidationError(detail)


class SafeFormParser(FormParser):
    """Form bodies, checked like JSON ones (Django's own forms refuse NUL; serializers' choices do not)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _refuse_unstorable_text({key: "".join(data.getlist(key)) for key in data})
        return data


class SafeMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        _refuse_unstorable_text({key: "".join(parsed.data.getlist(key)) for key in parsed.data})
        return parsed


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


class VersionedSerializerMixin:
    """A `Versioned` row's serializer: `version` is read with the row; a change that sends it back
    is refused with 409 when someone changed the row since (one without it: the last write wins)."""

    def get_fields(self):
        fields = super().get_fields()
        fields["version"] = serializers.IntegerField(
            min_value=1, required=False, help_text="The version read; a change on an older one is a 409.")
        return fields

    def update(self, instance, validated_data):
        with transaction.atomic():
            lock_version(instance, validated_data.pop("version", None))
            return super().update(instance, validated_data)
