"""Evidence for journey pain points: link an item or a tag; the journey pages load the summary
of a pain point's evidence from here as a fragment (journeys never imports the inbox)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cxplatform.input_checks import int_or_none, local_path
from cxplatform.models import Capability
from cxplatform.permissions import capability_required
from cxplatform.tenancy import get_for_org_or_404, scoped
from journeys.models import PainPoint

from .. import evidence, selectors
from ..models import FeedbackItem, PainPointEvidence, Tag


@capability_required(Capability.WORK_INBOX)
@require_POST
def item_evidence(request, feedback_item_id):
    """This item shows that a pain point is real."""
    item = get_for_org_or_404(FeedbackItem, request.organization, pk=feedback_item_id)
    chosen = int_or_none(request.POST.get("pain_point"))
    pain_point = selectors.open_pain_points(request.organization).filter(pk=chosen).first()
    if pain_point is None:
        messages.error(request, _("Choose one of the open pain points of your journey maps."))
    else:
        _evidence, created = evidence.link(pain_point, request.user, item=item)
        messages.success(request, (_("Linked to the pain point “%(pain)s”.") if created
                                   else _("It was already linked to “%(pain)s”.")) % {"pain": pain_point})
    return redirect("feedback:item_detail", feedback_item_id=item.pk)


@capability_required(Capability.WORK_INBOX)
@require_POST
def evidence_delete(request, painpointevidence_id):
    link = get_for_org_or_404(PainPointEvidence, request.organization, pk=painpointevidence_id)
    evidence.unlink(link)
    messages.success(request, _("The link to the pain point is removed."))
    return redirect(local_path(request.POST.get("next")) or "feedback:index")


@require_http_methods(["GET", "POST"])
@capability_required(Capability.VIEW)
def pain_point_evidence(request, pain_point_id):
    """The fragment on a pain point: its items and tags; a tag can be linked here."""
    pain_point = get_for_org_or_404(PainPoint, request.organization, pk=pain_point_id)
    can_work = request.membership.can(Capability.WORK_INBOX)
    error = ""
    if request.method == "POST":
        if not can_work:
            raise PermissionDenied
        tag = scoped(Tag, request.organization).filter(pk=int_or_none(request.POST.get("tag"))).first()
        if tag is None:
            error = _("Choose a tag.")
        else:
            evidence.link(pain_point, request.user, tag=tag)
    return render(request, "feedback/pain_point_evidence.htmx.html", {
        "summary": evidence.summary(pain_point), "tags": scoped(Tag, request.organization), "can_work": can_work,
        "error": error,
    }, status=400 if error else 200)
