"""The CX manager's pages for survey invitations: campaigns and their funnel, audiences (a filter
sized live, or an uploaded list), the suppression list and the sending settings."""

from functools import wraps

from csp.constants import SELF
from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST, require_safe

from cxplatform import tabular
from cxplatform.models import Capability, Customer
from cxplatform.permissions import capability_required, member_required
from cxplatform.tenancy import get_for_org_or_404, scoped
from cxplatform.versioning import StaleEdit

from .. import audiences, editing, selectors, sending, services, uploads
from .. import messages as invitation_messages
from ..forms import AudienceForm, AudienceUploadForm, CampaignForm, SendingSettingsForm, SuppressionForm
from ..models import Audience, Campaign, SendingProfile, SkipReason, Suppression

design_required = capability_required(Capability.DESIGN)
LANGUAGE_NAMES = dict(settings.LANGUAGES)
PAGE_SIZE = 50


def _campaign(request, campaign_id):
    return get_for_org_or_404(Campaign.objects.select_related("distribution__survey", "audience"),
                              request.organization, pk=campaign_id)


def _audience(request, audience_id):
    return get_for_org_or_404(Audience, request.organization, pk=audience_id)


# --- Campaigns ------------------------------------------------------------------------------

@member_required
@require_safe
def campaign_list(request):
    campaigns = scoped(Campaign, request.organization).select_related("distribution__survey", "audience")
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    funnels = selectors.campaign_funnels(list(page))
    rows = [(c, funnels.get(c.pk, selectors.Funnel())) for c in page]
    return render(request, "invitations/campaign_list.html", {"rows": rows, "page": page})


@design_required
def campaign_create(request):
    campaign = Campaign(organization=request.organization)
    form = CampaignForm(request.POST or None, organization=request.organization,
                        initial={"audience": request.GET.get("audience", "")} if request.GET.get("audience") else None)
    if request.method == "POST" and form.is_valid():
        campaign = editing.save_campaign(campaign=campaign, version=None, apply=form.apply, user=request.user)
        messages.success(request, _("Campaign saved as a draft. Preview it, send a test to yourself, then send it."))
        return redirect("invitations:campaign_detail", campaign_id=campaign.pk)
    return render(request, "invitations/campaign_form.html", {"form": form}, status=400 if form.errors else 200)


@design_required
def campaign_edit(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    if campaign.status not in editing.EDITABLE:
        messages.error(request, _("Only a draft or scheduled campaign can be changed."))
        return redirect("invitations:campaign_detail", campaign_id=campaign.pk)
    form = CampaignForm(request.POST or None, organization=request.organization, campaign=campaign)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            editing.save_campaign(campaign=campaign, version=form.cleaned_data["version"], apply=form.apply)
        except StaleEdit as exc:
            form.add_error(None, str(exc))
            status = 409
        except services.CampaignError as exc:
            form.add_error(None, str(exc))
            status = 409
        else:
            messages.success(request, _("Campaign saved as a draft: send or schedule it when it is ready."))
            return redirect("invitations:campaign_detail", campaign_id=campaign.pk)
    return render(request, "invitations/campaign_form.html", {"form": form, "campaign": campaign},
                  status=400 if status == 200 and form.errors else status)


@member_required
@require_safe
def campaign_detail(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    invitations = campaign.invitations.all()
    runs = list(range(campaign.runs, 0, -1))
    run = request.GET.get("run", "")
    if run.isascii() and run.isdigit() and int(run) in runs:
        invitations = invitations.filter(run=int(run))
        run = int(run)
    else:
        run = None
    funnel = selectors.funnel(invitations)
    reason = request.GET.get("reason", "")
    skipped_page = None
    if reason in SkipReason.values:
        rows = selectors.skipped(invitations, reason=reason).order_by("customer__name", "id")
        skipped_page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    # Each step's share, and of what: delivered and bounced split the sent (a bounce was never
    # delivered); the later steps are shares of those delivered.
    steps = []
    for key, label in (("sent", _("Sent")), ("delivered", _("Delivered")), ("bounced", _("Bounced")),
                       ("opened", _("Opened")), ("started", _("Started")), ("completed", _("Completed")),
                       ("unsubscribed", _("Unsubscribed"))):
        if key == "sent":
            rate, base = None, ""
        elif key in ("delivered", "bounced"):
            rate, base = funnel.share_of_sent(key), _("of sent")
        else:
            rate, base = funnel.rate(key), _("of delivered")
        steps.append((key, label, getattr(funnel, key), rate, base))
    context = {
        "campaign": campaign, "funnel": funnel, "steps": steps,
        "runs": runs, "run": run, "reason": reason, "reason_label": SkipReason(reason).label if skipped_page else "",
        "skipped_page": skipped_page, "editable": campaign.status in editing.EDITABLE,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in campaign.languages],
        "previews": _previews(request, campaign) if campaign.status in editing.EDITABLE else [],
        "size": audiences.size(campaign.audience) if campaign.status in editing.EDITABLE else None,
        "user_email": request.user.email,
    }
    if request.htmx and request.GET.get("fragment") == "skipped":
        return render(request, "invitations/campaign_skipped.htmx.html", context)
    return render(request, "invitations/campaign_detail.html", context)


def _example_customer(request, campaign, language):
    return Customer(organization=campaign.organization, language=language,
                    name=request.user.get_full_name() or request.user.get_username())


def _previews(request, campaign):
    """(code, language name, the SMS text) per language of the message; an e-mail is shown from
    its preview URL in a frame."""
    sms = campaign.medium == "sms"
    return [(code, LANGUAGE_NAMES[code], _render(request, campaign, code).text if sms else "")
            for code in campaign.languages]


def _render(request, campaign, language):
    return invitation_messages.render(source=campaign, distribution=campaign.distribution,
                                      customer=_example_customer(request, campaign, language),
                                      organization=campaign.organization, language=language, invitation=None)


def framed_by_our_pages(view):
    """The e-mail preview is shown in a frame on the campaign page: a browser asking for it as a
    frame (`Sec-Fetch-Dest: iframe`) may show it inside our own pages; any other request gets the
    site's policy (framed by nobody)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.headers.get("Sec-Fetch-Dest") != "iframe":
            response = view(request, *args, **kwargs)
        else:
            response = csp_replace({"frame-ancestors": [SELF]})(xframe_options_sameorigin(view))(
                request, *args, **kwargs)
        patch_vary_headers(response, ["Sec-Fetch-Dest"])
        return response

    return wrapped


@member_required
@require_safe
@framed_by_our_pages
def campaign_preview(request, campaign_id):
    """The e-mail exactly as it is rendered for sending (a test send's links, no unsubscribe)."""
    campaign = _campaign(request, campaign_id)
    language = request.GET.get("lang", "")
    if language not in campaign.languages:
        language = campaign.languages[0] if campaign.languages else request.organization.default_language
    if not campaign.languages:
        return HttpResponse(_("The message is empty."), content_type="text/plain; charset=utf-8")
    rendered = _render(request, campaign, language)
    if campaign.medium == "sms":
        return HttpResponse(rendered.text, content_type="text/plain; charset=utf-8")
    return HttpResponse(rendered.html)


@design_required
@require_POST
def campaign_test(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    language = request.POST.get("language", "")
    if language not in campaign.languages:
        messages.error(request, _("Choose one of the message's languages."))
    elif campaign.medium == "email" and not request.user.email:
        messages.error(request, _("Your account has no e-mail address, so a test cannot be sent to you. "
                                  "Ask an administrator to add one."))
    elif campaign.medium == "sms" and not request.POST.get("phone", "").strip():
        messages.error(request, _("Write the phone number the test should go to."))
    else:
        to = request.user.email if campaign.medium == "email" else services.normalise_address(request.POST["phone"])
        try:
            sending.send_test(source=campaign, to=to, language=language,
                              user_name=request.user.get_full_name() or request.user.get_username())
        except Exception as exc:  # noqa: BLE001  the backend's refusal is the manager's to read
            messages.error(request, _("The test could not be sent: %(error)s") % {"error": str(exc)[:200]})
        else:
            messages.success(request, _("A test in %(language)s was sent to %(address)s.")
                             % {"language": LANGUAGE_NAMES[language], "address": to})
    return redirect("invitations:campaign_detail", campaign_id=campaign.pk)


@design_required
@require_POST
def campaign_schedule(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    if campaign.send_at and campaign.send_at <= timezone.now() and campaign.status == Campaign.Status.DRAFT:
        # A draft's time went by while it waited: sending it at once would surprise.
        messages.error(request, _("The time chosen for this campaign has passed: edit it and choose another."))
        return redirect("invitations:campaign_detail", campaign_id=campaign.pk)
    try:
        campaign = services.schedule(campaign=campaign, send_at=campaign.send_at, user=request.user)
    except services.CampaignError as exc:
        messages.error(request, str(exc))
    else:
        if campaign.send_at:
            messages.success(request, _("Scheduled: the invitations go out at the time chosen."))
        else:
            messages.success(request, _("Sending: the invitations are going out now."))
    return redirect("invitations:campaign_detail", campaign_id=campaign.pk)


@design_required
@require_POST
def campaign_cancel(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    if campaign.status in (Campaign.Status.SENT, Campaign.Status.CANCELLED):
        messages.error(request, _("This campaign has ended; there is nothing to cancel."))
    else:
        held = services.cancel(campaign=campaign)
        messages.success(request, ngettext("Campaign cancelled; %(count)d invitation not yet sent was held back.",
                                           "Campaign cancelled; %(count)d invitations not yet sent were held back.",
                                           held) % {"count": held})
    return redirect("invitations:campaign_detail", campaign_id=campaign.pk)


# --- Audiences ------------------------------------------------------------------------------

@member_required
@require_safe
def audience_list(request):
    rows = [(a, audiences.size(a), a.campaigns.exists())
            for a in scoped(Audience, request.organization).select_related("organization")]
    return render(request, "invitations/audience_list.html", {"rows": rows})


@design_required
def audience_create(request):
    return _audience_form(request, Audience(organization=request.organization))


@design_required
def audience_edit(request, audience_id):
    return _audience_form(request, _audience(request, audience_id))


def _audience_form(request, audience):
    form = AudienceForm(request.POST or None, organization=request.organization,
                        audience=audience if audience.pk else None)
    if audience.kind == Audience.Kind.LIST:
        for name in list(form.fields):
            if name not in ("name", "version"):
                del form.fields[name]
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            editing.save_audience(audience=audience, name=form.cleaned_data["name"],
                                  criteria=form.cleaned_data.get("criteria", {}),
                                  version=form.cleaned_data["version"], user=request.user)
        except StaleEdit as exc:
            form.add_error(None, str(exc))
            status = 409
        else:
            messages.success(request, _("Audience saved."))
            return redirect("invitations:audience_list")
    size = audiences.size(audience) if audience.pk and not form.is_bound else None
    return render(request, "invitations/audience_form.html", {"form": form, "audience": audience, "size": size},
                  status=400 if status == 200 and form.errors else status)


@design_required
@require_POST
def audience_size(request):
    """The htmx fragment of the audience builder: how many customers the filter being edited finds."""
    form = AudienceForm(request.POST, organization=request.organization)
    form.fields["name"].required = False
    size, error = None, ""
    if form.is_valid():
        size = audiences.preview_size(organization=request.organization, criteria=form.cleaned_data["criteria"])
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return render(request, "invitations/audience_size.htmx.html", {"size": size, "error": error})


@design_required
def audience_upload(request):
    form = AudienceUploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > uploads.MAX_BYTES:
            form.add_error("file", _("The file is larger than %(limit)d MB; split it into smaller files.")
                           % {"limit": uploads.MAX_BYTES // (1024 * 1024)})
        else:
            try:
                report = uploads.import_list(organization=request.organization, name=form.cleaned_data["name"],
                                             upload=upload, file_name=upload.name, user=request.user)
            except tabular.ImportFileError as exc:
                form.add_error("file", str(exc))
    context = {"form": form, "report": report, "max_rows": number_format(uploads.MAX_ROWS, force_grouping=True)}
    return render(request, "invitations/audience_upload.html", context, status=400 if form.errors else 200)


@design_required
@require_POST
def audience_delete(request, audience_id):
    audience = _audience(request, audience_id)
    if editing.delete_audience(audience=audience):
        messages.success(request, _("Audience deleted."))
    else:
        messages.error(request, _("A campaign uses this audience, so it was kept."))
    return redirect("invitations:audience_list")


# --- The suppression list -------------------------------------------------------------------

@design_required
def suppression_list(request):
    form = SuppressionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = form.cleaned_data["address"]
        if editing.add_suppression(organization=request.organization, address=address, user=request.user,
                                   request=request):
            messages.success(request, _("%(address)s will receive no more invitations.") % {"address": address})
        else:
            messages.info(request, _("%(address)s is on the list already.") % {"address": address})
        return redirect("invitations:suppression_list")
    entries = scoped(Suppression, request.organization).select_related("created_by")
    query = request.GET.get("q", "").strip()[:100]
    if query:
        entries = entries.filter(Q(address__icontains=query) | Q(source__icontains=query))
    reason = request.GET.get("reason", "")
    if reason in Suppression.Reason.values:
        entries = entries.filter(reason=reason)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "invitations/suppression_list.html", {
        "form": form, "page": page, "query": query, "reason": reason, "reasons": Suppression.Reason.choices,
    }, status=400 if form.errors else 200)


@design_required
@require_POST
def suppression_delete(request, suppression_id):
    entry = get_for_org_or_404(Suppression, request.organization, pk=suppression_id)
    editing.lift_suppression(organization=request.organization, address=entry.address, request=request)
    messages.success(request, _("%(address)s may be invited again.") % {"address": entry.address})
    return redirect("invitations:suppression_list")


# --- Sending settings -----------------------------------------------------------------------

@design_required
def sending_settings(request):
    profile = SendingProfile.objects.filter(organization=request.organization).first() or SendingProfile(
        organization=request.organization)
    form = SendingSettingsForm(request.POST or None, instance=profile, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        editing.save_sending_settings(organization=request.organization, profile=form.save(commit=False),
                                      time_zone=form.cleaned_data["time_zone"], request=request)
        messages.success(request, _("Sending settings saved."))
        return redirect("invitations:sending_settings")
    return render(request, "invitations/sending_settings.html", {"form": form}, status=400 if form.errors else 200)

