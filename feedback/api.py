"""REST API of the inbox: items from any source — idempotent on the source's id, so the same
review sent twice is one item — and the organization's tags."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response as ApiResponse

from cxplatform.api_access import OrgScopedViewSetMixin
from cxplatform.models import Capability
from cxplatform.tenancy import scoped
from journeys.models import Channel, Touchpoint

from . import services
from .models import FeedbackItem, Tag

INCOMING_SOURCES = [s for s in FeedbackItem.Source.choices if s[0] != FeedbackItem.Source.SURVEY]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]


class ItemSerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = FeedbackItem
        fields = ["id", "source", "source_id", "text", "rating", "language", "sentiment", "received_at", "status",
                  "priority", "customer", "channel", "touchpoint", "team", "assignee", "tags", "response", "version",
                  "created_at", "updated_at"]
        read_only_fields = fields


class IncomingSerializer(serializers.Serializer):
    """An item sent from elsewhere (a review site, a chat tool, a CRM)."""

    source = serializers.ChoiceField(choices=INCOMING_SOURCES, default=FeedbackItem.Source.API)
    source_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    text = serializers.CharField(max_length=services.MAX_TEXT, trim_whitespace=True)
    rating = serializers.IntegerField(min_value=0, max_value=10, required=False, allow_null=True, default=None)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, allow_blank=True, default="")
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    channel = serializers.PrimaryKeyRelatedField(queryset=Channel.objects.none(), required=False, allow_null=True,
                                                 default=None)
    touchpoint = serializers.PrimaryKeyRelatedField(queryset=Touchpoint.objects.none(), required=False,
                                                    allow_null=True, default=None)
    customer_external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    customer_email = serializers.EmailField(required=False, allow_blank=True, default="")
    customer_phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = scoped(Channel, organization)
        self.fields["touchpoint"].queryset = scoped(Touchpoint, organization)

    def validate_text(self, value):
        if not value.strip():
            raise serializers.ValidationError(_("The text is empty."))
        return value

    def voice(self) -> services.Voice:
        d = self.validated_data
        ref = {k: d[f"customer_{k}"] for k in ("external_id", "email", "phone") if d[f"customer_{k}"]}
        return services.Voice(source=d["source"], source_id=d["source_id"], text=d["text"], rating=d["rating"],
                              language=d["language"], received_at=d["received_at"], channel=d["channel"],
                              touchpoint=d["touchpoint"], customer_ref=ref or None)


class ItemViewSet(OrgScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """`POST` an item (201 when new, 200 with the existing item for a source id already seen)."""

    queryset = FeedbackItem.objects.prefetch_related("tags")
    serializer_class = ItemSerializer
    filterset_fields = ["source", "status", "priority", "touchpoint", "channel", "team", "assignee", "sentiment"]
    write_capability = Capability.WORK_INBOX

    def get_serializer_class(self):
        return IncomingSerializer if self.action == "create" else ItemSerializer

    def get_serializer(self, *args, **kwargs):
        if self.action == "create":
            return IncomingSerializer(*args, organization=self.organization, **kwargs)
        return super().get_serializer(*args, **kwargs)

    def create(self, request, *args, **kwargs):
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        item, created = services.ingest(self.organization, incoming.voice(), actor=request.user)
        return ApiResponse(ItemSerializer(item).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class TagViewSet(OrgScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    write_capability = Capability.DESIGN


ROUTES = [("feedback/items", ItemViewSet, "feedback-item"), ("feedback/tags", TagViewSet, "feedback-tag")]
