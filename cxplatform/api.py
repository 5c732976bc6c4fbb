"""REST API of the platform core: customers and the caller's memberships."""

from django.utils.translation import gettext as _
from rest_framework import mixins, serializers, viewsets

from .api_access import OrgScopedViewSetMixin
from .models import Capability, Customer, Membership


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "external_id", "name", "email", "phone", "language", "attributes", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_external_id(self, value):
        org = self.context["organization"]
        clash = Customer.objects.for_org(org).filter(external_id=value).exclude(
            pk=getattr(self.instance, "pk", None)
        )
        if value and clash.exists():
            raise serializers.ValidationError(_("A customer with this external id already exists."))
        return value


class CustomerViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    read_capability = Capability.PERSONAL_DATA  # names, e-mails and phones: not for read-only viewers
    write_capability = Capability.WORK_INBOX
    filterset_fields = ["external_id", "email", "language"]


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
        return Membership.objects.filter(user=self.request.user).select_related("organization")


ROUTES = [
    ("customers", CustomerViewSet, "customer"),
    ("memberships", MembershipViewSet, "membership"),
]
