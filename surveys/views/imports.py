"""Import of past responses through the browser: upload a file, then watch its progress and report."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import path
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from cxplatform.models import Capability
from cxplatform.permissions import capability_required
from cxplatform.tenancy import get_for_org_or_404, scoped

from .. import importing
from ..models import ImportJob, Survey

design_required = capability_required(Capability.DESIGN)
RECENT_JOBS = 10


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("A .csv (UTF-8, comma or semicolon separated) or .xlsx file, at most 50 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args, survey, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            importing.file_kind(upload.name)
        except importing.ImportFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        if upload.size > importing.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; at most %(limit)s can be imported at once.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(importing.MAX_UPLOAD_BYTES)}
            )
        try:
            # Reject a file that cannot be imported at all now, rather than as a failed job later.
            importing.check_file(upload, upload.name, self.survey)
        except importing.ImportFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        upload.seek(0)
        return upload


def _survey(request, survey_id):
    return get_for_org_or_404(Survey, request.organization, pk=survey_id)


@design_required
@require_http_methods(["GET", "POST"])
def import_create(request, survey_id):
    survey = _survey(request, survey_id)
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, survey=survey)
    else:
        form = ImportForm(survey=survey)
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        job = importing.create_job(survey, upload, user=request.user, original_name=upload.name,
                                   language=get_language())
        messages.success(request, _("The file was uploaded; its rows are being imported."))
        return redirect("surveys:import_detail", survey_id=survey.pk, importjob_id=job.pk)
    return render(request, "surveys/import_form.html", {
        "survey": survey,
        "form": form,
        "columns": importing.survey_columns(survey),
        "jobs": scoped(ImportJob, request.organization).filter(survey=survey)[:RECENT_JOBS],
    }, status=400 if form.errors else 200)


@design_required
@require_safe
def import_detail(request, survey_id, importjob_id):
    survey = _survey(request, survey_id)
    job = get_for_org_or_404(ImportJob.objects.filter(survey=survey), request.organization, pk=importjob_id)
    running = job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
    context = {"survey": survey, "job": job, "running": running}
    template = "surveys/import_progress.htmx.html" if request.htmx else "surveys/import_detail.html"
    return render(request, template, context)


urlpatterns = [
    path("<int:survey_id>/imports/new/", import_create, name="import_create"),
    path("<int:survey_id>/imports/<int:importjob_id>/", import_detail, name="import_detail"),
]
