"""The audit log page's filters (the same query string drives the page and its CSV export)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .audit import AuditAction

ANY = _("Any")


class AuditFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start of the period must not be after its end."))
        return data


class AuditFilter(django_filters.FilterSet):
    """Action, person (a member of the organization), period (`from`, `to`: days in the
    organization's time zone, both included) and free text over who and on what."""

    action = django_filters.ChoiceFilter(label=_("Action"), choices=AuditAction.choices, empty_label=ANY)
    person = django_filters.ModelChoiceFilter(label=_("Person"), field_name="actor",
                                              queryset=get_user_model().objects.none(), empty_label=ANY)
    q = django_filters.CharFilter(label=_("Who or on what"), method="filter_text", max_length=100)

    class Meta:
        form = AuditFilterForm

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        organization = request.organization
        self.zone = ZoneInfo(organization.time_zone) if organization.time_zone else ZoneInfo("UTC")
        # Members only, deactivated ones too: what they did stays in the log after they leave.
        self.filters["person"].queryset = get_user_model().objects.filter(
            memberships__organization=organization).order_by("first_name", "last_name", "username")
        self.form.fields["person"].label_from_instance = _person_name

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(actor_label__icontains=value) | Q(target_label__icontains=value))

    def filter_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=datetime.combine(value, time.min, self.zone))

    def filter_to(self, queryset, name, value):
        if value >= date.max:  # no day after it: the period is open
            return queryset
        # Both days included: the period ends when the day after `to` begins, there.
        return queryset.filter(created_at__lt=datetime.combine(value + timedelta(days=1), time.min, self.zone))


def _person_name(user) -> str:
    return user.get_full_name() or user.get_username()


# `from` is a Python keyword, so the period filters are added by name rather than declared above.
AuditFilter.base_filters = {
    "from": django_filters.DateFilter(label=_("From"), method="filter_from",
                                      widget=forms.DateInput(attrs={"type": "date"})),
    "to": django_filters.DateFilter(label=_("To"), method="filter_to", widget=forms.DateInput(attrs={"type": "date"})),
    **AuditFilter.base_filters,
}
