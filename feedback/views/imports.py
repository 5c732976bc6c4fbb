"""Import of feedback items from a CSV or XLSX file, with a row-by-row report."""

from django import forms
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from cxplatform.models import Capability
from cxplatform.permissions import capability_required

from .. import importing


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("A .csv (UTF-8, comma or semicolon separated) or .xlsx file, at most 20 MB "
                               "and 5,000 rows."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > importing.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; at most %(limit)s can be imported at once.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(importing.MAX_UPLOAD_BYTES)})
        return upload


@capability_required(Capability.WORK_INBOX)
@require_http_methods(["GET", "POST"])
def upload(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = importing.import_items(request.organization, upload, upload.name, actor=request.user,
                                            max_rows=importing.MAX_WEB_ROWS)
        except importing.ImportFileError as exc:
            form.add_error("file", str(exc))
    return render(request, "feedback/import.html", {"form": form, "report": report, "columns": importing.COLUMNS},
                  status=400 if form.errors else 200)
