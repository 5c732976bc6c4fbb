"""The respondent's side: links, answers recorded exactly once, clear errors, never a 500."""

import json
import re
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import signing
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cxplatform.models import OutboxEvent
from surveys import links, services
from surveys.models import ContactPolicy, DistributionDay, Question, Response, Survey
from tests import factories
from tests.respondent import (
    click_score,
    keep_fields,
    kept_address,
    kept_score_url,
    refreshes_to,
    thanked,
    visit_address,
)

pytestmark = pytest.mark.django_db


def page_url(link, signed="", **params):
    url = links.survey_url(link, signed)
    extra = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{url}{'&' if '?' in url else '?'}{extra}" if extra else url


def visit_url(page) -> str:
    """The address a new visit's page gives itself (its script writes the answer's token in):
    the link's, with `t=` the form's token."""
    token = re.search(r'name="token" value="([^"]+)"', page.content.decode()).group(1)
    url = page.wsgi_request.get_full_path()
    return f"{url}{'&' if '?' in url else '?'}t={token}"


def submit(client, link, signed="", **data):
    data.setdefault("token", str(uuid.uuid4()))
    data.setdefault("c", signed)
    return client.post(links.survey_url(link), data)


def test_anonymous_link_records_a_complete_response(nps_link):
    client = Client()
    page = client.get(page_url(nps_link), follow=True)
    assert page.status_code == 200
    assert "How likely are you to recommend" in page.content.decode()
    token = str(uuid.uuid4())
    response = submit(client, nps_link, token=token, score="9", comment="Great ride")
    assert thanked(response) and "Thank you!" in response.content.decode()  # in reply: no redirect
    saved = Response.objects.get(token=token)
    assert (saved.score, saved.band, saved.comment, saved.status) == (9, "promoter", "Great ride", "completed")
    assert saved.touchpoint == nps_link.touchpoint and saved.customer is None


def test_personal_link_records_the_signed_customer_and_hidden_fields(nps_link, customer):
    signed = links.sign(nps_link, customer, {"order_id": "A-1001", "store": "Riga"})
    token = str(uuid.uuid4())
    submit(Client(), nps_link, signed, token=token, score="3")
    saved = Response.objects.get(token=token)
    assert saved.customer == customer
    assert saved.hidden_fields == {"order_id": "A-1001", "store": "Riga"}
    assert saved.language == "ru"  # the customer's language came with the link


def test_tampered_link_is_rejected_and_records_nothing(nps_link, customer, org_a):
    from tests import factories

    other = factories.customer(org_a)
    signed = links.sign(nps_link, customer)
    payload = signing.loads(signed, salt=f"surveys.link.{nps_link.public_id}")
    payload["c"] = other.pk
    forged = signing.dumps(payload, salt="not-the-right-salt", compress=True)
    for bad in (forged, signed[:-3] + "abc", signed.replace(":", "x", 1)):
        page = Client().get(page_url(nps_link, bad))
        assert page.status_code == 400
        assert "This link is damaged" in page.content.decode()
        assert submit(Client(), nps_link, bad, score="10").status_code == 400
    assert not Response.objects.exists()


def test_a_link_signed_for_another_distribution_is_rejected(nps_link, customer, org_a):
    from tests import factories

    other_link = factories.distribution(org_a, nps_link.survey)
    signed_elsewhere = links.sign(other_link, customer)
    assert Client().get(page_url(nps_link, signed_elsewhere)).status_code == 400


def test_expired_link_says_so(nps_link, customer, settings, time_machine):
    signed = links.sign(nps_link, customer)
    time_machine.move_to(timezone.now() + timedelta(days=settings.SURVEY_LINK_MAX_AGE_DAYS + 1))
    page = Client().get(page_url(nps_link, signed))
    assert page.status_code == 410
    assert "expired" in page.content.decode()


def test_double_submit_gives_one_response_updated_in_place(nps_link):
    client, token = Client(), str(uuid.uuid4())
    submit(client, nps_link, token=token, score="4", comment="first")
    submit(client, nps_link, token=token, score="8", comment="second thoughts")
    assert Response.objects.count() == 1
    saved = Response.objects.get()
    assert (saved.score, saved.comment, saved.band) == (8, "second thoughts", "passive")


def test_partial_answers_are_saved_then_completed(nps_link):
    client, token = Client(), str(uuid.uuid4())
    saved = client.post(f"{links.survey_url(nps_link)}save/", {"token": token, "score": "2"})
    assert saved.status_code == 204
    partial = Response.objects.get(token=token)
    assert (partial.score, partial.status) == (2, "started")
    submit(client, nps_link, token=token, score="2", comment="Late delivery")
    done = Response.objects.get(token=token)
    assert (done.status, done.comment) == ("completed", "Late delivery")
    assert Response.objects.count() == 1


def test_one_click_score_is_kept_by_its_page_before_the_follow_up(nps_link, customer):
    signed = links.sign(nps_link, customer)
    client = Client()
    page, kept = click_score(client, links.one_click_url(nps_link, 3, signed))
    assert kept.status_code == 204
    recorded = Response.objects.get()  # kept even if the customer closes the page now
    assert (recorded.score, recorded.band, recorded.source, recorded.status) == (3, "detractor", "one_click", "started")
    body = page.content.decode()
    assert "Нам жаль это слышать" in body  # the detractor follow-up, in the customer's language
    assert f'value="{recorded.token}"' in body and 'value="3" checked' in body
    # Once kept, the address bar is the visit's: a reload shows the answer as kept, not the link's
    # score again. Not before (a reload after a failed keeping opens the link again).
    assert f"t={recorded.token}" in kept_address(page) and not visit_address(page) and not refreshes_to(page)
    assert DistributionDay.objects.get().opened == 1
    submit(client, nps_link, signed, token=str(recorded.token), score="3", comment="Курьер опоздал", _score_link="1")
    recorded.refresh_from_db()
    assert (recorded.status, recorded.comment) == ("completed", "Курьер опоздал")
    assert Response.objects.count() == 1
    # The same e-mail clicked again, another score: a new answer (a completed one is never
    # overwritten), and a third click changes that one, never doubles it.
    click_score(client, links.one_click_url(nps_link, 5, signed))
    assert Response.objects.filter(customer=customer).count() == 2
    page, _kept = click_score(Client(), links.one_click_url(nps_link, 6, signed))
    assert 'value="6" checked' in page.content.decode()
    assert sorted(Response.objects.values_list("score", "status")) == [(3, "completed"), (6, "started")]
    assert DistributionDay.objects.get().opened == 2


def test_a_mail_scanner_opening_every_score_link_records_nothing(nps_link, customer):
    """Security gateways open each link of a message (all eleven scores) before the customer sees
    it: opening a score link keeps no score, counts no opening, and sets off nothing."""
    signed = links.sign(nps_link, customer)
    scanner = Client()
    for score in range(11):
        page = scanner.get(links.one_click_url(nps_link, score, signed))
        assert page.status_code == 200 and kept_score_url(page)
    assert not Response.objects.exists()
    assert not DistributionDay.objects.filter(opened__gt=0).exists()
    assert not OutboxEvent.objects.exists()


def test_the_score_links_keeping_never_overwrites_what_the_customer_did_since(nps_link, customer):
    """The page's keeping travels beside the customer's next step: an answer sent before it
    arrives is newer, and stays as it is (read under the answer's lock)."""
    signed = links.sign(nps_link, customer)
    client = Client()
    page = client.get(links.one_click_url(nps_link, 2, signed))
    fields = keep_fields(page)
    submit(client, nps_link, signed, token=fields["token"], score="9", comment="Changed my mind", _score_link="1")
    late = client.post(kept_score_url(page), fields)
    assert late.status_code == 204
    assert list(Response.objects.values_list("score", "status", "source")) == [(9, "completed", "one_click")]
    assert DistributionDay.objects.get().opened == 1  # the page's opening, counted with its answer, once


@pytest.mark.django_db(transaction=True)
def test_a_send_committing_while_the_keeping_waits_for_its_row_wins(nps_link, customer):
    """The race the row lock settles: Send's answer is written, not yet committed, when the keeping
    arrives. The keeping waits for it (the token is unique), then finds it newer than what its
    page saw, and leaves it as it is."""
    signed = links.sign(nps_link, customer)
    page = Client().get(links.one_click_url(nps_link, 2, signed))
    fields = keep_fields(page)
    written = threading.Event()

    def send():
        try:
            with transaction.atomic():
                survey = Survey.objects.get(pk=nps_link.survey_id)
                services.record_response(
                    survey=survey, submission=services.clean_submission(survey, {"score": "9"}, complete=True),
                    complete=True, language="ru", distribution=nps_link, token=uuid.UUID(fields["token"]),
                    customer=customer, source=Response.Source.ONE_CLICK, count_opening=True)
                written.set()
                time.sleep(1.5)  # the keeping now waits on the token's unique index
        finally:
            connection.close()

    sender = threading.Thread(target=send)
    sender.start()
    assert written.wait(10)
    late = Client().post(kept_score_url(page), fields)
    sender.join()
    assert late.status_code == 204
    assert list(Response.objects.values_list("score", "status")) == [(9, "completed")]
    assert DistributionDay.objects.get().opened == 1


def test_a_score_links_page_that_saved_first_is_still_the_links_answer(nps_link, customer):
    """The page's own save (a change) arrived before its keeping: the answer is the link's all the
    same, so a second click of the e-mail changes it instead of starting another."""
    signed = links.sign(nps_link, customer)
    client = Client()
    page = client.get(links.one_click_url(nps_link, 8, signed))
    fields = keep_fields(page)
    saved = client.post(reverse("respond:save", args=[nps_link.public_id]),
                        {**fields, "score": "7", "_score_link": "1"})
    assert saved.status_code == 204
    assert client.post(kept_score_url(page), fields).status_code == 204  # late: the 7 stays
    assert list(Response.objects.values_list("score", "source")) == [(7, "one_click")]
    again, kept = click_score(Client(), links.one_click_url(nps_link, 5, signed))
    assert kept.status_code == 204 and f'value="{fields["token"]}"' in again.content.decode()
    assert list(Response.objects.values_list("score", "status")) == [(5, "started")]
    assert DistributionDay.objects.get().opened == 1


def test_a_second_clicks_page_keeps_nothing_over_a_change_made_after_it_opened(nps_link, customer):
    signed = links.sign(nps_link, customer)
    click_score(Client(), links.one_click_url(nps_link, 8, signed))
    page = Client().get(links.one_click_url(nps_link, 2, signed))  # a second click: the same answer
    fields = keep_fields(page)
    assert fields["seen"]
    # Meanwhile the customer changed the answer in the first click's tab.
    Client().post(reverse("respond:save", args=[nps_link.public_id]), {**fields, "score": "10"})
    assert Client().post(kept_score_url(page), fields).status_code == 204
    assert list(Response.objects.values_list("score", flat=True)) == [10]


def test_a_score_links_page_sent_back_for_a_correction_still_counts_its_opening(nps_link, customer):
    signed = links.sign(nps_link, customer)
    client = Client()
    page = client.get(links.one_click_url(nps_link, 4, signed))  # without scripts: nothing kept
    token = keep_fields(page)["token"]
    refused = submit(client, nps_link, signed, token=token, score="4", comment="x" * 5001, _score_link="1")
    assert refused.status_code == 400 and 'name="_score_link" value="1"' in refused.content.decode()
    assert not Response.objects.exists()
    submit(client, nps_link, signed, token=token, score="4", comment="Slow", _score_link="1")
    assert list(Response.objects.values_list("score", "status", "source")) == [(4, "completed", "one_click")]
    assert DistributionDay.objects.get().opened == 1


def test_a_score_links_keeping_never_touches_an_answer_of_another_link(nps_link, customer, org_a):
    other_link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    signed = links.sign(other_link, customer)
    submit(Client(), other_link, signed, token=(token := str(uuid.uuid4())), score="9")
    url = links.one_click_url(nps_link, 0, links.sign(nps_link, customer))
    page = Client().get(url)
    stolen = Client().post(url, {**keep_fields(page), "token": token})
    assert stolen.status_code == 400
    assert list(Response.objects.values_list("score", "distribution")) == [(9, other_link.pk)]


def test_a_score_links_keeping_needs_the_pages_token(nps_link, customer):
    url = links.one_click_url(nps_link, 3, links.sign(nps_link, customer))
    assert Client().post(url, {"token": "not-a-token"}).status_code == 400
    assert Client().post(url).status_code == 400
    assert not Response.objects.exists()


def test_one_click_out_of_range_score_is_a_clear_400(nps_link):
    assert Client().get(links.one_click_url(nps_link, 11)).status_code == 400
    assert not Response.objects.exists()


def test_contact_policy_skips_a_second_ask_within_n_days(nps_link, customer, org_a, time_machine):
    from tests import factories

    ContactPolicy.objects.create(organization=org_a, min_days_between_surveys=14)
    other_survey_link = factories.distribution(org_a, factories.survey(org_a, "csat"))
    submit(Client(), other_survey_link, links.sign(other_survey_link, customer), score="4")

    signed = links.sign(nps_link, customer)
    page = Client().get(page_url(nps_link, signed), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "will not ask you again so soon" in page.content.decode() or "не будем" in page.content.decode()
    assert 'name="score"' not in page.content.decode()
    day = DistributionDay.objects.get(distribution=nps_link)
    assert (day.opened, day.skipped_by_policy) == (1, 1)

    time_machine.move_to(timezone.now() + timedelta(days=15))
    later = Client().get(page_url(nps_link, signed), follow=True)
    assert 'name="score"' in later.content.decode()
    # Anonymous links are never held back: there is nobody to recognise.
    assert 'name="score"' in Client().get(page_url(nps_link), follow=True).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"score": "11"}, "Please choose a score from 0 to 10."),
        ({"score": "-1"}, "Please choose a score from 0 to 10."),
        ({"score": "abc"}, "Please choose a score from 0 to 10."),
        ({"score": ""}, "Please choose a score."),
        ({"score": "7", "comment": "x" * 5001}, "Please keep it under 5000 characters"),
        ({"score": "7", "comment": "bad\x00byte"}, "NUL"),
    ],
)
def test_bad_answers_get_a_clear_400_page_and_change_nothing(nps_link, data, message):
    response = submit(Client(), nps_link, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Response.objects.exists()


def test_errors_speak_the_respondents_language(nps_link):
    response = Client().post(page_url(nps_link, lang="ru"), {"token": str(uuid.uuid4()), "score": "42"})
    assert response.status_code == 400
    assert "Пожалуйста, выберите оценку от 0 до 10." in response.content.decode()


def test_required_extra_question_must_be_answered(nps_link, org_a):
    from tests import factories

    question = factories.question(org_a, nps_link.survey, kind="single_choice", required=True,
                                  choices=[{"value": "pro", "label": {"en": "Pro"}}])
    response = submit(Client(), nps_link, score="9")
    assert response.status_code == 400 and "Please answer this question." in response.content.decode()
    assert submit(Client(), nps_link, score="9", **{question.key: "cargo"}).status_code == 400
    assert thanked(submit(Client(), nps_link, score="9", **{question.key: "pro"}))
    assert Response.objects.get().answers.get().choices == ["pro"]


@pytest.mark.parametrize(
    ("status", "expected", "code"),
    [(Survey.Status.CLOSED, "This survey is closed", 410), (Survey.Status.PAUSED, "paused", 409),
     (Survey.Status.DRAFT, "This survey is closed", 410)],
)
def test_a_survey_not_taking_answers_says_so(nps_link, status, expected, code):
    Survey.objects.filter(pk=nps_link.survey_id).update(status=status)
    page = Client().get(page_url(nps_link))
    assert page.status_code == code and expected in page.content.decode()
    assert submit(Client(), nps_link, score="9").status_code == code
    assert not Response.objects.exists()


def test_survey_past_its_end_date_is_closed(nps_link):
    Survey.objects.filter(pk=nps_link.survey_id).update(ends_at=timezone.now() - timedelta(hours=1))
    assert Client().get(page_url(nps_link)).status_code == 410


@pytest.mark.parametrize(
    "body",
    [
        b"token=%s&score=9&comment=%%ED%%A0%%80" ,  # a lone surrogate, percent-encoded
        b"token=%s&score=9&comment=%%FF%%FE%%FD",  # invalid UTF-8
        b"token=%s&score=9&comment=%%00",  # NUL
        b"token=%s&score=%%00",
    ],
)
def test_hostile_form_bodies_get_a_4xx_never_a_500(nps_link, body):
    token = str(uuid.uuid4()).encode()
    response = Client().generic(
        "POST", links.survey_url(nps_link), body.replace(b"%s", token, 1),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (200, 400)
    if response.status_code == 200:  # accepted: then what was stored is clean text
        comment = Response.objects.get().comment
        assert "\x00" not in comment and all(not 0xD800 <= ord(ch) <= 0xDFFF for ch in comment)


def test_malformed_token_and_unknown_link_are_clear_4xx(nps_link):
    assert Client().post(links.survey_url(nps_link), {"token": "not-a-uuid", "score": "9"}).status_code == 400
    missing = Client().get("/s/doesnotexist/")
    assert missing.status_code == 404 and "This survey does not exist" in missing.content.decode()


def test_language_from_link_then_browser_then_default(nps_link):
    assert "Насколько вероятно" in Client().get(page_url(nps_link, lang="ru"), follow=True).content.decode()
    latvian = Client().get(page_url(nps_link), HTTP_ACCEPT_LANGUAGE="lv-LV,lv;q=0.9", follow=True)
    assert "Cik ticams" in latvian.content.decode()
    survey = nps_link.survey
    survey.default_language = "ru"
    survey.save()  # an edit: the link this process kept is read again
    german = Client().get(page_url(nps_link), HTTP_ACCEPT_LANGUAGE="de", follow=True)
    assert "Насколько вероятно" in german.content.decode()


def test_public_page_is_light_and_frameable(nps_link):
    page = Client().get(page_url(nps_link), follow=True)
    assert len(page.content) < 60_000
    assert "X-Frame-Options" not in page
    assert "frame-ancestors *" in page["Content-Security-Policy"]
    # No framework, nothing from elsewhere: one small script of our own (the policy allows no inline one).
    scripts = re.findall(rb'<script[^>]*\bsrc="([^"]+)"', page.content)
    # A new visit's page also writes its own address (docs/adr/0011).
    assert scripts == [b"/static/surveys/address.js", b"/static/surveys/logic.js", b"/static/surveys/survey.js"]
    # Pages, live logic and piping (issue 17) grew the scripts from 2 KB; still small, unminified.
    static = Path(__file__).resolve().parents[2] / "static/surveys"
    assert sum((static / name).stat().st_size for name in ("address.js", "logic.js", "survey.js")) < 20_000


def test_opening_counts_for_the_funnel(nps_link):
    for _ in range(3):
        Client().get(page_url(nps_link))
    assert DistributionDay.objects.get(distribution=nps_link).opened == 3
    # The visit's own page (its token in the address), reloaded, is the same opening.
    visit = Client().get(page_url(nps_link))
    assert visit.status_code == 200  # at once: no redirect, a round trip fewer on a phone
    Client().get(visit_url(visit))
    Client().get(visit_url(visit))
    assert DistributionDay.objects.get(distribution=nps_link).opened == 4


def test_follow_up_is_neutral_until_a_score_is_chosen(nps_link):
    body = Client().get(page_url(nps_link), follow=True).content.decode()
    assert "What is the main reason for your score?" in body
    assert "We are sorry to hear that" not in body.split('id="follow-ups"')[0]


def test_csi_survey_rates_each_attribute_with_importance(org_a):
    from tests import factories

    survey = factories.survey(org_a, "csi")
    speed = factories.question(org_a, survey, kind="csi_attribute", ask_importance=True, required=True)
    staff = factories.question(org_a, survey, kind="csi_attribute")
    link = factories.distribution(org_a, survey)
    page = Client().get(page_url(link), follow=True).content.decode()
    assert f'name="{speed.key}__importance"' in page and 'name="score"' not in page
    missing = submit(Client(), link, **{staff.key: "5"})
    assert missing.status_code == 400 and "Please answer this question." in missing.content.decode()
    token = str(uuid.uuid4())
    assert thanked(submit(Client(), link, token=token, **{speed.key: "2", f"{speed.key}__importance": "5",
                                                         staff.key: "1"}))
    saved = Response.objects.get(token=token)
    assert saved.score is None and saved.band == "low"  # mean 1.5 on the 1–5 scale
    assert {a.question_id: (a.number, a.importance) for a in saved.answers.all()} == {
        speed.pk: (2, 5), staff.pk: (1, None)}


# --- The survey builder's page (issue 17): every kind, pages, logic, piping, brand, preview ------

def _builder(org, **link_fields):
    from bench.public_page import ten_question_survey

    survey, link = ten_question_survey(org)
    for name, value in link_fields.items():
        setattr(link, name, value)
    link.save()
    return survey, link


def _html(link, signed="", **params):
    return Client().get(page_url(link, signed, **params), follow=True).content.decode()


def _names(html):
    return set(re.findall(r'\bname="([^"]+)"', html))


def test_every_kind_has_the_fields_the_server_reads(org_a):
    _survey, link = _builder(org_a)
    html = _html(link)
    assert {"score", "comment", "reason", "reason__other", "extras", "contact", "speed_rating", "grid__speed",
            "grid__clean", "grid__price", "fix", "rank__price", "rank__speed", "rank__comfort", "again",
            "why_not"} <= _names(html)
    assert not {n for n in _names(html) if n.startswith("sorry")}  # a statement is text only
    assert 'value="_other"' in html and 'type="checkbox" name="extras"' in html
    assert 'name="again" value="yes"' in html and 'name="again" value="no"' in html
    assert 'type="checkbox" id="f-contact" name="contact" value="yes"' in html
    # A ranking is a select per option (1..n), usable without dragging; a matrix row's radios are named.
    assert re.search(r'<select id="f-rank-price" name="rank__price"[^>]*><option value="">–</option>'
                     r'<option>1</option><option>2</option><option>3</option></select>', html)
    assert 'aria-label="Speed: 5"' in html


def test_pages_are_in_one_document_and_the_score_opens_page_one(org_a):
    _survey, link = _builder(org_a)
    html = _html(link)
    sections = re.findall(r'<section class="page" id="page-(\d)"', html)
    assert sections == ["1", "2", "3"]
    first = html.split('id="page-2"')[0]
    assert 'name="score"' in first and 'name="comment"' in first and 'name="reason"' in first
    assert 'name="speed_rating"' not in first
    # Without JavaScript every page shows (the script hides all but one); Send is there, Next waits for it.
    assert not re.search(r'<section[^>]*hidden', html)
    assert re.search(r'<button type="button" id="next" hidden>', html)
    assert re.search(r'<button type="submit" id="send">Send</button>', html)
    plan = json.loads(re.search(r'id="logic-plan" type="application/json">(.*?)</script>', html).group(1))
    assert plan["pages"][0]["jumps"][0]["to"] == 3 and plan["show_if"]["why_not"]["value"] == "no"


def test_shuffled_options_keep_their_order_for_one_response(org_a):
    survey, link = _builder(org_a)
    Question.objects.filter(survey=survey, key="reason").update(
        choices=[{"value": f"o{i}", "label": {"en": f"Option {i}"}} for i in range(8)])

    def order(token):
        html = _html(link, t=token)
        return re.findall(r'name="reason" value="(o\d)"', html)

    token = str(uuid.uuid4())
    assert order(token) == order(token)
    orders = {tuple(order(str(uuid.uuid4()))) for _ in range(4)}
    assert len(orders) > 1 and all(sorted(o) == [f"o{i}" for i in range(8)] for o in orders)
    assert re.findall(r'name="reason" value="([^"]+)"', _html(link, t=token))[-1] == "_other"  # "Other" stays last


def test_piping_uses_the_signed_customer_and_earlier_answers_escaped(org_a):
    from surveys.services import clean_submission, record_response

    customer = factories.customer(org_a)
    customer.name = "<b>Anna</b>"
    customer.language = "ru"
    customer.save()
    survey, link = _builder(org_a)
    signed = links.sign(link, customer)
    token = uuid.uuid4()
    record_response(survey=survey, submission=clean_submission(survey, {"score": "3", "reason": "broken"},
                                                               complete=False),
                    complete=False, language="ru", distribution=link, token=token, customer=customer)
    html = _html(link, signed, t=str(token))
    assert "&lt;b&gt;Anna&lt;/b&gt;, спасибо, что рассказали: " in html
    assert '<span data-pipe="reason" data-fallback="">Сломанный самокат</span>' in html
    # A name in the address is not the customer's: only the signed link names them.
    assert "Mallory" not in _html(link, t=str(uuid.uuid4()), name="Mallory")
    assert "Уважаемый клиент" not in html and "Dear customer" in _html(link, t=str(uuid.uuid4()))


def test_facts_for_the_logic_come_from_the_signed_link(org_a):
    from surveys.respondent import Visit, facts_of

    org_a.segment_attribute = "tier"
    org_a.save()
    customer = factories.customer(org_a)
    customer.attributes = {"tier": "gold", "segment": "not this one"}
    customer.save()
    _survey, link = _builder(org_a)
    visit = Visit(link, links.LinkContext(customer_id=customer.pk, hidden={"store": "Riga"}), "", customer, "lv")
    facts = facts_of(visit)
    assert (facts.language, facts.touchpoint, facts.segment, facts.hidden) == (
        "lv", str(link.touchpoint_id), "gold", {"store": "Riga"})
    assert facts.answers == {} and facts.score is None
    anonymous = facts_of(Visit(link, links.LinkContext(), "", None, "en"))
    assert (anonymous.segment, anonymous.hidden) == ("", {})


def test_the_page_gets_only_the_facts_its_logic_reads(org_a):
    customer = factories.customer(org_a)
    customer.attributes = {"segment": "vip"}
    customer.save()
    survey, link = _builder(org_a)
    signed = links.sign(link, customer, {"store": "Riga", "order": "A-1"})

    def facts():
        html = _html(link, signed, t=str(uuid.uuid4()))
        return json.loads(re.search(r'id="logic-facts" type="application/json">(.*?)</script>', html).group(1))

    unread = facts()
    assert unread["segment"] == "" and unread["hidden"] == {} and unread["bands"]["9"] == "promoter"
    Question.objects.filter(survey=survey, key="fix").update(
        show_if={"any": [{"field": "segment", "op": "equals", "value": "vip"},
                         {"field": "hidden.store", "op": "answered"}]})
    read = facts()
    assert read["segment"] == "vip" and read["hidden"] == {"store": "Riga"}



def test_the_server_drops_answers_the_logic_hid_on_the_page(org_a):
    survey, link = _builder(org_a)
    token = str(uuid.uuid4())
    # A promoter jumps from page 1 to page 3: page 2's answers (typed before the score changed) are not kept,
    # nor is "why not" when the answer to "again" is yes.
    response = submit(Client(), link, token=token, score="10", reason="price", speed_rating="1", fix="Brakes",
                      grid__speed="2", again="yes", why_not="No reason")
    assert thanked(response), response.content.decode()[:3000]
    saved = Response.objects.get(token=token)
    assert sorted(a.question.key for a in saved.answers.all()) == ["again", "reason"]


def test_a_hidden_field_of_the_link_decides_what_the_server_keeps(org_a, customer):
    survey, link = _builder(org_a)
    Question.objects.filter(survey=survey, key="extras").update(
        show_if={"field": "hidden.store", "op": "equals", "value": "Riga"})
    riga, tallinn = links.sign(link, customer, {"store": "Riga"}), links.sign(link, customer, {"store": "Tallinn"})
    for signed, kept in ((riga, True), (tallinn, False)):
        token = str(uuid.uuid4())
        submit(Client(), link, signed, token=token, score="4", reason="late", speed_rating="3", extras="lock")
        saved = Response.objects.get(token=token)
        assert saved.answers.filter(question__key="extras").exists() is kept


def test_refused_answers_are_listed_and_tied_to_their_questions(org_a):
    _survey, link = _builder(org_a)
    response = submit(Client(), link, score="4", reason="nonsense")
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="error-summary" tabindex="-1"' in html and 'href="#q-reason"' in html
    assert 'aria-describedby="e-reason"' in html and 'id="e-reason"' in html


def test_the_brand_colours_the_public_pages(org_a):
    from cxplatform.models import Branding

    survey, link = _builder(org_a)
    plain = _html(link)
    assert "--brand:#1f6feb" in plain and "<img" not in plain  # no Branding row: the defaults
    Branding.objects.create(organization=org_a, colour="#0B5D1E", font="serif", logo="branding/" + "a1" * 16 + ".png")
    html = _html(link)
    assert "--brand:#0b5d1e;--on-brand:#ffffff;--brand-font:Georgia,\"Times New Roman\",Times,serif" in html
    assert re.search(r'<img class="logo" src="/brand/logo/(a1){16}\.png" alt="Alpha Scooters">', html)
    survey.status = Survey.Status.PAUSED
    survey.save()  # an edit: the link this process kept is read again
    paused = Client().get(page_url(link))
    assert paused.status_code == 409 and "--brand:#0b5d1e" in paused.content.decode()


def test_a_ten_question_survey_with_logic_stays_under_60_kb(org_a):
    from bench.public_page import PAGE_WEIGHT_LIMIT, page_weight

    _survey, link = _builder(org_a)
    weight = page_weight(Client().get(page_url(link), follow=True).content)
    assert weight["scripts"] > 0 and weight["total"] < PAGE_WEIGHT_LIMIT, weight


# --- The editor's preview ---------------------------------------------------------------------

def test_preview_shows_a_draft_to_its_team_and_records_nothing(org_a, make_member, client_for):
    survey, _link = _builder(org_a)
    Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.DRAFT)
    client = client_for(make_member(org_a, role="viewer"))
    url = reverse("respond:preview", kwargs={"survey_id": survey.pk})
    page = client.get(f"{url}?lang=ru")
    html = page.content.decode()
    assert page.status_code == 200 and "Что было важнее всего?" in html
    assert "frame-ancestors 'self'" in page["Content-Security-Policy"] and page["X-Frame-Options"] == "SAMEORIGIN"
    assert 'method="get"' in html and "data-preview=" in html and "data-save-url" not in html
    sent = client.get(f"{url}?lang=en&sent=1&score=3&reason=late")
    assert "This is a preview — nothing is recorded." in sent.content.decode()
    assert not Response.objects.exists() and not DistributionDay.objects.exists()


def test_preview_of_another_organizations_survey_is_404(org_a, org_b, make_member, client_for):
    survey, _link = _builder(org_b)
    client = client_for(make_member(org_a))
    assert client.get(reverse("respond:preview", kwargs={"survey_id": survey.pk})).status_code == 404
    assert client.get(reverse("respond:preview", kwargs={"survey_id": 10**8})).status_code == 404
    anonymous = Client().get(reverse("respond:preview", kwargs={"survey_id": survey.pk}))
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


def test_a_page_reads_answer_rows_only_when_its_survey_asks_for_them(org_a):
    """A score-and-comment survey keeps everything on the response: its thank-you page and its
    page sent back read no answer rows. A survey asking its own question shows the stored answer."""

    def answer_then_come_back(link, **data):
        client, token = Client(), str(uuid.uuid4())
        with CaptureQueriesContext(connection) as read:
            sent = submit(client, link, token=token, **data)  # its reply is the thank-you page
            assert thanked(sent), sent.content
            assert client.get(visit_address(sent)).status_code == 200
            page = client.get(page_url(link, t=token))
        assert page.status_code == 200
        return page.content.decode(), [q["sql"] for q in read.captured_queries
                                       if "surveys_answer" in q["sql"] and q["sql"].startswith("SELECT")]

    plain = factories.distribution(org_a, factories.survey(org_a, "nps"))
    page, reads = answer_then_come_back(plain, score=9, comment="Quick and kind")
    assert "Quick and kind" in page and not reads

    asking = factories.distribution(org_a, factories.survey(org_a, "nps"))
    factories.question(org_a, asking.survey, kind="text", key="wish")
    page, reads = answer_then_come_back(asking, score=4, comment="Slow", wish="A faster courier")
    assert "A faster courier" in page and reads
