"""The manager's pages of trigger rules: the list with each rule's funnel, the form, and a rule's
page with its funnel, the history of the events it heard and how another system calls it."""

import logging
import smtplib

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cxplatform.models import Capability
from cxplatform.permissions import capability_required, member_required
from cxplatform.tenancy import get_for_org_or_404
from cxplatform.versioning import StaleEdit

from .. import sending, triggers
from ..models import Medium, TriggerRule

logger = logging.getLogger(__name__)
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


@design_required
@require_POST
def trigger_send_test(request, trigger_rule_id):
    """The rule's e-mail, as a customer would get it, to the manager's own address."""
    rule = _rule(request, trigger_rule_id)
    language = request.POST.get("language", "")
    if language not in rule.languages:
        language = rule.languages[0] if rule.languages else ""
    if rule.medium != Medium.EMAIL:
        messages.error(request, _("A test send is for e-mail rules."))
    elif not request.user.email:
        messages.error(request, _("Your account has no e-mail address, so the test has nowhere to go."))
    elif not language:
        messages.error(request, _("Write the message in at least one language."))
    else:
        try:
            sending.send_test(source=rule, to=request.user.email, language=language,
                              user_name=request.user.get_full_name())
        except (smtplib.SMTPException, OSError) as exc:
            logger.warning("test of trigger rule %s not sent: %s", rule.pk, exc)
            messages.error(request, _("The test could not be sent now. Try again in a moment."))
        else:
            messages.success(request, _("A test was sent to %(address)s.") % {"address": request.user.email})
    return redirect("invitations:trigger_detail", trigger_rule_id=rule.pk)
