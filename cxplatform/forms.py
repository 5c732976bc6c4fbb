from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import import_jobs, tabular
from .tabular import ImportFileError, file_kind


class ImportUploadForm(forms.Form):
    """The upload of an import job, refused here with its reason when it cannot be imported at all:
    not CSV or XLSX, too large, beyond the reading limits, or lacking a required column. `job` is
    the unsaved job the upload would become (its kind and context: organization, survey…)."""

    file = forms.FileField(
        label=gettext_lazy("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args, job, max_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.job, self.max_bytes = job, max_bytes
        self.fields["file"].help_text = (
            _("A .csv (UTF-8, comma or semicolon separated) or .xlsx file, at most %(size)s and %(rows)s rows.")
            % {"size": filesizeformat(max_bytes), "rows": number_format(tabular.LIMITS.rows, force_grouping=True)})

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            file_kind(upload.name)
        except ImportFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        if upload.size > self.max_bytes or getattr(upload, "oversized", False):
            raise forms.ValidationError(
                _("The file is %(size)s; at most %(limit)s can be imported at once.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(self.max_bytes)})
        try:
            # Refused now, on the form, rather than as a failed job later.
            import_jobs.check_file(upload, upload.name, self.job)
        except ImportFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        upload.seek(0)
        return upload


# Whole phrases, not "Name in %(language)s": Russian and Latvian put the language in another case.
NAME_IN = {"en": gettext_lazy("Name in English"), "ru": gettext_lazy("Name in Russian"),
           "lv": gettext_lazy("Name in Latvian")}


class NamesPerLanguageForm(forms.ModelForm):
    """A ModelForm of a `NamedPerLanguage` row: a "name in …" field per language, right after
    `name` (the row's own name, shown where a language has none)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django.conf import settings

        max_length = self._meta.model._meta.get_field("name").max_length
        self.fields["name"].help_text = gettext_lazy(
            "Shown to readers whose language has no name of its own below.")
        names = self.instance.names or {}
        fields = {}
        for code, language in settings.LANGUAGES:
            fields[f"name_{code}"] = forms.CharField(
                label=NAME_IN.get(code, language), max_length=max_length, required=False, initial=names.get(code, ""))
        # The per-language names come right after `name`, whatever else the form has.
        order = list(self.fields)
        at = order.index("name") + 1 if "name" in order else 0
        self.fields.update(fields)
        self.order_fields(order[:at] + list(fields) + order[at:])

    def save(self, commit=True):
        from .naming import LANGUAGE_CODES

        self.instance.names = {code: self.cleaned_data[f"name_{code}"].strip() for code in LANGUAGE_CODES
                               if self.cleaned_data.get(f"name_{code}", "").strip()}
        return super().save(commit)


class NotificationSettingsForm(forms.Form):
    """How a person wants to hear of each kind of notification, and in which language e-mails come."""

    language = forms.ChoiceField(label=gettext_lazy("Language of my e-mails"), required=False)

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        from .models import CHOSEN_KINDS, Delivery

        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", gettext_lazy("My organization's language")),
                                           *settings.LANGUAGES]
        for kind in CHOSEN_KINDS:
            self.fields[f"kind_{kind.value}"] = forms.ChoiceField(label=kind.label, choices=Delivery.choices,
                                                            widget=forms.RadioSelect)

    def deliveries(self) -> dict[str, str]:
        return {name.removeprefix("kind_"): value for name, value in self.cleaned_data.items()
                if name.startswith("kind_")}


class LoginForm(AuthenticationForm):
    """Django's login form sets the username's max_length after its validators are made, so a
    longer username went on to authenticate(); here it is refused with the length in words."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(MaxLengthValidator(self.fields["username"].max_length))
