"""The dashboard's fragment of the invitations the platform sent: the response rate per survey
link (loaded by the dashboard after its figures, like the themes)."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from cxplatform.permissions import member_required
from cxplatform.replica import reads_from_replica

from . import invitation_rates
from .forms import ScopeForm


@member_required
@require_safe
@reads_from_replica
def response_rates(request):
    """Per survey link with invitations sent in the period: sent, completed, response rate."""
    form = ScopeForm(request.GET, organization=request.organization)
    context = {"form": form}
    if form.is_valid():
        context.update({"scope": form.scope(), "rates": invitation_rates.response_rates(form.scope())})
    return render(request, "metrics/response_rates.htmx.html", context, status=200 if form.is_valid() else 400)
