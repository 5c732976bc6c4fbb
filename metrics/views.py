from django.shortcuts import render

from cxplatform.permissions import member_required

from . import selectors


@member_required
def dashboard(request):
    overview = selectors.organization_overview(request.organization)
    return render(request, "metrics/dashboard.html", {"overview": overview})
