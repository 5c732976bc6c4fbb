"""One item: the customer's words and 360° profile, triage, notes and the reply by e-mail."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cxplatform.models import Capability, Customer
from cxplatform.permissions import capability_required, member_required
from cxplatform.tenancy import get_for_org_or_404, scoped
from cxplatform.theme_catalog import catalog_for

from .. import activity, conversation, loop, selectors, services
from ..forms import CallForm, CloseLoopForm, ManualItemForm, NoteForm, ReplyForm, TriageForm
from ..models import CannedReply, FeedbackItem


def _item(request, feedback_item_id):
    return get_for_org_or_404(FeedbackItem.objects.select_related("customer__organization", "touchpoint", "channel",
                                                                  "assignee", "team", "response__survey",
                                                                  "response__distribution", "loop_rule",
                                                                  "root_cause__parent"),
                              request.organization, pk=feedback_item_id)


def _case(request, item, call_form=None, loop_form=None) -> dict | None:
    """What a call-back case adds to the item page: the answer in full, the rule's script, and the
    forms to log a call and to close the loop."""
    unreachable = item.loop_state == FeedbackItem.LoopState.UNREACHABLE
    if item.kind != FeedbackItem.Kind.CASE and not unreachable:
        return None
    from surveys.selectors import answer_rows
    from surveys.services import localized

    response, language = item.response, get_language()
    can_follow_up = loop.can_follow_up(item)
    return {
        "rule": item.loop_rule, "response": response, "can_follow_up": can_follow_up, "unreachable": unreachable,
        "score_question": localized(response.survey.score_question, language) if response else "",
        "answers": answer_rows(response, language) if response else [],
        "call_form": call_form or CallForm(),
        "loop_form": loop_form or CloseLoopForm(organization=request.organization, initial={
            "version": item.version, "follow_up": can_follow_up and bool(item.loop_rule and item.loop_rule.follow_up),
            "root_cause": item.root_cause_id, "note": item.resolution_note}),
    }


def _activity(item) -> list:
    events = list(item.events.select_related("actor"))
    for event in events:
        event.text = activity.describe(event)
    return events


def _item_page(request, item, *, triage_form=None, note_form=None, reply_form=None, conflict=False, status=200,
               call_form=None, loop_form=None):
    return render(request, "feedback/item_detail.html", {
        "case": _case(request, item, call_form, loop_form),
        "item": item, "events": _activity(item),
        "notes": item.notes.select_related("author").prefetch_related("mentions"),
        "conversation": item.messages.select_related("author"),
        "triage_form": triage_form or TriageForm.for_item(item, request.organization),
        "note_form": note_form or NoteForm(),
        "reply_form": reply_form or ReplyForm(initial={"version": item.version}),
        "canned": conversation.canned_for(item), "conflict": conflict,
        "profile": selectors.customer_profile(item.customer, exclude_item=item) if item.customer_id else None,
        "evidence": item.evidence.select_related("pain_point__journey_map"),
        "pain_points": selectors.open_pain_points(request.organization),
        "can_work": request.membership.can(Capability.WORK_INBOX),
        "themes": selectors.theme_chips(item.themes.all(), catalog_for(request.organization), get_language()),
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
    except services.CaseNeedsRootCause as exc:
        form.add_error("status", str(exc.message))
        return _item_page(request, item, triage_form=form, status=400)
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


@capability_required(Capability.WORK_INBOX)
@require_POST
def item_reply(request, feedback_item_id):
    item = _item(request, feedback_item_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _item_page(request, item, reply_form=form, status=400)
    d = form.cleaned_data
    try:
        conversation.reply(item, request.user, d["text"], status=d["status"] or None, version=d["version"])
    except conversation.ReplyError as exc:
        form.add_error("text", exc.args[0])
        return _item_page(request, item, reply_form=form, status=400)
    except conversation.StaleItem:
        # The reply is not sent; the agent's text stays in the form to send again.
        item = _item(request, feedback_item_id)
        form = ReplyForm(initial={"text": d["text"], "status": d["status"], "version": item.version})
        return _item_page(request, item, reply_form=form, conflict=True, status=409)
    messages.success(request, _("Your reply is on its way to %(address)s.") % {"address": item.customer.email})
    return redirect("feedback:item_detail", feedback_item_id=item.pk)


@capability_required(Capability.WORK_INBOX)
@require_safe
def canned_reply_text(request, feedback_item_id, canned_reply_id):
    """The canned reply filled in for this item (htmx puts it into the reply box)."""
    item = _item(request, feedback_item_id)
    canned = get_for_org_or_404(CannedReply, request.organization, pk=canned_reply_id)
    return HttpResponse(conversation.fill(canned, item, request.user), content_type="text/plain; charset=utf-8")


@member_required
@require_safe
def customer_profile(request, customer_id):
    """The customer's 360° view as a fragment (the customer page loads it)."""
    customer = get_for_org_or_404(scoped(Customer, request.organization).select_related("organization"),
                                  request.organization, pk=customer_id)
    return render(request, "feedback/customer_profile.htmx.html", {"profile": selectors.customer_profile(customer)})


@capability_required(Capability.WORK_INBOX)
@require_http_methods(["GET", "POST"])
def item_create(request):
    """Write down a call, a showroom conversation or a letter: it joins the inbox like any voice."""
    form = ManualItemForm(request.POST or None, organization=request.organization)
    if form.is_bound and form.is_valid():
        item, _created = services.ingest(request.organization, form.voice(), actor=request.user)
        messages.success(request, _("The item is in the inbox."))
        return redirect("feedback:item_detail", feedback_item_id=item.pk)
    return render(request, "feedback/item_form.html", {"form": form}, status=400 if form.errors else 200)


@capability_required(Capability.WORK_INBOX)
@require_POST
def item_call(request, feedback_item_id):
    item = _item(request, feedback_item_id)
    form = CallForm(request.POST)
    if not form.is_valid():
        return _item_page(request, item, call_form=form, status=400)
    try:
        loop.log_call(item, request.user, form.cleaned_data["note"], reached=form.cleaned_data["reached"])
    except loop.CaseError as exc:
        form.add_error("note", str(exc))
        return _item_page(request, item, call_form=form, status=400)
    return redirect("feedback:item_detail", feedback_item_id=item.pk)


@capability_required(Capability.WORK_INBOX)
@require_POST
def item_close_loop(request, feedback_item_id):
    item = _item(request, feedback_item_id)
    form = CloseLoopForm(request.POST, organization=request.organization)
    if not form.is_valid():
        return _item_page(request, item, loop_form=form, status=400)
    d = form.cleaned_data
    try:
        loop.resolve_case(item, request.user, d["version"], root_cause=d["root_cause"], note=d["note"],
                          follow_up=d["follow_up"])
    except loop.CaseError as exc:
        form.add_error(None, str(exc))
        return _item_page(request, item, loop_form=form, status=400)
    except services.StaleEdit:
        item = _item(request, feedback_item_id)
        form = CloseLoopForm(organization=request.organization, initial={**d, "version": item.version})
        return _item_page(request, item, loop_form=form, conflict=True, status=409)
    messages.success(request, _("The loop is closed."))
    return redirect("feedback:item_detail", feedback_item_id=item.pk)
