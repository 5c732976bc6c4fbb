"""What the public survey page needs to know about the person in front of it: which link they
came by, who they are (only from the signed link), which language they read, and whether the
rate limits let them through."""

import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation.trans_real import parse_accept_lang_header

from cxplatform import ratelimit
from cxplatform.models import Customer

from . import links
from .logic import Facts
from .models import LANGUAGE_CODES, Distribution, Response
from .services import visit_facts


class RespondentError(Exception):
    """The request cannot be served; `kind` picks the page and status shown to the respondent."""

    STATUS = {"not_found": 404, "invalid_link": 400, "expired_link": 410, "bad_request": 400,
              "rate_limited": 429, "paused": 409, "closed": 410, "not_started": 409}

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind
        self.status = self.STATUS[kind]


@dataclass
class Visit:
    distribution: Distribution
    link: links.LinkContext
    signed: str
    customer: Customer | None
    language: str

    @property
    def survey(self):
        return self.distribution.survey

    @property
    def invitation(self) -> int | None:
        return self.link.invitation

    @property
    def hidden(self) -> dict:
        """The link's hidden fields, with the invitation it came in (the team sees which)."""
        if self.link.invitation is None:
            return self.link.hidden
        return {**self.link.hidden, "invitation": str(self.link.invitation)}


# The link with its survey (and questions), organization (and contact policy), touchpoint and
# channel is one wide join that costs a request more than the rest of its queries together
# (mostly PostgreSQL planning it). Each process keeps it for PUBLIC_LINK_CACHE_SECONDS, so a
# campaign's burst of customers on one link pays it about once a second. An edit saved in this
# process drops them at once (signals, surveys/apps.py); in another, it shows within those
# seconds. The cached rows are shared by the requests that read them: never changed in place.
_links: dict[str, tuple[float, Distribution]] = {}
LINKS_KEPT = 5000


def load_distribution(public_id: str) -> Distribution:
    public_id = public_id[:32]
    keep_for = settings.PUBLIC_LINK_CACHE_SECONDS
    kept = _links.get(public_id) if keep_for else None
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    distribution = (
        # The survey's questions come along: the page shows them and the answer checks against them.
        # The branding comes along too (a missing row is fine: select_related follows it as None).
        Distribution.objects.select_related("survey", "survey__organization__contact_policy",
                                            "survey__organization__branding", "touchpoint", "channel")
        .prefetch_related("survey__questions")
        .filter(public_id=public_id)
        .first()
    )
    if distribution is None:
        raise RespondentError("not_found")
    if keep_for:
        if len(_links) >= LINKS_KEPT:
            _links.clear()
        _links[public_id] = (time.monotonic() + keep_for, distribution)
    return distribution


def forget_links(**_signal) -> None:
    """Drop every kept link: something they carry was saved or deleted."""
    _links.clear()


def pick_language(request, survey, link_language: str = "") -> str:
    """The language asked for (the address, or the form the page was shown with), else the link's,
    else the browser's (Accept-Language), else the survey's default."""
    available = survey.languages
    # An answer is sent to the bare link, the language it was shown in riding in the form.
    asked = request.GET.get("lang") or (request.POST.get("lang") if request.method == "POST" else "") or link_language
    if asked in available:
        return asked
    for code, _q in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        base = code.split("-")[0].lower()
        if base in available:
            return base
    return survey.default_language if survey.default_language in available else available[0]


def open_visit(request, public_id: str, signed: str | None = None) -> Visit:
    distribution = load_distribution(public_id)
    signed = signed if signed is not None else request.GET.get("c", "")
    try:
        link = links.read(distribution, signed)
    except links.LinkError as exc:
        raise RespondentError("expired_link" if exc.expired else "invalid_link") from exc
    customer = None
    if link.customer_id is not None:
        customer = Customer.objects.filter(
            pk=link.customer_id, organization_id=distribution.organization_id
        ).first()
        if customer is None:
            raise RespondentError("invalid_link")
        customer.organization = distribution.survey.organization  # the same row, already loaded
    language = pick_language(request, distribution.survey, link.language or (customer.language if customer else ""))
    return Visit(distribution, link, signed, customer, language if language in LANGUAGE_CODES else "en")


def parse_token(raw) -> uuid.UUID | None:
    if not raw:
        return None
    try:
        return uuid.UUID(str(raw)[:64])
    except ValueError:
        raise RespondentError("bad_request") from None


def existing_response(visit: Visit, token) -> Response | None:
    if token is None:
        return None
    return _first_answer(visit, Response.objects.filter(token=token, distribution=visit.distribution))


def warm_answer(visit: Visit, now=None) -> Response | None:
    """A known customer's answer through this link (the same hidden fields) changed within
    ANSWER_ABANDON_AFTER: the link opened again without the visit's token (its address never
    written: a script that did not load, a refresh refused) is that same visit, so a known
    customer's visit never gets a second answer, whatever the browser does (docs/adr/0011)."""
    if visit.customer is None:
        return None
    since = (now or timezone.now()) - settings.ANSWER_ABANDON_AFTER
    # Only an answer given on the page: an e-mail's one-click score (another visit, through the
    # score link's own page) or one sent through the API is not this visit's.
    return _first_answer(visit, Response.objects.filter(
        distribution=visit.distribution, customer=visit.customer, hidden_fields=visit.hidden,
        source=Response.Source.WEB, updated_at__gte=since).order_by("-updated_at"))


def one_click_answer(visit: Visit) -> Response | None:
    """The answer a score link of this personal e-mail started and nobody finished: a second click
    (another score) changes it instead of adding one. Another e-mail of the same link — one with
    other hidden fields, such as a closed-loop follow-up — is another answer."""
    if visit.customer is None:
        return None
    return _first_answer(visit, Response.objects.filter(
        distribution=visit.distribution, customer=visit.customer, hidden_fields=visit.hidden,
        status__in=[Response.Status.STARTED, Response.Status.ABANDONED],
        source=Response.Source.ONE_CLICK).order_by("-started_at"))


def _first_answer(visit: Visit, answers) -> Response | None:
    if visit.survey.asks_answer_rows():  # else nothing to read (a score and a comment): no query
        answers = answers.prefetch_related("answers__question")
    response = answers.first()
    if response is not None and response.survey_id == visit.survey.pk:
        response.survey = visit.survey  # loaded with its questions: spare the queries
    return response


def check_rate_limits(request, visit: Visit, token=None) -> None:
    """Per link and client address (a high ceiling, so kiosks and QR posters keep working)
    and per respondent token (low): one respondent's flood never blocks anyone else."""
    window = settings.RATE_LIMIT_WINDOW_SECONDS
    limits = [(f"survey:{visit.distribution.public_id}:ip:{ratelimit.client_key(request)}",
               settings.RATE_LIMIT_PER_LINK_IP)]
    if token is not None:
        limits.append((f"survey:token:{token}", settings.RATE_LIMIT_PER_RESPONDENT))
    if not ratelimit.hit_all(limits, window):
        raise RespondentError("rate_limited")


def facts_of(visit: Visit) -> Facts:
    """What the survey's conditions may know about this visit before any answer: its language,
    touchpoint, the signed customer's segment (the organization names the attribute that holds it)
    and the link's hidden fields. Never from the request itself: the link is signed, the page is not."""
    return visit_facts(survey=visit.survey, language=visit.language, touchpoint=visit.distribution.touchpoint_id,
                       customer=visit.customer, hidden=visit.hidden)


def preview_visit(survey, language: str) -> Visit:
    """A visit with no link behind it, for the team's preview of `survey`: no customer, no
    touchpoint, nothing it could record through (the link is never saved)."""
    link = Distribution(survey=survey, organization_id=survey.organization_id, name="", public_id="")
    return Visit(link, links.LinkContext(), "", None, language)
