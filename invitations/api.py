"""REST API of invitations: triggers from other systems (and, in time, campaigns).

`POST /api/v1/triggers/` is how the shop, the CRM or the helpdesk says "this happened to this
customer"; each active trigger rule for the event queues a survey invitation after its delay.
Idempotent on the caller's key (the `Idempotency-Key` header or `idempotency_key`): the same key
again answers 200 with what the first call did and sends nothing more."""

import json

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response as ApiResponse

from cxplatform.api_access import OrgScopedViewSetMixin
from cxplatform.models import Capability
from cxplatform.personal_data import pseudonym
from cxplatform.services import normalise_phone
from journeys.models import Touchpoint

from . import services
from .models import Invitation, TriggerEvent

MAX_ATTRIBUTES = 50
MAX_PAYLOAD_CHARS = 10_000


class TriggerCustomerSerializer(serializers.Serializer):
    """Who it happened to: found by external id, else e-mail, else phone; created if new."""

    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, allow_blank=True)
    attributes = serializers.DictField(required=False, help_text="Segment attributes to set on the customer.")

    def validate_name(self, value):
        # The name goes into the e-mail's subject ({name}): a line break there would refuse the send.
        return " ".join(value.split())

    def validate_phone(self, value):
        phone = normalise_phone(value)
        if value.strip() and len(phone.lstrip("+")) < 5:
            raise serializers.ValidationError(_("This is not a phone number."))
        return phone

    def validate_attributes(self, value):
        if len(value) > MAX_ATTRIBUTES:
            raise serializers.ValidationError(_("At most %(n)d attributes.") % {"n": MAX_ATTRIBUTES})
        for name, item in value.items():
            if not str(name).strip() or len(str(name)) > 50:
                raise serializers.ValidationError(_("An attribute name is 1 to 50 characters long."))
            if not (item is None or isinstance(item, bool | int | float)
                    or (isinstance(item, str) and len(item) <= 200)):
                raise serializers.ValidationError(
                    _("The attribute %(name)s must be a text of up to 200 characters, a number or true/false.")
                    % {"name": name})
        return value

    def validate(self, data):
        if not any((data.get(key) or "").strip() for key in ("external_id", "email", "phone")):
            raise serializers.ValidationError(_("Name the customer: an external id, an e-mail or a phone."))
        return data


class TriggerSerializer(serializers.Serializer):
    """The body of `POST /api/v1/triggers/`."""

    event = serializers.SlugField(max_length=60, help_text="What happened, e.g. order_delivered.")
    idempotency_key = serializers.CharField(
        max_length=200, required=False, allow_blank=True,
        help_text="Your id of this event (or the Idempotency-Key header): the same key twice sends once.")
    customer = TriggerCustomerSerializer()
    touchpoint = serializers.IntegerField(required=False, allow_null=True,
                                          help_text="The id of one of your organization's touchpoints.")
    payload = serializers.DictField(required=False, help_text="Anything worth keeping with the event.")

    def validate_event(self, value):
        value = value.lower()
        if value in services.BUILT_IN_EVENTS:
            raise serializers.ValidationError(_("This event is sent by the platform itself."))
        return value

    def validate_touchpoint(self, value):
        # Another organization's touchpoint is answered exactly like one that does not exist.
        organization = self.context.get("organization")
        if value is not None and not Touchpoint.objects.for_org(organization).filter(pk=value).exists():
            raise serializers.ValidationError(_("There is no such touchpoint."))
        return value

    def validate_payload(self, value):
        if len(json.dumps(value, ensure_ascii=False)) > MAX_PAYLOAD_CHARS:
            raise serializers.ValidationError(
                _("The payload is longer than %(n)d characters.") % {"n": MAX_PAYLOAD_CHARS})
        return value


class TriggerInvitationSerializer(serializers.ModelSerializer):
    rule = serializers.IntegerField(source="trigger_rule_id", read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "rule", "status", "skip_reason", "send_after", "sent_at"]
        read_only_fields = fields


class TriggerEventSerializer(serializers.ModelSerializer):
    """A received event and what it set going."""

    customer_external_id = serializers.SerializerMethodField(
        help_text="The customer's id in your systems; a pseudonym for roles without access to personal data.")
    touchpoint = serializers.IntegerField(source="touchpoint_id", read_only=True, allow_null=True)
    payload = serializers.SerializerMethodField(help_text="As sent; null for roles without access to personal data.")
    invitations = TriggerInvitationSerializer(many=True, read_only=True)

    class Meta:
        model = TriggerEvent
        fields = ["id", "event", "idempotency_key", "customer", "customer_external_id", "touchpoint", "payload",
                  "rules_matched", "received_at", "invitations"]
        read_only_fields = fields

    def get_customer_external_id(self, obj) -> str:
        return obj.customer.external_id if self.context.get("personal_data") else pseudonym(obj.customer)

    def get_payload(self, obj) -> dict | None:
        return obj.payload if self.context.get("personal_data") else None


@extend_schema_view(
    list=extend_schema(summary="Events received", description="Newest first; filter by `event`."),
    create=extend_schema(
        summary="Send a trigger",
        request=TriggerSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                     description="Your id of the event; wins over the body's idempotency_key.")],
        responses={201: TriggerEventSerializer, 200: TriggerEventSerializer},
    ),
)
class TriggerViewSet(OrgScopedViewSetMixin, mixins.CreateModelMixin, mixins.ListModelMixin,
                     viewsets.GenericViewSet):
    """Events other systems sent (`GET`), and the way to send one (`POST`): writing needs the
    capability to manage surveys, as the rules it sets going do."""

    queryset = TriggerEvent.objects.select_related("customer").prefetch_related("invitations")
    serializer_class = TriggerEventSerializer
    filterset_fields = ["event"]
    write_capability = Capability.DESIGN

    def get_serializer_class(self):
        return TriggerSerializer if self.action == "create" else TriggerEventSerializer

    def create(self, request, *args, **kwargs):
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        key = (request.headers.get("Idempotency-Key") or data.get("idempotency_key") or "").strip()
        if not key:
            raise serializers.ValidationError({"idempotency_key": [_("An idempotency key is required.")]})
        if len(key) > 200:
            raise serializers.ValidationError(
                {"idempotency_key": [_("The idempotency key is longer than 200 characters.")]})
        person = data["customer"]
        try:
            result = services.receive_trigger(
                organization=self.organization, event=data["event"], idempotency_key=key,
                external_id=person.get("external_id", ""), email=person.get("email", ""),
                phone=person.get("phone", ""), name=person.get("name", ""), language=person.get("language", ""),
                attributes=person.get("attributes"), touchpoint_id=data.get("touchpoint"),
                payload=data.get("payload"))
        except services.TriggerError as exc:
            raise serializers.ValidationError({"detail": [str(exc)]}) from None
        event = self.get_queryset().get(pk=result.event.pk)
        body = TriggerEventSerializer(event, context=self.get_serializer_context()).data
        return ApiResponse(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


ROUTES: list = [
    ("triggers", TriggerViewSet, "trigger"),
]
