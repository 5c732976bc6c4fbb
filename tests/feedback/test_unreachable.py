"""A case nobody can call back is not a call-back case (docs/adr/0011): an unhappy answer without a
known customer, or from one with neither e-mail nor phone, stays an inbox item — counted for the
outer loop — and the loop figures say how many unhappy answers were unreachable."""

import io
import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from actions import root_causes
from cxplatform.models import Customer, Role
from feedback import loop
from feedback.models import CloseLoopRule, FeedbackItem, RootCause
from metrics.operations import loop_figures
from metrics.selectors import Scope
from surveys import services as survey_services
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(org_a):
    return CloseLoopRule.objects.create(organization=org_a, name="Call back the unhappy", band="unhappy")


@pytest.fixture
def link(org_a):
    return factories.distribution(org_a, factories.survey(org_a, "nps"))


def _answer(link, score, comment="", customer=None, token=None):
    sub = survey_services.clean_submission(link.survey, {"score": score, "comment": comment}, complete=True)
    return survey_services.record_response(survey=link.survey, submission=sub, complete=True, language="en",
                                           distribution=link, token=token or uuid.uuid4(), customer=customer)[0]


def _item(response):
    return FeedbackItem.objects.get(response=response)


def test_an_unhappy_answer_nobody_can_call_back_is_an_inbox_item_not_a_case(
        org_a, rule, link, django_capture_on_commit_callbacks):
    org_a.default_language = "en"
    org_a.save()
    no_contact = Customer.objects.create(organization=org_a, name="Walk-in", external_id="W-1")
    by_phone = Customer.objects.create(organization=org_a, name="Caller", phone="+371 2000 0000")
    with django_capture_on_commit_callbacks(execute=True):
        anonymous = _answer(link, 2, "The scooter arrived broken")
        silent = _answer(link, 3)  # anonymous, a score without a comment
        unknown = _answer(link, 1, "Nobody answers the phone", customer=no_contact)
        reachable = _answer(link, 0, "Worst ever", customer=by_phone)  # a phone number is enough
        _answer(link, 9, "Fine")  # happy: no mark at all
    for response in (anonymous, silent, unknown):
        item = _item(response)
        assert (item.kind, item.loop_state, item.loop_rule) == ("voice", "unreachable", rule)
        assert item.events.filter(action="loop_unreachable").count() == 1
    assert _item(silent).text == "Score 3, no comment."
    assert _item(reachable).kind == "case"
    assert FeedbackItem.objects.filter(organization=org_a, kind="case").count() == 1
    assert FeedbackItem.objects.get(response__score=9).loop_state == ""
    # Redelivered: nothing doubles.
    loop.on_response(anonymous.pk)
    assert _item(anonymous).events.filter(action="loop_unreachable").count() == 1
    # The customer changes their mind: the mark goes, as a case would be withdrawn.
    with django_capture_on_commit_callbacks(execute=True):
        _answer(link, 10, "Sorted, thanks", token=anonymous.token)
    assert _item(anonymous).loop_state == "" and _item(anonymous).kind == "voice"


def test_the_root_cause_of_an_unreachable_answer_counts_for_the_outer_loop(
        org_a, rule, link, make_member, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _answer(link, 2, "The battery died after a week")
    item = _item(response)
    agent = client_for(make_member(org_a, Role.AGENT))
    page = agent.get(f"/inbox/items/{item.pk}/").content.decode()
    assert 'id="loop-unreachable"' in page and 'id="close-loop-form"' in page and 'id="call-form"' not in page
    loop.ensure_root_causes(org_a)
    battery = RootCause.objects.get(organization=org_a, name="Battery range")
    done = agent.post(f"/inbox/items/{item.pk}/close-loop/", {"root_cause": battery.pk, "note": "Logged for the "
                                                              "battery supplier", "version": item.version})
    assert done.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.root_cause, item.kind) == ("resolved", battery, "voice")
    analysis = root_causes.analysis(org_a, timezone.now().date())  # the outer loop's root causes
    assert [(row.root_cause, row.total) for row in analysis["causes"]] == [(battery, 1)]


def test_the_loop_figures_say_how_many_unhappy_answers_were_unreachable(
        org_a, rule, link, make_member, client_for, django_capture_on_commit_callbacks, time_machine):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            _answer(link, n, "No way to reach me")
        _answer(link, 4, "Call me", customer=factories.customer(org_a))
    today = timezone.now().date()
    figure = loop_figures(Scope(org_a, today - timedelta(days=1), today + timedelta(days=1)))["unreachable"]
    assert figure.counts == {"hits": 3, "total": 4} and figure.value == 75.0
    # The dashboard, the summary API and `cx_metrics` give the same figure, with plain words.
    time_machine.move_to(timezone.now())
    client = client_for(make_member(org_a, Role.VIEWER))
    params = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    api = client.get("/api/v1/metrics/summary/", params).json()["metrics"]["unreachable"]
    out = io.StringIO()
    call_command("cx_metrics", "--org", org_a.slug, "--from", params["from"], "--to", params["to"], "--json",
                 stdout=out)
    command = json.loads(out.getvalue())["metrics"]["unreachable"]
    assert api == command and api["counts"] == {"hits": 3, "total": 4} and api["value"] == 75.0
    page = client.get("/", params).content.decode()
    card = page.split('id="kpi-unreachable"')[1].split("</article>")[0]
    assert '<div class="value">75.0%' in card and "n=4" in card and "3 of 4 unhappy answers" in card
    assert "left neither an e-mail address nor a phone number" in card
