"""REST API of goals and action items, thin over `services.py`.

Reading needs membership; setting goals and planning actions needs DESIGN; moving an action's
status and commenting need WORK_INBOX (the people doing the work), as on the pages.
`GET /api/v1/goals/{id}/progress/` is the goal's curve and verdict as JSON.
"""

from contextlib import contextmanager

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cxplatform.api_access import OrgScopedViewSetMixin, VersionedSerializerMixin
from cxplatform.models import Capability
from feedback.models import FeedbackItem, RootCause, Tag
from journeys.api import OrgPrimaryKey
from journeys.models import Channel, PainPoint, Touchpoint
from surveys.models import Survey

from . import kpis, progress, selectors, services
from .models import ActionComment, ActionItem, Goal


@contextmanager
def _rules():
    """A rule the services refuse is a 400 naming the field."""
    try:
        yield
    except services.ActionsError as exc:
        raise ValidationError({exc.field or "non_field_errors": [exc.message]}) from None


class MemberKey(serializers.PrimaryKeyRelatedField):
    """A user id of a member of the request's organization; anyone else "does not exist"."""

    def get_queryset(self):
        return services.members(self.context.get("organization"))


class GoalSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    kpi = serializers.ChoiceField(choices=kpis.choices())
    surveys = OrgPrimaryKey(queryset=Survey.objects.all(), many=True, required=False)
    touchpoints = OrgPrimaryKey(queryset=Touchpoint.objects.all(), many=True, required=False)
    channels = OrgPrimaryKey(queryset=Channel.objects.all(), many=True, required=False)
    segments = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    languages = serializers.ListField(child=serializers.ChoiceField(choices=settings.LANGUAGES), required=False)
    baseline = serializers.DecimalField(max_digits=8, decimal_places=2, required=False, allow_null=True,
                                        help_text="Measured from the last 30 days when left out.")
    owner = MemberKey()
    start_date = serializers.DateField(required=False, help_text="Today when left out.")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    lower_is_better = serializers.SerializerMethodField()
    actions_done = serializers.IntegerField(read_only=True)
    actions_total = serializers.IntegerField(read_only=True)

    class Meta:
        model = Goal
        fields = ["id", "title", "description", "kpi", "lower_is_better", "surveys", "touchpoints", "channels",
                  "segments", "languages", "baseline", "baseline_n", "baseline_margin_of_error", "target",
                  "start_date", "deadline", "owner", "actions_done", "actions_total", "created_at", "updated_at"]
        read_only_fields = ["id", "baseline_n", "baseline_margin_of_error", "created_at", "updated_at"]

    def get_lower_is_better(self, goal) -> bool:
        return kpis.get(goal.kpi).lower_is_better

    def to_representation(self, goal):
        # A generated title reads in the request's language, with its message id and parameters.
        data = super().to_representation(goal)
        data["title"], data["title_message"] = goal.display_title, goal.title_message or None
        return data


class ActionItemSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    goal = OrgPrimaryKey(queryset=Goal.objects.all(), allow_null=True, required=False)
    owner = MemberKey()
    status = serializers.ChoiceField(choices=ActionItem.Status.choices, required=False)
    pain_points = OrgPrimaryKey(queryset=PainPoint.objects.all(), many=True, required=False)
    root_causes = OrgPrimaryKey(queryset=RootCause.objects.all(), many=True, required=False)
    tags = OrgPrimaryKey(queryset=Tag.objects.all(), many=True, required=False)
    from_item = OrgPrimaryKey(queryset=FeedbackItem.objects.all(), allow_null=True, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = ["id", "goal", "title", "description", "owner", "due_date", "status", "overdue", "pain_points",
                  "root_causes", "tags", "from_item", "done_at", "created_at", "updated_at"]
        read_only_fields = ["id", "done_at", "created_at", "updated_at"]

    def get_overdue(self, action_item) -> bool:
        return action_item.is_overdue()

    def validate_from_item(self, value):
        if self.instance is not None and value != self.instance.from_item:
            raise ValidationError("The item an action was created from does not change.")
        return value


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ActionItem.Status.choices)


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ActionComment
        fields = ["id", "author", "text", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class GoalViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = Goal.objects.all()
    serializer_class = GoalSerializer
    filterset_fields = ["kpi", "owner"]

    def get_queryset(self):
        return selectors.goals(self.organization).order_by("deadline", "id")

    def perform_create(self, serializer):
        with _rules():
            goal = services.create_goal(self.organization, self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=goal.pk)  # with its action counts

    def perform_update(self, serializer):
        with _rules():
            services.update_goal(serializer.instance, self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.delete_goal(instance, self.request.user)

    @extend_schema(responses={200: dict})
    @action(detail=True)
    def progress(self, request, pk=None):
        goal = self.get_object()
        return Response(progress.as_dict(goal, progress.progress(goal)))


class ActionItemViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = ActionItem.objects.all()
    serializer_class = ActionItemSerializer
    filterset_fields = ["goal", "owner", "status"]

    @property
    def write_capability(self):
        # The people doing the work move its status and comment; planning it is design.
        return Capability.WORK_INBOX if self.action in ("set_status", "comments") else Capability.DESIGN

    def get_queryset(self):
        return selectors.actions(self.organization).order_by("due_date", "id")

    def perform_create(self, serializer):
        with _rules():
            serializer.instance = services.create_action(self.organization, self.request.user,
                                                         **serializer.validated_data)

    def perform_update(self, serializer):
        fields = {k: v for k, v in serializer.validated_data.items() if k != "from_item"}
        with _rules():
            serializer.instance = services.update_action(serializer.instance, self.request.user, **fields)

    @extend_schema(request=StatusSerializer, responses={200: ActionItemSerializer})
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        action_item = self.get_object()
        data = StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.set_status(action_item, request.user, data.validated_data["status"])
        return Response(self.get_serializer(updated).data)

    @extend_schema(request=CommentSerializer, responses={200: CommentSerializer(many=True), 201: CommentSerializer})
    # pagination_class=None: the comments are one plain list, and the schema must say so.
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def comments(self, request, pk=None):
        action_item = self.get_object()
        if request.method == "GET":
            return Response(CommentSerializer(action_item.comments.all(), many=True).data)
        data = CommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _rules():
            comment = services.add_comment(action_item, request.user, data.validated_data["text"])
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


ROUTES = [
    ("goals", GoalViewSet, "goal"),
    ("action-items", ActionItemViewSet, "action-item"),
]
