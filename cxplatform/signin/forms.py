from django import forms
from django.utils.translation import gettext_lazy as _

from cxplatform.models import Role


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text",
                                                         "autofocus": True}))


class RequireTwoFactorForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label=_("Require two-factor sign-in for every member"), required=False,
        help_text=_("Members without an authenticator app are asked to set one up before they see anything "
                    "else. People who sign in by single sign-on are not asked: their provider checks them."))


class SSODomainForm(forms.Form):
    domain = forms.CharField(label=_("E-mail domain"), max_length=253, strip=True,
                             widget=forms.TextInput(attrs={"placeholder": "example.com"}))
    role = forms.ChoiceField(label=_("Role on joining"), choices=Role.choices, initial=Role.VIEWER)
