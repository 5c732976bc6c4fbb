"""/settings/privacy/: find a person, export or erase what is held about them, set retention."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cxplatform.models import Capability
from cxplatform.permissions import capability_required

from . import selectors, services
from .forms import EraseForm, RetentionForm, SearchForm
from .models import RetentionPolicy


def _page(request, *, search=None, erase=None, retention=None, status=200):
    organization = request.membership.organization
    subject = held = None
    if search is not None and search.is_bound and search.is_valid():
        subject = selectors.find_subject(organization=organization, kind=search.cleaned_data["kind"],
                                         value=search.cleaned_data["value"])
        held = selectors.counts(subject)
        if erase is None:
            erase = EraseForm(initial={"kind": subject.kind, "value": search.cleaned_data["value"]})
    policy = RetentionPolicy.objects.filter(organization=organization).first()
    if retention is None:
        retention = RetentionForm(initial={"months": policy.personal_data_months if policy else None})
    return render(request, "privacy/index.html", {
        "search": search if search is not None else SearchForm(), "subject": subject, "held": held,
        "anything_held": held is not None and selectors.anything_held(held), "erase": erase,
        "retention": retention, "policy": policy,
    }, status=status)


@capability_required(Capability.ADMINISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def index(request):
    # The search is posted: an e-mail or phone in a URL would stay in logs, history and referrers.
    search = SearchForm(request.POST) if request.method == "POST" else None
    return _page(request, search=search, status=400 if search is not None and not search.is_valid() else 200)


@capability_required(Capability.ADMINISTER)
@require_POST
def export(request):
    search = SearchForm(request.POST)
    if not search.is_valid():
        return _page(request, search=search, status=400)
    subject = selectors.find_subject(organization=request.membership.organization,
                                     kind=search.cleaned_data["kind"], value=search.cleaned_data["value"])
    archive = services.export_subject(subject=subject, request=request)
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="personal-data-{timezone.now():%Y%m%d-%H%M%S}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@capability_required(Capability.ADMINISTER)
@require_POST
def erase(request):
    form = EraseForm(request.POST)
    if not form.is_valid():
        search = SearchForm({"kind": request.POST.get("kind", ""), "value": request.POST.get("value", "")})
        return _page(request, search=search, erase=form, status=400)
    subject = selectors.find_subject(organization=request.membership.organization, kind=form.cleaned_data["kind"],
                                     value=form.cleaned_data["value"])
    counts = services.erase_subject(subject=subject, request=request)
    messages.success(request, _("Erased. Customers: %(customers)s · answers: %(responses)s · inbox items: "
                                "%(items)s · messages: %(messages)s.") % counts)
    if subject.addresses:
        messages.info(request, _("The person's addresses are on the suppression list: nothing is sent to them."))
    return redirect("privacy:index")


@capability_required(Capability.ADMINISTER)
@require_POST
def retention(request):
    form = RetentionForm(request.POST)
    if not form.is_valid():
        return _page(request, retention=form, status=400)
    services.set_retention(organization=request.membership.organization, months=form.cleaned_data["months"],
                           request=request)
    messages.success(request, _("Retention saved."))
    return redirect("privacy:index")
