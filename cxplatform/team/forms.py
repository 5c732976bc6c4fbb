from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from cxplatform.models import Role


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class NewPersonForm(forms.Form):
    """The invitee's own account: name and a password Django's validators accept."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    password1 = forms.CharField(label=_("Password"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=password_validation.password_validators_help_text_html())
    password2 = forms.CharField(label=_("Password again"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            # The unsaved user lets the similarity validator compare with the name and address.
            person = get_user_model()(username=self.email, email=self.email, first_name=cleaned.get("first_name", ""),
                                      last_name=cleaned.get("last_name", ""))
            try:
                password_validation.validate_password(first, person)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class ResetRequestForm(PasswordResetForm):
    """Django's form; it also reaches an administrator made by `create_organization` who never
    signed in (no password yet), so a lost first sign-in link is not a locked door."""

    def get_users(self, email):
        User = get_user_model()
        candidates = User._default_manager.filter(email__iexact=email, is_active=True)
        return (u for u in candidates
                if (u.has_usable_password() or u.last_login is None)
                and u.email.lower() == email.lower())
