"""The inbox API beyond creating items: triage names the version it was made on (a stale one is a
409 that changes nothing), notes, replies that e-mail the customer once after the commit, and the
organization's configuration (teams, routing rules, SLA policies, canned replies) — written by
administrators only, validated field by field, and never reaching another organization's rows."""

import pytest
from django.core import mail

from cxplatform.models import Customer, Role
from feedback import services
from feedback.models import (
    CannedReply,
    FeedbackItem,
    ItemEvent,
    Message,
    Note,
    RoutingRule,
    SlaPolicy,
    Tag,
    Team,
)
from tests import factories
from tests.apierrors import error_fields

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/feedback/items/"


@pytest.fixture
def agent(org_a, make_member):
    return make_member(org_a, Role.AGENT)


@pytest.fixture
def api(agent, client_for):
    """The agent's client, sending JSON."""
    client = client_for(agent)

    def call(method, url, data=None):
        return getattr(client, method)(url, data, content_type="application/json")

    return call


@pytest.fixture
def admin_api(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.ADMIN))

    def call(method, url, data=None):
        return getattr(client, method)(url, data, content_type="application/json")

    return call


@pytest.fixture
def item(org_a):
    customer = Customer.objects.create(organization=org_a, name="Ann", email="ann@example.com")
    found, _ = services.ingest(org_a, services.Voice(source="email", text="Where is my order?", customer=customer))
    return found


def _snapshot(item):
    fresh = FeedbackItem.objects.get(pk=item.pk)
    return (fresh.status, fresh.priority, fresh.assignee_id, fresh.team_id, fresh.version,
            sorted(fresh.tags.values_list("name", flat=True)))


# --- Triage -----------------------------------------------------------------------------------

def test_a_patch_with_the_version_read_triages_and_bumps_the_version(api, agent, item):
    read = api("get", f"{ITEMS}{item.pk}/").json()
    answer = api("patch", f"{ITEMS}{item.pk}/", {"version": read["version"], "status": "open", "priority": 1,
                                                 "assignee": agent.pk, "tags": ["complaint"]})
    assert answer.status_code == 200, answer.content
    assert answer.json()["version"] == read["version"] + 1 and answer.json()["tags"] == ["complaint"]
    assert _snapshot(item) == ("open", 1, agent.pk, None, read["version"] + 1, ["complaint"])
    event = ItemEvent.objects.get(item=item, action="triaged")
    assert event.actor == agent and event.details["status"] == "open"
    assert FeedbackItem.objects.get(pk=item.pk).first_responded_at is not None


def test_a_patch_clears_the_assignee_and_tags(api, agent, item):
    api("patch", f"{ITEMS}{item.pk}/", {"version": 1, "assignee": agent.pk, "tags": ["praise"]})
    answer = api("patch", f"{ITEMS}{item.pk}/", {"version": 2, "assignee": None, "tags": []})
    assert answer.status_code == 200
    assert _snapshot(item)[2:] == (None, None, 3, [])


def test_a_stale_version_is_409_and_changes_nothing(api, agent, item):
    assert api("patch", f"{ITEMS}{item.pk}/", {"version": 1, "priority": 2}).status_code == 200
    before = _snapshot(item)
    answer = api("patch", f"{ITEMS}{item.pk}/", {"version": 1, "status": "resolved", "assignee": agent.pk,
                                                 "tags": ["praise"]})
    assert answer.status_code == 409 and "nothing was saved" in answer.json()["error"]["message"]
    assert _snapshot(item) == before
    assert ItemEvent.objects.filter(item=item, action="triaged").count() == 1
    assert FeedbackItem.objects.get(pk=item.pk).resolved_at is None


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "open"}, "version"),
    ({"version": 0, "status": "open"}, "version"),
    ({"version": 1, "status": "bogus"}, "status"),
    ({"version": 1, "priority": 9}, "priority"),
    ({"version": 1, "tags": ["no such tag"]}, "tags"),
    ({"version": 1, "assignee": 999_999}, "assignee"),
])
def test_bad_triage_is_400_naming_the_field(api, item, body, field):
    before = _snapshot(item)
    answer = api("patch", f"{ITEMS}{item.pk}/", body)
    assert answer.status_code == 400 and field in error_fields(answer)
    assert _snapshot(item) == before


def test_an_assignee_who_is_not_an_agent_of_the_organization_is_400(api, item, org_a, org_b, make_member):
    outsider = make_member(org_b, Role.AGENT)
    viewer = make_member(org_a, Role.VIEWER)
    for user in (outsider, viewer):
        answer = api("patch", f"{ITEMS}{item.pk}/", {"version": 1, "assignee": user.pk})
        assert answer.status_code == 400 and "assignee" in error_fields(answer), user
    assert _snapshot(item)[2] is None and _snapshot(item)[4] == 1


def test_a_team_or_tag_of_another_organization_is_400(api, item, org_b):
    services.ensure_default_tags(org_b)
    Tag.objects.create(organization=org_b, name="their tag")
    assert api("patch", f"{ITEMS}{item.pk}/", {"version": 1, "team": factories.team(org_b).pk}).status_code == 400
    assert api("patch", f"{ITEMS}{item.pk}/", {"version": 1, "tags": ["their tag"]}).status_code == 400
    assert _snapshot(item)[3:] == (None, 1, [])


def test_a_viewer_cannot_triage_and_another_organizations_item_is_404(org_a, org_b, make_member, client_for, item):
    viewer = client_for(make_member(org_a, Role.VIEWER))
    assert viewer.patch(f"{ITEMS}{item.pk}/", {"version": 1, "status": "open"},
                        content_type="application/json").status_code == 403
    outsider = client_for(make_member(org_b, Role.ADMIN))
    assert outsider.patch(f"{ITEMS}{item.pk}/", {"version": 1, "status": "open"},
                          content_type="application/json").status_code == 404
    assert outsider.get(f"{ITEMS}{item.pk}/notes/").status_code == 404
    assert _snapshot(item)[0] == "new" and _snapshot(item)[4] == 1


# --- Notes ------------------------------------------------------------------------------------

def test_a_note_is_added_with_its_mentions_and_listed(api, agent, item, org_a, org_b, make_member):
    colleague = make_member(org_a, Role.AGENT, username="maria")
    make_member(org_b, Role.AGENT, username="stranger")
    answer = api("post", f"{ITEMS}{item.pk}/notes/", {"text": "  Called her, @maria and @stranger please check  "})
    assert answer.status_code == 201
    assert answer.json()["author"] == agent.username
    note = Note.objects.get(item=item)
    assert note.text == "Called her, @maria and @stranger please check" and note.author == agent
    assert list(note.mentions.all()) == [colleague]  # only members of the item's organization
    assert ItemEvent.objects.filter(item=item, action="noted").exists()
    listed = api("get", f"{ITEMS}{item.pk}/notes/").json()
    assert [n["id"] for n in listed] == [note.pk]


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   \n "}, {}])
def test_an_empty_note_is_400(api, item, body):
    answer = api("post", f"{ITEMS}{item.pk}/notes/", body)
    assert answer.status_code == 400 and "text" in error_fields(answer)
    assert not Note.objects.exists()


def test_a_viewer_reads_notes_but_cannot_add_one(org_a, make_member, client_for, item, agent):
    services.add_note(item, agent, "internal")
    viewer = client_for(make_member(org_a, Role.VIEWER))
    assert len(viewer.get(f"{ITEMS}{item.pk}/notes/").json()) == 1
    assert viewer.post(f"{ITEMS}{item.pk}/notes/", {"text": "x"},
                       content_type="application/json").status_code == 403
    assert Note.objects.count() == 1


# --- Replies ----------------------------------------------------------------------------------

def test_a_reply_is_emailed_once_to_the_customer_after_the_commit(api, agent, item,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = api("post", f"{ITEMS}{item.pk}/messages/", {"text": "We are on it, Ann."})
    assert answer.status_code == 201, answer.content
    assert answer.json()["to_address"] == "ann@example.com"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ann@example.com"] and mail.outbox[0].body == "We are on it, Ann."
    message = Message.objects.get(item=item)
    assert message.direction == "out" and message.status == "sent" and message.author == agent
    assert message.sent_at is not None and message.attempts == 1
    fresh = FeedbackItem.objects.get(pk=item.pk)
    assert fresh.status == "open" and fresh.first_responded_at is not None  # a first reply takes it on
    listed = api("get", f"{ITEMS}{item.pk}/messages/").json()
    assert [(m["id"], m["status"]) for m in listed] == [(message.pk, "sent")]


def test_nothing_is_emailed_when_the_transaction_does_not_commit(api, item, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api("post", f"{ITEMS}{item.pk}/messages/", {"text": "Hello"})
    assert callbacks and mail.outbox == []
    assert Message.objects.get(item=item).status == "queued"


def test_a_reply_can_move_the_item_to_waiting_as_seen_at_its_version(api, item, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = api("post", f"{ITEMS}{item.pk}/messages/", {"text": "Which order?", "then_status": "waiting",
                                                             "version": 1})
    assert answer.status_code == 201
    fresh = FeedbackItem.objects.get(pk=item.pk)
    assert fresh.status == "waiting" and fresh.version == 2
    assert len(mail.outbox) == 1
    assert ItemEvent.objects.get(item=item, action="replied").details["status"] == "waiting"


@pytest.mark.parametrize("email", ["", None])
def test_a_customer_without_an_email_address_gets_no_reply(api, item, email, django_capture_on_commit_callbacks):
    if email is None:
        FeedbackItem.objects.filter(pk=item.pk).update(customer=None)
    else:
        Customer.objects.filter(pk=item.customer_id).update(email="")
    with django_capture_on_commit_callbacks(execute=True):
        answer = api("post", f"{ITEMS}{item.pk}/messages/", {"text": "Hello"})
    assert answer.status_code == 400
    assert "no e-mail address" in error_fields(answer)["text"][0]
    assert not Message.objects.exists() and mail.outbox == []
    assert _snapshot(item)[0] == "new" and FeedbackItem.objects.get(pk=item.pk).first_responded_at is None


def test_a_status_change_on_a_stale_version_is_409_and_sends_nothing(api, item, django_capture_on_commit_callbacks):
    api("patch", f"{ITEMS}{item.pk}/", {"version": 1, "priority": 2})  # a colleague's change
    with django_capture_on_commit_callbacks(execute=True):
        answer = api("post", f"{ITEMS}{item.pk}/messages/", {"text": "Solved!", "then_status": "resolved",
                                                             "version": 1})
    assert answer.status_code == 409
    assert not Message.objects.exists() and mail.outbox == []
    fresh = FeedbackItem.objects.get(pk=item.pk)
    assert fresh.status == "new" and fresh.version == 2 and fresh.resolved_at is None


@pytest.mark.parametrize(("body", "field"), [
    ({"text": ""}, "text"),
    ({"text": "Done", "then_status": "resolved"}, "version"),
    ({"text": "Done", "then_status": "closed", "version": 1}, "then_status"),
])
def test_a_bad_reply_is_400_and_changes_nothing(api, item, body, field, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = api("post", f"{ITEMS}{item.pk}/messages/", body)
    assert answer.status_code == 400 and field in error_fields(answer)
    assert not Message.objects.exists() and mail.outbox == []
    assert _snapshot(item)[0] == "new"


def test_a_viewer_cannot_reply(org_a, make_member, client_for, item):
    viewer = client_for(make_member(org_a, Role.VIEWER))
    answer = viewer.post(f"{ITEMS}{item.pk}/messages/", {"text": "Hi"}, content_type="application/json")
    assert answer.status_code == 403 and not Message.objects.exists()


# --- Configuration: teams, routing rules, SLA policies, canned replies ------------------------

CONFIG = {
    "teams": (Team, factories.team, {"name": "Logistics"}, {"name": "Logistics & returns"}),
    "routing-rules": (RoutingRule, factories.routing_rule, {"name": "Refunds", "keywords": "refund"},
                      {"keywords": "refund, money back"}),
    "sla-policies": (SlaPolicy, factories.sla_policy,
                     {"priority": 1, "first_response_hours": 1, "resolution_hours": 8}, {"resolution_hours": 4}),
    "canned-replies": (CannedReply, factories.canned_reply, {"title": "Sorry", "text": "Sorry, {customer}."},
                       {"text": "We are sorry, {customer}."}),
}


@pytest.mark.parametrize("endpoint", CONFIG)
def test_an_admin_creates_and_updates_configuration(endpoint, admin_api, org_a):
    model, _factory, body, change = CONFIG[endpoint]
    created = admin_api("post", f"/api/v1/feedback/{endpoint}/", body)
    assert created.status_code == 201, created.content
    row = model.objects.get(pk=created.json()["id"])
    assert row.organization == org_a
    updated = admin_api("patch", f"/api/v1/feedback/{endpoint}/{row.pk}/", change)
    assert updated.status_code == 200, updated.content
    row.refresh_from_db()
    for field, value in change.items():
        assert getattr(row, field) == value


@pytest.mark.parametrize("endpoint", CONFIG)
def test_an_agent_reads_configuration_but_cannot_write_it(endpoint, api, org_a):
    model, factory, body, change = CONFIG[endpoint]
    row = factory(org_a)
    assert [r["id"] for r in api("get", f"/api/v1/feedback/{endpoint}/").json()["results"]] == [row.pk]
    assert api("get", f"/api/v1/feedback/{endpoint}/{row.pk}/").status_code == 200
    before = model.objects.filter(pk=row.pk).values().get()
    assert api("post", f"/api/v1/feedback/{endpoint}/", body).status_code == 403
    assert api("patch", f"/api/v1/feedback/{endpoint}/{row.pk}/", change).status_code == 403
    assert api("delete", f"/api/v1/feedback/{endpoint}/{row.pk}/").status_code == 403
    assert model.objects.filter(pk=row.pk).values().get() == before and model.objects.count() == 1


@pytest.mark.parametrize("endpoint", CONFIG)
def test_lists_never_show_another_organizations_rows(endpoint, admin_api, org_a, org_b):
    model, factory, _body, change = CONFIG[endpoint]
    mine, theirs = factory(org_a), factory(org_b)
    assert [r["id"] for r in admin_api("get", f"/api/v1/feedback/{endpoint}/").json()["results"]] == [mine.pk]
    assert admin_api("get", f"/api/v1/feedback/{endpoint}/{theirs.pk}/").status_code == 404
    assert admin_api("patch", f"/api/v1/feedback/{endpoint}/{theirs.pk}/", change).status_code == 404
    assert admin_api("delete", f"/api/v1/feedback/{endpoint}/{theirs.pk}/").status_code == 404
    assert model.objects.filter(pk=theirs.pk).exists()


def test_a_cx_manager_writes_canned_replies_but_not_teams(org_a, make_member, client_for):
    manager = client_for(make_member(org_a, Role.CX_MANAGER))
    assert manager.post("/api/v1/feedback/canned-replies/", {"title": "Hi", "text": "Hello"},
                        content_type="application/json").status_code == 201
    assert manager.post("/api/v1/feedback/teams/", {"name": "T"}, content_type="application/json").status_code == 403
    assert not Team.objects.exists()


def test_a_team_takes_its_organizations_agents_and_touchpoints_only(admin_api, agent, org_a, org_b, make_member):
    touchpoint = factories.touchpoint(org_a)
    created = admin_api("post", "/api/v1/feedback/teams/", {"name": "Couriers", "lead": agent.pk,
                                                            "members": [agent.pk], "touchpoints": [touchpoint.pk]})
    assert created.status_code == 201
    team = Team.objects.get()
    assert team.lead == agent and list(team.members.all()) == [agent] and list(team.touchpoints.all()) == [touchpoint]
    outsider, viewer = make_member(org_b, Role.AGENT), make_member(org_a, Role.VIEWER)
    for body, field in (({"members": [outsider.pk]}, "members"), ({"lead": viewer.pk}, "lead"),
                        ({"touchpoints": [factories.touchpoint(org_b).pk]}, "touchpoints")):
        answer = admin_api("post", "/api/v1/feedback/teams/", {"name": f"Bad {field}", **body})
        assert answer.status_code == 400 and field in error_fields(answer), body
        assert admin_api("patch", f"/api/v1/feedback/teams/{team.pk}/", body).status_code == 400
    assert Team.objects.count() == 1
    assert list(team.members.all()) == [agent] and list(team.touchpoints.all()) == [touchpoint]


def test_a_duplicate_team_name_is_400(admin_api, org_a, org_b):
    Team.objects.create(organization=org_b, name="Support")  # another organization's name is free
    assert admin_api("post", "/api/v1/feedback/teams/", {"name": "Support"}).status_code == 201
    answer = admin_api("post", "/api/v1/feedback/teams/", {"name": "Support"})
    assert answer.status_code == 400 and "name" in error_fields(answer)
    assert Team.objects.filter(organization=org_a).count() == 1


def test_a_routing_rule_with_conditions_and_actions(admin_api, org_a):
    team, tag, touchpoint = factories.team(org_a), factories.tag(org_a), factories.touchpoint(org_a)
    answer = admin_api("post", "/api/v1/feedback/routing-rules/", {
        "name": "Angry couriers", "rating_min": 0, "rating_max": 6, "touchpoint": touchpoint.pk,
        "channel": touchpoint.channel_id, "add_tags": [tag.pk], "team": team.pk, "assign": "round_robin",
        "set_priority": 2})
    assert answer.status_code == 201, answer.content
    rule = RoutingRule.objects.get()
    assert (rule.team, rule.touchpoint, rule.channel_id, rule.assign) == (team, touchpoint, touchpoint.channel_id,
                                                                          "round_robin")
    assert list(rule.add_tags.all()) == [tag]


@pytest.mark.parametrize(("body", "field"), [
    ({"rating_min": 7, "rating_max": 3}, "rating_max"),
    ({"assign": "round_robin"}, "assign"),
    ({"assign": "least_open", "team": None}, "assign"),
    ({"assign": "whoever"}, "assign"),
    ({"source": "fax"}, "source"),
    ({"set_priority": 7}, "set_priority"),
    ({"sentiment": 5}, "sentiment"),
    ({"name": ""}, "name"),
])
def test_a_bad_routing_rule_is_400_naming_the_field(admin_api, body, field):
    answer = admin_api("post", "/api/v1/feedback/routing-rules/", {"name": "Rule", **body})
    assert answer.status_code == 400 and field in error_fields(answer), answer.content
    assert not RoutingRule.objects.exists()


@pytest.mark.parametrize("field", ["team", "touchpoint", "channel", "add_tags"])
def test_a_routing_rule_cannot_name_another_organizations_rows(admin_api, org_b, field):
    foreign = {"team": factories.team, "touchpoint": factories.touchpoint, "channel": factories.channel,
               "add_tags": factories.tag}[field](org_b)
    value = [foreign.pk] if field == "add_tags" else foreign.pk
    answer = admin_api("post", "/api/v1/feedback/routing-rules/", {"name": "Rule", field: value})
    assert answer.status_code == 400 and field in error_fields(answer)
    assert not RoutingRule.objects.exists()


def test_an_update_is_checked_against_the_rules_saved_values(admin_api, org_a):
    team = factories.team(org_a)
    rule = RoutingRule.objects.create(organization=org_a, name="Low", rating_max=3, team=team,
                                      assign=RoutingRule.Assign.ROUND_ROBIN)
    url = f"/api/v1/feedback/routing-rules/{rule.pk}/"
    low = admin_api("patch", url, {"rating_min": 8})  # above the saved "rating up to"
    assert low.status_code == 400 and "rating_max" in error_fields(low)
    no_team = admin_api("patch", url, {"team": None})  # the rule still assigns within a team
    assert no_team.status_code == 400 and "assign" in error_fields(no_team)
    rule.refresh_from_db()
    assert (rule.rating_min, rule.rating_max, rule.team) == (None, 3, team)
    assert admin_api("patch", url, {"team": None, "assign": ""}).status_code == 200


def test_an_sla_policy_is_created_with_business_hours(admin_api, org_a):
    answer = admin_api("post", "/api/v1/feedback/sla-policies/", {
        "priority": 2, "first_response_hours": 4, "resolution_hours": 24, "day_start": "08:00", "day_end": "17:30",
        "time_zone": "Europe/Riga"})
    assert answer.status_code == 201, answer.content
    policy = SlaPolicy.objects.get()
    assert (policy.priority, str(policy.day_start), str(policy.day_end)) == (2, "08:00:00", "17:30:00")


@pytest.mark.parametrize(("body", "field"), [
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"time_zone": "../../etc/passwd"}, "time_zone"),
    ({"day_start": "18:00", "day_end": "09:00"}, "day_end"),
    ({"day_start": "09:00", "day_end": "09:00"}, "day_end"),
    ({"day_end": "08:00"}, "day_end"),  # before the default start of 09:00
    ({"priority": 9}, "priority"),
    ({"first_response_hours": -1}, "first_response_hours"),
    ({"resolution_hours": None}, "resolution_hours"),
])
def test_a_bad_sla_policy_is_400_naming_the_field(admin_api, body, field):
    answer = admin_api("post", "/api/v1/feedback/sla-policies/", {
        "priority": 1, "first_response_hours": 2, "resolution_hours": 8, **body})
    assert answer.status_code == 400 and field in error_fields(answer), answer.content
    assert not SlaPolicy.objects.exists()


def test_a_second_policy_for_the_same_priority_is_400(admin_api, org_a, org_b):
    SlaPolicy.objects.create(organization=org_b, priority=1, first_response_hours=1, resolution_hours=2)
    body = {"priority": 1, "first_response_hours": 2, "resolution_hours": 8}
    assert admin_api("post", "/api/v1/feedback/sla-policies/", body).status_code == 201
    again = admin_api("post", "/api/v1/feedback/sla-policies/", body)
    assert again.status_code == 400 and "priority" in error_fields(again)
    high = admin_api("post", "/api/v1/feedback/sla-policies/", {**body, "priority": 2}).json()
    moved = admin_api("patch", f"/api/v1/feedback/sla-policies/{high['id']}/", {"priority": 1})
    assert moved.status_code == 400 and "priority" in error_fields(moved)
    assert sorted(SlaPolicy.objects.filter(organization=org_a).values_list("priority", flat=True)) == [1, 2]


def test_an_sla_update_is_checked_against_the_saved_business_day(admin_api, org_a):
    policy = SlaPolicy.objects.create(organization=org_a, priority=3, first_response_hours=4, resolution_hours=24,
                                      day_start="09:00", day_end="18:00")
    answer = admin_api("patch", f"/api/v1/feedback/sla-policies/{policy.pk}/", {"day_end": "08:00"})
    assert answer.status_code == 400 and "day_end" in error_fields(answer)
    policy.refresh_from_db()
    assert str(policy.day_end) == "18:00:00"
    # A policy the API accepted can always compute a due time.
    assert admin_api("patch", f"/api/v1/feedback/sla-policies/{policy.pk}/", {"day_end": "10:00"}).status_code == 200
    item, _ = services.ingest(org_a, services.Voice(source="email", text="Hello"))
    assert item.first_response_due is not None


def test_canned_replies_validate_language_and_duplicate_titles(admin_api, org_a):
    assert admin_api("post", "/api/v1/feedback/canned-replies/",
                     {"title": "Thanks", "text": "Thank you", "language": "en"}).status_code == 201
    assert admin_api("post", "/api/v1/feedback/canned-replies/",
                     {"title": "Thanks", "text": "Paldies", "language": "lv"}).status_code == 201
    duplicate = admin_api("post", "/api/v1/feedback/canned-replies/",
                          {"title": "Thanks", "text": "Again", "language": "en"})
    assert duplicate.status_code == 400 and "title" in error_fields(duplicate)
    bad = admin_api("post", "/api/v1/feedback/canned-replies/", {"title": "X", "text": "Y", "language": "xx"})
    assert bad.status_code == 400 and "language" in error_fields(bad)
    empty = admin_api("post", "/api/v1/feedback/canned-replies/", {"title": "", "text": ""})
    assert empty.status_code == 400 and {"title", "text"} <= set(error_fields(empty))
    assert CannedReply.objects.filter(organization=org_a).count() == 2


def test_a_duplicate_tag_is_400_and_an_agent_cannot_add_tags(admin_api, api, org_a, org_b):
    Tag.objects.create(organization=org_b, name="vip")
    assert admin_api("post", "/api/v1/feedback/tags/", {"name": "vip"}).status_code == 201
    again = admin_api("post", "/api/v1/feedback/tags/", {"name": "vip"})
    assert again.status_code == 400 and "name" in error_fields(again)
    assert api("post", "/api/v1/feedback/tags/", {"name": "agent tag"}).status_code == 403
    assert list(Tag.objects.filter(organization=org_a).values_list("name", flat=True)) == ["vip"]
