"""REST API of the inbox: items from any source — idempotent on the source's id, so the same
review sent twice is one item — their triage (with the version the caller saw), notes and
replies; the organization's tags, teams, routing rules, SLA policies, canned replies and webhook
endpoints; and the public webhook receiver."""

from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from cxplatform import ratelimit
from cxplatform.api import ImportJobReportSerializer, ImportJobViewSetMixin, ImportUploadSerializer
from cxplatform.api_access import OrgScopedViewSetMixin, VersionedSerializerMixin, _membership, scope_choices
from cxplatform.audit import AuditedSettingsMixin
from cxplatform.input_checks import int_or_none
from cxplatform.models import Capability
from cxplatform.naming import clean_names
from cxplatform.tenancy import scoped
from journeys.api import OrgPrimaryKey
from journeys.models import Channel, Touchpoint

from . import activity, configuration, conversation, importing, loop, selectors, services, webhooks
from .forms import agents_of
from .models import (
    CannedReply,
    CloseLoopRule,
    FeedbackImportJob,
    FeedbackItem,
    ItemEvent,
    Message,
    Note,
    RootCause,
    RoutingRule,
    SavedView,
    SlaPolicy,
    Tag,
    Team,
    WebhookEndpoint,
)

INCOMING_SOURCES = [s for s in FeedbackItem.Source.choices if s[0] != FeedbackItem.Source.SURVEY]
THEN_STATUSES = [s for s in FeedbackItem.Status.choices if s[0] in (FeedbackItem.Status.WAITING,
                                                                     FeedbackItem.Status.RESOLVED)]
WEBHOOK_LIMIT = (600, 60)  # requests per endpoint per minute


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = _("Someone else changed this item after you read it; nothing was saved. "
                       "Read it again and repeat the change.")


@contextmanager
def _setting_rules():
    """A rule of `configuration` refused the value: a 400 naming the field."""
    try:
        yield
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from None


def _taken(serializer, attrs, *fields) -> bool:
    """Whether another row of the organization already has these values. The unique constraints
    include `organization`, which is no field of these serializers, so DRF does not check them."""
    model = serializer.Meta.model
    lookup = {f: attrs.get(f, getattr(serializer.instance, f, model._meta.get_field(f).get_default()))
              for f in fields}
    rows = model.objects.filter(organization=serializer.context["organization"], **lookup)
    if serializer.instance is not None:
        rows = rows.exclude(pk=serializer.instance.pk)
    return rows.exists()


class NamedSerializerMixin(serializers.Serializer):
    """A row named per language: `names` {"lv": …, "ru": …, "en": …} is read and written as is;
    `name` is written as the row's own (unique) name and read in the request's language, with
    that own name as `default_name`."""

    names = serializers.JSONField(required=False)
    default_name = serializers.CharField(source="name", read_only=True)

    def validate_names(self, value):
        try:
            return clean_names(value, max_length=self.Meta.model._meta.get_field("name").max_length)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["name"] = instance.shown_name
        return data


class TagSerializer(NamedSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "names", "default_name"]

    def validate(self, attrs):
        if _taken(self, attrs, "name"):
            raise ValidationError({"name": [_("There is already a tag with this name.")]})
        return attrs


class ItemSerializer(serializers.ModelSerializer):
    # `tags` are the tags' own names, as triage and the `tag` filter take them; `tag_names` and
    # `root_cause_name` are what a reader of the request's language sees.
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    # What the platform wrote (a score without a comment) is given as its message id and parameters
    # too; `text` is in the request's language (docs/adr/0015).
    text = serializers.CharField(source="display_text", read_only=True)
    text_message = serializers.JSONField(read_only=True, allow_null=True,
                                         help_text=_("{id, params} when the platform wrote the text; else {}."))
    tag_names = serializers.SerializerMethodField()
    root_cause_name = serializers.SerializerMethodField()

    def get_tag_names(self, item) -> list[str]:
        return [tag.shown_name for tag in item.tags.all()]

    def get_root_cause_name(self, item) -> str | None:
        return str(item.root_cause) if item.root_cause_id else None

    class Meta:
        model = FeedbackItem
        fields = ["id", "source", "source_id", "text", "text_message", "rating", "language", "sentiment",
                  "received_at", "status", "priority", "customer", "channel", "touchpoint", "team", "assignee", "tags",
                  "tag_names", "response", "version", "first_response_due", "resolution_due", "first_responded_at",
                  "resolved_at", "sla_state", "kind", "loop_rule", "root_cause", "root_cause_name",
                  "resolution_note", "follow_up_sent_at", "follow_up_score", "recovered", "created_at", "updated_at"]
        read_only_fields = fields


class ActivitySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    text = serializers.SerializerMethodField()

    class Meta:
        model = ItemEvent
        fields = ["id", "at", "actor", "action", "message", "text"]
        read_only_fields = fields

    def get_text(self, event) -> str:
        return activity.describe(event)


class IncomingSerializer(serializers.Serializer):
    """An item sent from elsewhere (a review site, a chat tool, a CRM)."""

    source = serializers.ChoiceField(choices=INCOMING_SOURCES, default=FeedbackItem.Source.API)
    source_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    reply_to = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                     help_text=_("The source id of the conversation this continues (a chat id, "
                                                 "an e-mail's In-Reply-To): the customer's message is added to "
                                                 "that item, which reopens."))
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
    customer_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = scoped(Channel, organization)
        self.fields["touchpoint"].queryset = scoped(Touchpoint, organization)

    def validate_text(self, value):
        if not value.strip():
            raise serializers.ValidationError(_("The text is empty."))
        return value

    def voice(self, data=None, source=None) -> services.Voice:
        d = data or self.validated_data
        ref = {k: d[f"customer_{k}"] for k in ("external_id", "email", "phone", "name") if d[f"customer_{k}"]}
        return services.Voice(source=source or d["source"], source_id=d["source_id"], text=d["text"],
                              rating=d["rating"], language=d["language"], received_at=d["received_at"],
                              channel=d["channel"], touchpoint=d["touchpoint"], reply_to=d["reply_to"],
                              customer_ref=ref if set(ref) - {"name"} else None)


class TriageSerializer(serializers.Serializer):
    """A change to an item as the caller saw it: `version` is required, the rest optional."""

    version = serializers.IntegerField(min_value=1)
    status = serializers.ChoiceField(choices=FeedbackItem.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=FeedbackItem.Priority.choices, required=False)
    team = OrgPrimaryKey(queryset=Team.objects.all(), required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.none(), required=False,
                                                  allow_null=True)
    tags = serializers.SlugRelatedField(slug_field="name", queryset=Tag.objects.none(), many=True, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        self.fields["assignee"].queryset = agents_of(organization)
        self.fields["tags"].child_relation.queryset = scoped(Tag, organization)


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True, default=None)

    class Meta:
        model = Note
        fields = ["id", "text", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class MessageSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(min_value=1, write_only=True, required=False)
    then_status = serializers.ChoiceField(choices=THEN_STATUSES, write_only=True, required=False)

    class Meta:
        model = Message
        fields = ["id", "direction", "text", "to_address", "status", "sent_at", "created_at", "version",
                  "then_status"]
        read_only_fields = ["id", "direction", "to_address", "status", "sent_at", "created_at"]


class CallSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=20_000)
    reached = serializers.BooleanField(default=True)


class CloseLoopSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    root_cause = OrgPrimaryKey(queryset=RootCause.objects.filter(active=True))
    note = serializers.CharField(max_length=20_000)
    follow_up = serializers.BooleanField(default=False)


class CaseActions:
    """`POST items/<id>/call/` logs a call; `POST items/<id>/close-loop/` resolves a case with its
    root cause and what was done (a case cannot be resolved through PATCH)."""

    @action(detail=True, methods=["post"], serializer_class=CallSerializer)
    def call(self, request, pk=None):
        item = self.get_object()
        body = CallSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            message = loop.log_call(item, request.user, body.validated_data["note"],
                                    reached=body.validated_data["reached"])
        except loop.CaseError as exc:
            raise ValidationError({"note": [str(exc)]}) from None
        return ApiResponse(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], url_path="close-loop", serializer_class=CloseLoopSerializer)
    def close_loop(self, request, pk=None):
        item = self.get_object()
        body = CloseLoopSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        d = body.validated_data
        try:
            item = loop.resolve_case(item, request.user, d["version"], root_cause=d["root_cause"], note=d["note"],
                                     follow_up=d["follow_up"])
        except loop.CaseError as exc:
            raise ValidationError({"detail": [str(exc)]}) from None
        except services.StaleEdit:
            raise Conflict() from None
        return ApiResponse(ItemSerializer(item).data)


class ItemViewSet(CaseActions, OrgScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """`POST` an item (201 when new, 200 with the existing item for a source id already seen, or
    with the item a `reply_to` continues). `PATCH` triages it, naming the `version` read: a stale
    version is a 409 and changes nothing."""

    queryset = FeedbackItem.objects.prefetch_related("tags").select_related("root_cause__parent")
    serializer_class = ItemSerializer
    filterset_fields = ["source", "status", "priority", "touchpoint", "channel", "team", "assignee", "sentiment",
                        "customer", "kind", "root_cause"]
    write_capability = Capability.WORK_INBOX

    def get_serializer_class(self):
        return {"create": IncomingSerializer, "partial_update": TriageSerializer}.get(self.action, ItemSerializer)

    def get_serializer(self, *args, **kwargs):
        if self.action == "create":
            incoming = IncomingSerializer(*args, organization=self.organization, **kwargs)
            scope_choices(incoming, self.organization)
            return incoming
        return super().get_serializer(*args, **kwargs)

    def create(self, request, *args, **kwargs):
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        item, created = services.ingest(self.organization, incoming.voice(), actor=request.user)
        return ApiResponse(ItemSerializer(item).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def partial_update(self, request, *args, **kwargs):
        item = self.get_object()
        change = TriageSerializer(data=request.data, context=self.get_serializer_context())
        change.is_valid(raise_exception=True)
        d = dict(change.validated_data)
        version, tags = d.pop("version"), d.pop("tags", None)
        try:
            item = services.triage(item, request.user, version, tags=tags, **d)
        except services.StaleEdit:
            raise Conflict() from None
        except services.CaseNeedsRootCause as exc:
            raise ValidationError({"status": [str(exc.message)]}) from None
        return ApiResponse(ItemSerializer(item).data)

    # The item's activity, notes and messages are plain lists (no pages): pagination_class=None
    # makes the schema say so.
    @extend_schema(responses={200: ActivitySerializer(many=True)})
    @action(detail=True, methods=["get"], serializer_class=ActivitySerializer, pagination_class=None,
            filter_backends=[])
    def activity(self, request, pk=None):
        """The item's activity log: each entry's message id and parameters, and its text in the
        request's language."""
        item = self.get_object()
        return ApiResponse(ActivitySerializer(item.events.select_related("actor"), many=True).data)

    @extend_schema(methods=["GET"], responses={200: NoteSerializer(many=True)})
    @extend_schema(methods=["POST"], responses={201: NoteSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=NoteSerializer, pagination_class=None,
            filter_backends=[])
    def notes(self, request, pk=None):
        item = self.get_object()
        if request.method == "GET":
            return ApiResponse(NoteSerializer(item.notes.select_related("author"), many=True).data)
        note = NoteSerializer(data=request.data)
        note.is_valid(raise_exception=True)
        if not note.validated_data["text"].strip():
            raise ValidationError({"text": [_("The note is empty.")]})
        created = services.add_note(item, request.user, note.validated_data["text"])
        return ApiResponse(NoteSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses={200: MessageSerializer(many=True)})
    @extend_schema(methods=["POST"], responses={201: MessageSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=MessageSerializer, pagination_class=None,
            filter_backends=[])
    def messages(self, request, pk=None):
        """The conversation; `POST` sends a reply by e-mail (optionally moving the item to waiting or
        resolved, as seen at `version`)."""
        item = self.get_object()
        if request.method == "GET":
            return ApiResponse(MessageSerializer(item.messages.all(), many=True).data)
        body = MessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        if d.get("then_status") and not d.get("version"):
            raise ValidationError({"version": [_("A status change names the version of the item it was made on.")]})
        try:
            message = conversation.reply(item, request.user, d["text"], status=d.get("then_status"),
                                         version=d.get("version"))
        except conversation.ReplyError as exc:
            raise ValidationError({"text": [exc.args[0]]}) from None
        except conversation.StaleItem:
            raise Conflict() from None
        return ApiResponse(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class TagViewSet(AuditedSettingsMixin, OrgScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    write_capability = Capability.DESIGN


class TeamSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(many=True, queryset=get_user_model().objects.none(), required=False)
    lead = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.none(), required=False,
                                              allow_null=True)
    touchpoints = OrgPrimaryKey(many=True, queryset=Touchpoint.objects.all(), required=False)

    class Meta:
        model = Team
        fields = ["id", "name", "lead", "members", "touchpoints"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        agents = agents_of(self.context.get("organization"))
        self.fields["members"].child_relation.queryset = agents
        self.fields["lead"].queryset = agents

    def validate(self, attrs):
        if _taken(self, attrs, "name"):
            raise ValidationError({"name": [_("There is already a team with this name.")]})
        return attrs


class TeamViewSet(AuditedSettingsMixin, OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = Team.objects.prefetch_related("members", "touchpoints")
    serializer_class = TeamSerializer
    write_capability = Capability.ADMINISTER


class RoutingRuleSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    channel = OrgPrimaryKey(queryset=Channel.objects.all(), required=False, allow_null=True)
    touchpoint = OrgPrimaryKey(queryset=Touchpoint.objects.all(), required=False, allow_null=True)
    team = OrgPrimaryKey(queryset=Team.objects.all(), required=False, allow_null=True)
    add_tags = OrgPrimaryKey(queryset=Tag.objects.all(), many=True, required=False)

    class Meta:
        model = RoutingRule
        fields = ["id", "name", "position", "active", "source", "channel", "touchpoint", "rating_min", "rating_max",
                  "sentiment", "keywords", "segment", "add_tags", "set_priority", "team", "assign", "stop"]

    def validate(self, attrs):
        def value(name):  # a partial update is checked against what the rule already says
            return attrs.get(name, getattr(self.instance, name, None))

        with _setting_rules():
            configuration.check_rule(rating_min=value("rating_min"), rating_max=value("rating_max"),
                                     assign=value("assign"), team=value("team"))
        return attrs


class RoutingRuleViewSet(AuditedSettingsMixin, OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = RoutingRule.objects.prefetch_related("add_tags")
    serializer_class = RoutingRuleSerializer
    write_capability = Capability.ADMINISTER


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "09:00"})
class LocalTimeField(serializers.TimeField):
    """A wall-clock time without a zone ("09:00:00"): OpenAPI's `format: time` demands an offset."""


class SlaPolicySerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    day_start = LocalTimeField(required=False)
    day_end = LocalTimeField(required=False)

    class Meta:
        model = SlaPolicy
        fields = ["id", "priority", "first_response_hours", "resolution_hours", "business_hours", "day_start",
                  "day_end", "time_zone", "warn_before_minutes"]

    def validate_time_zone(self, value):
        try:
            configuration.check_time_zone(value)
        except DjangoValidationError as exc:
            raise ValidationError(exc.messages) from None
        return value

    def _value(self, attrs, name):
        """The value the policy will have: sent, else saved, else the model's default."""
        from datetime import time

        if name in attrs:
            return attrs[name]
        if self.instance is not None:
            return getattr(self.instance, name)
        default = SlaPolicy._meta.get_field(name).get_default()
        return time.fromisoformat(default) if isinstance(default, str) else default

    def validate(self, attrs):
        with _setting_rules():
            configuration.check_sla(self.context["organization"], priority=self._value(attrs, "priority"),
                                    day_start=self._value(attrs, "day_start"), day_end=self._value(attrs, "day_end"),
                                    instance=self.instance)
        return attrs


class SlaPolicyViewSet(AuditedSettingsMixin, OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = SlaPolicy.objects.all()
    serializer_class = SlaPolicySerializer
    write_capability = Capability.ADMINISTER


class CannedReplySerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = CannedReply
        fields = ["id", "title", "text", "language"]

    def validate(self, attrs):
        if _taken(self, attrs, "title", "language"):
            raise ValidationError({"title": [_("There is already a canned reply with this title in this language.")]})
        return attrs


class CannedReplyViewSet(AuditedSettingsMixin, OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = CannedReply.objects.all()
    serializer_class = CannedReplySerializer
    write_capability = Capability.DESIGN


class WebhookEndpointSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    signed = serializers.BooleanField(write_only=True, default=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "source", "active", "signed", "url", "secret", "received", "last_received_at"]
        read_only_fields = ["url", "secret", "received", "last_received_at"]

    def get_url(self, endpoint) -> str:
        from django.urls import reverse

        return settings.SITE_URL.rstrip("/") + reverse("feedback-webhook", kwargs={"token": endpoint.key})

    def create(self, validated_data):
        endpoint = webhooks.create_endpoint(validated_data["organization"], validated_data["name"],
                                            validated_data.get("source", FeedbackItem.Source.API),
                                            signed=validated_data.get("signed", True))
        if not validated_data.get("active", True):
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
            endpoint.active = False
        return endpoint

    def update(self, instance, validated_data):
        validated_data.pop("signed", None)
        return super().update(instance, validated_data)


class WebhookEndpointViewSet(AuditedSettingsMixin, OrgScopedViewSetMixin, viewsets.ModelViewSet):
    """Integrations' addresses; only administrators see them (the key and secret are credentials)."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    read_capability = write_capability = Capability.ADMINISTER


class WebhookReceiver(APIView):
    """`POST /hooks/feedback/<key>/`: one item or a list of up to 100, as the items API takes them;
    the endpoint decides the source. 201 when something new arrived, else 200."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=IncomingSerializer(many=True), responses=OpenApiTypes.OBJECT,
                   description="One item or a list of up to 100. When the endpoint has a secret: `X-CX-Delivery` "
                               "(an id unique to the delivery), `X-CX-Timestamp` (Unix seconds, within 5 minutes) "
                               "and `X-CX-Signature: sha256=<hex HMAC-SHA256 of \"<timestamp>.<delivery>.<body>\">`.")
    def post(self, request, token):
        endpoint = webhooks.endpoint_for(token)
        if endpoint is None:
            raise NotFound()
        timestamp = request.headers.get(webhooks.TIMESTAMP_HEADER, "").strip()
        delivery = request.headers.get(webhooks.DELIVERY_HEADER, "").strip()
        signature = request.headers.get(webhooks.SIGNATURE_HEADER, "")
        if not webhooks.signature_ok(endpoint, request.body, signature=signature, timestamp=timestamp,
                                     delivery=delivery):
            return ApiResponse({"detail": _("The signature is missing or wrong.")}, status=status.HTTP_401_UNAUTHORIZED)
        if endpoint.secret and not webhooks.fresh(timestamp):
            return ApiResponse({"detail": _("The timestamp is more than five minutes from now: check the sender's "
                                            "clock, and never send a captured request again.")},
                               status=status.HTTP_401_UNAUTHORIZED)
        if delivery and not webhooks.delivery_id_ok(delivery):
            raise ValidationError({"detail": _("The delivery id must be printable ASCII, at most %(n)d characters.")
                                   % {"n": webhooks.MAX_DELIVERY_ID}})
        if not ratelimit.hit(f"webhook:{endpoint.pk}", *WEBHOOK_LIMIT):
            return ApiResponse({"detail": _("Too many requests; try again in a minute.")},
                               status=status.HTTP_429_TOO_MANY_REQUESTS)
        entries = request.data if isinstance(request.data, list) else [request.data]
        if not entries or len(entries) > webhooks.MAX_ITEMS_PER_REQUEST:
            raise ValidationError({"detail": _("Send from 1 to %(n)d items at once.") % {
                "n": webhooks.MAX_ITEMS_PER_REQUEST}})
        incoming = IncomingSerializer(data=entries, many=True, organization=endpoint.organization)
        if not incoming.is_valid():
            # Nothing of a batch with a bad entry is kept, so the sender can fix it and send it again whole.
            return ApiResponse({"errors": incoming.errors}, status=status.HTTP_400_BAD_REQUEST)
        results = []
        with transaction.atomic():
            if delivery and not webhooks.take_delivery(endpoint, delivery):
                return ApiResponse({"detail": _("This delivery was received before; nothing was done again."),
                                    "items": []}, status=status.HTTP_200_OK)
            for data in incoming.validated_data:
                # `incoming` is the list serializer; its child knows how to turn an entry into a Voice.
                voice = incoming.child.voice(data, source=endpoint.source)
                item, created = services.ingest(endpoint.organization, voice)
                results.append({"id": item.pk, "created": created})
        webhooks.count_delivery(endpoint, len(results))
        any_new = any(r["created"] for r in results)
        return ApiResponse({"items": results}, status=status.HTTP_201_CREATED if any_new else status.HTTP_200_OK)


class RootCauseSerializer(NamedSerializerMixin, VersionedSerializerMixin, serializers.ModelSerializer):
    parent = OrgPrimaryKey(queryset=RootCause.objects.filter(parent__isnull=True), required=False, allow_null=True)

    class Meta:
        model = RootCause
        fields = ["id", "name", "names", "default_name", "parent", "active"]

    def validate(self, attrs):
        if _taken(self, attrs, "name", "parent"):
            raise ValidationError({"name": [_("There is already a root cause with this name here.")]})
        return attrs


class RootCauseViewSet(AuditedSettingsMixin, OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = RootCause.objects.select_related("parent")
    serializer_class = RootCauseSerializer
    write_capability = Capability.DESIGN


class CloseLoopRuleSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    survey = OrgPrimaryKey(queryset=CloseLoopRule._meta.get_field("survey").related_model.objects.all(),
                           required=False, allow_null=True)
    touchpoint = OrgPrimaryKey(queryset=Touchpoint.objects.all(), required=False, allow_null=True)
    channel = OrgPrimaryKey(queryset=Channel.objects.all(), required=False, allow_null=True)
    team = OrgPrimaryKey(queryset=Team.objects.all(), required=False, allow_null=True)
    tags = OrgPrimaryKey(queryset=Tag.objects.all(), many=True, required=False)

    class Meta:
        model = CloseLoopRule
        fields = ["id", "name", "position", "active", "survey", "survey_type", "touchpoint", "channel", "segment",
                  "band", "keywords", "negative_comment", "action", "tags", "priority", "team", "assign",
                  "contact_within_hours", "close_within_hours", "script_hint", "follow_up", "review_url"]

    def validate(self, attrs):
        def value(name):
            return attrs.get(name, getattr(self.instance, name, None))

        with _setting_rules():
            configuration.check_rule(rating_min=None, rating_max=None, assign=value("assign"), team=value("team"))
        if (value("close_within_hours") or 0) < (value("contact_within_hours") or 0):
            raise ValidationError({"close_within_hours": [_("The loop cannot close before the customer is called.")]})
        return attrs


class CloseLoopRuleViewSet(AuditedSettingsMixin, OrgScopedViewSetMixin, viewsets.ModelViewSet):
    """Close-loop rules; `POST …/<id>/apply/ {"days": 30}` runs one over past answers on purpose."""

    queryset = CloseLoopRule.objects.prefetch_related("tags")
    serializer_class = CloseLoopRuleSerializer
    write_capability = Capability.ADMINISTER

    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        rule = self.get_object()
        # Any JSON may arrive: a list or a string body has no "days".
        days = int_or_none(request.data.get("days") if isinstance(request.data, dict) else None, low=1, high=365)
        if days is None:
            raise ValidationError({"days": [_("Say how many days back to look: from 1 to 365.")]})
        return ApiResponse({"applied": loop.apply_rule(rule, days)})


class SavedViewSerializer(serializers.ModelSerializer):
    """A named set of inbox filters: `query` is the inbox's query string ("status=open&tag=price")."""

    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    query = serializers.CharField(max_length=1000, allow_blank=True, required=False, default="",
                                  help_text=_("The inbox's filters as a query string, e.g. status=new&priority=1."))
    inbox_url = serializers.SerializerMethodField()

    class Meta:
        model = SavedView
        fields = ["id", "name", "query", "shared", "owner", "inbox_url", "created_at"]
        read_only_fields = ["id", "owner", "created_at"]

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise ValidationError(_("Give the view a name."))
        return value

    def validate_query(self, value):
        # Kept as the inbox page keeps it: its filters only, in a stable order.
        query = selectors.filter_query(QueryDict(value))
        if len(query) > SavedView._meta.get_field("query").max_length:  # encoding can lengthen it
            raise ValidationError(_("Too many filters for one view."))
        return query

    def validate(self, attrs):
        if self.instance is not None and "name" in attrs and attrs["name"] != self.instance.name:
            clash = SavedView.objects.filter(organization=self.context["organization"], owner=self.instance.owner,
                                             name=attrs["name"]).exclude(pk=self.instance.pk)
            if clash.exists():
                raise ValidationError({"name": [_("You already have a view with this name.")]})
        return attrs

    def get_inbox_url(self, view) -> str:
        path = f"{reverse('feedback:index')}?{view.query}&saved={view.pk}" if view.query else \
            f"{reverse('feedback:index')}?saved={view.pk}"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class SavedViewViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    """The caller's saved inbox views and those shared with the team. `POST` saves one under a
    name (saving the caller's own name again replaces its filters: 200). Only its owner changes a
    view; its owner, or an administrator for a shared one, deletes it; for anyone else it is 404."""

    queryset = SavedView.objects.select_related("owner")
    serializer_class = SavedViewSerializer
    write_capability = Capability.WORK_INBOX
    filterset_fields = ["shared"]

    def get_queryset(self):
        visible = selectors.saved_views(self.organization, self.request.user)
        if self.action in ("update", "partial_update"):
            return visible.filter(owner=self.request.user)
        if self.action == "destroy":
            membership_can = _membership_can(self.request, Capability.ADMINISTER)
            return visible.filter(Q(owner=self.request.user) | Q(shared=True)) if membership_can else \
                visible.filter(owner=self.request.user)
        return visible

    @extend_schema(responses={201: SavedViewSerializer, 200: SavedViewSerializer})
    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        view, created = services.save_view(self.organization, request.user, d["name"], d.get("query", ""),
                                           shared=d.get("shared", False))
        return ApiResponse(self.get_serializer(view).data, status=status.HTTP_201_CREATED if created else 200)


class FeedbackImportJobSerializer(ImportJobReportSerializer):
    pass


class FeedbackImportJobViewSet(ImportJobViewSetMixin, mixins.CreateModelMixin, mixins.ListModelMixin,
                               mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imports of inbox items (reviews, chats, calls…) from CSV or XLSX."""

    queryset = FeedbackImportJob.objects.all()
    serializer_class = FeedbackImportJobSerializer
    model = FeedbackImportJob
    max_upload_bytes = importing.MAX_UPLOAD_BYTES
    read_capability = write_capability = Capability.WORK_INBOX
    filterset_fields = ["status"]

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer},
                   responses={201: FeedbackImportJobSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


def _membership_can(request, capability) -> bool:
    membership = _membership(request)
    return bool(membership and membership.can(capability))


ROUTES = [
    ("feedback/items", ItemViewSet, "feedback-item"),
    ("feedback/saved-views", SavedViewViewSet, "feedback-saved-view"),
    ("feedback/imports", FeedbackImportJobViewSet, "feedback-import"),
    ("feedback/tags", TagViewSet, "feedback-tag"),
    ("feedback/teams", TeamViewSet, "feedback-team"),
    ("feedback/routing-rules", RoutingRuleViewSet, "feedback-routing-rule"),
    ("feedback/sla-policies", SlaPolicyViewSet, "feedback-sla-policy"),
    ("feedback/canned-replies", CannedReplyViewSet, "feedback-canned-reply"),
    ("feedback/webhooks", WebhookEndpointViewSet, "feedback-webhook-endpoint"),
    ("feedback/root-causes", RootCauseViewSet, "feedback-root-cause"),
    ("feedback/close-loop-rules", CloseLoopRuleViewSet, "feedback-close-loop-rule"),
]
