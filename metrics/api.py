"""The dashboard's figures as JSON, for other systems and scheduled reports."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cxplatform import replica
from cxplatform.api_access import OrgScopedViewSetMixin

from . import selectors
from .forms import ScopeForm


class MetricsViewSet(OrgScopedViewSetMixin, viewsets.ViewSet):
    """`GET /api/v1/metrics/summary/?from=…&to=…&survey=…&touchpoint=…&channel=…&segment=…&language=…`"""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=False)
    def summary(self, request):
        form = ScopeForm(request.query_params, organization=self.organization)
        if not form.is_valid():
            raise ValidationError(form.errors)
        with replica.reads():  # who may see what was checked on the primary; the figures may lag a moment
            return Response(selectors.summary(form.scope()))


ROUTES = [("metrics", MetricsViewSet, "metrics")]
