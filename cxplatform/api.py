"""REST API of the platform core: customers, the caller's memberships and notifications."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import services
from .api_access import OrgScopedViewSetMixin
from .models import Capability, Customer, Membership, Notification
from .tenancy import memberships_of


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "external_id", "name", "email", "phone", "language", "attributes", "created_at"]
        read_only_fields = ["id", "created_at"]

    def _unique(self, field: str, value: str, message: str) -> str:
        if services.identity_taken(self.context["organization"], field=field, value=value,
                                   exclude_pk=getattr(self.instance, "pk", None)):
            raise serializers.ValidationError(message)
        return value

    def validate_external_id(self, value):
        return self._unique("external_id", value, _("A customer with this external id already exists."))

    def validate_email(self, value):
        return self._unique("email", value, _("A customer with this e-mail already exists."))

    def validate_phone(self, value):
        return self._unique("phone", services.normalise_phone(value), _("A customer with this phone already exists."))


class CustomerViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    read_capability = Capability.PERSONAL_DATA  # names, e-mails and phones: not for read-only viewers
    write_capability = Capability.WORK_INBOX
    filterset_fields = ["external_id", "email", "language"]

    def perform_create(self, serializer):
        try:
            with transaction.atomic():
                super().perform_create(serializer)
        except IntegrityError:  # a concurrent request created the same customer between check and insert
            raise serializers.ValidationError(
                {"detail": [_("A customer with this external id, e-mail or phone already exists.")]}) from None

    def perform_update(self, serializer):
        try:
            with transaction.atomic():
                super().perform_update(serializer)
        except IntegrityError:
            raise serializers.ValidationError(
                {"detail": [_("A customer with this external id, e-mail or phone already exists.")]}) from None


class MembershipSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["organization", "organization_name", "role"]


class MembershipViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The organizations the caller belongs to and their role in each (choose one with the
    `X-Organization` header)."""

    queryset = Membership.objects.none()  # for the schema; get_queryset() is per caller
    serializer_class = MembershipSerializer
    pagination_class = None

    def get_queryset(self):
        return memberships_of(self.request.user)


class NotificationSerializer(serializers.ModelSerializer):
    text = serializers.SerializerMethodField(help_text=gettext_lazy("In the request's language."))

    class Meta:
        model = Notification
        fields = ["id", "kind", "message_id", "params", "text", "link", "read_at", "created_at"]
        read_only_fields = fields

    def get_text(self, notification) -> str:
        return notification.rendered()


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False,
                                help_text=gettext_lazy("The notifications to mark read; all of them when left out."))


class NotificationViewSet(OrgScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications in this organization (the bell), newest first: each one's
    message id and parameters, and its text in the request's language."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    write_capability = Capability.VIEW  # one's own read state, not the organization's data
    filterset_fields = ["kind"]

    def get_queryset(self):
        return super().get_queryset().filter(user=self.request.user, in_bell=True)

    @action(detail=False, methods=["post"], serializer_class=MarkReadSerializer)
    def read(self, request):
        body = MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = body.validated_data.get("ids")
        if ids is None:
            marked = services.mark_read(user=request.user, organization=self.organization)
        else:
            marked = sum(services.mark_read(user=request.user, organization=self.organization, notification_id=pk)
                         for pk in ids)
        return Response({"marked": marked})


ROUTES = [
    ("customers", CustomerViewSet, "customer"),
    ("notifications", NotificationViewSet, "notification"),
    ("memberships", MembershipViewSet, "membership"),
]
