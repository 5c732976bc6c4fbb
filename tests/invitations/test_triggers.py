"""Trigger rules: the inbox's built-in trigger (a survey once per resolved item, however often it
is reopened) and the manager's pages — the list with funnels, the form with its choices scoped to
the organization and versioned edits, a rule's page with its history, tenancy and roles."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cxplatform.models import Customer, Role
from feedback import conversation, loop
from feedback import services as inbox
from feedback.models import FeedbackItem
from invitations import sending, services, texts
from invitations.models import Invitation, TriggerEvent, TriggerRule
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(org_a):
    return factories.distribution(org_a)


def make_rule(org, link, **fields):
    fields.setdefault("event", "repair_closed")
    fields.setdefault("subject", {"en": "Was it easy, {name}?"})
    fields.setdefault("body", {"en": "Tell {organization} how the repair went."})
    fields.setdefault("name", "CES after a repair")
    return TriggerRule.objects.create(organization=org, distribution=link, **fields)


# --- The inbox's built-in trigger ----------------------------------------------------------------

@pytest.fixture
def agent(org_a, make_member):
    return make_member(org_a, Role.AGENT)


def resolve(item, agent):
    item.refresh_from_db()
    return inbox.triage(item, agent, item.version, status=FeedbackItem.Status.RESOLVED)


def test_an_inbox_item_resolved_twice_asks_its_customer_once(org_a, link, agent):
    make_rule(org_a, link, event="inbox_item_resolved", name="CSAT after the inbox", delay_minutes=60)
    person = factories.customer(org_a)
    item = factories.feedback_item(org_a, customer=person, status=FeedbackItem.Status.OPEN)

    resolve(item, agent)
    event = TriggerEvent.objects.get()
    assert (event.event, event.idempotency_key, event.customer_id) == (
        "inbox_item_resolved", f"inbox-item-{item.pk}-resolved", person.pk)
    assert event.payload == {"inbox_item": item.pk}
    invitation = Invitation.objects.get()
    assert invitation.status == "queued" and invitation.send_after > timezone.now() + timedelta(minutes=59)

    # The customer writes back: the item opens again; resolved again, by a reply this time, then again.
    conversation.customer_wrote(item, "It broke again")
    item.refresh_from_db()
    assert item.status == FeedbackItem.Status.OPEN
    conversation.reply(item, agent, "Fixed for good.", status=FeedbackItem.Status.RESOLVED, version=item.version)
    conversation.customer_wrote(item, "Thanks!")
    resolve(item, agent)

    assert TriggerEvent.objects.count() == 1 and Invitation.objects.count() == 1
    mail.outbox.clear()
    assert sending.send_due(now=timezone.now() + timedelta(minutes=61)) == 1
    assert sending.send_due(now=timezone.now() + timedelta(days=1)) == 0
    assert [m.to for m in mail.outbox] == [[person.email.lower()]]


def test_a_case_closed_with_its_root_cause_is_a_resolved_item_too(org_a, link, agent):
    make_rule(org_a, link, event="inbox_item_resolved")
    item = factories.feedback_item(org_a, customer=factories.customer(org_a), kind=FeedbackItem.Kind.CASE,
                                   status=FeedbackItem.Status.OPEN)
    loop.resolve_case(item, agent, item.version, root_cause=factories.root_cause(org_a), note="Called back")
    assert TriggerEvent.objects.get().idempotency_key == f"inbox-item-{item.pk}-resolved"
    assert Invitation.objects.count() == 1


def test_resolving_costs_one_query_when_no_rule_listens_and_asks_nobody(org_a, link, agent):
    make_rule(org_a, link)  # another event
    make_rule(org_a, link, event="inbox_item_resolved", active=False)
    item = factories.feedback_item(org_a, customer=factories.customer(org_a), status=FeedbackItem.Status.OPEN)
    with CaptureQueriesContext(connection) as queries:
        resolve(item, agent)
    touching = [q["sql"] for q in queries.captured_queries if "invitations_" in q["sql"]]
    assert len(touching) == 1 and "invitations_triggerrule" in touching[0]
    assert not TriggerEvent.objects.exists()


def test_an_item_without_a_customer_asks_nobody(org_a, link, agent):
    make_rule(org_a, link, event="inbox_item_resolved")
    resolve(factories.feedback_item(org_a, status=FeedbackItem.Status.OPEN), agent)
    nameless = Customer.objects.create(organization=org_a, name="Walk-in")  # no id, e-mail or phone
    resolve(factories.feedback_item(org_a, customer=nameless, status=FeedbackItem.Status.OPEN), agent)
    assert not TriggerEvent.objects.exists()


def test_a_refused_resolve_asks_nobody(org_a, link, agent):
    make_rule(org_a, link, event="inbox_item_resolved")
    item = factories.feedback_item(org_a, customer=factories.customer(org_a), status=FeedbackItem.Status.OPEN)
    with pytest.raises(inbox.StaleEdit):
        inbox.triage(item, agent, item.version + 5, status=FeedbackItem.Status.RESOLVED)
    assert not TriggerEvent.objects.exists()


# --- The pages ---------------------------------------------------------------------------------

@pytest.fixture
def manager(org_a, make_member, client_for):
    return client_for(make_member(org_a, Role.CX_MANAGER))


def form_data(link, **fields):
    data = {"name": "CES after a repair", "event": "Repair_Closed", "distribution": link.pk, "delay": "2",
            "delay_unit": "hours", "medium": "email", "subject_en": "Was it easy?", "body_en": "Tell us, {name}.",
            "subject_ru": "Было ли просто?", "body_ru": "Расскажите нам.", "subject_lv": "", "body_lv": "",
            "reminders": "7, 3", "active": "on"}
    data.update(fields)
    return data


def test_the_form_offers_the_organizations_links_and_events_with_the_default_wording(
        manager, org_a, org_b, link):
    closed = factories.distribution(org_a, active=False)
    foreign = factories.distribution(org_b)
    services.receive_trigger(organization=org_a, event="order_delivered", idempotency_key="k1", email="a@x.example")
    services.receive_trigger(organization=org_b, event="secret_event", idempotency_key="k1", email="a@x.example")

    page = manager.get(reverse("invitations:trigger_create"))

    html = page.content.decode()
    assert page.status_code == 200
    options = set(re.findall(r'<option value="(\d+)"', html))
    assert str(link.pk) in options and str(closed.pk) not in options and str(foreign.pk) not in options
    events = re.search(r'<datalist id="trigger-events">(.*?)</datalist>', html).group(1)
    assert "inbox_item_resolved" in events and "order_delivered" in events and "secret_event" not in events
    assert texts.SUBJECT["ru"] in html and texts.SUBJECT["lv"] in html  # every language prefilled


def test_a_manager_creates_a_rule(manager, org_a, link):
    answer = manager.post(reverse("invitations:trigger_create"), form_data(
        link, body_en="Hello {name},\r\n\r\nTell us.", subject_ru="Было ли\r\nпросто?"))
    rule = TriggerRule.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("invitations:trigger_detail", args=[rule.pk])
    assert (rule.organization, rule.event, rule.delay_minutes, rule.reminder_days, rule.active) == (
        org_a, "repair_closed", 120, [3, 7], True)
    assert rule.subject == {"en": "Was it easy?", "ru": "Было ли просто?"}  # no line break in a header
    assert rule.body == {"en": "Hello {name},\n\nTell us.", "ru": "Расскажите нам."}


@pytest.mark.parametrize(("change", "field"), [
    ({"distribution": "foreign"}, "distribution"),
    ({"event": "repair closed!"}, "event"),
    ({"delay": "-1"}, "delay"),
    ({"delay": "91", "delay_unit": "days"}, "delay"),
    ({"reminders": "3, soon"}, "reminders"),
    ({"subject_ru": ""}, "subject_ru"),  # an e-mail needs its subject in each language it is written in
    ({"body_en": "", "body_ru": ""}, "body_en"),
])
def test_bad_input_on_the_form_is_refused_with_the_reason_and_saves_nothing(manager, org_b, link, change, field):
    if change.get("distribution") == "foreign":
        change["distribution"] = factories.distribution(org_b).pk
    page = manager.post(reverse("invitations:trigger_create"), form_data(link, **change))
    assert page.status_code == 400
    assert field in page.context["form"].errors
    assert not TriggerRule.objects.exists()


def test_an_edit_made_on_a_stale_version_is_refused(manager, org_a, link):
    rule = make_rule(org_a, link)
    url = reverse("invitations:trigger_edit", args=[rule.pk])
    page = manager.get(url)
    assert page.status_code == 200 and 'name="version" value="1"' in page.content.decode()
    first = manager.post(url, form_data(link, name="Renamed", version="1"))
    second = manager.post(url, form_data(link, name="Lost change", delay="5", version="1"))
    assert first.status_code == 302 and second.status_code == 409
    rule.refresh_from_db()
    assert (rule.name, rule.version, rule.delay_minutes) == ("Renamed", 2, 120)


def test_the_rule_page_shows_its_funnel_history_and_how_to_call_it(manager, org_a, link):
    rule = make_rule(org_a, link, delay_minutes=0)
    waiting = make_rule(org_a, link, event="order_delivered", delay_minutes=90)
    services.receive_trigger(organization=org_a, event="repair_closed", idempotency_key="r-1",
                             external_id="C-1", email="ok@x.example", name="Olga")
    services.receive_trigger(organization=org_a, event="repair_closed", idempotency_key="r-2",
                             external_id="C-2", phone="+37120000002", name="Pēteris")  # no e-mail
    services.receive_trigger(organization=org_a, event="order_delivered", idempotency_key="o-1",
                             external_id="C-3", email="later@x.example", name="Ivo")
    sending.send_due()
    answered = Invitation.objects.get(customer__external_id="C-1")
    services.mark_answered(invitation_id=answered.pk,
                           response_id=factories.response(org_a, link, customer=answered.customer).pk)

    page = manager.get(reverse("invitations:trigger_detail", args=[rule.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    funnel = page.context["funnel"]
    assert (funnel.sent, funnel.completed, funnel.skipped) == (1, 1, {"no_address": 1})
    history = page.context["rows"]
    assert [(e.idempotency_key, o.state) for e, o in history] == [("r-2", "skipped"), ("r-1", "answered")]
    assert "Olga" in html and "Pēteris" in html and "Ivo" not in html  # another event's customer
    assert "Skipped: No address" in html and "Answered" in html
    assert "/api/v1/triggers/" in page.context["curl"] and "X-Organization: alpha" in html
    assert '&quot;event&quot;: &quot;repair_closed&quot;' in html

    other = manager.get(reverse("invitations:trigger_detail", args=[waiting.pk]))
    [(event, outcome)] = other.context["rows"]
    assert outcome.state == "queued" and outcome.at == Invitation.objects.get(customer__external_id="C-3").send_after
    assert "Queued until" in other.content.decode()

    listing = manager.get(reverse("invitations:trigger_list"))
    rows = {r.pk: f for r, f, _delay in listing.context["rules"]}
    assert (rows[rule.pk].sent, rows[rule.pk].completed, rows[waiting.pk].queued) == (1, 1, 1)
    assert {r.pk: delay for r, _f, delay in listing.context["rules"]} == {rule.pk: "at once",
                                                                         waiting.pk: "90 minutes later"}


def test_a_test_send_goes_to_the_manager_in_the_chosen_language_and_invites_nobody(
        org_a, link, make_member, client_for):
    rule = make_rule(org_a, link, subject={"en": "Was it easy?", "ru": "Было ли просто?"},
                     body={"en": "Tell us.", "ru": "Расскажите нам."})
    manager = make_member(org_a, Role.CX_MANAGER)
    manager.email = "lead@alpha.example"
    manager.save()
    client = client_for(manager)
    url = reverse("invitations:trigger_send_test", args=[rule.pk])
    mail.outbox.clear()
    page = client.post(url, {"language": "ru"}, follow=True)
    assert [(m.to, m.subject) for m in mail.outbox] == [(["lead@alpha.example"], "Было ли просто?")]
    assert "A test was sent to lead@alpha.example." in page.content.decode()
    assert not TriggerEvent.objects.exists() and not Invitation.objects.exists()

    nobody = client_for(make_member(org_a, Role.CX_MANAGER))  # no e-mail address
    page = nobody.post(url, {"language": "xx"}, follow=True)
    assert len(mail.outbox) == 1 and "has no e-mail address" in page.content.decode()


def test_the_history_pages_come_as_a_fragment_for_htmx(manager, org_a, link):
    rule = make_rule(org_a, link, active=False)
    for n in range(30):
        services.receive_trigger(organization=org_a, event="repair_closed", idempotency_key=f"k{n}",
                                 external_id=f"C{n}")
    url = reverse("invitations:trigger_detail", args=[rule.pk])
    fragment = manager.get(url, {"page": 2}, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html and "How to call it" not in html
    assert [e.idempotency_key for e, _o in fragment.context["rows"]] == ["k4", "k3", "k2", "k1", "k0"]
    assert "No invitation" in html  # the rule was paused
    assert "<html" in manager.get(url, {"page": 2}).content.decode()


def test_another_organizations_rule_is_a_404_like_a_missing_one(manager, org_b, link):
    theirs = make_rule(org_b, factories.distribution(org_b))
    missing = theirs.pk + 1000
    for name in ("invitations:trigger_detail", "invitations:trigger_edit"):
        a, b = manager.get(reverse(name, args=[theirs.pk])), manager.get(reverse(name, args=[missing]))
        assert a.status_code == b.status_code == 404
    changed = manager.post(reverse("invitations:trigger_edit", args=[theirs.pk]), form_data(link, version="1"))
    assert changed.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "CES after a repair" and theirs.version == 1


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_members_who_do_not_design_surveys_read_but_cannot_change_rules(org_a, link, make_member, client_for, role):
    rule = make_rule(org_a, link)
    client = client_for(make_member(org_a, role))
    assert client.get(reverse("invitations:trigger_list")).status_code == 200
    assert client.get(reverse("invitations:trigger_detail", args=[rule.pk])).status_code == 200
    assert client.get(reverse("invitations:trigger_create")).status_code == 403
    assert client.post(reverse("invitations:trigger_create"), form_data(link)).status_code == 403
    assert client.post(reverse("invitations:trigger_edit", args=[rule.pk]),
                       form_data(link, name="x", version="1")).status_code == 403
    assert TriggerRule.objects.get().name == "CES after a repair"


# --- In the browser ------------------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_writes_a_rule_another_system_calls_it_and_the_history_shows_it(
        live_server, browser, org_a, make_member, artifact):
    import json
    import urllib.request

    from cxplatform.tokens.services import create_token

    link = factories.distribution(org_a)
    manager = make_member(org_a, Role.CX_MANAGER, username="cx-lead")
    manager.set_password("lead-pass-123")
    manager.save()
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "cx-lead")
    page.fill("#id_password", "lead-pass-123")
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}{reverse('invitations:trigger_create')}")
    page.fill("#id_name", "CES after a repair")
    page.fill("#id_event", "repair_closed")
    page.select_option("#id_distribution", str(link.pk))
    page.fill("#id_delay", "2")
    page.select_option("#id_delay_unit", "hours")
    page.fill("#id_reminders", "3")
    page.screenshot(path=artifact("trigger-form.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/invitations/triggers/\d+/$"))
    rule = TriggerRule.objects.get()
    assert (rule.event, rule.delay_minutes, rule.reminder_days) == ("repair_closed", 120, [3])
    assert "/api/v1/triggers/" in page.locator("#trigger-curl").input_value()

    # Another system calls the API as the page says, 26 times (two pages of history).
    token = create_token(user=manager, organization=org_a, name="Repair desk", scopes=["write"])[1]
    for n in range(26):
        call = urllib.request.Request(
            f"{live_server.url}/api/v1/triggers/", method="POST",
            data=json.dumps({"event": "repair_closed", "customer": {"external_id": f"R-{n}", "name": f"Rider {n}",
                                                                   "email": f"rider{n}@x.example"}}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                     "Idempotency-Key": f"repair-{n}"})
        with urllib.request.urlopen(call) as answer:  # noqa: S310 (the test's own live server)
            assert answer.status == 201
    page.reload()
    history = page.locator("#trigger-history-rows")
    assert "Rider 25" in history.inner_text() and "Queued until" in history.inner_text()
    assert page.locator("#trigger-funnel").inner_text().count("26") == 1  # waiting
    page.screenshot(path=artifact("trigger-detail.png"), full_page=True)
    history.get_by_role("link", name="Next").click()
    page.wait_for_url("**?page=2")
    assert "Rider 0" in history.inner_text() and "Rider 25" not in history.inner_text()
    assert page.locator("#trigger-how-to").count() == 1  # only the history was swapped
    desk.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    small = phone.new_page()
    small.goto(f"{live_server.url}/login/")
    small.fill("#id_username", "cx-lead")
    small.fill("#id_password", "lead-pass-123")
    small.click("button[type=submit]")
    small.goto(f"{live_server.url}{reverse('invitations:trigger_list')}")
    assert "CES after a repair" in small.locator("table").inner_text()
    small.screenshot(path=artifact("trigger-list-phone.png"), full_page=True)
    phone.close()
