"""Triage on the item page: tag, assign, prioritise, resolve, note — and two agents editing
the same item at once never silently lose a change."""

import pytest

from cxplatform.models import Role
from feedback import services
from feedback.models import FeedbackItem, Tag, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(org_a):
    item, _ = services.ingest(org_a, services.Voice(source="email", text="Мой самокат не включается"))
    return item


def _form(item, **changes):
    data = {"status": item.status, "priority": item.priority, "team": item.team_id or "",
            "assignee": item.assignee_id or "", "version": item.version}
    data.update(changes)
    return data


def test_an_agent_tags_assigns_and_resolves(item, org_a, make_member, client_for):
    agent = make_member(org_a, Role.AGENT)
    team = Team.objects.create(organization=org_a, name="Support")
    complaint = Tag.objects.get(organization=org_a, name="complaint")
    client = client_for(agent)
    answer = client.post(f"/inbox/items/{item.pk}/triage/", _form(
        item, status="resolved", priority=1, team=team.pk, assignee=agent.pk, tags=[complaint.pk]))
    assert answer.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.priority, item.team, item.assignee, item.version) == ("resolved", 1, team, agent, 2)
    assert list(item.tags.all()) == [complaint]
    event = item.events.get(action="triaged")
    assert event.actor == agent and event.details["tags"] == ["complaint"]


def test_the_second_of_two_concurrent_edits_is_refused_and_changes_nothing(item, org_a, make_member, client_for):
    first, second = client_for(make_member(org_a, Role.AGENT)), client_for(make_member(org_a, Role.AGENT))
    seen = _form(item)  # both opened the item at version 1
    assert first.post(f"/inbox/items/{item.pk}/triage/", {**seen, "priority": 1}).status_code == 302
    answer = second.post(f"/inbox/items/{item.pk}/triage/", {**seen, "status": "closed"})
    assert answer.status_code == 409
    assert "your changes were not saved" in answer.content.decode()
    item.refresh_from_db()
    assert item.priority == 1 and item.status == "new" and item.version == 2  # the first edit stands
    assert answer.context["triage_form"].initial["version"] == 2  # the page now shows the current version


def test_a_note_mentions_a_colleague_of_the_same_organization_only(item, org_a, org_b, make_member, client_for):
    agent = make_member(org_a, Role.AGENT, username="laura")
    colleague = make_member(org_a, Role.AGENT, username="dmitrij")
    make_member(org_b, Role.AGENT, username="stranger")
    client = client_for(agent)
    text = "Позвонил клиенту, @dmitrij проверь прошивку; @stranger <b>x</b>"
    assert client.post(f"/inbox/items/{item.pk}/notes/", {"text": text}).status_code == 302
    note = item.notes.get()
    assert list(note.mentions.all()) == [colleague] and note.author == agent
    body = client.get(f"/inbox/items/{item.pk}/").content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in body and "<b>x</b>" not in body
    assert client.post(f"/inbox/items/{item.pk}/notes/", {"text": "   "}).status_code == 400
    assert item.notes.count() == 1


def test_a_viewer_sees_the_item_but_cannot_triage(item, org_a, make_member, client_for):
    viewer = client_for(make_member(org_a, Role.VIEWER))
    page = viewer.get(f"/inbox/items/{item.pk}/")
    assert page.status_code == 200 and 'id="triage"' not in page.content.decode()
    assert viewer.post(f"/inbox/items/{item.pk}/triage/", _form(item, status="closed")).status_code == 403
    assert FeedbackItem.objects.get(pk=item.pk).status == "new"


def test_triage_cannot_use_another_organizations_team_or_item(item, org_a, org_b, make_member, client_for):
    foreign_team = Team.objects.create(organization=org_b, name="Theirs")
    client = client_for(make_member(org_a, Role.AGENT))
    answer = client.post(f"/inbox/items/{item.pk}/triage/", _form(item, team=foreign_team.pk))
    assert answer.status_code == 400
    theirs, _ = services.ingest(org_b, services.Voice(source="email", text="x"))
    assert client.post(f"/inbox/items/{theirs.pk}/triage/", _form(theirs)).status_code == 404
