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


class LoginForm(AuthenticationForm):
    """Django's login form sets the username's max_length after its validators are made, so a
    longer username went on to authenticate(); here it is refused with the length in words."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(MaxLengthValidator(self.fields["username"].max_length))
