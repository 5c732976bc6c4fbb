"""The retention playbook: a cancellation survey asks why, and each reason maps to counter-offers
shown to the customer on the spot — on the thank-you page, the moment they answered. An accepted
offer is counted once per answer, and `retention.offer_accepted` tells the inbox, so someone
makes it happen."""

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from cxplatform import events

from .models import Answer, OfferAcceptance, Question, RetentionOffer
from .services import localized

OFFER_ACCEPTED = events.declare("retention.offer_accepted", fields={"acceptance_id"})


def offer_problems(*, question, reason: str, text: dict) -> dict[str, str]:
    """{field: reason} for an offer that cannot be made: offers answer a reason chosen from a list
    (one of a single-choice question's options), and are written in English at least."""
    problems = {}
    if question.kind != Question.Kind.SINGLE_CHOICE:
        problems["question"] = _("An offer answers a single-choice question (“Why are you leaving?”).")
    elif reason not in question.choice_values:
        problems["reason"] = _("Choose one of the question's options.")
    if not str((text or {}).get("en", "")).strip():
        problems["text"] = _("Write the offer in English at least.")
    return problems


def add_offer(survey, *, question, reason: str, text: dict) -> RetentionOffer:
    """A counter-offer for one answer of one of the survey's single-choice questions."""
    if question.survey_id != survey.pk or reason not in question.choice_values:
        raise ValueError("not an answer of this survey")
    return RetentionOffer.objects.create(organization_id=survey.organization_id, question=question, reason=reason,
                                         text=text)


def offers_for(response, language: str) -> list[dict]:
    """The active offers for the reasons this answer gave, with their text in `language` and
    whether the customer already took each."""
    if response is None or not any(q.kind == Question.Kind.SINGLE_CHOICE for q in response.survey.questions.all()):
        return []  # offers answer a reason chosen from a list: without such a question, none
    chosen = {}
    for answer in Answer.objects.filter(response=response, question__offers__active=True,
                                        question__kind=Question.Kind.SINGLE_CHOICE).distinct():
        for value in answer.choices or []:
            chosen.setdefault(answer.question_id, set()).add(value)
    if not chosen:
        return []
    taken = set(OfferAcceptance.objects.filter(response=response).values_list("offer_id", flat=True))
    wanted = Q()
    for question_id, reasons in chosen.items():
        wanted |= Q(question_id=question_id, reason__in=reasons)
    offers = RetentionOffer.objects.filter(wanted, active=True, organization_id=response.organization_id)
    return [{"offer": o, "text": localized(o.text, language), "accepted": o.pk in taken}
            for o in offers.order_by("position", "id")]


def accept(response, offer: RetentionOffer) -> bool:
    """The customer takes the offer; True the first time. Only an offer for a reason this answer
    gave can be taken."""
    if offer.pk not in {o["offer"].pk for o in offers_for(response, "en")}:
        raise ValueError("not an offer for this answer")
    try:
        with transaction.atomic():
            acceptance = OfferAcceptance.objects.create(organization_id=response.organization_id, offer=offer,
                                                        response=response)
            events.emit(OFFER_ACCEPTED, organization=response.organization, acceptance_id=acceptance.pk)
    except IntegrityError:
        return False
    return True


def figures(survey) -> list[dict]:
    """Per offer: how many answers gave its reason (it was shown) and how many took it."""
    offers = list(RetentionOffer.objects.filter(question__survey=survey).select_related("question").annotate(
        accepted=Count("acceptances")))
    shown: dict[tuple[int, str], int] = {}
    for question_id, values in Answer.objects.filter(question__in={o.question_id for o in offers}).values_list(
            "question_id", "choices"):
        for value in values or []:
            shown[(question_id, value)] = shown.get((question_id, value), 0) + 1
    rows = []
    for offer in offers:
        n = shown.get((offer.question_id, offer.reason), 0)
        labels = {c.get("value"): c.get("label") for c in offer.question.choices or []}
        rows.append({"offer": offer, "shown": n, "accepted": offer.accepted, "reason": labels.get(offer.reason, {}),
                     "rate": round(100 * offer.accepted / n, 1) if n else None})
    return rows
