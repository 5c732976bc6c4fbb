from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Scope


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What uses it, e.g. \"CRM sync\"; shown in the list and the audit log."))
    scope = forms.ChoiceField(label=_("May"), choices=Scope.choices, initial=Scope.READ, widget=forms.RadioSelect,
                              help_text=_("Your role still limits what the token can do."))
    expires_on = forms.DateField(label=_("Expires on"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("Optional. The token stops working at the start of this day."))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the token a name, so you can tell it from the others."))
        return name

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        if self.expires_at(day) <= timezone.now():
            raise forms.ValidationError(_("The expiry date must be in the future."))
        return day

    def expires_at(self, day=None):
        """The start of the chosen day in the organization's time zone."""
        day = day if day is not None else self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return datetime.combine(day, time.min, tzinfo=ZoneInfo(self.organization.time_zone))

    @staticmethod
    def default_expiry():
        return timezone.localdate() + timedelta(days=90)
