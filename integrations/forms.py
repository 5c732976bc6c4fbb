from django import forms
from django.utils.translation import gettext_lazy as _

from .models import WebhookEvent


class SubscriptionForm(forms.Form):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https",
                         help_text=_("The receiver's address; the platform POSTs JSON to it."))
    events = forms.MultipleChoiceField(label=_("Events to send"), choices=WebhookEvent.choices,
                                       widget=forms.CheckboxSelectMultiple)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    include_personal_data = forms.BooleanField(
        label=_("Include personal data"), required=False,
        help_text=_("Send the customer's name, e-mail, phone and hidden fields; without it, only their ids."))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @classmethod
    def for_subscription(cls, subscription, data=None):
        return cls(data, initial={"url": subscription.url, "events": subscription.events,
                                  "description": subscription.description,
                                  "include_personal_data": subscription.include_personal_data,
                                  "active": subscription.active})

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {"url": data["url"], "events_wanted": list(data["events"]), "description": data["description"],
                "include_personal_data": data["include_personal_data"], "active": data["active"]}
