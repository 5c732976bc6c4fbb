"""The filter of a survey's responses list and its exports (the same query string drives both)."""

import django_filters
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cxplatform.tenancy import scoped
from journeys.models import Channel, Touchpoint

from . import selectors
from .models import Band, Response
from .texts import bands_of

ANY = _("Any")


class ResponseFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start of the period must not be after its end."))
        return data


class ResponseFilter(django_filters.FilterSet):
    """Period (`from`, `to`: days, both included), score band, touchpoint, channel, language,
    with or without a comment, and status. Pass `request` (its organization limits the touchpoint
    and channel choices) and the survey (its type limits the bands)."""

    band = django_filters.ChoiceFilter(label=_("Score band"), choices=Band.choices, empty_label=ANY)
    touchpoint = django_filters.ModelChoiceFilter(
        label=_("Touchpoint"), queryset=Touchpoint.objects.none(), empty_label=ANY
    )
    channel = django_filters.ModelChoiceFilter(label=_("Channel"), queryset=Channel.objects.none(), empty_label=ANY)
    language = django_filters.ChoiceFilter(label=_("Language"), choices=settings.LANGUAGES, empty_label=ANY)
    has_comment = django_filters.ChoiceFilter(
        label=_("Comment"), choices=[("yes", _("With a comment")), ("no", _("Without a comment"))],
        empty_label=ANY,
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Response.Status.choices, empty_label=ANY)

    class Meta:
        form = ResponseFilterForm

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, survey=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        organization = getattr(request, "organization", None)
        self.filters["touchpoint"].queryset = scoped(Touchpoint, organization)
        self.filters["channel"].queryset = scoped(Channel, organization)
        if survey is not None:
            self.filters["band"].extra["choices"] = [(b, Band(b).label) for b in bands_of(survey.survey_type)]

    def filter_queryset(self, queryset):
        # The meaning of each filter lives in one place, the selector, shared with other callers.
        return selectors.filter_responses(queryset, self.form.cleaned_data)


# `from` is a Python keyword, so the period filters are added by name rather than declared above.
ResponseFilter.base_filters = {
    "from": django_filters.DateFilter(
        field_name="submitted_at", label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    ),
    "to": django_filters.DateFilter(
        field_name="submitted_at", label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    ),
    **ResponseFilter.base_filters,
}
