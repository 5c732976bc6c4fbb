"""The retention playbook: the reason a customer gives to cancel brings its counter-offers on the
thank-you page; taking one is counted once, and the inbox gets an urgent item to make it happen."""

import uuid

import pytest
from django.test import Client

from cxplatform.models import Role
from feedback.models import FeedbackItem
from surveys import links, retention
from surveys.models import OfferAcceptance, Question, Response, RetentionOffer
from tests import factories
from tests.respondent import thanked, visit_address

pytestmark = pytest.mark.django_db

REASONS = [{"value": "price", "label": {"en": "Too expensive", "ru": "Дорого"}},
           {"value": "moving", "label": {"en": "Moving away"}}]


@pytest.fixture
def cancellation(org_a):
    survey = factories.survey(org_a, "csat")
    question = Question.objects.create(organization=org_a, survey=survey, kind=Question.Kind.SINGLE_CHOICE,
                                       key="reason", position=1, text={"en": "Why are you leaving?"}, choices=REASONS)
    pause = RetentionOffer.objects.create(organization=org_a, question=question, reason="price",
                                          text={"en": "Pause for three months", "ru": "Пауза на три месяца"})
    discount = RetentionOffer.objects.create(organization=org_a, question=question, reason="price", position=1,
                                             text={"en": "<b>20%</b> off"})
    move = RetentionOffer.objects.create(organization=org_a, question=question, reason="moving",
                                         text={"en": "We deliver everywhere"})
    return {"link": factories.distribution(org_a, survey), "pause": pause, "discount": discount, "move": move}


def _answer(client, link, reason, signed=""):
    token = str(uuid.uuid4())
    answer = client.post(links.survey_url(link), {"token": token, "score": "2", "reason": reason, "c": signed})
    assert thanked(answer), answer.content[:500]
    return token, visit_address(answer), answer.content.decode()


def test_the_reason_brings_its_offers_and_one_can_be_taken_once(org_a, cancellation,
                                                                django_capture_on_commit_callbacks):
    client = Client()
    token, thanks_url, reply = _answer(client, cancellation["link"], "price")
    assert "Pause for three months" in reply  # the answer's reply is the thank-you page with its offers
    page = client.get(thanks_url).content.decode()
    assert "Pause for three months" in page and "&lt;b&gt;20%&lt;/b&gt; off" in page
    assert "We deliver everywhere" not in page
    accept_url = f"/s/{cancellation['link'].public_id}/offers/{cancellation['pause'].pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        taken = client.post(accept_url, {"t": token})
        again = client.post(accept_url, {"t": token})
    assert taken.status_code == again.status_code == 302
    assert OfferAcceptance.objects.count() == 1
    assert "we will be in touch" in client.get(thanks_url).content.decode()
    item = FeedbackItem.objects.get(organization=org_a)
    assert "Pause for three months" in item.text and item.priority == FeedbackItem.Priority.URGENT


def test_an_offer_for_another_reason_or_answer_cannot_be_taken(org_a, org_b, cancellation):
    client = Client()
    token, _url, _reply = _answer(client, cancellation["link"], "price")
    base = f"/s/{cancellation['link'].public_id}/offers"
    assert client.post(f"{base}/{cancellation['move'].pk}/", {"t": token}).status_code == 400
    assert client.post(f"{base}/{cancellation['pause'].pk}/", {"t": str(uuid.uuid4())}).status_code == 400
    assert client.post(f"{base}/{cancellation['pause'].pk}/", {"t": "nonsense"}).status_code == 400
    foreign = factories.retention_offer(org_b)
    assert client.post(f"{base}/{foreign.pk}/", {"t": token}).status_code == 400
    assert not OfferAcceptance.objects.exists()


def test_offers_speak_the_customers_language(org_a, cancellation):
    response = factories.response(org_a, cancellation["link"], score=2)
    response.answers.create(question=cancellation["pause"].question, choices=["price"])
    texts = [o["text"] for o in retention.offers_for(response, "ru")]
    assert texts[0] == "Пауза на три месяца" and texts[1] == "<b>20%</b> off"  # no Russian: the English one


def test_the_survey_page_counts_shown_and_accepted(org_a, cancellation, make_member, client_for):
    question = cancellation["pause"].question
    for reason in ("price", "price", "moving"):
        response = factories.response(org_a, cancellation["link"], score=2)
        response.answers.create(question=question, choices=[reason])
    first = Response.objects.order_by("id").first()
    retention.accept(first, cancellation["pause"])
    figures = {row["offer"].pk: row for row in retention.figures(question.survey)}
    assert (figures[cancellation["pause"].pk]["shown"], figures[cancellation["pause"].pk]["accepted"]) == (2, 1)
    assert figures[cancellation["pause"].pk]["rate"] == 50.0 and figures[cancellation["move"].pk]["shown"] == 1
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    page = manager.get(f"/surveys/{question.survey_id}/").content.decode()
    assert "Pause for three months" in page and "1 (50.0%)" in page
    created = manager.post(f"/surveys/{question.survey_id}/offers/new/", {
        "reason": f"{question.pk}:moving", "text_en": "Keep your scooter, change the address",
        "text_lv": "Mainiet adresi"})
    assert created.status_code == 302
    offer = RetentionOffer.objects.get(text__en="Keep your scooter, change the address")
    assert offer.reason == "moving" and offer.text["lv"] == "Mainiet adresi"
    manager.post(f"/surveys/{question.survey_id}/offers/new/", {"reason": "999:price", "text_en": "x"})
    assert RetentionOffer.objects.count() == 4
    viewer = client_for(make_member(org_a, Role.VIEWER))
    assert viewer.post(f"/surveys/{question.survey_id}/offers/{offer.pk}/delete/").status_code == 403
    manager.post(f"/surveys/{question.survey_id}/offers/{offer.pk}/delete/")
    assert not RetentionOffer.objects.filter(pk=offer.pk).exists()
