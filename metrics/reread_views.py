""""Read all comments again" (metrics.reread): an admin starts the job and follows its progress; the
progress fragment is polled by htmx until the job ends."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from cxplatform.models import Capability
from cxplatform.permissions import capability_required
from cxplatform.tenancy import get_for_org_or_404, scoped

from . import reread
from .models import RereadJob


@capability_required(Capability.ADMINISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def reread_index(request):
    """The start button and the last jobs; POST starts one (or shows the one already running)."""
    if request.method == "POST":
        try:
            job = reread.start(organization=request.organization, user=request.user, request=request)
        except reread.AlreadyRunning as running:
            messages.info(request, _("A re-reading is already running: here is its progress."))
            job = running.job
        return redirect(job.get_absolute_url())
    jobs = scoped(RereadJob, request.organization).select_related("created_by")[:10]
    return render(request, "metrics/reread.html", {"jobs": jobs, "running": reread.active_job(request.organization)})


@capability_required(Capability.ADMINISTER)
@require_safe
def reread_detail(request, rereadjob_id):
    """The job's page, or only its progress fragment when htmx polls it."""
    job = get_for_org_or_404(RereadJob, request.organization, pk=rereadjob_id)
    template = "metrics/reread_progress.htmx.html" if request.htmx else "metrics/reread_detail.html"
    return render(request, template, {"job": job})
