"""REST API of surveys: surveys, distributions (links) and responses, plus the server-to-server
way in for answers collected elsewhere (a call-centre system), idempotent on the caller's key."""

import uuid

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response as ApiResponse

from cxplatform.api_access import OrgScopedViewSetMixin, VersionedSerializerMixin
from cxplatform.models import Capability
from cxplatform.personal_data import pseudonym
from cxplatform.services import match_or_create_customer

from . import links, services
from .models import LANGUAGE_CODES, Distribution, Question, Response, Survey


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = ["id", "key", "kind", "position", "text", "required", "choices", "ask_importance"]


class SurveySerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    questions = QuestionSerializer(many=True, read_only=True)

    class Meta:
        model = Survey
        fields = ["id", "name", "survey_type", "status", "default_language", "starts_at", "ends_at", "title",
                  "score_question", "follow_up", "thank_you", "redirect_url", "questions", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_survey_type(self, value):
        if self.instance and value != self.instance.survey_type and self.instance.responses.exists():
            raise ValidationError(_("The type cannot change once answers exist."))
        return value

    def create(self, validated):
        survey = Survey(**{k: v for k, v in validated.items() if k not in self._texts})
        return services.save_survey(survey, {k: validated[k] for k in self._texts if k in validated},
                                    fill_defaults=True)

    _texts = ("title", "score_question", "follow_up", "thank_you")


class DistributionSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Distribution
        fields = ["id", "survey", "name", "touchpoint", "channel", "active", "public_id", "url", "created_at"]
        read_only_fields = ["id", "public_id", "created_at"]

    def get_url(self, obj) -> str:
        request = self.context.get("request")
        path = links.survey_url(obj)
        return request.build_absolute_uri(path) if request else path


class ResponseSerializer(serializers.ModelSerializer):
    answers = serializers.SerializerMethodField()
    customer_external_id = serializers.SerializerMethodField(
        help_text="The customer's id in your systems; a pseudonym for roles without access to personal data.")

    class Meta:
        model = Response
        fields = ["id", "token", "survey", "distribution", "touchpoint", "channel", "customer",
                  "customer_external_id", "language", "score", "band", "comment", "hidden_fields", "status",
                  "source", "client_key", "started_at", "submitted_at", "answers"]
        read_only_fields = fields

    def get_customer_external_id(self, obj) -> str | None:
        if obj.customer is None:
            return None
        return obj.customer.external_id if self.context.get("personal_data") else pseudonym(obj.customer)

    def get_answers(self, obj) -> dict:
        return {
            a.question.key: {"number": a.number, "importance": a.importance, "text": a.text, "choices": a.choices}
            for a in obj.answers.all()
        }


class RecordSerializer(serializers.Serializer):
    """An answer collected elsewhere. `client_key` (or the Idempotency-Key header) makes a retry
    update the same response instead of adding one."""

    distribution = serializers.CharField(help_text="public_id of the link the answer belongs to")
    client_key = serializers.CharField(max_length=100, required=False, allow_blank=True)
    customer_external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    customer_email = serializers.EmailField(required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=LANGUAGE_CODES, required=False)
    answers = serializers.DictField(help_text="score, comment and question keys, as on the survey page")
    hidden_fields = serializers.DictField(child=serializers.CharField(max_length=200), required=False)
    submitted_at = serializers.CharField(required=False)

    def validate_hidden_fields(self, value):
        if len(value) > links.HIDDEN_FIELD_MAX:
            raise ValidationError(_("At most %(n)d hidden fields.") % {"n": links.HIDDEN_FIELD_MAX})
        return value


class SurveyViewSet(OrgScopedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                    viewsets.ReadOnlyModelViewSet):
    queryset = Survey.objects.prefetch_related("questions")
    serializer_class = SurveySerializer
    filterset_fields = ["status", "survey_type"]


class DistributionViewSet(OrgScopedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                          viewsets.ReadOnlyModelViewSet):
    queryset = Distribution.objects.all()
    serializer_class = DistributionSerializer
    filterset_fields = ["survey", "touchpoint", "channel", "active"]


class ResponseViewSet(OrgScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Response.objects.select_related("customer").prefetch_related("answers__question")
    serializer_class = ResponseSerializer
    filterset_fields = ["survey", "distribution", "touchpoint", "channel", "band", "status", "language"]
    write_capability = Capability.WORK_INBOX

    def get_serializer_class(self):
        return RecordSerializer if self.action == "create" else ResponseSerializer

    def create(self, request, *args, **kwargs):
        incoming = RecordSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        org = self.organization
        distribution = Distribution.objects.for_org(org).select_related("survey").filter(
            public_id=data["distribution"]).first()
        if distribution is None:
            raise ValidationError({"distribution": _("Not found.")})
        survey = distribution.survey
        client_key = (request.headers.get("Idempotency-Key") or data.get("client_key") or "").strip()[:100]
        submitted_at = None
        if data.get("submitted_at"):
            try:
                submitted_at = parse_datetime(data["submitted_at"])
            except ValueError:  # well-formed, but no such moment: 2026-02-30, 25:00
                raise ValidationError({"submitted_at": _("There is no such date and time: check the day and the hour.")
                                       }) from None
            if submitted_at is None or submitted_at.tzinfo is None:
                raise ValidationError({"submitted_at": _("Use an ISO 8601 date and time with a time zone.")})
        try:
            services.ensure_accepting(survey, distribution)
            submission = services.clean_submission(survey, data["answers"], complete=True)
            response, created = services.record_response(
                survey=survey, submission=submission, complete=True,
                language=data.get("language") or survey.default_language, source=Response.Source.API,
                distribution=distribution, client_key=client_key or f"api:{uuid.uuid4().hex}",
                customer=_customer(org, data), hidden=data.get("hidden_fields"), submitted_at=submitted_at,
            )
        except services.SubmissionError as exc:
            raise ValidationError({"answers": exc.errors}) from None
        except services.SurveyUnavailable as exc:
            raise ValidationError({"distribution": _("The survey does not take answers now (%(reason)s).")
                                   % {"reason": exc.reason}}) from None
        body = ResponseSerializer(Response.objects.prefetch_related("answers__question").get(pk=response.pk),
                                  context=self.get_serializer_context()).data
        return ApiResponse(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _customer(org, data):
    return match_or_create_customer(
        org, external_id=data.get("customer_external_id", ""), email=data.get("customer_email", "")
    )


ROUTES = [
    ("surveys", SurveyViewSet, "survey"),
    ("distributions", DistributionViewSet, "distribution"),
    ("responses", ResponseViewSet, "response"),
]
