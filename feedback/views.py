from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from cxplatform.permissions import member_required
from cxplatform.tenancy import get_for_org_or_404, scoped

from . import selectors
from .models import FeedbackItem, Tag

PER_PAGE = 50


@member_required
@require_safe
def index(request):
    """Every customer voice, newest first (triage, routing and saved views come next)."""
    filters = {name: request.GET.get(name, "") for name in (*selectors.FILTERS, "tag")}
    page = Paginator(selectors.items(request.organization, filters), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "feedback/index.html", {
        "page": page, "filters": filters, "statuses": FeedbackItem.Status.choices,
        "sources": FeedbackItem.Source.choices, "tags": scoped(Tag, request.organization),
    })


@member_required
@require_safe
def item_detail(request, feedback_item_id):
    item = get_for_org_or_404(FeedbackItem.objects.select_related("customer", "touchpoint", "channel", "assignee"),
                              request.organization, pk=feedback_item_id)
    return render(request, "feedback/item_detail.html", {"item": item, "events": item.events.select_related("actor")})
