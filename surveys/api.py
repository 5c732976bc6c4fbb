"""REST API of surveys: surveys, distributions (links) and responses, plus the server-to-server
way in for answers collected elsewhere (a call-centre system), idempotent on the caller's key."""

import uuid

import django_filters
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response as ApiResponse

from cxplatform import audit
from cxplatform.api import ImportJobReportSerializer, ImportJobViewSetMixin, ImportUploadSerializer
from cxplatform.api_access import OrgScopedViewSetMixin, VersionedSerializerMixin
from cxplatform.models import Capability
from cxplatform.personal_data import pseudonym
from cxplatform.selectors import customers_by_reference
from cxplatform.services import find_customer, match_or_create_customer
from cxplatform.versioning import StaleEdit

from . import answers, importing, links, retention, revisions, services
from .models import LANGUAGE_CODES, ContactPolicy, Distribution, ImportJob, Question, Response, RetentionOffer, Survey


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


QUESTION_FIELDS = ["id", "key", "kind", "page", "position", "text", "required", "choices", "allow_other", "shuffle",
                   "rows", "scale_min", "scale_max", "ask_importance", "show_if"]
SHOW_IF_HELP = ("Shown only when this holds, in surveys.logic's format: {\"field\": \"answer.<key>\", \"op\": "
                "\"equals\", \"value\": \"x\"}, or {\"all\"|\"any\": [...]}, {\"not\": ...}; {} always.")


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = QUESTION_FIELDS


class ChoiceSerializer(serializers.Serializer):
    value = serializers.SlugField(max_length=100)
    label = serializers.DictField(child=serializers.CharField(max_length=300, allow_blank=True), required=False,
                                  help_text="Per language: {\"en\": \"Price\", \"ru\": \"Цена\", \"lv\": \"Cena\"}")


def _options(value: list) -> list:
    """Options or rows: each value once, labels checked like the page's."""
    values = [choice["value"] for choice in value]
    if len(set(values)) != len(values):
        raise ValidationError(_("Each option needs its own value."))
    return [{"value": choice["value"], "label": _language_texts(choice.get("label", {}), 300)} for choice in value]


def _refusal(exc) -> dict:
    """A design change the survey cannot take (services.DesignRefused) as the API's 400 body."""
    return {field or "non_field_errors": [message] for field, message in exc.fields.items()}


def _language_texts(value: dict, max_length: int) -> dict:
    """Texts per language: known languages only, blank ones left out, each checked like the page's."""
    unknown = set(value) - set(LANGUAGE_CODES)
    if unknown:
        raise ValidationError(_("Unknown languages: %(codes)s.") % {"codes": ", ".join(sorted(unknown))})
    cleaned = {}
    for code, text in value.items():
        try:
            text = services.clean_text(text, max_length=max_length).strip()
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if text:
            cleaned[code] = text
    return cleaned


class QuestionWriteSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    """A question of a survey, of any kind (`rows` and the scale for a matrix or a rating, `choices`
    for choices and rankings, `show_if` in surveys.logic's format). `survey` is given when it is
    made and never changes; a question with answers keeps its kind, and deleting it archives it."""

    survey = serializers.PrimaryKeyRelatedField(queryset=Survey.objects.all())
    key = serializers.SlugField(max_length=60, help_text="Column name in imports and exports.")
    text = serializers.DictField(child=serializers.CharField(max_length=2000, allow_blank=True),
                                 help_text="Per language: {\"en\": \"…\", \"ru\": \"…\", \"lv\": \"…\"}")
    choices = ChoiceSerializer(many=True, required=False, max_length=100,
                               help_text="The options of a choice question or a ranking.")
    rows = ChoiceSerializer(many=True, required=False, max_length=100, help_text="The rows of a matrix.")
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    page = serializers.IntegerField(min_value=1, max_value=32767, required=False)
    scale_min = serializers.IntegerField(min_value=-32768, max_value=32767, required=False)
    scale_max = serializers.IntegerField(min_value=-32768, max_value=32767, required=False)
    show_if = serializers.JSONField(required=False, help_text=SHOW_IF_HELP)

    class Meta:
        model = Question
        fields = ["id", "survey", *QUESTION_FIELDS[1:]]
        read_only_fields = ["id"]
        validators = []  # services.question_problems names the key that is taken, in the page's words

    def validate_survey(self, value):
        if self.instance is not None and value.pk != self.instance.survey_id:
            raise ValidationError(_("A question cannot move to another survey."))
        return value

    def validate_text(self, value):
        return _language_texts(value, 2000)

    def validate_choices(self, value):
        return _options(value)

    def validate_rows(self, value):
        return _options(value)

    def validate_show_if(self, value):
        problem = answers.condition_shape_problem(value)
        if problem:
            raise ValidationError(problem)
        return value or {}

    def validate(self, attrs):
        def value(name, default=None):  # a partial update is checked against what the question says
            return attrs.get(name, getattr(self.instance, name, default))

        # The builder's own checks, so a question made through the API is one the builder would take.
        problems = services.question_problems(
            value("survey"), key=value("key"), kind=value("kind"), text=value("text", {}),
            choices=value("choices", []), question=self.instance, rows=value("rows", []),
            scale_min=value("scale_min", 1), scale_max=value("scale_max", 5))
        if problems:
            raise ValidationError({field: [message] for field, message in problems.items()})
        return attrs

    def _save(self, question, validated):
        text, choices = validated.pop("text", question.text), validated.pop("choices", question.choices)
        rows = validated.pop("rows", question.rows)
        version = validated.pop("version", None)
        survey = validated.pop("survey", None) or question.survey
        for name, given in validated.items():
            setattr(question, name, given)
        try:
            # The survey's logic is checked with the question in place; a live survey gets a revision.
            return services.save_question(question=question, survey=survey, text=text, choices=choices, rows=rows,
                                          user=self.context["request"].user, version=version)
        except StaleEdit as exc:
            raise Conflict(str(exc)) from None
        except services.DesignRefused as exc:
            raise ValidationError(_refusal(exc)) from None

    def create(self, validated):
        return self._save(Question(), dict(validated))

    def update(self, instance, validated):
        return self._save(instance, dict(validated))


class SurveySerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    """A survey. Setting `status` to "active" publishes it: refused (400, the reasons under `status`)
    while its logic is unsound or a text is missing in one of its languages; each change to a live
    survey must stay publishable and becomes its next `revision`."""

    questions = QuestionSerializer(many=True, read_only=True)

    class Meta:
        model = Survey
        fields = ["id", "name", "survey_type", "status", "default_language", "starts_at", "ends_at", "title",
                  "score_question", "follow_up", "thank_you", "redirect_url", "pages", "language_codes", "revision",
                  "questions", "created_at"]
        # Pages (with their jumps) and languages are changed in the builder, where each change is
        # checked against the survey's logic; `revision` is the last one published.
        read_only_fields = ["id", "created_at", "pages", "language_codes", "revision"]

    def validate_survey_type(self, value):
        if self.instance and value != self.instance.survey_type and self.instance.responses.exists():
            raise ValidationError(_("The type cannot change once answers exist."))
        return value

    def create(self, validated):
        status_wanted = validated.pop("status", Survey.Status.DRAFT)
        with transaction.atomic():
            survey = Survey(**{k: v for k, v in validated.items() if k not in self._texts})
            survey = services.save_survey(survey, {k: validated[k] for k in self._texts if k in validated},
                                          fill_defaults=True)
            self._set_status(survey, status_wanted)
        return survey

    def update(self, instance, validated):
        status_wanted = validated.pop("status", instance.status)
        with transaction.atomic():
            texts = {k: validated.pop(k) for k in self._texts if k in validated}
            version = validated.pop("version", None)
            for name, given in validated.items():
                setattr(instance, name, given)
            try:  # a live survey's change must stay publishable and becomes its next revision
                services.edit_survey(survey=instance, texts=texts, version=version, user=self._user())
            except services.DesignRefused as exc:
                raise ValidationError(_refusal(exc)) from None
            if status_wanted != instance.status:
                self._set_status(instance, status_wanted)
        instance.refresh_from_db()
        return instance

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def _set_status(self, survey: Survey, wanted: str) -> None:
        """The builder's rule (services.set_status): going live is publishing, checked and stored as
        a revision; only a live survey pauses; a survey never goes back to draft."""
        try:
            services.set_status(survey=survey, status=wanted, user=self._user())
        except revisions.PublishBlocked as exc:
            raise ValidationError({"status": exc.problems}) from None
        except services.DesignRefused as exc:
            raise ValidationError({"status": exc.problems}) from None
        survey.refresh_from_db()

    _texts = ("title", "score_question", "follow_up", "thank_you")


def _absolute(context, path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request else path


class DistributionSerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    """A link of a survey: its public URL, QR codes and the snippets that embed it in a site."""

    url = serializers.SerializerMethodField()
    qr_png_url = serializers.SerializerMethodField(help_text="The link's QR code (PNG), for print.")
    qr_svg_url = serializers.SerializerMethodField(help_text="The link's QR code (SVG).")
    embed_script = serializers.SerializerMethodField(help_text="A <script> that shows the survey on a site.")
    embed_iframe = serializers.SerializerMethodField(help_text="An <iframe> that shows the survey on a site.")

    class Meta:
        model = Distribution
        fields = ["id", "survey", "name", "touchpoint", "channel", "active", "public_id", "url", "qr_png_url",
                  "qr_svg_url", "embed_script", "embed_iframe", "created_at"]
        read_only_fields = ["id", "public_id", "created_at"]

    def validate_survey(self, value):
        if self.instance is not None and value.pk != self.instance.survey_id:
            raise ValidationError(_("A link cannot move to another survey: make a new one."))
        return value

    def get_url(self, obj) -> str:
        return _absolute(self.context, links.survey_url(obj))

    def _qr(self, obj, kind):
        return _absolute(self.context, reverse(f"surveys:distribution_qr_{kind}",
                                               kwargs={"survey_id": obj.survey_id, "distribution_id": obj.pk}))

    def get_qr_png_url(self, obj) -> str:
        return self._qr(obj, "png")

    def get_qr_svg_url(self, obj) -> str:
        return self._qr(obj, "svg")

    def get_embed_script(self, obj) -> str:
        return f'<script src="{_absolute(self.context, f"/s/{obj.public_id}/embed.js")}" async></script>'

    def get_embed_iframe(self, obj) -> str:
        return (f'<iframe src="{self.get_url(obj)}" title="Survey" loading="lazy" width="100%" height="620" '
                f'style="max-width:640px;border:0"></iframe>')


PERSONAL_LINKS_MAX = 1000


class PersonalLinksSerializer(serializers.Serializer):
    customers = serializers.ListField(
        child=serializers.CharField(max_length=200), min_length=1, max_length=PERSONAL_LINKS_MAX,
        help_text="Each customer's id, external id or e-mail (as on the link's page).")
    hidden_fields = serializers.DictField(child=serializers.CharField(max_length=200, allow_blank=True),
                                          required=False, help_text="The same hidden fields in every link.")
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, allow_blank=True,
                                       help_text="The page's language; else the customer's, or the browser's.")

    def validate_hidden_fields(self, value):
        if len(value) > links.HIDDEN_FIELD_MAX:
            raise ValidationError(_("At most %(n)d hidden fields.") % {"n": links.HIDDEN_FIELD_MAX})
        if any(not name.strip() for name in value):
            raise ValidationError(_("Write each hidden field as name=value."))
        return value


class OneClickLinkSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    url = serializers.CharField()


class PersonalLinkSerializer(serializers.Serializer):
    reference = serializers.CharField(help_text="The customer as the request named them.")
    customer = serializers.IntegerField()
    url = serializers.CharField()
    one_click = OneClickLinkSerializer(many=True, help_text="A link per score for an e-mail (not for CSI).")


class ResponseSerializer(serializers.ModelSerializer):
    answers = serializers.SerializerMethodField()
    customer_external_id = serializers.SerializerMethodField(
        help_text="The customer's id in your systems; a pseudonym for roles without access to personal data.")

    class Meta:
        model = Response
        fields = ["id", "token", "survey", "revision", "distribution", "touchpoint", "channel", "customer",
                  "customer_external_id", "language", "score", "band", "comment", "hidden_fields", "status",
                  "source", "client_key", "started_at", "submitted_at", "answers"]
        read_only_fields = fields

    def get_customer_external_id(self, obj) -> str | None:
        if obj.customer is None:
            return None
        return obj.customer.external_id if self.context.get("personal_data") else pseudonym(obj.customer)

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "object", "properties": {
        "kind": {"type": "string"}, "number": {"type": "integer", "nullable": True},
        "importance": {"type": "integer", "nullable": True}, "text": {"type": "string"},
        "choices": {"type": "array", "items": {"type": "string"}},
        "grid": {"type": "object", "additionalProperties": {"type": "integer"}}}}})
    def get_answers(self, obj) -> dict:
        """Per question key: the number (rating, CSI), its importance, the text (open text, or what
        "Other" was), the choices (chosen options; a ranking's in order; ["yes"]/["no"]) and the grid
        (a matrix: {row: number}). An archived question's answer is kept under its key."""
        return {
            a.question.key: {"kind": a.question.kind, "number": a.number, "importance": a.importance,
                             "text": a.text, "choices": a.choices, "grid": a.grid}
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
    answers = serializers.DictField(help_text=(
        "score, comment and question keys, as on the survey page: a rating or CSI attribute a number "
        "(`<key>__importance` 1–5); a choice its value, or \"_other\" with `<key>__other`; several choices a "
        "list; a matrix {row: number}; a ranking the options in order; yes/no \"yes\" or \"no\"; consent "
        "\"yes\". An answer to a question the survey's logic does not show is dropped."))
    hidden_fields = serializers.DictField(child=serializers.CharField(max_length=200), required=False)
    submitted_at = serializers.CharField(required=False)

    def validate_hidden_fields(self, value):
        if len(value) > links.HIDDEN_FIELD_MAX:
            raise ValidationError(_("At most %(n)d hidden fields.") % {"n": links.HIDDEN_FIELD_MAX})
        return value


class SurveyViewSet(OrgScopedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                    mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Surveys. `DELETE` deletes a survey nobody answered (204); one with answers is closed instead
    and answered 200 with the survey (`"status": "closed"`), so no figure loses its answers."""

    queryset = Survey.objects.prefetch_related("questions")
    serializer_class = SurveySerializer
    filterset_fields = ["status", "survey_type"]

    @extend_schema(responses={200: SurveySerializer, 204: None, 409: OpenApiTypes.OBJECT})
    def destroy(self, request, *args, **kwargs):
        survey = self.get_object()
        outcome = services.delete_survey(survey)
        if outcome == "in_use":
            raise Conflict(_("Invitation campaigns or trigger rules still send this survey's links: "
                             "remove it from them first."))
        if outcome == "closed":
            return ApiResponse(self.get_serializer(self.get_queryset().get(pk=survey.pk)).data)
        return ApiResponse(status=status.HTTP_204_NO_CONTENT)


class QuestionFilter(django_filters.FilterSet):
    survey = django_filters.NumberFilter(field_name="survey_id")

    class Meta:
        model = Question
        fields = ["survey", "kind"]


class QuestionViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    """A survey's questions besides its score, checked as the builder checks them (per kind, then the
    survey's logic); on a live survey each change becomes its next revision. `DELETE` of one with
    answers archives it with them; a question a rule still looks at is kept (409)."""

    queryset = Question.objects.all()
    serializer_class = QuestionWriteSerializer
    filterset_class = QuestionFilter

    @extend_schema(responses={204: None, 409: OpenApiTypes.OBJECT})
    def destroy(self, request, *args, **kwargs):
        """A question nobody answered is deleted; one with answers leaves the survey but is archived
        with them (the responses and exports still show it). Refused (409) while a rule or a jump
        of the survey looks at it."""
        try:
            services.delete_question(question=self.get_object(), user=request.user)
        except services.DesignRefused as exc:
            raise Conflict("; ".join(exc.problems)) from None
        return ApiResponse(status=status.HTTP_204_NO_CONTENT)


class DistributionViewSet(OrgScopedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                          mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Survey links. `DELETE` deletes a link nobody answered through (204); one with answers is
    switched off instead (200, `"active": false`). `POST <id>/personal-links/` signs a personal
    link for each of up to 1000 customers at once."""

    queryset = Distribution.objects.all()
    serializer_class = DistributionSerializer
    filterset_fields = ["survey", "touchpoint", "channel", "active"]

    @extend_schema(responses={200: DistributionSerializer, 204: None, 409: OpenApiTypes.OBJECT})
    def destroy(self, request, *args, **kwargs):
        distribution = self.get_object()
        outcome = services.delete_distribution(distribution)
        if outcome == "in_use":
            raise Conflict(_("Invitation campaigns or trigger rules still send this link: remove it from them "
                             "first, or switch it off."))
        if outcome == "deactivated":
            return ApiResponse(self.get_serializer(self.get_queryset().get(pk=distribution.pk)).data)
        return ApiResponse(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PersonalLinksSerializer, responses={200: PersonalLinkSerializer(many=True)})
    @action(detail=True, methods=["post"], url_path="personal-links", serializer_class=PersonalLinksSerializer,
            pagination_class=None, filter_backends=[])
    def personal_links(self, request, pk=None):
        """Each customer's signed link (and one-click links): the answer is recorded against them. All
        or nothing: a customer not found is a 400 that names them."""
        distribution = self.get_object()
        body = PersonalLinksSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        references = body.validated_data["customers"]
        found = customers_by_reference(self.organization, references)
        missing = [ref for ref in references if ref not in found]
        if missing:
            raise ValidationError({"customers": [_("No customer with this id, external id or e-mail: %(refs)s.")
                                                 % {"refs": ", ".join(missing[:20])}]})
        survey, hidden = distribution.survey, body.validated_data.get("hidden_fields") or {}
        low, high = survey.scale
        scores = range(low, high + 1) if survey.survey_type != "csi" else ()
        rows = []
        for ref in references:
            signed = links.sign(distribution, found[ref], hidden, body.validated_data.get("language", ""))
            rows.append({
                "reference": ref, "customer": found[ref].pk,
                "url": request.build_absolute_uri(links.survey_url(distribution, signed)),
                "one_click": [{"score": score, "url": request.build_absolute_uri(url)}
                              for score, url in links.one_click_urls(distribution, scores, signed)],
            })
        return ApiResponse(PersonalLinkSerializer(rows, many=True).data)


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
        language = data.get("language") or survey.default_language
        # What the survey's logic knows of this answer besides its values: a customer already known
        # gives their segment (one first named here has none yet, and is made only once it is valid).
        known = find_customer(org, external_id=data.get("customer_external_id", "").strip()[:100],
                              email=data.get("customer_email", "").strip()[:254])
        facts = services.visit_facts(survey=survey, language=language, touchpoint=distribution.touchpoint_id,
                                     customer=known, hidden=data.get("hidden_fields"))
        try:
            services.ensure_accepting(survey, distribution)
            submission = services.clean_submission(survey, data["answers"], complete=True, language=language,
                                                   facts=facts)
            response, created = services.record_response(
                survey=survey, submission=submission, complete=True,
                language=language, source=Response.Source.API,
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


class RetentionOfferSerializer(serializers.ModelSerializer):
    """A counter-offer shown to a customer who gives `reason` to a cancellation survey's
    single-choice `question`; `accepted` counts the customers who took it."""

    question = serializers.PrimaryKeyRelatedField(queryset=Question.objects.all())
    text = serializers.DictField(child=serializers.CharField(max_length=300, allow_blank=True),
                                 help_text="Per language, English at least: {\"en\": \"Pause for 3 months\"}")
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    survey = serializers.IntegerField(source="question.survey_id", read_only=True)
    accepted = serializers.SerializerMethodField()

    class Meta:
        model = RetentionOffer
        fields = ["id", "survey", "question", "reason", "text", "position", "active", "accepted"]
        read_only_fields = ["id"]

    def get_accepted(self, offer) -> int:
        counted = getattr(offer, "accepted_count", None)  # the list's annotation: one query for all offers
        return counted if counted is not None else offer.acceptances.count()

    def validate_text(self, value):
        return _language_texts(value, 300)

    def validate(self, attrs):
        def value(name):
            return attrs.get(name, getattr(self.instance, name, None))

        problems = retention.offer_problems(question=value("question"), reason=value("reason") or "",
                                            text=value("text") or {})
        if problems:
            raise ValidationError({field: [message] for field, message in problems.items()})
        return attrs

    def create(self, validated):
        question = validated["question"]
        offer = retention.add_offer(question.survey, question=question, reason=validated["reason"],
                                    text=validated["text"])
        changed = {name: validated[name] for name in ("position", "active") if name in validated}
        if changed:
            RetentionOffer.objects.filter(pk=offer.pk).update(**changed)
            offer.refresh_from_db()
        return offer


class RetentionOfferViewSet(OrgScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = RetentionOffer.objects.select_related("question").annotate(accepted_count=Count("acceptances"))
    serializer_class = RetentionOfferSerializer
    filterset_fields = ["question", "active"]


@extend_schema_serializer(many=False)  # served on the list route, yet one object
class ContactPolicySerializer(VersionedSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = ContactPolicy
        fields = ["enabled", "min_days_between_surveys", "max_invitations", "cap_days"]
        extra_kwargs = {"min_days_between_surveys": {"max_value": 32767}, "max_invitations": {"max_value": 32767},
                        "cap_days": {"max_value": 32767}}

    def validate(self, attrs):
        # The page's rule: a cap on invitations counts over a period.
        max_invitations = attrs.get("max_invitations", self.instance.max_invitations)
        if max_invitations and not attrs.get("cap_days", self.instance.cap_days):
            raise ValidationError({"cap_days": [_("Give the period the limit counts over, in days.")]})
        return attrs


class ContactPolicyViewSet(OrgScopedViewSetMixin, viewsets.GenericViewSet):
    """The organization's one contact policy (survey fatigue guard), at the collection's own URL:
    `GET` reads it, `PUT`/`PATCH` change it; send the `version` read, or a stale change is a 409."""

    queryset = ContactPolicy.objects.none()
    serializer_class = ContactPolicySerializer
    pagination_class = None
    filter_backends = []

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        # One row per organization, so no id names it: the router's list route (the only one this
        # viewset has) also takes the changes.
        return super().as_view({**(actions or {}), "put": "change", "patch": "change_partly"}, **initkwargs)

    @extend_schema(responses={200: ContactPolicySerializer})
    def list(self, request, *args, **kwargs):
        return ApiResponse(self.get_serializer(self.get_object()).data)

    @extend_schema(request=ContactPolicySerializer, responses={200: ContactPolicySerializer})
    def change(self, request, *args, **kwargs):
        return self._change(request, partial=False)

    @extend_schema(request=ContactPolicySerializer(partial=True), responses={200: ContactPolicySerializer})
    def change_partly(self, request, *args, **kwargs):
        return self._change(request, partial=True)

    def _change(self, request, *, partial: bool):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return ApiResponse(self.get_serializer(serializer.instance).data)

    def get_object(self):
        policy = services.contact_policy(self.organization)
        self.check_object_permissions(self.request, policy)
        return policy

    def perform_update(self, serializer):
        # Recorded as the contact-policy page records it (one shape of SETTINGS_CHANGED).
        before = audit.snapshot(serializer.instance) if serializer.instance.pk else {}
        with transaction.atomic():
            try:
                policy = serializer.save()
            except StaleEdit as exc:
                raise Conflict(str(exc)) from None
            audit.record_setting(request=self.request, organization=self.organization, instance=policy,
                                 change="changed", before=before)


class SurveyImportUploadSerializer(ImportUploadSerializer):
    survey = serializers.PrimaryKeyRelatedField(queryset=Survey.objects.all(),
                                                help_text="The survey the answers in the file belong to.")


class SurveyImportJobSerializer(ImportJobReportSerializer):
    survey = serializers.IntegerField(source="survey_id", read_only=True)


class ImportJobViewSet(ImportJobViewSetMixin, mixins.CreateModelMixin, mixins.ListModelMixin,
                       mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imports of past answers into a survey (`survey` and `file`, multipart)."""

    queryset = ImportJob.objects.all()
    serializer_class = SurveyImportJobSerializer
    model = ImportJob
    max_upload_bytes = importing.MAX_UPLOAD_BYTES
    read_capability = write_capability = Capability.DESIGN
    filterset_fields = ["survey", "status"]

    def upload_serializer_class(self):
        return SurveyImportUploadSerializer

    def job_fields(self, upload_body) -> dict:
        return {"survey": upload_body["survey"]}

    @extend_schema(request={"multipart/form-data": SurveyImportUploadSerializer},
                   responses={201: SurveyImportJobSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


def _customer(org, data):
    return match_or_create_customer(
        org, external_id=data.get("customer_external_id", ""), email=data.get("customer_email", "")
    )


ROUTES = [
    ("surveys", SurveyViewSet, "survey"),
    ("questions", QuestionViewSet, "question"),
    ("retention-offers", RetentionOfferViewSet, "retentionoffer"),
    ("contact-policy", ContactPolicyViewSet, "contactpolicy"),
    ("survey-imports", ImportJobViewSet, "importjob"),
    ("distributions", DistributionViewSet, "distribution"),
    ("responses", ResponseViewSet, "response"),
]
