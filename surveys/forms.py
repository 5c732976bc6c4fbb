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
        fields = ["name", "survey_type", "default_language", "starts_at", "ends_at", "redirect_url"]
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
                    label=_("Follow-up for %(band)s (%(language)s)") % {"band": band.label, "language": lang_name},
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


def _parse_options(text: str) -> list[dict]:
    """Options (or matrix rows) written one a line: value | English | Russian | Latvian."""
    options = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not parts[0]:
            continue
        labels = {code: _no_nul(parts[i + 1]) for i, (code, _n) in enumerate(LANGS)
                  if len(parts) > i + 1 and parts[i + 1]}
        options.append({"value": _no_nul(parts[0]), "label": labels})
    return options


def _options_text(options) -> str:
    return "\n".join(" | ".join([o["value"], *(o.get("label", {}).get(code, "") for code, _n in LANGS)])
                     for o in options or [])


RULE_OPS = [
    ("equals", _("is")), ("not_equals", _("is not")), ("in", _("is one of")), ("not_in", _("is none of")),
    ("includes", _("includes")), ("lt", _("is less than")), ("lte", _("is at most")),
    ("gt", _("is more than")), ("gte", _("is at least")), ("answered", _("is answered")),
    ("not_answered", _("is not answered")),
]
LIST_OPS = ("in", "not_in")
VALUELESS_OPS = ("answered", "not_answered")


def rule_fields(survey, before=None) -> list[tuple[str, str]]:
    """What a rule may look at: the respondent's context, then the answers of the questions asked
    before `before` (a question), or of every question when None (a page's jump filters by page)."""
    from .services import localized

    language = get_language() or "en"
    fields = [("score", _("Score")), ("band", _("Band")), ("language", _("Language")),
              ("touchpoint", _("Touchpoint (id)")), ("segment", _("Customer segment")),
              ("hidden", _("A hidden field of the link…"))]
    for q in survey.questions.all():
        if before is not None and (q.page, q.position, q.pk) >= (before.page, before.position, before.pk or 0):
            continue
        if q.is_answerable and q.pk != getattr(before, "pk", None):
            label = localized(q.text, language) or q.key
            fields.append((f"answer.{q.key}", _("Answer to “%(question)s”") % {"question": label[:60]}))
    return fields


class RuleFormMixin:
    """One condition (surveys.logic's leaf) as three fields: what, how, which value."""

    rule_prefix = "rule"

    def add_rule_fields(self, survey, *, before=None, current=None):
        p = self.rule_prefix
        self.fields[f"{p}_field"] = forms.ChoiceField(
            label=_("Show only if"), required=False, choices=[("", _("— always —")), *rule_fields(survey, before)])
        self.fields[f"{p}_hidden"] = forms.SlugField(label=_("Hidden field name"), required=False, max_length=50)
        self.fields[f"{p}_op"] = forms.ChoiceField(label=_("Operator"), choices=RULE_OPS, required=False)
        self.fields[f"{p}_value"] = forms.CharField(
            label=_("Value"), required=False, max_length=200, validators=[_no_nul],
            help_text=_("For “is one of”, separate the values by commas."))
        current = current or {}
        if current.get("field"):
            name = current["field"]
            if name.startswith("hidden."):
                self.initial[f"{p}_field"], self.initial[f"{p}_hidden"] = "hidden", name[len("hidden."):]
            else:
                self.initial[f"{p}_field"] = name
                if name not in dict(self.fields[f"{p}_field"].choices):
                    # A rule on a question now later or gone: shown as it is, so the problem is named.
                    self.fields[f"{p}_field"].choices = [*self.fields[f"{p}_field"].choices, (name, name)]
            self.initial[f"{p}_op"] = current.get("op")
            value = current.get("value")
            self.initial[f"{p}_value"] = ", ".join(map(str, value)) if isinstance(value, list) else (value or "")

    def rule(self) -> dict:
        """The condition as surveys.logic reads it; {} when no field was chosen."""
        p, data = self.rule_prefix, self.cleaned_data
        name, op = data.get(f"{p}_field"), data.get(f"{p}_op") or "equals"
        if not name:
            return {}
        if name == "hidden":
            name = f"hidden.{data.get(f'{p}_hidden')}"
        if op in VALUELESS_OPS:
            return {"field": name, "op": op}
        raw = (data.get(f"{p}_value") or "").strip()
        value = [v.strip() for v in raw.split(",") if v.strip()] if op in LIST_OPS else raw
        return {"field": name, "op": op, "value": value}

    def clean_rule(self):
        p, data = self.rule_prefix, self.cleaned_data
        if data.get(f"{p}_field") == "hidden" and not data.get(f"{p}_hidden"):
            self.add_error(f"{p}_hidden", _("Name the hidden field, e.g. order_id."))
        if (data.get(f"{p}_field") and data.get(f"{p}_op") not in VALUELESS_OPS
                and not (data.get(f"{p}_value") or "").strip()):
            self.add_error(f"{p}_value", _("Give the value the rule compares with."))


class QuestionForm(RuleFormMixin, LocalizedFieldsMixin, VersionedModelForm):
    """A question as the builder edits it; what applies depends on its kind (the page hides the
    rest, and services.save_question keeps only what applies)."""

    choices_text = forms.CharField(
        label=_("Options"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One option a line: value | English | Russian | Latvian"),
    )
    rows_text = forms.CharField(
        label=_("Rows"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One row a line: value | English | Russian | Latvian"),
    )

    class Meta:
        model = Question
        fields = ["kind", "key", "page", "required", "allow_other", "shuffle", "scale_min", "scale_max",
                  "ask_importance"]

    def __init__(self, *args, survey, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey
        languages = survey.languages
        self.localized = [("text", _("Question"), forms.TextInput)]
        self.add_localized_fields(self.instance)
        for code, _n in LANGS:  # the survey's own languages first; the others stay for a later switch
            self.fields[f"text_{code}"].widget.attrs["data-language"] = code
            if code not in languages:
                self.fields[f"text_{code}"].widget.attrs["data-other-language"] = "1"
        self.fields["key"].help_text = _("Column name in imports and exports, e.g. delivery_speed")
        self.fields["key"].validators = []  # services.question_problems says why, in its words
        pages = max([len(survey.pages or []), 1, *survey.questions.values_list("page", flat=True)])
        self.fields["page"] = forms.TypedChoiceField(
            label=_("Page"), coerce=int, choices=[(n, _("Page %(number)d") % {"number": n})
                                                  for n in range(1, pages + 1)])
        self.fields["scale_min"].widget.attrs.update(min=0, max=10)
        self.fields["scale_max"].widget.attrs.update(min=0, max=10)
        self.fields["choices_text"].initial = _options_text(self.instance.choices)
        self.fields["rows_text"].initial = _options_text(self.instance.rows)
        self.add_rule_fields(survey, before=self.instance if self.instance.pk else None,
                             current=self.instance.show_if if _is_leaf(self.instance.show_if) else {})
        self.fields["rule_field"].label = _("Looks at")  # under the "Show only if" heading
        self.complex_rule = bool(self.instance.show_if) and not _is_leaf(self.instance.show_if)
        for name in self.fields:
            self.fields[name].widget.attrs.setdefault("id", f"q{self.instance.pk or 'new'}-{name}")

    def clean_choices_text(self):
        return _parse_options(self.cleaned_data["choices_text"])

    def clean_rows_text(self):
        return _parse_options(self.cleaned_data["rows_text"])

    def clean(self):
        data = super().clean()
        self.clean_rule()
        return data

    def show_if(self) -> dict:
        # A condition of several parts (set through the API) is kept until the manager writes a new one.
        rule = self.rule()
        return self.instance.show_if if self.complex_rule and not rule else rule


def _is_leaf(condition) -> bool:
    return isinstance(condition, dict) and "field" in condition


class JumpForm(RuleFormMixin, forms.Form):
    """A page's new jump: if <condition>, go to <later page | end>."""

    rule_prefix = "when"

    def __init__(self, *args, survey, number: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_rule_fields(survey)
        self.fields["when_field"].label = _("If")
        self.fields["when_field"].required = True
        self.fields["when_field"].choices = [c for c in self.fields["when_field"].choices if c[0]]
        count = max([len(survey.pages or []), 1, *survey.questions.values_list("page", flat=True)])
        self.fields["to"] = forms.ChoiceField(
            label=_("then go to"),
            choices=[*((str(n), _("Page %(number)d") % {"number": n}) for n in range(number + 1, count + 1)),
                     ("end", _("the end (thank-you page)"))])
        for name in self.fields:
            self.fields[name].widget.attrs.setdefault("id", f"page{number}-{name}")

    def clean(self):
        data = super().clean()
        self.clean_rule()
        return data

    def jump(self) -> dict:
        to = self.cleaned_data["to"]
        return {"when": self.rule(), "to": "end" if to == "end" else int(to)}


class LanguagesForm(forms.Form):
    languages = forms.MultipleChoiceField(label=_("Languages the survey is sent in"), choices=LANGS,
                                          widget=forms.CheckboxSelectMultiple)


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
