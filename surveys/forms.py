from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cxplatform.models import Customer
from cxplatform.versioning import VersionedModelForm
from journeys.selectors import channels, touchpoints

from .models import ContactPolicy, Distribution, Question, Survey, SurveyType
from .services import clean_text
from .texts import bands_of

LANGS = settings.LANGUAGES


def _no_nul(value):
    try:
        return clean_text(value, max_length=2000)
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from None


class LocalizedFieldsMixin:
    """Edits JSON text dicts ({"en": …, "ru": …, "lv": …}) as one form field per language."""

    localized = ()  # (json field name, label, widget) of the model

    def add_localized_fields(self, instance):
        for name, label, widget in self.localized:
            current = getattr(instance, name, None) or {}
            for code, lang_name in LANGS:
                self.fields[f"{name}_{code}"] = forms.CharField(
                    label=f"{label} ({lang_name})", required=False, initial=current.get(code, ""),
                    widget=widget, validators=[_no_nul],
                )

    def localized_value(self, name):
        return {code: self.cleaned_data[f"{name}_{code}"].strip() for code, _n in LANGS
                if self.cleaned_data.get(f"{name}_{code}", "").strip()}


class SurveyForm(LocalizedFieldsMixin, VersionedModelForm):
    redirect_url = forms.URLField(label=_("Redirect after thanks"), required=False, assume_scheme="https")

    class Meta:
        model = Survey
        fields = ["name", "survey_type", "status", "default_language", "starts_at", "ends_at", "redirect_url"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.localized = [
            ("title", _("Title"), forms.TextInput),
            ("score_question", _("Score question"), forms.TextInput),
            ("thank_you", _("Thank-you message"), forms.TextInput),
        ]
        self.add_localized_fields(self.instance)
        survey_type = self.instance.survey_type or SurveyType.NPS
        for band in bands_of(survey_type):
            current = (self.instance.follow_up or {}).get(band, {})
            for code, lang_name in LANGS:
                self.fields[f"follow_up_{band}_{code}"] = forms.CharField(
                    label=_("Follow-up for %(band)s (%(language)s)") % {"band": band, "language": lang_name},
                    required=False, initial=current.get(code, ""), validators=[_no_nul],
                )
        if self.instance.pk and self.instance.responses.exists():
            # Changing the type would reinterpret every answer already given.
            self.fields["survey_type"].disabled = True
            self.fields["survey_type"].help_text = _("The type cannot change once answers exist.")

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must come after the start."))
        return data

    def texts(self) -> dict:
        follow_up = {}
        survey_type = self.cleaned_data.get("survey_type") or self.instance.survey_type
        for band in bands_of(survey_type):
            per_lang = {code: self.cleaned_data.get(f"follow_up_{band}_{code}", "").strip() for code, _n in LANGS}
            follow_up[band] = {k: v for k, v in per_lang.items() if v}
        return {
            "title": self.localized_value("title"),
            "score_question": self.localized_value("score_question"),
            "thank_you": self.localized_value("thank_you"),
            "follow_up": follow_up,
        }


class QuestionForm(LocalizedFieldsMixin, VersionedModelForm):
    choices_text = forms.CharField(
        label=_("Options"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One option a line: value | English | Russian | Latvian"),
    )

    class Meta:
        model = Question
        fields = ["kind", "key", "position", "required", "ask_importance"]

    def __init__(self, *args, survey, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.localized = [("text", _("Question"), forms.TextInput)]
        self.add_localized_fields(self.instance)
        self.fields["key"].help_text = _("Column name in imports and exports, e.g. delivery_speed")
        self.fields["choices_text"].initial = "\n".join(
            " | ".join([c["value"], *(c.get("label", {}).get(code, "") for code, _n in LANGS)])
            for c in self.instance.choices or []
        )

    def clean_key(self):
        key = self.cleaned_data["key"]
        clash = Question.objects.filter(survey=self.survey, key=key).exclude(pk=self.instance.pk)
        if clash.exists() or key in {"score", "comment", "token", "c", "lang"}:
            raise forms.ValidationError(_("This key is already used in this survey."))
        return key

    def clean_choices_text(self):
        choices = []
        for line in self.cleaned_data["choices_text"].splitlines():
            parts = [p.strip() for p in line.split("|")]
            if not parts[0]:
                continue
            labels = {code: parts[i + 1] for i, (code, _n) in enumerate(LANGS) if len(parts) > i + 1 and parts[i + 1]}
            choices.append({"value": _no_nul(parts[0])[:100], "label": labels})
        return choices

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind in (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTIPLE_CHOICE) and not data.get("choices_text"):
            self.add_error("choices_text", _("A choice question needs at least one option."))
        if not self.localized_value("text"):
            self.add_error(f"text_{self.survey.default_language}", _("Write the question in at least one language."))
        return data


class DistributionForm(VersionedModelForm):
    class Meta:
        model = Distribution
        fields = ["name", "touchpoint", "channel", "active"]

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["touchpoint"].queryset = touchpoints(organization)
        self.fields["channel"].queryset = channels(organization)


class PersonalLinkForm(forms.Form):
    """Builds a signed personal link for one customer, with hidden fields."""

    customer = forms.CharField(label=_("Customer external id or e-mail"), max_length=200)
    hidden = forms.CharField(
        label=_("Hidden fields"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line: name=value (e.g. order_id=A-1001)"),
    )
    language = forms.ChoiceField(label=_("Language"), choices=[("", "—"), *LANGS], required=False)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_customer(self):
        value = self.cleaned_data["customer"].strip()
        customer = (
            Customer.objects.for_org(self.organization).filter(external_id=value).first()
            or Customer.objects.for_org(self.organization).filter(email__iexact=value).first()
        )
        if customer is None:
            raise forms.ValidationError(_("No customer with this external id or e-mail."))
        return customer

    def clean_hidden(self):
        fields = {}
        for line in self.cleaned_data["hidden"].splitlines():
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                raise forms.ValidationError(_("Write each hidden field as name=value."))
            fields[_no_nul(name)[:50]] = _no_nul(value)[:200]
        return fields


class ContactPolicyForm(VersionedModelForm):
    class Meta:
        model = ContactPolicy
        fields = ["enabled", "min_days_between_surveys", "max_invitations", "cap_days"]
        help_texts = {"max_invitations": _("Invitations the platform sends to one customer; 0: no limit.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A form that does not send the cap (an older page, an API client) keeps it as it is.
        self.fields["max_invitations"].required = self.fields["cap_days"].required = False

    def clean(self):
        cleaned = super().clean()
        for name in ("max_invitations", "cap_days"):
            if cleaned.get(name) is None and name not in self.errors:
                cleaned[name] = getattr(self.instance, name)
        if cleaned.get("max_invitations") and not cleaned.get("cap_days"):
            self.add_error("cap_days", _("Give the period the limit counts over, in days."))
        return cleaned


class RetentionOfferForm(forms.Form):
    """A counter-offer for one answer to a single-choice question ("Why are you leaving?")."""

    reason = forms.ChoiceField(label=_("When the customer answers"))
    text_en = forms.CharField(label=_("Offer (English)"), max_length=300)
    text_ru = forms.CharField(label=_("Offer (Russian)"), max_length=300, required=False)
    text_lv = forms.CharField(label=_("Offer (Latvian)"), max_length=300, required=False)

    def __init__(self, *args, survey, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Question
        from .services import localized

        self.questions = {q.pk: q for q in survey.questions.filter(kind=Question.Kind.SINGLE_CHOICE)}
        language = get_language() or "en"
        self.fields["reason"].choices = [
            (f"{q.pk}:{c['value']}",
             f"{localized(q.text, language) or q.key} → {localized(c.get('label'), language) or c['value']}")
            for q in self.questions.values() for c in q.choices]

    def offer_fields(self) -> dict:
        question_id, reason = self.cleaned_data["reason"].split(":", 1)
        texts = {lang: self.cleaned_data[f"text_{lang}"].strip() for lang in ("en", "ru", "lv")}
        return {"question": self.questions[int(question_id)], "reason": reason,
                "text": {k: v for k, v in texts.items() if v}}
