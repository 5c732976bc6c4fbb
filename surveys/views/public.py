"""The respondent's pages: no login, mobile first, light, and never a 500 on bad input.

They are CSRF-exempt on purpose: they carry no session authority (the customer comes only from
the signed link) and must work inside iframes on other sites, where cookies are often blocked.
"""

import uuid
from functools import wraps

from csp.decorators import csp_replace
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cxplatform.branding import BrandStyle, style_for
from cxplatform.content_policy import embeddable
from cxplatform.permissions import member_required
from cxplatform.tenancy import get_for_org_or_404

from .. import page, retention, robots, services
from ..models import LANGUAGE_CODES, RetentionOffer, Survey
from ..respondent import (
    RespondentError,
    check_rate_limits,
    existing_response,
    facts_of,
    load_distribution,
    one_click_answer,
    open_visit,
    parse_token,
    preview_visit,
    warm_answer,
)


def public_page(view):
    """Common wrapping: frameable by customers' sites (the embeds), not cached, CSRF-exempt, and
    RespondentError → a clear page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except RespondentError as exc:
            return error_page(request, exc.kind, exc.status, brand=_brand_of(kwargs.get("public_id")))
        except services.SurveyUnavailable as exc:
            return error_page(request, exc.reason, RespondentError.STATUS[exc.reason],
                              brand=_brand_of(kwargs.get("public_id")))

    return csrf_exempt(embeddable(never_cache(wrapped)))


def _brand_of(public_id) -> BrandStyle:
    """The link's organization's look for an error page (a paused survey still looks like its
    brand); the platform's own when the link does not exist."""
    try:
        return style_for(load_distribution(str(public_id or "")).survey.organization)
    except RespondentError:
        return BrandStyle()


def error_page(request, kind, status, language=None, brand: BrandStyle | None = None):
    with translation.override(language or translation.get_language_from_request(request)):
        return render(request, "surveys/public/error.html", {"kind": kind, "brand": brand or BrandStyle()},
                      status=status)


@public_page
@require_http_methods(["GET", "POST"])
def respond(request, public_id):
    visit = open_visit(request, public_id, request.POST.get("c") if request.method == "POST" else None)
    services.ensure_accepting(visit.survey, visit.distribution)
    if request.method == "POST":
        with translation.override(visit.language):
            return _submit(request, visit)

    token = parse_token(request.GET.get("t"))
    check_rate_limits(request, visit, token)
    reopened = token is None  # the link itself, not yet at its visit's address
    response = existing_response(visit, token) if token is not None else warm_answer(visit)
    if response is not None:
        token = response.token
        if reopened and "lang" not in request.GET and response.language in visit.survey.languages:
            visit.language = response.language  # the warm answer is shown as it was given
    # An invitation the platform sent passed the contact policy when it was sent (docs/adr/0024).
    robot = robots.is_robot(request)  # shown the page, counted nowhere
    if visit.invitation is None and not services.may_ask(
            visit.customer, resuming_token=response.token if response else None):
        if not robot:
            services.count_open(visit.distribution, skipped_by_policy=True)
        with translation.override(visit.language):
            return render(request, "surveys/public/already_asked.html", page.context(visit))
    address = {}
    if reopened:
        # The page at once, with its answer's token and the address that carries it, which the
        # page writes into the address bar — or, without scripts, refreshes to — so Back, a reload
        # or a second "Send" all reuse it: one visit, one answer (docs/adr/0011). A new visit
        # counts for the funnel; a known customer's link opened again while their answer is warm
        # is that same visit.
        if token is None:
            if not robot:
                services.count_open(visit.distribution, invitation=visit.invitation)
            token = uuid.uuid4()
        address = {"visit_address": page.page_address(visit, token), "refresh_to_address": True}
    with translation.override(visit.language):
        return render(
            request, "surveys/public/survey.html",
            {**page.context(visit, token=token, response=response, facts=facts_of(visit)), **address},
        )


def _submit(request, visit):
    token = parse_token(request.POST.get("token"))
    if token is None:
        raise RespondentError("bad_request")
    check_rate_limits(request, visit, token)
    survey = visit.survey
    try:
        submission = services.clean_submission(survey, request.POST, complete=True, language=visit.language,
                                               facts=facts_of(visit))
        response, _created = services.record_response(
            survey=survey, submission=submission, complete=True, language=visit.language,
            distribution=visit.distribution, token=token, customer=visit.customer, hidden=visit.hidden,
            invitation=visit.invitation, **_score_link_answer(request),
        )
    except services.SubmissionError as exc:
        # Sent back with its corrections; its address is the visit's, written by the script only
        # (a refresh would lose what the respondent typed).
        return render(
            request, "surveys/public/survey.html",
            {**page.context(visit, token=token, posted=request.POST, errors=exc.errors, facts=facts_of(visit)),
             "visit_address": page.page_address(visit, token), "score_link": _from_score_link(request)},
            status=400,
        )
    # The thank-you page in reply, not a redirect to it: a round trip fewer for the customer and a
    # request fewer for the web (docs/adr/0011). Its address is written (or, without scripts,
    # refreshed to) the thank-you page's own, so a reload shows it again and sends nothing.
    return _thanks_page(request, visit, token, response,
                        {"visit_address": page.thanks_address(visit, token), "refresh_to_address": True})


def _from_score_link(request) -> bool:
    """The form comes from an e-mail's score link (its field's name can be no question's key)."""
    return request.POST.get("_score_link") == "1"


def _score_link_answer(request) -> dict:
    return services.score_link_answer() if _from_score_link(request) else {}


def _thanks_page(request, visit, token, response, extra=None):
    return render(request, "surveys/public/thanks.html", {
        **page.thanks_context(visit, token=token, response=response),
        "offers": retention.offers_for(response, visit.language),
        "offer_query": page.visit_query(visit, token),
        **(extra or {}),
    })


@public_page
@require_POST
def save_partial(request, public_id):
    """Keeps what the respondent has answered so far (the page sends it as they go)."""
    visit = open_visit(request, public_id, request.POST.get("c", ""))
    services.ensure_accepting(visit.survey, visit.distribution)
    token = parse_token(request.POST.get("token"))
    if token is None:
        raise RespondentError("bad_request")
    check_rate_limits(request, visit, token)
    try:
        submission = services.clean_submission(visit.survey, request.POST, complete=False, language=visit.language,
                                               facts=facts_of(visit))
        services.record_response(
            survey=visit.survey, submission=submission, complete=False, language=visit.language,
            distribution=visit.distribution, token=token, customer=visit.customer, hidden=visit.hidden,
            invitation=visit.invitation, **_score_link_answer(request),
        )
    except services.SubmissionError as exc:
        return JsonResponse({"errors": exc.errors}, status=400)
    return HttpResponse(status=204)


@public_page
@require_http_methods(["GET", "POST"])
def one_click(request, public_id, score):
    """A score link in an e-mail. Opening it records nothing: mail scanners open every link of a
    message, all eleven scores of it, before the customer sees it (docs/adr/0004). The page
    comes with the score chosen, and its script keeps the score at once, by POST to the same
    address, before the customer could close the tab; then the page asks the follow-up question
    on the same answer. Without scripts, "Send" keeps it."""
    visit = open_visit(request, public_id, request.POST.get("c") if request.method == "POST" else None)
    services.ensure_accepting(visit.survey, visit.distribution)
    token = parse_token(request.POST.get("token")) if request.method == "POST" else None
    if request.method == "POST" and token is None:
        raise RespondentError("bad_request")
    check_rate_limits(request, visit, token)
    try:
        submission = services.clean_submission(visit.survey, {"score": score}, complete=False)
    except services.SubmissionError:
        raise RespondentError("bad_request") from None
    if request.method == "POST":
        return _keep_one_click(request, visit, token, submission)
    earlier = one_click_answer(visit)
    token = earlier.token if earlier is not None else uuid.uuid4()
    with translation.override(visit.language):
        return render(request, "surveys/public/survey.html", {
            **page.context(visit, token=token, response=earlier, facts=facts_of(visit), chosen_score=score),
            "score_link": True,
            "keep_score_url": request.path,
            "keep_seen": services.seen_as(earlier),
            # The visit's address, written by the script once a save took (not before, so a reload
            # after a failed one opens the link again): a reload then shows the answer as kept, and
            # never keeps this link's score over a later change.
            "kept_address": page.page_address(visit, token),
        })


def _keep_one_click(request, visit, token, submission):
    if robots.is_robot(request):  # a scanner's headless browser runs the page's script too
        return HttpResponse(status=204)
    try:
        services.keep_one_click_score(
            survey=visit.survey, submission=submission, language=visit.language, distribution=visit.distribution,
            token=token, seen=request.POST.get("seen", "")[:40], customer=visit.customer, hidden=visit.hidden,
            invitation=visit.invitation)
    except services.SubmissionError as exc:
        return JsonResponse({"errors": exc.errors}, status=400)
    return HttpResponse(status=204)


@public_page
@require_GET
def thanks(request, public_id):
    visit = open_visit(request, public_id)
    token = parse_token(request.GET.get("t"))
    response = existing_response(visit, token)
    with translation.override(visit.language):
        return _thanks_page(request, visit, token, response)


@public_page
@require_POST
def accept_offer(request, public_id, offer_id):
    """The customer takes a counter-offer on the thank-you page (their answer's token says whose)."""
    visit = open_visit(request, public_id, request.POST.get("c"))
    token = parse_token(request.POST.get("t"))
    check_rate_limits(request, visit, token)
    response = existing_response(visit, token)
    offer = RetentionOffer.objects.filter(pk=offer_id, question__survey=visit.survey).first()
    if response is None or offer is None:
        raise RespondentError("bad_request")
    try:
        retention.accept(response, offer)
    except ValueError:
        raise RespondentError("bad_request") from None
    return redirect(page.thanks_address(visit, token))


@require_GET
def embed_script(request, public_id):
    """`<script src=".../embed.js">` puts the survey in an iframe where the script stands."""
    url = request.build_absolute_uri(reverse("respond:page", kwargs={"public_id": public_id[:32]}))
    body = render(request, "surveys/public/embed.js", {"url": url}, content_type="application/javascript")
    body["Cache-Control"] = "public, max-age=300"
    return body


@member_required
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})
@never_cache
@require_GET
def preview(request, survey_id):
    """The survey as its customers see it, for the team designing it (the editor frames it at a
    phone's and a desktop's width): drafts too, in `?lang=xx`, the logic live, nothing recorded.
    Framed by our own pages only: unlike the public page, it is not for customers' sites."""
    survey = get_for_org_or_404(Survey.objects.select_related("organization").prefetch_related("questions"),
                                request.organization, pk=survey_id)
    asked = request.GET.get("lang", "")
    language = asked if asked in LANGUAGE_CODES else survey.default_language
    visit = preview_visit(survey, language)
    with translation.override(language):
        return render(request, "surveys/public/survey.html", {
            **page.context(visit, token=None, facts=facts_of(visit), preview=True),
            "sent": request.GET.get("sent") == "1",
        })
