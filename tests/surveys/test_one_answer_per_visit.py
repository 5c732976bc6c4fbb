"""A page visit is answered once (docs/adr/0011): the visit's token is in the page's address (the
page's script writes it there), so Back and "Send" again, or a reload, change the visit's one
answer instead of adding another."""

import re
import uuid

import pytest
from django.test import Client

from feedback.models import CloseLoopRule, FeedbackItem
from surveys import links
from surveys.models import DistributionDay, Response

pytestmark = pytest.mark.django_db


class Browser:
    """A test client with the browser's history: Back loads the page before the current one again
    (the survey page is never cached, so the browser asks for it again). A survey page's address
    is the one its script leaves: with the form's token as `t=` (static/surveys/survey.js; the
    real browser's test is tests/surveys/test_public_builder_browser.py)."""

    def __init__(self, link):
        self.client, self.history, self.link = Client(), [], link

    def open(self, url):
        page = self.client.get(url, follow=True)
        address = page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"]
        token = re.search(r'name="token" value="([^"]+)"', page.content.decode())
        if token and f"t={token.group(1)}" not in address:
            address += f"&t={token.group(1)}"
        self.history.append(address)
        return page

    def send(self, page, **answers):
        body = page.content.decode()
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', body))
        sent = self.client.post(links.survey_url(self.link), {**fields, **answers}, follow=True)
        self.history.append(sent.request["PATH_INFO"] + "?" + sent.request["QUERY_STRING"])
        return sent

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
    assert "/thanks/" in thanks.request["PATH_INFO"]
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
        assert Client().post(links.survey_url(nps_link), {"token": token, "score": score}).status_code == 302
    assert Response.objects.count() == 2


def test_a_personal_link_is_redirected_to_its_visits_address_and_an_anonymous_one_is_not(nps_link, customer):
    """A known customer's visit has its token in the address before any script runs, so no browser
    can give it a second answer; an anonymous link's page comes at once."""
    personal = Client().get(links.survey_url(nps_link, links.sign(nps_link, customer)))
    assert personal.status_code == 302
    token = re.search(r"[?&]t=([0-9a-f-]{36})", personal["Location"]).group(1)
    assert "c=" in personal["Location"]
    page = Client().get(personal["Location"])
    assert f'name="token" value="{token}"' in page.content.decode()
    anonymous = Client().get(links.survey_url(nps_link))
    assert anonymous.status_code == 200 and 'name="token"' in anonymous.content.decode()
    assert DistributionDay.objects.get(distribution=nps_link).opened == 2
