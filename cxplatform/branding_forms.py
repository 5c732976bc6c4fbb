"""The branding page's form: it only parses the request; cxplatform.branding decides what is
accepted (the same rules as the API's)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Branding


class BrandingForm(forms.Form):
    colour = forms.CharField(label=_("Brand colour"), max_length=32, strip=True,
                             help_text=_("# and six hexadecimal digits. Buttons and links use it, so it must be "
                                         "readable on white (WCAG AA, contrast at least 4.5:1)."),
                             widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off",
                                                           "data-brand-hex": ""}))
    font = forms.ChoiceField(label=_("Font"), choices=Branding.Font.choices)
    logo = forms.FileField(label=_("Logo"), required=False,
                           help_text=_("PNG, JPEG or WebP; at most 512 KB and 2000×2000 pixels. SVG is not "
                                       "accepted."),
                           widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}))
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    # The one-click fix: the readable shade offered under a refused colour, sent by its own button.
    use_colour = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("use_colour"):
            cleaned["colour"] = cleaned["use_colour"]
            self.errors.pop("colour", None)
        return cleaned
