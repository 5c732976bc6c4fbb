from django import forms
from django.utils.translation import gettext_lazy

from . import customer_import


class CustomerImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("A .csv (UTF-8, comma or semicolon separated) or .xlsx file, at most 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            customer_import.file_kind(upload.name)
        except customer_import.ImportFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        return upload
