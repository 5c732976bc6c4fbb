"""The filter of every figure (period, survey, touchpoint, channel, segment, language), parsed
the same way from the dashboard's URL, the API's query string and `cx_metrics`' options."""

from dataclasses import replace
from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cxplatform.tenancy import scoped
from journeys.models import Channel, Touchpoint
from surveys.models import Question, Survey, SurveyType

from . import choice_figures
from .selectors import Scope, segments

MAX_DAYS = 3 * 366


class ScopeForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    survey = forms.ModelMultipleChoiceField(label=_("Survey"), queryset=Survey.objects.none(), required=False)
    touchpoint = forms.ModelMultipleChoiceField(label=_("Touchpoint"), queryset=Touchpoint.objects.none(),
                                                required=False)
    channel = forms.ModelMultipleChoiceField(label=_("Channel"), queryset=Channel.objects.none(), required=False)
    segment = forms.MultipleChoiceField(label=_("Segment"), required=False)
    language = forms.MultipleChoiceField(label=_("Language"), choices=settings.LANGUAGES, required=False)
    # "<question id>:<option value>": only the responses that picked this option.
    answer = forms.ChoiceField(label=_("Answered"), required=False)

    def __init__(self, data, *, organization, **kwargs):
        data = data.copy() if hasattr(data, "copy") else dict(data)
        # Short names in URLs and the API: ?from=2026-01-01&to=2026-01-31
        for short, name in (("from", "start"), ("to", "end")):
            if short in data and name not in data:
                data[name] = data[short]
        super().__init__(data, **kwargs)
        self.organization = organization
        self.fields["survey"].queryset = scoped(Survey, organization)
        self.fields["touchpoint"].queryset = scoped(Touchpoint, organization)
        self.fields["channel"].queryset = scoped(Channel, organization)
        self.fields["segment"].choices = [(s, s) for s in segments(organization)]
        # Read when the field renders or validates a value, so a page without the filter spends no query.
        self.fields["answer"].choices = lambda: [("", _("Any answer")), *choice_figures.filter_choices(organization)]

    def clean(self):
        data = super().clean()
        today = timezone.now().date()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=29)
        if start > end:
            raise forms.ValidationError(_("The start of the period must not be after its end."))
        if (end - start).days > MAX_DAYS:
            raise forms.ValidationError(_("Choose a period of at most three years."))
        data["start"], data["end"] = start, end
        # The fields show the period the figures are for, not blanks.
        self._show(start=start.isoformat(), end=end.isoformat())
        return data

    def _show(self, **values):
        """Let the widgets render what the form actually used (defaults included)."""
        for name, value in values.items():
            if not self.data.get(name):
                self.data[name] = value

    def scope(self) -> Scope:
        d = self.cleaned_data
        return Scope(
            self.organization, d["start"], d["end"] + timedelta(days=1),
            surveys=tuple(s.pk for s in d["survey"]), touchpoints=tuple(t.pk for t in d["touchpoint"]),
            channels=tuple(c.pk for c in d["channel"]), segments=tuple(d["segment"]),
            languages=tuple(d["language"]), answer=self._answer(),
        )

    def _answer(self) -> tuple:
        """The answer filter as (question id, option); a value the field accepted is one of the
        organization's own questions and options."""
        value = self.cleaned_data.get("answer") or ""
        if not value:
            return ()
        question_id, option = value.split(":", 1)
        return int(question_id), option

    def answered_question(self):
        """The question the answer filter names (one of the organization's, as `_answer` says)."""
        return choice_figures.choice_questions(self.organization).get(pk=self._answer()[0])


CHART_METRICS = [("nps", "NPS"), ("csat", "CSAT"), ("ces", "CES")]
SURVEY_TYPE_OF = {"nps": SurveyType.NPS, "csat": SurveyType.CSAT, "ces": SurveyType.CES, "csi": SurveyType.CSI}


class DashboardForm(ScopeForm):
    """The dashboard's filters plus which score its charts show and at what time grain."""

    metric = forms.ChoiceField(label=_("Charts show"), choices=CHART_METRICS, required=False)
    grain = forms.ChoiceField(label=_("Trend by"), required=False,
                              choices=[("day", _("day")), ("week", _("week")), ("month", _("month"))])
    by = forms.ModelChoiceField(label=_("Break down by"), required=False, queryset=Question.objects.none(),
                                empty_label=_("(touchpoint, channel, segment, …)"))

    def __init__(self, data, *, organization, **kwargs):
        super().__init__(data, organization=organization, **kwargs)
        self.fields["by"].queryset = choice_figures.choice_questions(organization)
        self.fields["by"].label_from_instance = lambda q: f"{q.survey.name} · {choice_figures.question_text(q)}"

    def clean(self):
        data = super().clean()
        data["metric"] = data.get("metric") or "nps"
        data["grain"] = data.get("grain") or "week"
        self._show(metric=data["metric"], grain=data["grain"])  # "Trend by" said "day" under a weekly chart
        return data


class DrillDownForm(ScopeForm):
    """The responses behind one figure: its scope plus the survey type and, for a bar of the
    score distribution, the scores."""

    type = forms.ChoiceField(label=_("Measure"), required=False,
                             choices=[("", _("Any")), *((k, k.upper()) for k in SURVEY_TYPE_OF)])
    score = forms.TypedMultipleChoiceField(label=_("Score"), required=False, coerce=int,
                                           choices=[(str(i), str(i)) for i in range(11)])

    theme = forms.CharField(label=_("Theme"), required=False, max_length=80)
    sentiment = forms.TypedChoiceField(label=_("Sentiment"), required=False, coerce=int, empty_value=None,
                                       choices=[("", _("Any")), ("1", _("positive")), ("0", _("neutral")),
                                                ("-1", _("negative"))])

    def drill(self) -> dict:
        d = self.cleaned_data
        return {"survey_type": SURVEY_TYPE_OF.get(d.get("type")), "scores": tuple(d.get("score") or ()),
                "theme": d.get("theme") or "", "sentiment": d.get("sentiment")}


COMPARABLE = {"touchpoint": _("touchpoint"), "channel": _("channel"), "segment": _("segment"),
              "language": _("language")}
NOT_OURS = {
    "touchpoint": _("“%(value)s” is not a touchpoint of this organization."),
    "channel": _("“%(value)s” is not a channel of this organization."),
    "segment": _("“%(value)s” is not a segment of this organization's customers."),
    "language": _("“%(value)s” is not a language of our surveys."),
}


class CompareForm(DashboardForm):
    """Two groups of one kind — segment with segment, touchpoint with touchpoint — never a group
    with a blended benchmark of unlike customers."""

    dimension = forms.ChoiceField(label=_("Compare"), choices=list(COMPARABLE.items()))
    a = forms.CharField(label=_("Group A"), max_length=100)
    b = forms.CharField(label=_("Group B"), max_length=100)

    def clean(self):
        data = super().clean()
        dimension, a, b = data.get("dimension"), data.get("a"), data.get("b")
        if not dimension or a is None or b is None:
            return data
        if a == b:
            raise forms.ValidationError(_("Choose two different groups to compare."))
        field = self.fields[dimension]
        values = []
        for raw in (a, b):
            try:
                cleaned = field.clean([raw])
            except forms.ValidationError:
                raise forms.ValidationError(NOT_OURS[dimension] % {"value": raw}) from None
            values.append(cleaned[0])
        data["groups"] = values
        return data

    def group_scopes(self):
        d = self.cleaned_data
        base = self.scope()
        key = {"touchpoint": "touchpoints", "channel": "channels", "segment": "segments",
               "language": "languages"}[d["dimension"]]
        names = dict(settings.LANGUAGES) if d["dimension"] == "language" else {}
        return [(str(names.get(v, v)), replace(base, **{key: (getattr(v, "pk", v),)})) for v in d["groups"]]
