from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from cxplatform.services import normalise_phone

from .selectors import EMAIL, EXTERNAL_ID, PHONE

KIND_CHOICES = [(EMAIL, _("E-mail")), (PHONE, _("Phone")), (EXTERNAL_ID, _("External id"))]


class SearchForm(forms.Form):
    """Who the request is about: one identifier and which kind it is."""

    kind = forms.ChoiceField(label=_("Find by"), choices=KIND_CHOICES, initial=EMAIL)
    value = forms.CharField(label=_("E-mail, phone or external id"), max_length=254,
                            error_messages={"required": _("Enter the e-mail, phone or external id to look for.")})

    def clean(self):
        data = super().clean()
        kind, value = data.get("kind"), (data.get("value") or "").strip()
        if not kind or not value:
            return data
        if kind == EMAIL:
            try:
                validate_email(value)
            except forms.ValidationError:
                self.add_error("value", _("This is not an e-mail address."))
        elif kind == PHONE:
            digits = normalise_phone(value).lstrip("+")
            if len(digits) < 5 or any(ch.isalpha() for ch in value):
                self.add_error("value", _("A phone number has at least five digits and no letters."))
        elif len(value) > 100:
            self.add_error("value", _("An external id has at most 100 characters."))
        data["value"] = value
        return data


class EraseForm(SearchForm):
    """Erasure asks the admin to type the identifier again: it cannot be undone."""

    confirm = forms.CharField(label=_("Type the identifier again to confirm"), max_length=254,
                              error_messages={"required": _("Type the identifier again to confirm the erasure.")})

    def clean(self):
        data = super().clean()
        value, confirm = data.get("value"), (data.get("confirm") or "").strip()
        if data.get("kind") == PHONE:  # "+371 2912 3456" confirms "+37129123456"
            value, confirm = normalise_phone(value or ""), normalise_phone(confirm)
        if value and confirm and confirm.lower() != value.lower():
            self.add_error("confirm", _("This does not match the identifier searched for."))
        return data


class RetentionForm(forms.Form):
    months = forms.IntegerField(label=_("Erase personal data after (months)"), required=False, min_value=1,
                                max_value=1200,
                                help_text=_("Empty: kept until someone erases it. Figures are never affected."))
