"""The core of survey distribution: a campaign's run with its skips, sending once under the
throttle, the contact policy at send time, reminders that stop after an answer, unsubscribe."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from cxplatform.models import Customer
from invitations import sending, services
from invitations.models import Audience, AudienceMember, Campaign, Invitation, SendingProfile, Suppression
from surveys.models import ContactPolicy, Response
from tests import factories
from tests.respondent import click_score

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def link(org_a):
    return factories.distribution(org_a)


def make_campaign(org, link, audience, **fields):
    fields.setdefault("subject", {"en": "How did we do, {name}?", "ru": "Как мы справились?"})
    fields.setdefault("body", {"en": "Hello {name},\n\nTell {organization} how it went.", "ru": "Здравствуйте!"})
    return Campaign.objects.create(organization=org, name="Spring NPS", distribution=link, audience=audience, **fields)


def list_audience(org, customers):
    audience = Audience.objects.create(organization=org, name="List", kind=Audience.Kind.LIST)
    AudienceMember.objects.bulk_create([AudienceMember(audience=audience, customer=c) for c in customers])
    return audience


def test_a_run_queues_the_audience_and_records_each_skip_with_its_reason(org_a, link):
    ContactPolicy.objects.create(organization=org_a, min_days_between_surveys=30)
    fresh = [factories.customer(org_a) for _ in range(3)]
    no_mail = Customer.objects.create(organization=org_a, name="No mail", phone="+37120000001")
    gone = factories.customer(org_a)
    services.suppress(organization=org_a, address=gone.email.upper(), reason=Suppression.Reason.UNSUBSCRIBED,
                      source="test")
    answered = factories.customer(org_a)
    factories.response(org_a, link, customer=answered, started_at=timezone.now() - timedelta(days=3))
    russian = fresh[0]
    russian.language = "ru"
    russian.save()
    campaign = make_campaign(org_a, link, list_audience(org_a, [*fresh, no_mail, gone, answered]))
    services.schedule(campaign=campaign, send_at=None)

    counts = services.start_run(campaign_id=campaign.pk)

    assert counts.queued == 3
    assert counts.skipped == {"no_address": 1, "suppressed": 1, "policy": 1}
    rows = {inv.customer_id: inv for inv in Invitation.objects.filter(campaign=campaign)}
    assert rows[gone.pk].skip_reason == "suppressed" and rows[gone.pk].status == "skipped"
    assert rows[russian.pk].language == "ru" and rows[fresh[1].pk].language == "en"
    assert rows[fresh[1].pk].address == fresh[1].email.lower()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING and campaign.runs == 1
    assert services.start_run(campaign_id=campaign.pk) is None  # a run starts once


def test_each_invitation_is_sent_once_with_a_personal_link_and_one_click_unsubscribe(org_a, link):
    people = [factories.customer(org_a) for _ in range(4)]
    campaign = make_campaign(org_a, link, list_audience(org_a, people))
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)
    mail.outbox.clear()

    assert sending.send_due() == 4
    assert sending.send_due() == 0  # nothing twice

    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email.lower() for p in people)
    message = next(m for m in mail.outbox if m.to == [people[0].email.lower()])
    assert message.subject == f"How did we do, {people[0].name}?"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = message.extra_headers["List-Unsubscribe"].strip("<>")
    html = message.alternatives[0][0]
    assert "/score/10/" in html and unsubscribe_url in html
    assert all(inv.status == "sent" and inv.sent_at for inv in Invitation.objects.filter(campaign=campaign))

    # The mail client's one-click POST (RFC 8058): no login, no CSRF token.
    answer = Client(enforce_csrf_checks=True).post(urlsplit(unsubscribe_url).path,
                                                   {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 204
    entry = Suppression.objects.get(organization=org_a, address=people[0].email.lower())
    assert entry.reason == "unsubscribed" and entry.source == "one-click header" and entry.created_at


def unsubscribe_path(org, link) -> str:
    """The unsubscribe link's path of an invitation sent to one new customer."""
    campaign = make_campaign(org, link, list_audience(org, [factories.customer(org)]))
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)
    sending.send_due()
    return urlsplit(mail.outbox[-1].extra_headers["List-Unsubscribe"].strip("<>")).path


def test_the_page_link_asks_before_unsubscribing(org_a, link):
    path = unsubscribe_path(org_a, link)
    client = Client()
    page = client.get(path)
    assert page.status_code == 200 and not Suppression.objects.exists()  # a mail scanner's GET changes nothing
    done = client.post(path)
    assert done.status_code == 200 and "no more survey invitations" in done.content.decode()
    assert Suppression.objects.get().source == "link"
    assert client.get(path[:-5] + "xxxx/").status_code == 404


def test_the_unsubscribe_page_wears_the_organizations_brand(org_a, link):
    """The customer should recognise whose mail they are leaving, as on the survey pages."""
    from cxplatform.models import Branding

    Branding.objects.create(organization=org_a, colour="#0b7a55", font="serif")
    path = unsubscribe_path(org_a, link)
    client = Client()
    for page in (client.get(path), client.post(path)):
        body = page.content.decode()
        assert page.status_code == 200 and "--brand:#0b7a55" in body and "Georgia" in body, body[:600]


def test_the_throttle_holds_an_organization_to_its_messages_per_minute(org_a, link):
    SendingProfile.objects.create(organization=org_a, messages_per_minute=3)
    campaign = make_campaign(org_a, link, list_audience(org_a, [factories.customer(org_a) for _ in range(7)]))
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)
    mail.outbox.clear()
    assert sending.send_due() == 3
    assert Invitation.objects.filter(status="queued").count() == 4
    later = timezone.now() + timedelta(seconds=61)
    assert sending.send_due(now=later) == 3


def test_the_contact_policy_is_applied_when_sending_not_when_queued(org_a, link):
    ContactPolicy.objects.create(organization=org_a, min_days_between_surveys=30)
    person = factories.customer(org_a)
    other_link = factories.distribution(org_a)
    first = make_campaign(org_a, link, list_audience(org_a, [person]))
    second = make_campaign(org_a, other_link, list_audience(org_a, [person]))
    for campaign in (first, second):
        services.schedule(campaign=campaign, send_at=None)
        services.start_run(campaign_id=campaign.pk)
    assert Invitation.objects.filter(status="queued").count() == 2  # both passed when prepared
    mail.outbox.clear()
    assert sending.send_due() == 1
    skipped = Invitation.objects.get(status="skipped")
    assert skipped.skip_reason == "policy"
    assert len(mail.outbox) == 1


def test_reminders_go_to_those_who_have_not_answered_and_stop_after_an_answer(
        org_a, link, django_capture_on_commit_callbacks):
    quiet, answering = factories.customer(org_a), factories.customer(org_a)
    campaign = make_campaign(org_a, link, list_audience(org_a, [quiet, answering]), reminder_days=[3, 7])
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)
    sending.send_due()
    invited = Invitation.objects.get(customer=answering)
    # The invited customer answers through their personal link: the page tells the invitation.
    message = next(m for m in mail.outbox if m.to == [answering.email.lower()])
    score_url = next(line for line in message.body.splitlines() if line.startswith("9: ")).split(" ", 1)[1]
    score_path = urlsplit(score_url).path + "?" + urlsplit(score_url).query
    # A mail scanner opening the e-mail's links first starts nothing: the reminders still go.
    with django_capture_on_commit_callbacks(execute=True):
        assert Client().get(score_path).status_code == 200
    assert not Response.objects.exists()
    invited.refresh_from_db()
    assert invited.started_at is None and invited.next_reminder_at is not None
    with django_capture_on_commit_callbacks(execute=True):  # the events reach their handlers
        _page, kept = click_score(Client(), score_path)
    assert kept.status_code == 204
    response = Response.objects.get(customer=answering)
    assert response.hidden_fields["invitation"] == str(invited.pk)
    invited.refresh_from_db()
    assert invited.started_at and invited.response_id == response.pk and invited.next_reminder_at is None
    mail.outbox.clear()

    assert sending.send_due(now=timezone.now() + timedelta(days=3, minutes=1)) == 1
    assert [m.to for m in mail.outbox] == [[quiet.email.lower()]]
    assert sending.send_due(now=timezone.now() + timedelta(days=3, minutes=2)) == 0
    assert sending.send_due(now=timezone.now() + timedelta(days=7, minutes=1)) == 1
    assert sending.send_due(now=timezone.now() + timedelta(days=30)) == 0  # two reminders, no more
    reminded = Invitation.objects.get(customer=quiet)
    assert reminded.reminders_sent == 2 and reminded.next_reminder_at is None


def test_a_trigger_sends_once_per_idempotency_key_after_its_delay(org_a, link):
    from invitations.models import TriggerRule

    TriggerRule.objects.create(organization=org_a, name="CES after repair", event="repair_closed",
                               distribution=link, delay_minutes=120, subject={"en": "Was it easy?"},
                               body={"en": "Tell us"})
    now = timezone.now()
    first = services.receive_trigger(organization=org_a, event="repair_closed", idempotency_key="R-1",
                                     email="Rider@Example.com", attributes={"model": "X2"}, now=now)
    again = services.receive_trigger(organization=org_a, event="repair_closed", idempotency_key="R-1",
                                     email="rider@example.com", now=now)
    assert first.created and not again.created and again.event.pk == first.event.pk
    assert Invitation.objects.count() == 1
    mail.outbox.clear()
    assert sending.send_due(now=now + timedelta(minutes=119)) == 0
    assert sending.send_due(now=now + timedelta(minutes=121)) == 1
    assert mail.outbox[0].to == ["rider@example.com"]
    assert Customer.objects.get(email__iexact="rider@example.com").attributes["model"] == "X2"


def test_the_funnel_counts_each_step_and_the_skips_by_reason(org_a, link, django_capture_on_commit_callbacks):
    from invitations import selectors

    people = [factories.customer(org_a) for _ in range(3)]
    nobody = Customer.objects.create(organization=org_a, name="No address")
    campaign = make_campaign(org_a, link, list_audience(org_a, [*people, nobody]))
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)
    sending.send_due()
    rows = {inv.customer_id: inv for inv in Invitation.objects.filter(campaign=campaign)}
    services.mark_opened(invitation_id=rows[people[0].pk].pk)
    answer = factories.response(org_a, link, customer=people[1])
    services.mark_answered(invitation_id=rows[people[1].pk].pk, response_id=answer.pk)
    services.record_delivery_report(services.ReportedEvent(kind="bounce", address=people[2].email))

    result = selectors.funnel(Invitation.objects.filter(campaign=campaign))

    assert (result.sent, result.bounced, result.delivered) == (3, 1, 2)
    assert (result.opened, result.started, result.completed) == (2, 1, 1)
    assert result.response_rate == 50.0
    assert result.skipped == {"no_address": 1}
    assert Suppression.objects.get(address=people[2].email.lower()).reason == "bounced"


def test_a_name_with_a_line_break_never_breaks_the_subject(org_a, link):
    person = factories.customer(org_a)
    Customer.objects.filter(pk=person.pk).update(name="Anna\r\nBerzina")
    campaign = make_campaign(org_a, link, list_audience(org_a, [person]))
    services.schedule(campaign=campaign, send_at=None)
    services.start_run(campaign_id=campaign.pk)
    mail.outbox.clear()
    assert sending.send_due() == 1
    assert mail.outbox[0].subject == "How did we do, Anna Berzina?"
    mail.outbox[0].message()  # the headers serialise (a break in Subject raises BadHeaderError)


def test_the_one_click_links_of_an_e_mail_are_the_links_one_by_one(org_a, link):
    from surveys import links

    signed = links.sign(link, factories.customer(org_a), invitation=7)
    assert links.one_click_urls(link, range(0, 11), signed) == [
        (n, links.one_click_url(link, n, signed)) for n in range(0, 11)]
    assert links.one_click_urls(link, [3]) == [(3, links.one_click_url(link, 3))]
