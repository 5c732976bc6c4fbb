"""The CX manager's pages: surveys and the links they are sent through (their questions are
built in views/builder.py)."""

import io

import segno
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cxplatform.models import Capability
from cxplatform.permissions import capability_required, member_required
from cxplatform.tenancy import get_for_org_or_404
from cxplatform.versioning import StaleEdit

from .. import links, retention, selectors, services
from ..forms import ContactPolicyForm, DistributionForm, PersonalLinkForm, RetentionOfferForm, SurveyForm
from ..models import RetentionOffer, Survey

design_required = capability_required(Capability.DESIGN)


def _survey(request, survey_id):
    return get_for_org_or_404(Survey, request.organization, pk=survey_id)


@member_required
def survey_list(request):
    return render(request, "surveys/survey_list.html", {"surveys": selectors.surveys_with_counts(request.organization)})


@design_required
def survey_create(request):
    survey = Survey(organization=request.organization, default_language=request.organization.default_language)
    form = SurveyForm(request.POST or None, instance=survey)
    if request.method == "POST" and form.is_valid():
        survey = services.save_survey(form.save(commit=False), form.texts(), fill_defaults=True)
        messages.success(request, _("Survey created. Add a link to send it."))
        return redirect("surveys:survey_detail", survey_id=survey.pk)
    return render(request, "surveys/survey_form.html", {"form": form}, status=400 if form.errors else 200)


@design_required
def survey_edit(request, survey_id):
    survey = _survey(request, survey_id)
    form = SurveyForm(request.POST or None, instance=survey)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_survey(survey=form.save(commit=False), texts=form.texts(),
                                 version=form.cleaned_data["version"], user=request.user)
        except StaleEdit as exc:
            form.add_error(None, str(exc))
            return render(request, "surveys/survey_form.html", {"form": form, "survey": survey}, status=409)
        except services.DesignRefused as exc:
            # A live survey must stay publishable: the change is refused with what it would break.
            for problem in exc.problems:
                form.add_error(None, problem)
            return render(request, "surveys/survey_form.html", {"form": form, "survey": survey}, status=400)
        messages.success(request, _("Survey saved."))
        return redirect("surveys:survey_detail", survey_id=survey.pk)
    return render(request, "surveys/survey_form.html", {"form": form, "survey": survey},
                  status=400 if form.errors else 200)


@design_required
@require_POST
def offer_create(request, survey_id):
    survey = _survey(request, survey_id)
    form = RetentionOfferForm(request.POST, survey=survey)
    if form.is_valid():
        retention.add_offer(survey, **form.offer_fields())
        messages.success(request, _("The offer is saved: customers who give that answer see it."))
    else:
        messages.error(request, _("Choose the answer the offer is for, and write the offer in English at least."))
    return redirect("surveys:survey_detail", survey_id=survey.pk)


@design_required
@require_POST
def offer_delete(request, survey_id, retentionoffer_id):
    survey = _survey(request, survey_id)
    offer = get_for_org_or_404(RetentionOffer.objects.filter(question__survey=survey), request.organization,
                               pk=retentionoffer_id)
    offer.delete()
    messages.success(request, _("The offer is removed."))
    return redirect("surveys:survey_detail", survey_id=survey.pk)


@design_required
def distribution_create(request, survey_id):
    survey = _survey(request, survey_id)
    form = DistributionForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        distribution = form.save(commit=False)
        distribution.survey, distribution.organization = survey, request.organization
        distribution.save()
        return redirect("surveys:distribution_detail", survey_id=survey.pk, distribution_id=distribution.pk)
    return render(request, "surveys/distribution_form.html", {"form": form, "survey": survey},
                  status=400 if form.errors else 200)


def _distribution(request, survey_id, distribution_id):
    survey = _survey(request, survey_id)
    return get_for_org_or_404(
        survey.distributions.select_related("touchpoint", "channel", "survey"), request.organization,
        pk=distribution_id,
    )


@member_required
def distribution_detail(request, survey_id, distribution_id):
    distribution = _distribution(request, survey_id, distribution_id)
    survey = distribution.survey
    public_url = request.build_absolute_uri(links.survey_url(distribution))
    form = PersonalLinkForm(request.GET or None, organization=request.organization)
    personal = None
    if request.GET and form.is_valid():
        signed = links.sign(distribution, form.cleaned_data["customer"], form.cleaned_data["hidden"],
                            form.cleaned_data["language"])
        low, high = survey.scale
        personal = {
            "url": request.build_absolute_uri(links.survey_url(distribution, signed)),
            "one_click": [
                (n, request.build_absolute_uri(links.one_click_url(distribution, n, signed)))
                for n in range(low, high + 1)
            ] if survey.survey_type != "csi" else [],
            "customer": form.cleaned_data["customer"],
        }
    embed_js = request.build_absolute_uri(f"/s/{distribution.public_id}/embed.js")
    return render(request, "surveys/distribution_detail.html", {
        "distribution": distribution,
        "survey": survey,
        "public_url": public_url,
        # The size is in attributes, so it holds on a site whose own policy refuses inline
        # styles; only the niceties (no border, at most 640 px wide) are in the style attribute.
        "iframe_snippet": (f'<iframe src="{public_url}" title="Survey" loading="lazy" width="100%" height="620" '
                           f'style="max-width:640px;border:0"></iframe>'),
        "script_snippet": f'<script src="{embed_js}" async></script>',
        "form": form,
        "personal": personal,
    })


def _qr(request, survey_id, distribution_id, kind):
    distribution = _distribution(request, survey_id, distribution_id)
    url = request.build_absolute_uri(links.survey_url(distribution))
    buffer = io.BytesIO()
    qr = segno.make(url, error="m")
    if kind == "png":
        qr.save(buffer, kind="png", scale=10, border=4)
        content_type = "image/png"
    else:
        qr.save(buffer, kind="svg", scale=10, border=4, xmldecl=True)
        content_type = "image/svg+xml"
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="survey-{distribution.public_id}.{kind}"'
    return response


@member_required
def distribution_qr_png(request, survey_id, distribution_id):
    return _qr(request, survey_id, distribution_id, "png")


@member_required
def distribution_qr_svg(request, survey_id, distribution_id):
    return _qr(request, survey_id, distribution_id, "svg")


@design_required
def contact_policy_edit(request):
    policy = services.contact_policy(request.organization)
    form = ContactPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_contact_policy(request=request, form=form)
        except StaleEdit:
            return render(request, "surveys/contact_policy.html", {"form": form}, status=409)
        messages.success(request, _("Contact policy saved."))
        return redirect("surveys:index")
    return render(request, "surveys/contact_policy.html", {"form": form}, status=400 if form.errors else 200)

