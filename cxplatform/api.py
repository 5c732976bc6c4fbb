"""REST API of the platform core: customers, the caller's memberships and notifications."""

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import branding, customer_import, import_jobs, services
from .api_access import OrgScopedViewSetMixin, SafeMultiPartParser, scope_choices
from .forms import ImportUploadForm
from .models import Branding, Capability, Customer, CustomerImportJob, Membership, Notification
from .tenancy import memberships_of


class CustomerSerializer(serializers.ModelSerializer):
    # Churn and CLV read these: what the customer has paid to date, since when they are one, and
    # when they left (null while they stay).
    revenue = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False,
                                       coerce_to_string=True)

    class Meta:
        model = Customer
        fields = ["id", "external_id", "name", "email", "phone", "language", "attributes", "revenue",
                  "active_since", "cancelled_on", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate(self, attrs):
        # The same rule as the customer import's: a partial update is checked against the saved dates.
        dates = Customer(**{name: attrs.get(name, getattr(self.instance, name, None))
                            for name in ("active_since", "cancelled_on")})
        if not customer_import.dates_in_order(dates):
            raise serializers.ValidationError({"cancelled_on": [customer_import.dates_error()]})
        return attrs

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


# ---------------------------------------------------------------------------------------------
# Import jobs: the same upload, checks and background job as the import pages, for every kind.


class ImportJobReportSerializer(serializers.Serializer):
    """An import job with its progress and report (the page's, as JSON)."""

    id = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=CustomerImportJob.Status.choices, read_only=True)
    original_name = serializers.CharField(read_only=True, help_text=gettext_lazy("The uploaded file's name."))
    total_rows = serializers.IntegerField(read_only=True, help_text=gettext_lazy("An estimate until the job ends."))
    processed_rows = serializers.IntegerField(read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)
    counters = serializers.SerializerMethodField(
        help_text=gettext_lazy("The kind's own counts, as its import command reports them (created, updated…)."))
    error_rows = serializers.IntegerField(read_only=True)
    errors = serializers.ListField(child=serializers.DictField(), read_only=True,
                                   help_text=gettext_lazy('The first bad rows: [{"row": 12, "reason": "…"}].'))
    ignored_columns = serializers.ListField(child=serializers.CharField(), read_only=True)
    failure = serializers.CharField(read_only=True, help_text=gettext_lazy("Why the whole job failed, if it did."))
    created_at = serializers.DateTimeField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_counters(self, job) -> dict[str, int]:
        return {counter["key"]: counter["value"] for counter in job.counters}


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("A .csv (UTF-8) or .xlsx file with a header row."))


class ImportJobViewSetMixin(OrgScopedViewSetMixin):
    """List, read and create (`multipart/form-data` upload of `file`) an import job of `model`. The
    upload is checked as the page checks it (kind, size, header) and refused with 400; accepted,
    it is queued for a worker: follow `status` and `progress_percent` on the job."""

    parser_classes = [SafeMultiPartParser]
    model = CustomerImportJob
    max_upload_bytes = customer_import.MAX_UPLOAD_BYTES

    def get_queryset(self):
        return super().get_queryset().filter(**self.job_context_filter())

    def job_context_filter(self) -> dict:
        return {}

    def job_fields(self, upload_body) -> dict:
        """What the job needs besides its file (its survey…), from the checked upload body."""
        return {}

    def upload_serializer_class(self):
        return ImportUploadSerializer

    def create(self, request, *args, **kwargs):
        body = self.upload_serializer_class()(data=request.data, context=self.get_serializer_context())
        scope_choices(body, self.organization)  # the job's survey is one of the organization's
        body.is_valid(raise_exception=True)
        fields = self.job_fields(body.validated_data)
        form = ImportUploadForm(data={}, files={"file": body.validated_data["file"]}, max_bytes=self.max_upload_bytes,
                                job=self.model(organization=self.organization, created_by=request.user, **fields))
        if not form.is_valid():
            raise serializers.ValidationError({name: list(errors) for name, errors in form.errors.items()})
        upload = form.cleaned_data["file"]
        job = import_jobs.create_job(self.model, organization=self.organization, upload=upload,
                                     original_name=upload.name, user=request.user, **fields)
        return Response(self.get_serializer(job).data, status=201)


class CustomerImportJobSerializer(ImportJobReportSerializer):
    pass


class CustomerImportJobViewSet(ImportJobViewSetMixin, mixins.CreateModelMixin, mixins.ListModelMixin,
                               mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Customers from CSV or XLSX (revenue, active and cancelled dates, segment attributes)."""

    queryset = CustomerImportJob.objects.all()
    serializer_class = CustomerImportJobSerializer
    filterset_fields = ["status"]
    read_capability = Capability.DESIGN  # the report names customers' rows and ids
    write_capability = Capability.DESIGN

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer},
                   responses={201: CustomerImportJobSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Branding: the organization's one colour, font and logo, checked as the settings page checks them.


@extend_schema_serializer(many=False)  # served on the list route, yet one object
class BrandingSerializer(serializers.Serializer):
    colour = serializers.CharField(max_length=32, help_text=gettext_lazy(
        "#rrggbb; refused below WCAG AA contrast (4.5:1) against white, with the nearest readable shade named."))
    font = serializers.ChoiceField(choices=Branding.Font.choices)
    logo = serializers.FileField(write_only=True, required=False, help_text=gettext_lazy(
        "PNG, JPEG or WebP, at most 512 KB and 2000×2000 pixels (multipart/form-data); left out, the logo stays."))
    remove_logo = serializers.BooleanField(write_only=True, required=False, default=False)
    logo_url = serializers.SerializerMethodField(help_text=gettext_lazy("Where the logo is served; null without one."))
    on_colour = serializers.SerializerMethodField(help_text=gettext_lazy(
        "The text colour used on the brand colour (white or near-black, whichever reads better)."))

    def get_logo_url(self, instance) -> str | None:
        path = branding.logo_path(instance)
        return settings.SITE_URL.rstrip("/") + path if path else None

    def get_on_colour(self, instance) -> str:
        colour = instance.colour.lower() if branding.HEX.match(instance.colour) else branding.DEFAULT_COLOUR
        return branding.text_on(colour)


class BrandingViewSet(OrgScopedViewSetMixin, viewsets.GenericViewSet):
    """The organization's branding (public survey pages, embeds, e-mails) at the collection's own
    URL: `GET` reads it, `PUT` changes colour and font (and the logo, sent as multipart), `PATCH`
    only what it names. A refused value is a 400 naming the field, and nothing changes."""

    queryset = Branding.objects.none()
    serializer_class = BrandingSerializer
    pagination_class = None
    filter_backends = []
    write_capability = Capability.ADMINISTER

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        # One row per organization, so no id names it: the list route also takes the changes.
        return super().as_view({**(actions or {}), "put": "change", "patch": "change_partly"}, **initkwargs)

    @extend_schema(responses={200: BrandingSerializer})
    def list(self, request, *args, **kwargs):
        return Response(self.get_serializer(branding.branding_of(self.organization)).data)

    @extend_schema(request=BrandingSerializer, responses={200: BrandingSerializer})
    def change(self, request, *args, **kwargs):
        return self._change(request, partial=False)

    @extend_schema(request=BrandingSerializer(partial=True), responses={200: BrandingSerializer})
    def change_partly(self, request, *args, **kwargs):
        return self._change(request, partial=True)

    def _change(self, request, *, partial: bool):
        body = self.get_serializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            saved = branding.save_branding(organization=self.organization, request=request,
                                           colour=data.get("colour"), font=data.get("font"), logo=data.get("logo"),
                                           remove_logo=data.get("remove_logo", False))
        except branding.BrandingRefused as refused:
            raise serializers.ValidationError({field: [message] for field, message in refused.errors.items()}) from None
        return Response(self.get_serializer(saved).data)


ROUTES = [
    ("branding", BrandingViewSet, "branding"),
    ("customers", CustomerViewSet, "customer"),
    ("customer-imports", CustomerImportJobViewSet, "customerimportjob"),
    ("notifications", NotificationViewSet, "notification"),
    ("memberships", MembershipViewSet, "membership"),
]
