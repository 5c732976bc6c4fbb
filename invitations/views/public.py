"""What a customer and a mail provider reach without logging in: the one-click unsubscribe
(RFC 8058: the link in the e-mail and the mail client's `List-Unsubscribe-Post`) and the signed
bounce and complaint reports."""

import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from cxplatform import signatures
from cxplatform.branding import style_for

from .. import services
from ..models import Suppression

MAX_REPORTS = 500


@csrf_exempt  # a mail client's one-click POST carries no token of ours: the signed link is the proof
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    invitation = services.invitation_from_token(token[:300])
    if invitation is None:
        return render(request, "invitations/public/unsubscribe.html", {"invalid": True}, status=404)
    language = invitation.language or invitation.organization.default_language
    # The organization's look, as on its survey pages: the customer knows whose mail this is.
    brand = style_for(invitation.organization)
    with translation.override(language):
        if request.method == "POST":
            # The mail client's one-click sends `List-Unsubscribe=One-Click`; a person presses the button.
            one_click = request.POST.get("List-Unsubscribe") == "One-Click"
            source = Suppression.Source.HEADER if one_click else Suppression.Source.LINK
            services.unsubscribe(invitation=invitation, source=source)
            if one_click:
                return HttpResponse(status=204)
            return render(request, "invitations/public/unsubscribe.html",
                          {"done": True, "organization": invitation.organization, "lang": language,
                           "brand": brand})
        # A GET never unsubscribes: mail scanners open links. The page asks for the one click.
        return render(request, "invitations/public/unsubscribe.html",
                      {"organization": invitation.organization, "lang": language, "brand": brand,
                       "already": invitation.unsubscribed_at is not None})


@csrf_exempt
@require_POST
def delivery_reports(request):
    """`POST /hooks/invitations/reports/`: bounces and complaints from the mail (or SMS) provider,
    signed with BOUNCE_WEBHOOK_SECRET as every webhook of ours is (cxplatform/signatures.py).
    Body: one report or a list of them —
    {"type": "bounce" | "complaint", "address": "...", "message_id": "<…>", "permanent": true}."""
    if not settings.BOUNCE_WEBHOOK_SECRET:
        return JsonResponse({"detail": "Delivery reports are not configured (BOUNCE_WEBHOOK_SECRET)."}, status=404)
    if not signatures.verified(request, settings.BOUNCE_WEBHOOK_SECRET):
        return JsonResponse({"detail": "Bad or missing signature."}, status=403)
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"detail": "The body is not JSON."}, status=400)
    reports = payload if isinstance(payload, list) else [payload]
    if len(reports) > MAX_REPORTS:
        return JsonResponse({"detail": f"At most {MAX_REPORTS} reports per request."}, status=400)
    parsed = []
    for number, report in enumerate(reports):
        kind = report.get("type") if isinstance(report, dict) else None
        # "permanent": "false" must not read as true: only a JSON boolean is taken.
        if (kind not in ("bounce", "complaint") or not (report.get("address") or report.get("message_id"))
                or not isinstance(report.get("permanent", True), bool)):
            return JsonResponse({"detail": f"Report {number}: needs a type (bounce or complaint) and an "
                                           "address or a message_id (and permanent, if given, true or false)."},
                                status=400)
        parsed.append(services.ReportedEvent(kind=kind, address=str(report.get("address") or "")[:254],
                                             message_id=str(report.get("message_id") or "")[:300],
                                             permanent=bool(report.get("permanent", True))))
    matched = sum(services.record_delivery_report(event) for event in parsed)
    return JsonResponse({"received": len(parsed), "matched": matched})
