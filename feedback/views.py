from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cxplatform.models import Capability
from cxplatform.permissions import capability_required, member_required
from cxplatform.tenancy import get_for_org_or_404, scoped

from . import selectors, services
from .forms import NoteForm, TriageForm
from .models import FeedbackItem, Tag


@member_required
@require_safe
def index(request):
    """Every customer voice, newest first (triage, routing and saved views come next)."""
    filters = {name: request.GET.get(name, "").strip() for name in (*selectors.FILTERS, "tag", "q")}
    rows, next_cursor = selectors.page_after(selectors.items(request.organization, filters),
                                             request.GET.get("after", ""))
    return render(request, "feedback/index.html", {
        "rows": rows, "next_cursor": next_cursor, "filters": filters, "statuses": FeedbackItem.Status.choices,
        "sources": FeedbackItem.Source.choices, "tags": scoped(Tag, request.organization),
    })


def _item(request, feedback_item_id):
    return get_for_org_or_404(FeedbackItem.objects.select_related("customer", "touchpoint", "channel", "assignee",
                                                                  "team", "response"),
                              request.organization, pk=feedback_item_id)


def _item_page(request, item, *, triage_form=None, note_form=None, conflict=False, status=200):
    return render(request, "feedback/item_detail.html", {
        "item": item, "events": item.events.select_related("actor"),
        "notes": item.notes.select_related("author").prefetch_related("mentions"),
        "triage_form": triage_form or TriageForm.for_item(item, request.organization),
        "note_form": note_form or NoteForm(), "conflict": conflict,
        "can_work": request.membership.can(Capability.WORK_INBOX),
    }, status=status)


@member_required
@require_safe
def item_detail(request, feedback_item_id):
    return _item_page(request, _item(request, feedback_item_id))


@capability_required(Capability.WORK_INBOX)
@require_POST
def item_triage(request, feedback_item_id):
    item = _item(request, feedback_item_id)
    form = TriageForm(request.POST, organization=request.organization)
    if not form.is_valid():
        return _item_page(request, item, triage_form=form, status=400)
    d = form.cleaned_data
    try:
        services.triage(item, request.user, d["version"], tags=list(d["tags"]), status=d["status"],
                        priority=d["priority"], team=d["team"], assignee=d["assignee"])
    except services.StaleEdit:
        # Show the item as it is now; the agent's edit is not applied over a colleague's.
        item = _item(request, feedback_item_id)
        return _item_page(request, item, conflict=True, status=409)
    return redirect("feedback:item_detail", feedback_item_id=item.pk)


@capability_required(Capability.WORK_INBOX)
@require_POST
def item_note(request, feedback_item_id):
    item = _item(request, feedback_item_id)
    form = NoteForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["text"].strip():
        if form.is_valid():
            form.add_error("text", _("The note is empty."))
        return _item_page(request, item, note_form=form, status=400)
    services.add_note(item, request.user, form.cleaned_data["text"])
    return redirect("feedback:item_detail", feedback_item_id=item.pk)
