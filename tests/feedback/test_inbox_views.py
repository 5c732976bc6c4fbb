"""The agent's list: built-in views with their counts, filters from the URL, saved views, bulk
actions that never overwrite a colleague's change, and the customer's 360° profile."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cxplatform.models import Customer, Role
from feedback import selectors, services
from feedback.models import FeedbackItem, SavedView, Tag, Team
from tests import factories

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script>'


def _item(org, text="Где мой заказ?", **fields):
    item, _ = services.ingest(org, services.Voice(source="email", text=text))
    services.read_item(item_id=item.pk)  # as the ITEM_RECEIVED worker does
    item.refresh_from_db()
    if fields:
        FeedbackItem.objects.filter(pk=item.pk).update(**fields)
        item.refresh_from_db()
    return item


@pytest.fixture
def agent(org_a, make_member):
    return make_member(org_a, Role.AGENT, username="agent-a")


@pytest.fixture
def colleague(org_a, make_member):
    return make_member(org_a, Role.AGENT, username="agent-b")


def _ids(page):
    return {row.pk for row in page.context["rows"]}


def test_built_in_views_and_their_counts(org_a, org_b, agent, colleague, client_for):
    soon = timezone.now() + timedelta(minutes=30)
    mine = _item(org_a, assignee=agent)
    theirs = _item(org_a, assignee=colleague)
    unassigned = _item(org_a)
    urgent = _item(org_a, priority=FeedbackItem.Priority.URGENT, assignee=colleague)
    breaching = _item(org_a, resolution_due=soon, assignee=colleague)
    flagged = _item(org_a, sla_state="breached", assignee=colleague)
    done = _item(org_a, status="resolved", assignee=agent, priority=FeedbackItem.Priority.URGENT)
    _item(org_b)  # another organization's
    client = client_for(agent)
    expected = {
        "open": {mine.pk, theirs.pk, unassigned.pk, urgent.pk, breaching.pk, flagged.pk},
        "mine": {mine.pk}, "unassigned": {unassigned.pk}, "urgent": {urgent.pk}, "cases": set(),
        "breaching": {breaching.pk, flagged.pk},
        "all": {mine.pk, theirs.pk, unassigned.pk, urgent.pk, breaching.pk, flagged.pk, done.pk},
    }
    for view, ids in expected.items():
        assert _ids(client.get("/inbox/", {"view": view})) == ids, view
    assert _ids(client.get("/inbox/")) == expected["open"]  # the default
    counts = selectors.view_counts(org_a, agent)
    assert counts == {name: len(ids) for name, ids in expected.items() if name != "all"}
    fragment = client.get("/inbox/counts/").content.decode()
    assert '<span class="count" id="count-mine" hx-swap-oob="true">1</span>' in fragment
    assert '<span class="count" id="count-open" hx-swap-oob="true">6</span>' in fragment


def test_filters_come_from_the_url_and_a_bad_value_is_ignored(org_a, org_b, agent, client_for):
    team = Team.objects.create(organization=org_a, name="Delivery")
    tp = factories.touchpoint(org_a)
    negative = _item(org_a, "Курьер опоздал и нагрубил", team=team, touchpoint=tp)
    tag = Tag.objects.get(organization=org_a, name="complaint")
    negative.tags.add(tag)
    other = _item(org_a, "Отличный самокат, спасибо", assignee=agent)
    client = client_for(agent)
    assert negative.sentiment == -1 and other.sentiment == 1
    cases = [({"sentiment": -1}, {negative.pk}), ({"team": team.pk}, {negative.pk}),
             ({"touchpoint": tp.pk}, {negative.pk}), ({"tag": "complaint"}, {negative.pk}),
             ({"assignee": "me"}, {other.pk}), ({"assignee": "none"}, {negative.pk}),
             ({"assignee": agent.pk}, {other.pk}), ({"status": "new"}, {negative.pk, other.pk}),
             ({"sentiment": "garbage", "team": 999999}, {negative.pk, other.pk})]
    for params, ids in cases:
        assert _ids(client.get("/inbox/", params)) == ids, params
    foreign_team = Team.objects.create(organization=org_b, name="Theirs")
    assert _ids(client.get("/inbox/", {"team": foreign_team.pk})) == {negative.pk, other.pk}  # ignored, not leaked


def test_bulk_tag_assign_resolve(org_a, agent, colleague, client_for):
    a, b = _item(org_a, "one"), _item(org_a, "two")
    untouched = _item(org_a, "three")
    praise = Tag.objects.get(organization=org_a, name="praise")
    client = client_for(agent)
    items = [f"{a.pk}:{a.version}", f"{b.pk}:{b.version}"]
    assert client.post("/inbox/bulk/", {"action": "tag", "tag": praise.pk, "items": items}).status_code == 302
    a.refresh_from_db()
    b.refresh_from_db()
    assert list(a.tags.all()) == [praise] == list(b.tags.all())
    items = [f"{a.pk}:{a.version}", f"{b.pk}:{b.version}"]
    client.post("/inbox/bulk/", {"action": "assign", "assignee": colleague.pk, "items": items})
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.assignee == colleague == b.assignee
    client.post("/inbox/bulk/", {"action": "resolve", "items": [f"{a.pk}:{a.version}", f"{b.pk}:{b.version}"]})
    assert set(FeedbackItem.objects.filter(status="resolved").values_list("pk", flat=True)) == {a.pk, b.pk}
    assert FeedbackItem.objects.get(pk=untouched.pk).status == "new"
    assert a.events.filter(action="triaged", actor=agent).count() == 3


def test_bulk_leaves_an_item_a_colleague_changed_and_says_so(org_a, agent, colleague, client_for):
    fresh, changed = _item(org_a, "fresh"), _item(org_a, "changed")
    seen = {fresh.pk: fresh.version, changed.pk: changed.version}
    services.triage(changed, colleague, changed.version, priority=FeedbackItem.Priority.URGENT, assignee=colleague)
    client = client_for(agent)
    answer = client.post("/inbox/bulk/", {"action": "assign", "assignee": "me",
                                          "items": [f"{pk}:{v}" for pk, v in seen.items()]}, follow=True)
    changed.refresh_from_db()
    assert FeedbackItem.objects.get(pk=fresh.pk).assignee == agent
    assert changed.assignee == colleague and changed.priority == FeedbackItem.Priority.URGENT
    body = answer.content.decode()
    assert "1 item updated." in body and "changed by someone else" in body


def test_bulk_refuses_bad_input_and_other_organizations_items(org_a, org_b, agent, client_for):
    mine, theirs = _item(org_a), _item(org_b)
    client = client_for(agent)
    for data in ({"action": "tag", "items": [f"{mine.pk}:{mine.version}"]},  # no tag chosen
                 {"action": "assign", "items": [f"{mine.pk}:{mine.version}"]},  # nobody chosen
                 {"action": "resolve"},  # no items
                 {"action": "resolve", "items": ["drop table"]}):
        answer = client.post("/inbox/bulk/", data, follow=True)
        assert answer.status_code == 200 and 'class="error"' in answer.content.decode(), data
    client.post("/inbox/bulk/", {"action": "resolve", "items": [f"{theirs.pk}:{theirs.version}"]})
    assert FeedbackItem.objects.get(pk=theirs.pk).status == "new"
    assert FeedbackItem.objects.get(pk=mine.pk).status == "new"


def test_a_viewer_sees_no_bulk_controls_and_cannot_bulk(org_a, make_member, client_for):
    item = _item(org_a)
    viewer = client_for(make_member(org_a, Role.VIEWER))
    assert 'id="bulk-bar"' not in viewer.get("/inbox/").content.decode()
    assert viewer.post("/inbox/bulk/", {"action": "resolve", "items": [f"{item.pk}:1"]}).status_code == 403


def test_saved_views_private_shared_and_removed(org_a, agent, colleague, client_for):
    _item(org_a, priority=FeedbackItem.Priority.URGENT)
    client, other = client_for(agent), client_for(colleague)
    answer = client.post("/inbox/views/", {"name": "Urgent complaints", "query": "view=urgent&after=x&tag=complaint"})
    view = SavedView.objects.get(owner=agent)
    assert view.query == "tag=complaint&view=urgent"  # filters only, in a stable order
    assert answer["Location"] == f"/inbox/?tag=complaint&view=urgent&saved={view.pk}"
    assert "Urgent complaints" in client.get("/inbox/").content.decode()
    assert "Urgent complaints" not in other.get("/inbox/").content.decode()
    assert other.get(f"/inbox/views/{view.pk}/").status_code == 404
    client.post("/inbox/views/", {"name": "Urgent complaints", "query": "view=urgent", "shared": "on"})
    assert SavedView.objects.filter(owner=agent).count() == 1  # the same name replaces its filters
    assert other.get(f"/inbox/views/{view.pk}/")["Location"] == f"/inbox/?view=urgent&saved={view.pk}"
    assert other.post(f"/inbox/views/{view.pk}/delete/").status_code == 404  # not theirs to remove
    assert client.post("/inbox/views/", {"name": "  ", "query": "view=mine"}).status_code == 302
    assert SavedView.objects.count() == 1
    client.post(f"/inbox/views/{view.pk}/delete/")
    assert not SavedView.objects.exists()


def test_the_customer_profile_on_the_item_page(org_a, agent, client_for):
    org_a.segment_attribute = "plan"
    org_a.save()
    customer = Customer.objects.create(organization=org_a, name=f"Ann {XSS}", email="ann@example.com",
                                       attributes={"plan": "subscription"})
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    factories.response(org_a, link, score=3, customer=customer, comment=f"Awful {XSS}")
    factories.response(org_a, link, score=9, customer=customer)
    item, _ = services.ingest(org_a, services.Voice(source="email", text="Refund please", customer=customer))
    earlier, _ = services.ingest(org_a, services.Voice(source="chat", text="Where is my scooter?", customer=customer))
    page = client_for(agent).get(f"/inbox/items/{item.pk}/")
    profile = page.context["profile"]
    assert profile["segment"] == "subscription"
    assert sorted(r.score for r in profile["responses"]) == [3, 9]
    assert [i.pk for i in profile["items"]] == [earlier.pk] and profile["item_count"] == 1
    assert '"y": [' in profile["chart"]
    body = page.content.decode()
    assert "<script>alert" not in body and "Ann &lt;script&gt;" in body and "Awful &lt;script&gt;" in body
    fragment = client_for(agent).get(f"/inbox/customers/{customer.pk}/profile/")
    assert fragment.status_code == 200 and "Where is my scooter?" in fragment.content.decode()


def test_an_agent_writes_down_a_call(org_a, org_b, agent, client_for):
    tp = factories.touchpoint(org_a)
    client = client_for(agent)
    assert client.get("/inbox/items/new/").status_code == 200
    answer = client.post("/inbox/items/new/", {"source": "call", "text": "Звонила клиентка: самокат не заряжается",
                                               "rating": 3, "touchpoint": tp.pk, "customer_phone": "+37120000001"})
    item = FeedbackItem.objects.get(organization=org_a)
    assert answer["Location"] == f"/inbox/items/{item.pk}/"
    assert (item.source, item.rating, item.touchpoint, item.channel) == ("call", 3, tp, tp.channel)
    assert item.customer.phone == "+37120000001" and item.sentiment is None  # the worker reads it
    services.read_item(item_id=item.pk)
    item.refresh_from_db()
    assert item.sentiment == -1
    assert item.events.get(action="received").actor == agent
    for bad in ({"source": "call", "text": "   "}, {"source": "survey", "text": "x"}, {"source": "call", "text": "x",
                "touchpoint": factories.touchpoint(org_b).pk}, {"source": "call", "text": "x", "rating": 11}):
        assert client.post("/inbox/items/new/", bad).status_code == 400, bad
    assert FeedbackItem.objects.count() == 1


def test_a_rows_due_time_is_the_one_its_sla_state_is_about(org_a, agent, client_for):
    """A case whose first reply is late reads "breached · first response due <then>", not "breached"
    beside its resolution's due time days away; once answered, the resolution's."""
    now = timezone.now()
    late = _item(org_a, sla_state="breached", first_response_due=now - timedelta(hours=3),
                 resolution_due=now + timedelta(days=4))
    answered = _item(org_a, first_responded_at=now - timedelta(hours=1), first_response_due=now - timedelta(hours=3),
                     resolution_due=now + timedelta(days=4))
    page = client_for(agent).get("/inbox/").content.decode()

    def sla_cell(item):
        return page.split(f'data-item="{item.pk}"')[1].split('<td class="sla">')[1].split("</td>")[0]

    assert "breached" in sla_cell(late) and "first response due" in sla_cell(late)
    assert "first response due" not in sla_cell(answered) and "due" in sla_cell(answered)
