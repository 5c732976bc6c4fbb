from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import DatabaseError, connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.formats import number_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import customer_import, events, import_jobs, selectors, services, tabular
from .celery import app as celery_app
from .forms import ImportUploadForm, LoginForm, NotificationSettingsForm
from .input_checks import local_path, text_problem
from .models import CHOSEN_KINDS, Capability, CustomerImportJob, Notification
from .permissions import capability_required, member_required
from .signin import pending as signin_pending
from .signin import sso
from .tenancy import SESSION_KEY, get_for_org_or_404, memberships_of, scoped


@never_cache
def healthz(request):
    """Liveness for load balancers: 503 when the database is unreachable.

    A broker outage, a lagging or a dead event delivery is reported but keeps 200: the outbox
    holds the work until it is delivered or retried, so taking web servers out of rotation would
    only add an outage.
    """
    status = {"database": "ok", "broker": "eager"}
    code = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        status["events"] = events.health()
    except DatabaseError:
        status["database"] = "unavailable"
        code = 503
    if not celery_app.conf.task_always_eager:
        try:
            with celery_app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            status["broker"] = "ok"
        except Exception:
            status["broker"] = "unavailable"
    return JsonResponse(status, status=code)


@require_POST
def switch_organization(request):
    if not request.user.is_authenticated:
        return redirect("login")
    slug = request.POST.get("organization", "")
    membership = None if text_problem(slug) else memberships_of(request.user).filter(organization__slug=slug).first()
    if membership:
        request.session[SESSION_KEY] = membership.organization_id
    target = local_path(request.POST.get("next"))
    if target is None or not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    return redirect(target)


@member_required
def customer_list(request):
    search = request.GET.get("q", "").strip()[:100]
    customers = selectors.customers(request.organization, search)[:200]
    return render(request, "cxplatform/customer_list.html", {"customers": customers, "q": search})


@capability_required(Capability.VIEW)
def customer_detail(request, customer_id):
    customer = get_for_org_or_404(selectors.customers(request.organization), request.organization, pk=customer_id)
    return render(request, "cxplatform/customer_detail.html", {"customer": customer})


RECENT_IMPORTS = 10


def import_job_page(request, job, template: str, **context):
    """An import job's page, or only its progress fragment when htmx polls it (every import's)."""
    fragment = "includes/import_progress.htmx.html"
    return render(request, fragment if request.htmx else template, {"job": job, **context})


@capability_required(Capability.DESIGN)
@require_http_methods(["GET", "POST"])
def customer_import_view(request):
    """Upload customers (revenue, active and cancelled dates, segment attributes) from CSV or XLSX:
    checked here, imported by a worker, followed on the job's page."""
    form = ImportUploadForm(request.POST or None, request.FILES or None, max_bytes=customer_import.MAX_UPLOAD_BYTES,
                            job=CustomerImportJob(organization=request.organization, created_by=request.user))
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        job = import_jobs.create_job(CustomerImportJob, organization=request.organization, upload=upload,
                                     original_name=upload.name, user=request.user)
        messages.success(request, _("The file was uploaded; its rows are being imported."))
        return redirect(job.get_absolute_url())
    context = {
        "form": form,
        "columns": customer_import.COLUMNS,
        "max_rows": number_format(tabular.LIMITS.rows, force_grouping=True),
        "jobs": list(scoped(CustomerImportJob, request.organization)[:RECENT_IMPORTS]),
    }
    return render(request, "cxplatform/customer_import.html", context, status=400 if form.errors else 200)


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon. Resolved per request: in production
    the static manifest (hashed names) exists only once `collectstatic` has run."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


@capability_required(Capability.DESIGN)
@require_safe
def customer_import_detail(request, customerimportjob_id):
    job = get_for_org_or_404(CustomerImportJob, request.organization, pk=customerimportjob_id)
    return import_job_page(request, job, "cxplatform/customer_import_job.html")


# --- Notifications: the bell's list and one's own settings ------------------------------------


@member_required
@require_safe
def notification_list(request):
    return render(request, "cxplatform/notifications.html", {
        "notifications": selectors.notifications(request.user, request.organization)})


@member_required
@require_POST
def notification_read(request, notification_id):
    """Mark one of one's own notifications read and follow its link (any member, a viewer too: it
    is the member's own state). Another organization's id is a 404 like a missing one; a
    colleague's changes nothing and leads back to the list."""
    notification = get_for_org_or_404(Notification, request.organization, pk=notification_id)
    if notification.user_id != request.user.pk:
        return redirect("notifications")
    services.mark_read(user=request.user, organization=request.organization, notification_id=notification.pk)
    return redirect(local_path(notification.link) or "notifications")


@member_required
@require_POST
def notifications_read(request):
    services.mark_read(user=request.user, organization=request.organization)
    return redirect("notifications")


@member_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    """"My notifications": bell, e-mail, both or none per kind, and the language of e-mails."""
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if form.is_valid():
            services.save_notification_settings(user=request.user, deliveries=form.deliveries(),
                                                language=form.cleaned_data["language"])
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notification_settings")
    else:
        initial = {f"kind_{kind.value}": selectors.delivery_for(request.user, kind) for kind in CHOSEN_KINDS}
        initial["language"] = selectors.own_language(request.user)
        form = NotificationSettingsForm(initial=initial)
    return render(request, "cxplatform/notification_settings.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Django's login page with the site's rule for forms: refused input answers 400."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if signin_pending.needs_second_factor(user):
            # Not signed in yet: the code comes first (cxplatform/signin/pending.py).
            signin_pending.begin(self.request, user=user, backend=user.backend, next_url=self.get_redirect_url())
            return redirect("signin:two_factor_verify")
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "sso_enabled": sso.enabled()}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response
