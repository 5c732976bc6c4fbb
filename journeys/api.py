"""REST API of journey maps: personas, maps, stages, touchpoints, pain points and opportunities.

Thin over `services.py` (positions, deletion rules, activity history) and `exchange.py` (JSON).
Reading needs membership; writing needs the DESIGN capability (OrgScopedViewSetMixin).

Deleting a touchpoint that has answers (or survey links) archives it instead: the answer is
200 with the touchpoint and `"archived": true`; a touchpoint without answers is deleted: 204.
"""

from contextlib import contextmanager

import django_filters
from django.db.models import Prefetch, ProtectedError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from cxplatform.api_access import OrgScopedViewSetMixin, VersionedSerializerMixin
from cxplatform.tenancy import get_for_org_or_404, scoped

from . import exchange, services
from .models import ActivityEntry, Channel, JourneyMap, Opportunity, PainPoint, Persona, Stage, Touchpoint


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


@contextmanager
def _rules():
    """A rule the services refuse is a 400 naming the field."""
    try:
        yield
    except services.JourneyError as exc:
        raise ValidationError({exc.field or "non_field_errors": [exc.message]}) from None
    except exchange.MapImportError as exc:
        raise ValidationError({"errors": exc.errors}) from None


class OrgPrimaryKey(serializers.PrimaryKeyRelatedField):
    """An id of the request's organization's row; another organization's id is "does not exist"."""

    def get_queryset(self):
        return scoped(super().get_queryset(), self.context.get("organization"))


# ---------------------------------------------------------------------------------------------
# Serializers


class PersonaSerializer(serializers.ModelSerializer):
    initials = serializers.CharField(read_only=True)
    maps = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Persona
        fields = ["id", "name", "description", "segment_rule", "goals", "photo_url", "initials", "maps", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_name(self, value):
        value = value.strip()
        clash = Persona.objects.for_org(self.context["organization"]).filter(name=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(_("A persona with this name already exists."))
        return value

    def validate_segment_rule(self, value):
        if value in (None, {}):
            return {}
        if not (isinstance(value, dict) and set(value) == {"attribute", "values"}
                and isinstance(value["attribute"], str) and value["attribute"].strip()
                and isinstance(value["values"], list) and all(isinstance(v, str) for v in value["values"])):
            raise ValidationError(_('Use {"attribute": "…", "values": ["…"]}, or {} for no rule.'))
        return {"attribute": value["attribute"].strip(), "values": value["values"]}


class ChannelBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "name", "kind"]


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "name", "kind"]
        read_only_fields = ["id"]

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise ValidationError(_("Give the channel a name."))
        clash = Channel.objects.for_org(self.context["organization"]).filter(name__iexact=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(_("A channel with this name already exists."))
        return value


class TouchpointSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    channel = OrgPrimaryKey(queryset=Channel.objects.all(), allow_null=True, required=False)
    stage = OrgPrimaryKey(queryset=Stage.objects.all(), allow_null=True, required=False)
    position = serializers.IntegerField(min_value=0, required=False)
    expected_emotion = serializers.IntegerField(min_value=-2, max_value=2, allow_null=True, required=False)
    journey_map = serializers.SerializerMethodField(help_text="The map of the touchpoint's stage; null off any map.")

    class Meta:
        model = Touchpoint
        fields = ["id", "name", "channel", "stage", "journey_map", "position", "customer_goal", "department",
                  "expected_emotion", "description", "archived", "created_at"]
        read_only_fields = ["id", "archived", "created_at"]

    def get_journey_map(self, touchpoint) -> int | None:
        # A method, not a source with a default: a partial update's answer would leave a default out.
        return touchpoint.stage.journey_map_id if touchpoint.stage_id else None


class TouchpointOnMapSerializer(serializers.ModelSerializer):
    channel = ChannelBriefSerializer(read_only=True)

    class Meta:
        model = Touchpoint
        fields = ["id", "name", "channel", "position", "customer_goal", "department", "expected_emotion",
                  "description", "archived"]
        read_only_fields = fields


class StageSerializer(serializers.ModelSerializer):
    journey_map = OrgPrimaryKey(queryset=JourneyMap.objects.all())
    position = serializers.IntegerField(min_value=0, required=False)

    class Meta:
        model = Stage
        fields = ["id", "journey_map", "name", "position"]
        read_only_fields = ["id"]

    def validate_journey_map(self, value):
        if self.instance is not None and value.pk != self.instance.journey_map_id:
            raise ValidationError(_("A stage cannot move to another map."))
        return value


class StageOnMapSerializer(serializers.ModelSerializer):
    touchpoints = TouchpointOnMapSerializer(many=True, read_only=True)

    class Meta:
        model = Stage
        fields = ["id", "name", "position", "touchpoints"]
        read_only_fields = fields


class PainPointSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    journey_map = OrgPrimaryKey(queryset=JourneyMap.objects.all())
    touchpoint = OrgPrimaryKey(queryset=Touchpoint.objects.select_related("stage"), allow_null=True, required=False)

    class Meta:
        model = PainPoint
        fields = ["id", "journey_map", "touchpoint", "description", "severity", "status", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_journey_map(self, value):
        if self.instance is not None and value.pk != self.instance.journey_map_id:
            raise ValidationError(_("A pain point cannot move to another map."))
        return value


class OpportunitySerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    journey_map = OrgPrimaryKey(queryset=JourneyMap.objects.all())
    pain_point = OrgPrimaryKey(queryset=PainPoint.objects.all(), allow_null=True, required=False)

    class Meta:
        model = Opportunity
        fields = ["id", "journey_map", "idea", "impact", "pain_point", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_journey_map(self, value):
        if self.instance is not None and value.pk != self.instance.journey_map_id:
            raise ValidationError(_("An opportunity cannot move to another map."))
        return value


class JourneyMapSerializer(serializers.ModelSerializer):
    persona = OrgPrimaryKey(queryset=Persona.objects.all())
    stage_names = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, write_only=True, max_length=30,
        help_text="Names of the new map's stages (default: awareness, consideration, purchase, use, loyalty).",
    )

    class Meta:
        model = JourneyMap
        fields = ["id", "persona", "name", "description", "stage_names", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class JourneyMapDetailSerializer(JourneyMapSerializer):
    """The whole map in one read: stages in order with their touchpoints, pain points, opportunities."""

    stages = StageOnMapSerializer(many=True, read_only=True)
    pain_points = PainPointSerializer(many=True, read_only=True)
    opportunities = OpportunitySerializer(many=True, read_only=True)

    class Meta(JourneyMapSerializer.Meta):
        fields = [*JourneyMapSerializer.Meta.fields, "stages", "pain_points", "opportunities"]


class ActivityEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.get_username", read_only=True, default=None)
    action_label = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = ActivityEntry
        fields = ["id", "actor", "action", "action_label", "subject", "details", "created_at"]
        read_only_fields = fields


# ---------------------------------------------------------------------------------------------
# Filters: plain ids, so an id of another organization filters to nothing instead of telling
# that it exists.


class StageFilter(django_filters.FilterSet):
    journey_map = django_filters.NumberFilter(field_name="journey_map_id")

    class Meta:
        model = Stage
        fields = ["journey_map"]


class TouchpointFilter(django_filters.FilterSet):
    stage = django_filters.NumberFilter(field_name="stage_id")
    journey_map = django_filters.NumberFilter(field_name="stage__journey_map_id")
    channel = django_filters.NumberFilter(field_name="channel_id")
    archived = django_filters.BooleanFilter()

    class Meta:
        model = Touchpoint
        fields = ["stage", "journey_map", "channel", "archived"]


class MapItemFilter(django_filters.FilterSet):
    journey_map = django_filters.NumberFilter(field_name="journey_map_id")


class PainPointFilter(MapItemFilter):
    touchpoint = django_filters.NumberFilter(field_name="touchpoint_id")

    class Meta:
        model = PainPoint
        fields = ["journey_map", "touchpoint", "status", "severity"]


class OpportunityFilter(MapItemFilter):
    class Meta:
        model = Opportunity
        fields = ["journey_map", "impact"]


class PersonaFilter(django_filters.FilterSet):
    class Meta:
        model = Persona
        fields = ["name"]


class JourneyMapFilter(django_filters.FilterSet):
    persona = django_filters.NumberFilter(field_name="persona_id")

    class Meta:
        model = JourneyMap
        fields = ["persona"]


# ---------------------------------------------------------------------------------------------
# Viewsets


class ChannelFilter(django_filters.FilterSet):
    class Meta:
        model = Channel
        fields = ["kind"]


class ChannelViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    """The media touchpoints, survey links, answers and inbox items go through. A channel still used
    by any of them cannot be deleted (409): rename it instead."""

    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    filterset_class = ChannelFilter

    @extend_schema(responses={204: None, 409: OpenApiTypes.OBJECT})
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        if not services.delete_channel(instance):
            raise Conflict(_("The channel is still used by touchpoints, survey links, answers, rules or goals: "
                             "it cannot be deleted."))


class PersonaViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = Persona.objects.prefetch_related("maps")
    serializer_class = PersonaSerializer
    filterset_class = PersonaFilter

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError:
            raise Conflict(_("The persona still has journey maps: delete or move them first.")) from None


class JourneyMapViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    """Maps; `retrieve` nests stages, touchpoints, pain points and opportunities.

    `export` gives the map as JSON ("format": "cx-journey-map"); `import` (POST) creates a new
    map from such JSON, or from the template library with `{"template": "<slug>"}` and optionally
    `"language": "lv"` (else the request's; `templates` lists them, `?language=` too);
    `?persona=<id>` puts the new map on an existing persona.
    """

    queryset = JourneyMap.objects.select_related("persona")
    serializer_class = JourneyMapSerializer
    filterset_class = JourneyMapFilter

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "retrieve":
            qs = qs.prefetch_related(
                Prefetch("stages", Stage.objects.order_by("position", "id").prefetch_related(
                    Prefetch("touchpoints", Touchpoint.objects.select_related("channel").order_by("position", "id"))
                )),
                "pain_points", "opportunities",
            )
        return qs

    def get_serializer_class(self):
        return JourneyMapDetailSerializer if self.action == "retrieve" else JourneyMapSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        with _rules():
            serializer.instance = services.create_map(
                data["persona"], data["name"], self.request.user, stages=data.get("stage_names"),
                description=data.get("description", ""),
            )

    def perform_update(self, serializer):
        fields = {k: v for k, v in serializer.validated_data.items() if k in ("name", "description", "persona")}
        with _rules():
            serializer.instance = services.update_map(serializer.instance, self.request.user, **fields)

    def perform_destroy(self, instance):
        services.delete_map(instance, self.request.user)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        return Response(exchange.export_map(self.get_object()))

    @extend_schema(responses={200: ActivityEntrySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def activity(self, request, pk=None):
        entries = ActivityEntry.objects.filter(journey_map=self.get_object()).select_related("actor")[:200]
        return Response(ActivityEntrySerializer(entries, many=True).data)

    @extend_schema(responses={200: {"type": "array", "items": {"type": "object"}}})
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def templates(self, request):
        return Response(exchange.library(request.query_params.get("language")))

    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_map(self, request):
        persona = None
        if request.query_params.get("persona"):
            persona = get_for_org_or_404(Persona, self.organization, pk=request.query_params["persona"])
        data = request.data
        with _rules():
            if isinstance(data, dict) and "template" in data and set(data) <= {"template", "language"}:
                data = exchange.load_template(data["template"], data.get("language"))
            journey_map = exchange.import_map(self.organization, data, request.user, persona=persona)
        self.action = "retrieve"  # the same nested read as GET /journey-maps/<id>/
        body = JourneyMapDetailSerializer(self.get_queryset().get(pk=journey_map.pk),
                                          context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


class StageViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = Stage.objects.all()
    serializer_class = StageSerializer
    filterset_class = StageFilter

    def perform_create(self, serializer):
        data = serializer.validated_data
        with _rules():
            serializer.instance = services.add_stage(data["journey_map"], data["name"], self.request.user,
                                                     position=data.get("position"))

    def perform_update(self, serializer):
        data, stage = serializer.validated_data, serializer.instance
        with _rules():
            if "name" in data:
                services.rename_stage(stage, data["name"], self.request.user)
            if "position" in data:
                services.move_stage(stage, data["position"], self.request.user)
        stage.refresh_from_db()

    def perform_destroy(self, instance):
        services.delete_stage(instance, self.request.user)


class TouchpointViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    """Touchpoints, on a map's stage or on none. DELETE of one with answers archives it (200)."""

    queryset = Touchpoint.objects.select_related("stage")
    serializer_class = TouchpointSerializer
    filterset_class = TouchpointFilter

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        stage, position, name = data.pop("stage", None), data.pop("position", None), data.pop("name")
        with _rules():
            if stage is None:
                serializer.instance = services.create_touchpoint(self.organization, name, self.request.user, **data)
            else:
                serializer.instance = services.add_touchpoint(stage, name, self.request.user, position=position,
                                                              **data)

    def perform_update(self, serializer):
        data, touchpoint = dict(serializer.validated_data), serializer.instance
        moving = "stage" in data or "position" in data
        stage = data.pop("stage", touchpoint.stage)
        position = data.pop("position", None)
        with _rules():
            if data:
                services.update_touchpoint(touchpoint, self.request.user, **data)
            if moving:
                services.move_touchpoint(touchpoint, stage, position, self.request.user)
        touchpoint.refresh_from_db()

    @extend_schema(responses={200: TouchpointSerializer, 204: None})
    def destroy(self, request, *args, **kwargs):
        touchpoint = self.get_object()
        if services.delete_touchpoint(touchpoint, request.user) == "archived":
            touchpoint.refresh_from_db()
            return Response(self.get_serializer(touchpoint).data, status=status.HTTP_200_OK)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PainPointViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = PainPoint.objects.all()
    serializer_class = PainPointSerializer
    filterset_class = PainPointFilter

    def perform_create(self, serializer):
        data = serializer.validated_data
        with _rules():
            serializer.instance = services.add_pain_point(
                data["journey_map"], data["description"], self.request.user,
                severity=data.get("severity", PainPoint.Severity.MEDIUM), touchpoint=data.get("touchpoint"),
                status=data.get("status", PainPoint.Status.OPEN),
            )

    def perform_update(self, serializer):
        fields = {k: v for k, v in serializer.validated_data.items() if k != "journey_map"}
        with _rules():
            serializer.instance = services.update_pain_point(serializer.instance, self.request.user, **fields)

    def perform_destroy(self, instance):
        services.delete_pain_point(instance, self.request.user)


class OpportunityViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = Opportunity.objects.all()
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilter

    def perform_create(self, serializer):
        data = serializer.validated_data
        with _rules():
            serializer.instance = services.add_opportunity(
                data["journey_map"], data["idea"], self.request.user,
                impact=data.get("impact", Opportunity.Impact.MEDIUM), pain_point=data.get("pain_point"),
            )

    def perform_update(self, serializer):
        fields = {k: v for k, v in serializer.validated_data.items() if k != "journey_map"}
        with _rules():
            serializer.instance = services.update_opportunity(serializer.instance, self.request.user, **fields)

    def perform_destroy(self, instance):
        services.delete_opportunity(instance, self.request.user)


ROUTES = [
    ("channels", ChannelViewSet, "channel"),
    ("personas", PersonaViewSet, "persona"),
    ("journey-maps", JourneyMapViewSet, "journeymap"),
    ("stages", StageViewSet, "stage"),
    ("touchpoints", TouchpointViewSet, "touchpoint"),
    ("pain-points", PainPointViewSet, "painpoint"),
    ("opportunities", OpportunityViewSet, "opportunity"),
]
