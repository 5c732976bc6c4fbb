"""How the frontline answers, from the inbox: first response time, resolution time, FCR and SLA
compliance against a worked example, in the summary API, `cx_metrics` and the dashboard alike."""

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from cxplatform.models import Customer, Role
from feedback.models import FeedbackItem, Message
from metrics import formatting, operations
from metrics.selectors import Scope
from tests import factories

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _item(org, received, *, responded=None, resolved=None, replies=0, due=(8, 40), touchpoint=None, customer=None):
    item = FeedbackItem.objects.create(
        organization=org, source="email", text="…", received_at=received, touchpoint=touchpoint, customer=customer,
        first_responded_at=responded, resolved_at=resolved, status="resolved" if resolved else "open",
        first_response_due=received + due[0] * H if due else None,
        resolution_due=received + due[1] * H if due else None)
    for _ in range(replies):
        Message.objects.create(organization=org, item=item, direction="out", text="…", status="sent")
    Message.objects.create(organization=org, item=item, direction="in", text="the customer", status="received")
    return item


@pytest.fixture
def worked(org_a, org_b):
    """Five items of November 10 … 19, one of October, one of another organization."""
    tp = factories.touchpoint(org_a)
    _item(org_a, DAY, responded=DAY + 1 * H, resolved=DAY + 5 * H, replies=1, touchpoint=tp)  # in time, one reply
    _item(org_a, DAY, responded=DAY + 3 * H, resolved=DAY + 50 * H, replies=2)  # resolved late, two replies
    _item(org_a, DAY + 24 * H, responded=DAY + 26 * H, resolved=DAY + 30 * H, replies=0)  # praise: no reply
    _item(org_a, DAY + 48 * H, responded=DAY + 60 * H, resolved=None, replies=1)  # answered late, past due: breach
    _item(org_a, DAY + 9 * 24 * H, resolved=None, due=(8, 40))  # not yet due at NOW: outcome unknown
    _item(org_a, DAY - 30 * 24 * H, responded=DAY - 30 * 24 * H + H, resolved=DAY - 30 * 24 * H + 2 * H, replies=1)
    _item(org_b, DAY, responded=DAY + H, resolved=DAY + 2 * H, replies=1)
    return {"touchpoint": tp}


def test_worked_example(org_a, worked):
    figures = operations.inbox_figures(Scope(org_a, date(2026, 11, 1), date(2026, 12, 1)), now=NOW)
    frt, resolution = figures["first_response_time"], figures["resolution_time"]
    assert (frt.value, frt.n) == (2.5, 4)  # median of 1, 2, 3 and 12 hours
    assert (resolution.value, resolution.n) == (6.0, 3)  # median of 5, 50 and 6 hours
    fcr = figures["fcr"]
    assert (fcr.value, fcr.counts) == (50.0, {"hits": 1, "total": 2})  # the praise had no reply: not a contact
    sla = figures["sla_compliance"]
    assert sla.counts == {"hits": 2, "total": 4}  # the late resolution and the breach miss it
    assert sla.value == 50.0 and sla.margin_of_error is not None and sla.small_sample


def test_the_scope_narrows_the_items(org_a, worked):
    tp = worked["touchpoint"]
    figures = operations.inbox_figures(Scope(org_a, date(2026, 11, 1), date(2026, 12, 1), touchpoints=(tp.pk,)),
                                       now=NOW)
    assert figures["first_response_time"].value == 1.0 and figures["fcr"].counts == {"hits": 1, "total": 1}
    october = operations.inbox_figures(Scope(org_a, date(2026, 10, 1), date(2026, 11, 1)), now=NOW)
    assert october["resolution_time"].value == 2.0 and october["resolution_time"].n == 1


def test_a_segment_is_the_customers(org_a):
    org_a.segment_attribute = "plan"
    org_a.save()
    fleet = Customer.objects.create(organization=org_a, name="Fleet", attributes={"plan": "fleet"})
    _item(org_a, DAY, responded=DAY + 4 * H, resolved=DAY + 5 * H, replies=1, customer=fleet)
    _item(org_a, DAY, responded=DAY + H, resolved=DAY + 2 * H, replies=1)
    figures = operations.inbox_figures(Scope(org_a, date(2026, 11, 1), date(2026, 12, 1), segments=("fleet",)),
                                       now=NOW)
    assert figures["first_response_time"].value == 4.0 and figures["first_response_time"].n == 1


def test_no_items_is_no_figure_not_zero(org_a):
    figures = operations.inbox_figures(Scope(org_a, date(2026, 11, 1), date(2026, 12, 1)), now=NOW)
    assert all(figures[name].value is None and figures[name].n == 0 for name in operations.NAMES)


def test_the_api_the_command_and_the_dashboard_agree(org_a, worked, make_member, client_for, time_machine):
    time_machine.move_to(NOW)
    client = client_for(make_member(org_a, Role.VIEWER))
    params = {"from": "2026-11-01", "to": "2026-11-30"}
    api = client.get("/api/v1/metrics/summary/", params).json()["metrics"]
    out = io.StringIO()
    call_command("cx_metrics", "--org", org_a.slug, "--from", "2026-11-01", "--to", "2026-11-30", "--json", stdout=out)
    command = json.loads(out.getvalue())["metrics"]
    page = client.get("/", params).content.decode()
    for name in operations.NAMES:
        assert api[name] == command[name], name
        card = page.split(f'id="kpi-{name}"')[1].split("</article>")[0]
        assert f'<div class="value">{formatting.figure(name, api[name]["value"])}<' in card, name
        assert f"n={api[name]['n']}" in card
    assert api["first_response_time"]["value"] == 2.5 and api["fcr"]["value"] == 50.0
    assert api["first_response_time"]["previous"]["n"] == 1  # October's one item, for the change


def test_loop_figures_worked_example(org_a, client_for, make_member, time_machine):
    """Four call-back cases: reached in time and closed in time, recovered; reached late and closed
    late, not recovered; reached in time, still open but not yet due; never reached, past due."""
    def case(received, contacted=None, resolved=None, recovered=None):
        return FeedbackItem.objects.create(
            organization=org_a, source="survey", kind="case", text="…", received_at=received,
            first_responded_at=contacted, resolved_at=resolved, status="resolved" if resolved else "open",
            first_response_due=received + 48 * H, resolution_due=received + 120 * H, recovered=recovered,
            follow_up_score=None if recovered is None else 9)

    case(DAY, contacted=DAY + 5 * H, resolved=DAY + 30 * H, recovered=True)
    case(DAY, contacted=DAY + 60 * H, resolved=DAY + 130 * H, recovered=False)
    case(NOW - 10 * H, contacted=NOW - 5 * H)
    case(DAY + 24 * H)
    _item(org_a, DAY, responded=DAY + H, resolved=DAY + 2 * H, replies=1)  # an ordinary item: not a case
    figures = operations.loop_figures(Scope(org_a, date(2026, 11, 1), date(2026, 12, 1)), now=NOW)
    assert figures["contacted_in_time"].counts == {"hits": 2, "total": 4}
    assert figures["loop_closed_rate"].counts == {"hits": 1, "total": 3}
    assert (figures["loop_close_time"].value, figures["loop_close_time"].n) == (80.0, 2)  # median of 30 and 130
    assert figures["recovery_rate"].counts == {"hits": 1, "total": 2}
    time_machine.move_to(NOW)
    page = client_for(make_member(org_a, Role.VIEWER)).get("/", {"from": "2026-11-01", "to": "2026-11-30"})
    card = page.content.decode().split('id="kpi-contacted_in_time"')[1].split("</article>")[0]
    assert '<div class="value">50%<' in card and "n=4" in card
