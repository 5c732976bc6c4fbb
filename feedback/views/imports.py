"""Import of inbox items from a CSV or XLSX file: upload, then a job page with its progress and report."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from cxplatform import import_jobs
from cxplatform.forms import ImportUploadForm
from cxplatform.models import Capability
from cxplatform.permissions import capability_required
from cxplatform.tenancy import get_for_org_or_404, scoped
from cxplatform.views import import_job_page

from .. import importing
from ..models import FeedbackImportJob

RECENT_JOBS = 10


@capability_required(Capability.WORK_INBOX)
@require_http_methods(["GET", "POST"])
def upload(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None, max_bytes=importing.MAX_UPLOAD_BYTES,
                            job=FeedbackImportJob(organization=request.organization, created_by=request.user))
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        job = import_jobs.create_job(FeedbackImportJob, organization=request.organization, upload=upload,
                                     original_name=upload.name, user=request.user)
        messages.success(request, _("The file was uploaded; its rows are being imported."))
        return redirect(job.get_absolute_url())
    return render(request, "feedback/import.html", {
        "form": form,
        "columns": importing.COLUMNS,
        "jobs": list(scoped(FeedbackImportJob, request.organization)[:RECENT_JOBS]),
    }, status=400 if form.errors else 200)


@capability_required(Capability.WORK_INBOX)
@require_safe
def job_detail(request, feedbackimportjob_id):
    job = get_for_org_or_404(FeedbackImportJob, request.organization, pk=feedbackimportjob_id)
    return import_job_page(request, job, "feedback/import_job.html")
