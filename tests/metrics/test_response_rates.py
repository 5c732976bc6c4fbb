"""The dashboard's "Response rate by survey link": per link with invitations sent in the period,
sent, completed and completed per delivered; only the reader's organization; loaded by the
dashboard as an htmx fragment."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from cxplatform.models import Role
from invitations.models import Invitation
from metrics import invitation_rates
from metrics.selectors import Scope
from tests import factories

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


def named_link(org, name):
    link = factories.distribution(org)
    link.name = name
    link.save(update_fields=["name"])
    return link


def sent(org, link, *, at=DAY, campaign=None, **marks):
    campaign = campaign or factories.campaign(org, distribution=link)
    return factories.invitation(org, campaign=campaign, distribution=link, status=Invitation.Status.SENT,
                                sent_at=at, last_sent_at=at, **marks)


@pytest.fixture
def links(org_a):
    """Two links of org_a: 10 sent to the first (1 bounced, 4 opened, 3 started, 2 completed),
    4 to the second (1 completed); plus what must not count."""
    delivery = named_link(org_a, "Delivery e-mail")
    repair = named_link(org_a, "Repair e-mail")
    campaign = factories.campaign(org_a, distribution=delivery)
    for n in range(10):
        marks = {}
        if n == 0:
            marks["bounced_at"] = DAY
        if n in (1, 2, 3, 4):
            marks["opened_at"] = DAY + timedelta(hours=1)
        if n in (1, 2, 3):
            marks["started_at"] = DAY + timedelta(hours=1)
        if n in (1, 2):
            marks["completed_at"] = DAY + timedelta(hours=1, minutes=1)
        sent(org_a, delivery, campaign=campaign, **marks)
    rule = factories.trigger_rule(org_a, distribution=repair)
    for n in range(4):
        person = factories.customer(org_a)
        Invitation.objects.create(organization=org_a, trigger_rule=rule, distribution=repair, customer=person,
                                  address=person.email, status=Invitation.Status.SENT, send_after=DAY,
                                  created_at=DAY, sent_at=DAY + timedelta(days=n),
                                  completed_at=DAY + timedelta(days=n, hours=1) if n == 0 else None)
    # Not in the figures: skipped and queued (never sent), sent before or after the period.
    factories.invitation(org_a, campaign=campaign, distribution=delivery, status=Invitation.Status.SKIPPED,
                         skip_reason="policy")
    factories.invitation(org_a, campaign=campaign, distribution=delivery, status=Invitation.Status.QUEUED)
    sent(org_a, delivery, campaign=campaign, at=datetime(2026, 2, 28, 23, 59, tzinfo=UTC),
         completed_at=DAY)
    sent(org_a, delivery, campaign=campaign, at=datetime(2026, 4, 1, 0, 0, tzinfo=UTC), completed_at=DAY)
    return delivery, repair


def test_each_link_has_sent_completed_and_the_rate_of_those_delivered(org_a, links):
    delivery, repair = links
    scope = Scope(org_a, DAY.date().replace(day=1), DAY.date().replace(month=4, day=1))

    rates = invitation_rates.response_rates(scope)

    assert [(r.distribution_id, r.sent, r.completed, r.rate) for r in rates] == [
        (delivery.pk, 10, 2, 22.2),  # 2 of the 9 delivered (one bounced)
        (repair.pk, 4, 1, 25.0),
    ]
    assert all(r.small_sample for r in rates)
    assert rates[0].link == "Delivery e-mail" and rates[0].survey == delivery.survey.name


def test_another_organizations_invitations_never_count(org_a, org_b, links):
    delivery, _repair = links
    theirs = named_link(org_b, "Their e-mail")
    for _n in range(3):
        sent(org_b, theirs, completed_at=DAY)
    scope = Scope(org_a, DAY.date().replace(day=1), DAY.date().replace(month=4, day=1))

    rates = invitation_rates.response_rates(scope)

    assert theirs.pk not in {r.distribution_id for r in rates}
    assert sum(r.sent for r in rates) == 14


def test_the_scope_filters_apply(org_a, links):
    delivery, repair = links
    start, end = DAY.date().replace(day=1), DAY.date().replace(month=4, day=1)
    only_repair = Scope(org_a, start, end, touchpoints=(repair.touchpoint_id,))
    assert [r.distribution_id for r in invitation_rates.response_rates(only_repair)] == [repair.pk]
    one_day = Scope(org_a, DAY.date(), DAY.date() + timedelta(days=1))
    assert [(r.distribution_id, r.sent) for r in invitation_rates.response_rates(one_day)] == [
        (delivery.pk, 10), (repair.pk, 1)]
    assert invitation_rates.response_rates(Scope(org_a, start, end, languages=("ru",))) == []


def test_the_dashboard_loads_the_fragment_and_it_shows_the_links(org_a, links, make_member, client_for):
    delivery, repair = links
    client = client_for(make_member(org_a, Role.VIEWER))

    page = client.get("/", PERIOD).content.decode()
    section = page.split('id="response-rates"')[1].split("</section>")[0]
    assert 'hx-get="/metrics/response-rates/?' in section and 'hx-trigger="load"' in section

    response = client.get("/metrics/response-rates/", PERIOD, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    row = html.split(f'id="response-rate-{delivery.pk}"')[1].split("</tr>")[0]
    # Sent, delivered (the rate's base: sent less bounced), answered, and the rate.
    assert "Delivery e-mail" in row and "<td>10</td><td>9</td><td>2</td>" in row and "22.2%" in row
    assert f'id="response-rate-{repair.pk}"' in html and "25.0%" in html


def test_the_fragment_is_the_readers_organization_only(org_a, org_b, links, make_member, client_for):
    theirs = named_link(org_b, "Their e-mail")
    sent(org_b, theirs, completed_at=DAY)
    client = client_for(make_member(org_b, Role.VIEWER))

    html = client.get("/metrics/response-rates/", PERIOD).content.decode()

    assert "Their e-mail" in html
    assert "Delivery e-mail" not in html and "Repair e-mail" not in html
    # A survey of another organization in the filter is refused like one that does not exist.
    foreign = client.get("/metrics/response-rates/", {**PERIOD, "survey": links[0].survey_id})
    missing = client.get("/metrics/response-rates/", {**PERIOD, "survey": links[0].survey_id + 10_000})
    assert foreign.status_code == missing.status_code == 400
    assert "Delivery e-mail" not in foreign.content.decode()


def test_no_invitations_says_so_and_a_stranger_is_sent_to_log_in(org_a, make_member, client_for, client):
    viewer = client_for(make_member(org_a, Role.VIEWER))
    html = viewer.get("/metrics/response-rates/").content.decode()
    assert "No invitations were sent in this period." in html
    assert client.get("/metrics/response-rates/").status_code == 302


def test_two_queries_for_the_figures_whatever_the_number_of_links(org_a, links, django_assert_num_queries):
    for n in range(5):
        sent(org_a, named_link(org_a, f"Extra {n}"), at=timezone.now())
    scope = Scope(org_a, DAY.date().replace(day=1), timezone.now().date() + timedelta(days=1))
    with django_assert_num_queries(2):  # the counts per link, then the links' names
        rates = invitation_rates.response_rates(scope)
    assert len(rates) == 7
