"""The manager's pages of trigger rules: the list with each rule's funnel, the form, and a rule's
page with its funnel, the history of the events it heard and how another system calls it."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cxplatform.models import Capability
from cxplatform.permissions import capability_required, member_required
from cxplatform.tenancy import get_for_org_or_404
from cxplatform.versioning import StaleEdit

from .. import triggers
from ..models import TriggerRule

design_required = capability_required(Capability.DESIGN)
HISTORY_PER_PAGE = 25


def _rule(request, trigger_rule_id):
    return get_for_org_or_404(TriggerRule.objects.select_related("distribution__survey"), request.organization,
                              pk=trigger_rule_id)


@member_required
def trigger_list(request):
    return render(request, "invitations/trigger_list.html",
                  {"rules": triggers.rules_with_funnels(request.organization)})


@design_required
def trigger_create(request):
    return _form(request, TriggerRule(organization=request.organization))


@design_required
def trigger_edit(request, trigger_rule_id):
    return _form(request, _rule(request, trigger_rule_id))


def _form(request, rule):
    form = triggers.TriggerRuleForm(request.POST or None, instance=rule, organization=request.organization)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                rule = form.save()
            except StaleEdit:  # the form carries the message
                status = 409
            else:
                messages.success(request, _("Trigger rule saved."))
                return redirect("invitations:trigger_detail", trigger_rule_id=rule.pk)
        else:
            status = 400
    return render(request, "invitations/trigger_form.html", {
        "form": form, "rule": rule if rule.pk else None, "events": triggers.event_names(request.organization),
    }, status=status)


@member_required
def trigger_detail(request, trigger_rule_id):
    """The rule's page; its history's pages come as the fragment alone when htmx asks."""
    rule = _rule(request, trigger_rule_id)
    page = Paginator(triggers.history(rule), HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(event, triggers.outcome(event.rule_invitations[0] if event.rule_invitations else None))
            for event in page]
    context = {"rule": rule, "page": page, "rows": rows}
    if request.htmx:
        return render(request, "invitations/trigger_history.htmx.html", context)
    return render(request, "invitations/trigger_detail.html", {
        **context,
        "funnel": triggers.rule_funnel(rule),
        "delay": triggers.delay_text(rule.delay_minutes),
        "curl": triggers.curl_example(site_url=request.build_absolute_uri("/"), organization=request.organization,
                                      event=rule.event),
        "built_in": rule.event in triggers.BUILT_IN_EVENTS,
        "link_open": triggers.links_for(request.organization).filter(pk=rule.distribution_id).exists(),
    })
