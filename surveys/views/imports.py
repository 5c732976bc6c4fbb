"""Import of past responses through the browser: upload a file, then watch its progress and report."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from cxplatform import import_jobs
from cxplatform.forms import ImportUploadForm
from cxplatform.models import Capability
from cxplatform.permissions import capability_required
from cxplatform.tenancy import get_for_org_or_404, scoped
from cxplatform.views import import_job_page

from .. import importing
from ..models import ImportJob, Survey

design_required = capability_required(Capability.DESIGN)
RECENT_JOBS = 10


def _survey(request, survey_id):
    return get_for_org_or_404(Survey, request.organization, pk=survey_id)


@design_required
@require_http_methods(["GET", "POST"])
def import_create(request, survey_id):
    survey = _survey(request, survey_id)
    form = ImportUploadForm(request.POST or None, request.FILES or None, max_bytes=importing.MAX_UPLOAD_BYTES,
                            job=ImportJob(organization=request.organization, survey=survey, created_by=request.user))
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        job = import_jobs.create_job(ImportJob, organization=request.organization, survey=survey, upload=upload,
                                     original_name=upload.name, user=request.user)
        messages.success(request, _("The file was uploaded; its rows are being imported."))
        return redirect(job.get_absolute_url())
    return render(request, "surveys/import_form.html", {
        "survey": survey,
        "form": form,
        "columns": importing.survey_columns(survey),
        "jobs": list(scoped(ImportJob, request.organization).filter(survey=survey)[:RECENT_JOBS]),
    }, status=400 if form.errors else 200)


@design_required
@require_safe
def import_detail(request, survey_id, importjob_id):
    survey = _survey(request, survey_id)
    job = get_for_org_or_404(ImportJob.objects.filter(survey=survey), request.organization, pk=importjob_id)
    return import_job_page(request, job, "surveys/import_detail.html", survey=survey)


urlpatterns = [
    path("<int:survey_id>/imports/new/", import_create, name="import_create"),
    path("<int:survey_id>/imports/<int:importjob_id>/", import_detail, name="import_detail"),
]
