"""/settings/webhooks/: an admin's outgoing webhooks (thin: the rules are in services.py)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cxplatform.models import Capability
from cxplatform.permissions import capability_required
from cxplatform.tenancy import get_for_org_or_404

from . import selectors, services
from .forms import SubscriptionForm
from .models import WebhookCall, WebhookSubscription

SHOWN_SECRET = "integrations.shown_secret"  # noqa: S105  # nosec B105: the session key of a new secret's one-time copy


def _subscription(request, webhooksubscription_id) -> WebhookSubscription:
    return get_for_org_or_404(WebhookSubscription, request.organization, pk=webhooksubscription_id)


def _show_secret_once(request, subscription, secret):
    request.session[SHOWN_SECRET] = {"id": subscription.pk, "secret": secret}


@capability_required(Capability.ADMINISTER)
@require_safe
def webhook_list(request):
    return render(request, "integrations/webhook_list.html",
                  {"subscriptions": selectors.subscriptions(request.organization)})


@capability_required(Capability.ADMINISTER)
@require_http_methods(["GET", "POST"])
def webhook_create(request):
    form = SubscriptionForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            subscription, secret = services.create_subscription(
                organization=request.organization, request=request, **form.service_arguments())
        except services.WebhookError as exc:
            form.add_error("url", str(exc))
        else:
            _show_secret_once(request, subscription, secret)
            messages.success(request, _("The webhook is added."))
            return redirect("integrations:webhook_detail", webhooksubscription_id=subscription.pk)
    return render(request, "integrations/webhook_form.html", {"form": form},
                  status=400 if form.is_bound else 200)


@capability_required(Capability.ADMINISTER)
@require_http_methods(["GET", "POST"])
def webhook_detail(request, webhooksubscription_id):
    subscription = _subscription(request, webhooksubscription_id)
    form = SubscriptionForm.for_subscription(subscription, request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            services.update_subscription(subscription=subscription, request=request, **form.service_arguments())
        except services.WebhookError as exc:
            form.add_error("url", str(exc))
        else:
            messages.success(request, _("The webhook is saved."))
            return redirect("integrations:webhook_detail", webhooksubscription_id=subscription.pk)
    shown = request.session.pop(SHOWN_SECRET, None) if request.method == "GET" else None
    return render(request, "integrations/webhook_detail.html", {
        "subscription": subscription, "form": form,
        "page": selectors.delivery_log(subscription, status=request.GET.get("status", ""),
                                       page=request.GET.get("page")),
        "status": request.GET.get("status", ""), "statuses": WebhookCall.Status.choices,
        "secret": shown["secret"] if shown and shown.get("id") == subscription.pk else "",
    }, status=400 if form.is_bound else 200)


@capability_required(Capability.ADMINISTER)
@require_POST
def webhook_rotate_secret(request, webhooksubscription_id):
    subscription = _subscription(request, webhooksubscription_id)
    _show_secret_once(request, subscription, services.rotate_secret(subscription=subscription, request=request))
    messages.success(request, _("A new secret is made; the old one no longer signs."))
    return redirect("integrations:webhook_detail", webhooksubscription_id=subscription.pk)


@capability_required(Capability.ADMINISTER)
@require_POST
def webhook_send_test(request, webhooksubscription_id):
    subscription = _subscription(request, webhooksubscription_id)
    services.send_test(subscription=subscription)
    messages.success(request, _("A test event is on its way; its result appears in the delivery log."))
    return redirect("integrations:webhook_detail", webhooksubscription_id=subscription.pk)


@capability_required(Capability.ADMINISTER)
@require_POST
def webhook_delete(request, webhooksubscription_id):
    subscription = _subscription(request, webhooksubscription_id)
    services.delete_subscription(subscription=subscription, request=request)
    messages.success(request, _("The webhook is removed."))
    return redirect("integrations:webhook_list")


@capability_required(Capability.ADMINISTER)
@require_POST
def webhook_call_resend(request, webhookcall_id):
    call = get_for_org_or_404(WebhookCall, request.organization, pk=webhookcall_id)
    if services.resend(call=call):
        messages.success(request, _("The delivery is sent again, with the same delivery id."))
    else:
        messages.error(request, _("This delivery is being sent right now; try again in a minute."))
    return redirect("integrations:webhook_detail", webhooksubscription_id=call.subscription_id)
