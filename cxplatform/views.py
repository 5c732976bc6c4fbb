from django.contrib import messages
from django.db import DatabaseError, connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import customer_import, selectors
from .celery import app as celery_app
from .forms import CustomerImportForm
from .models import Capability
from .permissions import capability_required, member_required
from .tenancy import SESSION_KEY, get_for_org_or_404, memberships_of


@never_cache
def healthz(request):
    """Liveness for load balancers: 503 when the database is unreachable.

    A broker outage is reported but keeps 200: the outbox holds the work until the broker is
    back, so taking web servers out of rotation would only add an outage.
    """
    status = {"database": "ok", "broker": "eager"}
    code = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
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
    membership = memberships_of(request.user).filter(organization__slug=request.POST.get("organization")).first()
    if membership:
        request.session[SESSION_KEY] = membership.organization_id
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
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


# The page lists this many bad rows; the count stays exact and the command prints them all.
SHOWN_IMPORT_ERRORS = 500


@capability_required(Capability.DESIGN)
@require_http_methods(["GET", "POST"])
def customer_import_view(request):
    """Upload customers (revenue, active and cancelled dates, segment attributes) from CSV or XLSX."""
    form = CustomerImportForm(request.POST, request.FILES) if request.method == "POST" else CustomerImportForm()
    report = None
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = customer_import.import_customers(request.organization, upload, upload.name)
        except customer_import.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, _("The file %(name)s was imported.") % {"name": upload.name})
            form = CustomerImportForm()
    context = {
        "form": form,
        "report": report,
        "shown_errors": report.errors[:SHOWN_IMPORT_ERRORS] if report else [],
        "hidden_errors": max(report.error_rows - SHOWN_IMPORT_ERRORS, 0) if report else 0,
        "columns": customer_import.COLUMNS,
        "max_rows": customer_import.MAX_ROWS,
    }
    return render(request, "cxplatform/customer_import.html", context, status=400 if form.errors else 200)


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon. Resolved per request: in production
    the static manifest (hashed names) exists only once `collectstatic` has run."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
