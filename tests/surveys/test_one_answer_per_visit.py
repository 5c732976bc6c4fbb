"""A page visit is answered once (docs/adr/0011): the visit's token is in the page's address (the
page's script writes it there, a browser without scripts refreshes to it), so Back and "Send"
again, or a reload, change the visit's one answer instead of adding another."""

import re
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from feedback.models import CloseLoopRule, FeedbackItem
from surveys import links
from surveys.models import DistributionDay, Response
from tests.respondent import click_score, refreshes_to, thanked, visit_address

pytestmark = pytest.mark.django_db


class Browser:
    """A test client with the browser's history: Back loads the page before the current one again
    (the survey page is never cached, so the browser asks for it again). A page's place in the
    history is the address it names for itself, if any (static/surveys/address.js writes it; the
    real browser's test is tests/surveys/test_public_builder_browser.py), else where it was served."""

    def __init__(self, link):
        self.client, self.history, self.link = Client(), [], link

    def _arrive(self, page):
        self.history.append(visit_address(page) or page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"])
        return page

    def open(self, url):
        return self._arrive(self.client.get(url, follow=True))

    def send(self, page, **answers):
        body = page.content.decode()
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', body))
        return self._arrive(self.client.post(links.survey_url(self.link), {**fields, **answers}, follow=True))

    def back(self):
        self.history.pop()
        return self.open(self.history.pop())


@pytest.fixture
def browser(nps_link):
    return Browser(nps_link)


def test_back_and_send_again_on_an_anonymous_link_is_one_answer(nps_link, browser):
    page = browser.open(links.survey_url(nps_link))
    assert page.status_code == 200 and 'name="score"' in page.content.decode()
    thanks = browser.send(page, score="2", comment="Slow delivery")
    assert thanked(thanks) and "Thank you" in thanks.content.decode()
    again = browser.back()  # Back to the form, a better score, "Send" again
    assert again.status_code == 200
    browser.send(again, score="6", comment="Slow delivery, but they called")
    assert Response.objects.count() == 1
    answer = Response.objects.get()
    assert (answer.score, answer.comment, answer.status) == (6, "Slow delivery, but they called", "completed")
    assert DistributionDay.objects.get(distribution=nps_link).opened == 1  # one visit, counted once


def test_back_and_send_again_on_a_personal_link_is_one_answer_and_one_case(
        org_a, nps_link, customer, browser, django_capture_on_commit_callbacks):
    CloseLoopRule.objects.create(organization=org_a, name="Call back the unhappy", band="unhappy")
    with django_capture_on_commit_callbacks(execute=True):
        page = browser.open(links.survey_url(nps_link, links.sign(nps_link, customer)))
        browser.send(page, score="1", comment="Never again")
        browser.send(browser.back(), score="1", comment="Never again!")
    assert Response.objects.filter(customer=customer).count() == 1
    case = FeedbackItem.objects.get(organization=org_a, kind=FeedbackItem.Kind.CASE)
    assert case.text == "Never again!" and FeedbackItem.objects.filter(organization=org_a).count() == 1


def test_every_new_visit_is_its_own_answer(nps_link):
    """A kiosk or a QR poster: each person who opens the link gets a visit of their own."""
    for score in ("9", "3"):
        page = Client().get(links.survey_url(nps_link))
        assert page.status_code == 200
        token = re.search(r'name="token" value="([0-9a-f-]{36})"', page.content.decode()).group(1)
        assert uuid.UUID(token)
        assert thanked(Client().post(links.survey_url(nps_link), {"token": token, "score": score}))
    assert Response.objects.count() == 2


def test_a_new_visit_gets_its_page_at_once_naming_its_own_address(nps_link, customer):
    """A personal or an anonymous link's page comes at once (no round trip), with its token in the
    form and the address that carries it named for the script to write, and for a browser without
    scripts to refresh to: no browser can give a known customer's visit a second answer."""
    personal = Client().get(links.survey_url(nps_link, links.sign(nps_link, customer)))
    assert personal.status_code == 200
    token = re.search(r'name="token" value="([0-9a-f-]{36})"', personal.content.decode()).group(1)
    address = visit_address(personal)
    assert refreshes_to(personal) == address
    assert f"t={token}" in address and "c=" in address and f"lang={customer.language}" in address
    reopened = Client().get(address)  # the refresh, a reload or Back: the same visit
    assert reopened.status_code == 200 and f'name="token" value="{token}"' in reopened.content.decode()
    assert visit_address(reopened) == ""  # already at its own address
    anonymous = Client().get(links.survey_url(nps_link))
    assert anonymous.status_code == 200 and "t=" in visit_address(anonymous)
    assert DistributionDay.objects.get(distribution=nps_link).opened == 2  # the reopening is not a visit


def test_without_scripts_back_after_the_answer_reopens_the_same_answer(nps_link, customer):
    """A browser without scripts follows the refreshes: to the visit's address before the answer,
    to the thank-you page's after it; Back then finds the answer it gave, and a second Send
    changes it."""
    browser = Browser(nps_link)
    first = browser.client.get(links.survey_url(nps_link, links.sign(nps_link, customer)))
    page = browser.open(refreshes_to(first))
    thanks = browser.send(page, score="4", comment="Late")
    assert thanked(thanks) and refreshes_to(thanks) == visit_address(thanks)
    assert browser.client.get(refreshes_to(thanks)).status_code == 200  # the thank-you page again, nothing sent
    again = browser.back()
    assert 'name="score" value="4" checked' in again.content.decode()
    browser.send(again, score="8", comment="Late, but fine")
    assert list(Response.objects.values_list("score", "comment")) == [(8, "Late, but fine")]


def test_a_page_sent_back_for_a_correction_names_its_visit_but_never_refreshes(nps_link):
    page = Client().get(links.survey_url(nps_link))
    token = re.search(r'name="token" value="([0-9a-f-]{36})"', page.content.decode()).group(1)
    refused = Client().post(links.survey_url(nps_link), {"token": token, "score": "11", "comment": "Typed a lot"})
    assert refused.status_code == 400 and "Typed a lot" in refused.content.decode()
    assert f"t={token}" in visit_address(refused) and refreshes_to(refused) == ""
    assert not Response.objects.exists()


def test_a_known_customers_link_opened_again_while_the_answer_is_warm_is_the_same_visit(nps_link, customer):
    """Whatever the browser did with the address (a script that never loaded, a refresh refused),
    the personal link itself opened again shows the customer's answer to change, not a blank form;
    once the answer has gone cold it is a new visit. An anonymous link has nobody to recognise."""
    signed = links.sign(nps_link, customer, {"order_id": "A-7"})
    first = Client().get(links.survey_url(nps_link, signed))
    token = re.search(r'name="token" value="([0-9a-f-]{36})"', first.content.decode()).group(1)
    assert thanked(Client().post(links.survey_url(nps_link), {"token": token, "c": signed, "score": "3"}))
    again = Client().get(links.survey_url(nps_link, signed))  # no t= in the address
    assert f'name="token" value="{token}"' in again.content.decode()
    assert 'name="score" value="3" checked' in again.content.decode()
    assert f"t={token}" in visit_address(again)
    other_order = Client().get(links.survey_url(nps_link, links.sign(nps_link, customer, {"order_id": "A-8"})))
    assert f'value="{token}"' not in other_order.content.decode()  # another order's link: its own visit
    assert DistributionDay.objects.get(distribution=nps_link).opened == 2

    Response.objects.update(updated_at=timezone.now() - settings.ANSWER_ABANDON_AFTER - timedelta(minutes=1))
    cold = Client().get(links.survey_url(nps_link, signed))
    assert cold.status_code == 200 and f'value="{token}"' not in cold.content.decode()
    assert DistributionDay.objects.get(distribution=nps_link).opened == 3


def test_the_answer_keeps_the_language_the_page_was_shown_in(nps_link):
    """A QR code's link asks for Russian on a phone set to English: the answer, its thank-you page
    and its addresses stay Russian (the form carries the language to the bare link)."""
    page = Client().get(links.survey_url(nps_link) + "?lang=ru", HTTP_ACCEPT_LANGUAGE="en")
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.content.decode()))
    assert fields["lang"] == "ru"
    thanks = Client().post(links.survey_url(nps_link), {**fields, "score": "9"}, HTTP_ACCEPT_LANGUAGE="en")
    assert thanked(thanks) and "lang=ru" in visit_address(thanks) and 'lang="ru"' in thanks.content.decode()
    assert Response.objects.get().language == "ru"


def test_a_one_click_score_is_not_the_pages_visit(nps_link, customer):
    """An e-mail's one-click score, kept by the score link's page, is its own answer: the plain
    link opened afterwards is a new visit, not that score shown as the customer's."""
    signed = links.sign(nps_link, customer)
    assert click_score(Client(), links.one_click_url(nps_link, 0, signed))[1].status_code == 204
    clicked = Response.objects.get()
    page = Client().get(links.survey_url(nps_link, signed))
    assert page.status_code == 200 and f'value="{clicked.token}"' not in page.content.decode()
    assert 'name="score" value="0" checked' not in page.content.decode()


def test_a_warm_answer_opens_again_in_the_language_it_was_given_in(nps_link, customer):
    """The customer switched the page to Latvian and answered; the personal link itself, opened
    again (Russian by the customer's record), shows that answer in Latvian, and keeps it Latvian."""
    signed = links.sign(nps_link, customer)
    first = Client().get(links.survey_url(nps_link, signed) + "&lang=lv")
    token = re.search(r'name="token" value="([0-9a-f-]{36})"', first.content.decode()).group(1)
    assert thanked(Client().post(links.survey_url(nps_link), {"token": token, "c": signed, "score": "5",
                                                                "lang": "lv"}))
    again = Client().get(links.survey_url(nps_link, signed))
    assert f'value="{token}"' in again.content.decode() and 'lang="lv"' in again.content.decode()
    assert "lang=lv" in visit_address(again)
    assert Response.objects.get().language == "lv"
