"""Large responses exports, written by a worker (`surveys.export_jobs`): the job's page follows the
file's progress and offers it, through an authenticated download, once every row is in it."""

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from cxplatform.models import Capability
from cxplatform.permissions import member_required
from cxplatform.tenancy import get_for_org_or_404

from .. import export_jobs, exporting
from ..models import ExportJob, Survey


def _job(request, survey_id, exportjob_id) -> ExportJob:
    survey = get_for_org_or_404(Survey, request.organization, pk=survey_id)
    job = get_for_org_or_404(ExportJob.objects.filter(survey=survey).select_related("survey"),
                             request.organization, pk=exportjob_id)
    # The customers' e-mails and ids are for those who may see them now, not only when they asked.
    if job.personal and not request.membership.can(Capability.PERSONAL_DATA):
        raise PermissionDenied
    return job


@member_required
@require_safe
def export_detail(request, survey_id, exportjob_id):
    """The job's page, or only its progress fragment when htmx polls it."""
    job = _job(request, survey_id, exportjob_id)
    template = "surveys/export_progress.htmx.html" if request.htmx else "surveys/export_detail.html"
    return render(request, template, {"job": job, "survey": job.survey})


@member_required
@require_safe
def export_download(request, survey_id, exportjob_id):
    job = _job(request, survey_id, exportjob_id)
    if not job.downloadable:  # still being written, failed, or expired: nothing to offer
        raise Http404
    try:
        file = default_storage.open(job.file.name, "rb")
        size = default_storage.size(job.file.name)
    except FileNotFoundError:
        raise Http404 from None
    if request.method != "HEAD":  # a look at the headers takes no personal data out
        export_jobs.record_download(request=request, job=job)
    response = FileResponse(file, as_attachment=True, filename=exporting.filename(job.survey, job.format),
                            content_type=exporting.CONTENT_TYPES[job.format])
    response["Content-Length"] = str(size)
    return response


urlpatterns = [
    path("<int:survey_id>/exports/<int:exportjob_id>/", export_detail, name="export_detail"),
    path("<int:survey_id>/exports/<int:exportjob_id>/download", export_download, name="export_download"),
]
