"""The agent's list: built-in and saved views, filters, search, keyset pages and bulk actions."""

from django.contrib import messages
from django.db.models import Q
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from cxplatform.models import Capability
from cxplatform.permissions import capability_required, member_required
from cxplatform.tenancy import get_for_org_or_404
from cxplatform.theme_catalog import catalog_for

from .. import selectors, services
from ..forms import BulkForm, InboxFilterForm, SavedViewForm
from ..models import FeedbackItem, SavedView
from .rows import options
from .rows import rows as presented

_filter_query = selectors.filter_query  # one definition, shared with the API's saved views


@member_required
@require_safe
def index(request):
    """Every customer voice: open items newest first by default, in a view, filtered, searched."""
    form = InboxFilterForm(request.GET, organization=request.organization)
    filters = form.filters()
    rows, next_cursor = selectors.page_after(selectors.items(request.organization, filters, request.user),
                                             request.GET.get("after", ""))
    view = filters.get("view") or ("all" if filters.get("status") else "open")
    can_work = request.membership.can(Capability.WORK_INBOX)
    bulk_form = BulkForm(None, organization=request.organization, user=request.user)
    context = {
        "rows": presented(rows, checkboxes=can_work, catalog=catalog_for(request.organization)),
        "next_cursor": next_cursor, "filters": filters, "view": view,
        "search": form.data.get("q", ""),
        "selects": [(form[name], options(form[name], form.data.get(name)))
                    for name in form.fields if name not in ("view", "q")],
        "bulk_selects": {name: options(bulk_form[name], None) for name in ("tag", "assignee")} if can_work else {},
        "views": InboxFilterForm.VIEWS,
        "saved_views": selectors.saved_views(request.organization, request.user),
        "current_query": _filter_query(request.GET), "saved_id": request.GET.get("saved", ""),
        "can_work": can_work, "can_configure": request.membership.can(Capability.DESIGN),
        "save_form": SavedViewForm(initial={"query": _filter_query(request.GET)}),
    }
    return render(request, "feedback/index.html", context)


@member_required
@require_safe
def view_counts(request):
    """How many open items each built-in view holds: a fragment the list loads after itself."""
    return render(request, "feedback/view_counts.htmx.html",
                  {"counts": selectors.view_counts(request.organization, request.user)})


def _back(request):
    """Where an action returns to: the list as the agent had it."""
    query = request.POST.get("return_query", "")
    return reverse("feedback:index") + (f"?{query}" if query else "")


@capability_required(Capability.WORK_INBOX)
@require_POST
def bulk(request):
    form = BulkForm(request.POST, organization=request.organization, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_back(request))
    action = form.cleaned_data["action"]
    kwargs = {}
    if action == "tag":
        kwargs["add_tag"] = form.cleaned_data["tag"]
    elif action == "assign":
        if form.cleaned_data["assignee"] == "none":
            kwargs["unassign"] = True
        else:
            kwargs["assignee"] = form.assignee_user()
    else:
        kwargs["status"] = FeedbackItem.Status.RESOLVED
    outcome = services.bulk_triage(request.organization, request.user, form.versions(), **kwargs)
    if outcome.updated:
        messages.success(request, ngettext("%(n)d item updated.", "%(n)d items updated.", len(outcome.updated))
                         % {"n": len(outcome.updated)})
    if outcome.cases:
        messages.error(request, ngettext(
            "%(n)d call-back case was not resolved: a case closes with its root cause, on its own page.",
            "%(n)d call-back cases were not resolved: a case closes with its root cause, on its own page.",
            len(outcome.cases)) % {"n": len(outcome.cases)})
    if outcome.stale:
        messages.error(request, ngettext(
            "%(n)d item was changed by someone else after you loaded the list, so it was left as it is: "
            "open it to see the change.",
            "%(n)d items were changed by someone else after you loaded the list, so they were left as they are: "
            "open them to see the changes.", len(outcome.stale)) % {"n": len(outcome.stale)})
    return redirect(_back(request))


@capability_required(Capability.WORK_INBOX)
@require_POST
def saved_view_create(request):
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the view a name."))
        return redirect(_back(request))
    query = _filter_query(QueryDict(form.cleaned_data["query"]))
    view, created = services.save_view(request.organization, request.user, form.cleaned_data["name"], query,
                                       shared=form.cleaned_data["shared"])
    messages.success(request, (_("The view “%(name)s” is saved.") if created
                               else _("The view “%(name)s” now shows these filters.")) % {"name": view.name})
    return redirect(f"{reverse('feedback:index')}?{query}&saved={view.pk}" if query
                    else f"{reverse('feedback:index')}?saved={view.pk}")


@member_required
@require_safe
def saved_view_open(request, saved_view_id):
    view = get_for_org_or_404(selectors.saved_views(request.organization, request.user), request.organization,
                              pk=saved_view_id)
    return redirect(f"{reverse('feedback:index')}?{view.query}&saved={view.pk}")


@capability_required(Capability.WORK_INBOX)
@require_POST
def saved_view_delete(request, saved_view_id):
    # Its owner removes a view, and an administrator a shared one; for anyone else it is 404.
    removable = Q(owner=request.user)
    if request.membership.can(Capability.ADMINISTER):
        removable |= Q(shared=True)
    view = get_for_org_or_404(SavedView.objects.filter(removable), request.organization, pk=saved_view_id)
    view.delete()
    messages.success(request, _("The view “%(name)s” is removed.") % {"name": view.name})
    return redirect("feedback:index")
