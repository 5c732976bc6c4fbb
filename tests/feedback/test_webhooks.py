"""The public webhook receiver `POST /hooks/feedback/<key>/` takes feedback from other tools: the
key names the endpoint (and so the organization and source), a signed endpoint refuses a body
without its HMAC signature, a batch is kept whole or not at all, a source id sent twice is one
item, a `reply_to` continues (and reopens) an existing item, and a webhook never reaches another
organization's rows. Only administrators manage the endpoints through the API."""

import json
import time
import uuid

import pytest

from cxplatform.models import Role
from feedback import services, webhooks
from feedback.models import FeedbackItem, ItemEvent, Message, WebhookEndpoint
from tests import factories
from tests.apierrors import error_fields

pytestmark = pytest.mark.django_db


def _post(client, endpoint, payload, *, signature=None, raw=None, timestamp=None, delivery=None):
    """POST `payload` as JSON, as a sender does: a new delivery id, the current time, signed with
    the endpoint's secret unless `signature` says otherwise."""
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    delivery = uuid.uuid4().hex if delivery is None else delivery
    headers = {"HTTP_X_CX_TIMESTAMP": timestamp, "HTTP_X_CX_DELIVERY": delivery}
    if signature is None and endpoint.secret:
        headers["HTTP_X_CX_SIGNATURE"] = webhooks.sign(endpoint.secret, body, timestamp=timestamp, delivery=delivery)
    elif signature:
        headers["HTTP_X_CX_SIGNATURE"] = signature
    return client.post(f"/hooks/feedback/{endpoint.key}/", body, content_type="application/json", **headers)


def _sign(secret, body, timestamp="", delivery="d-1"):
    return webhooks.sign(secret, body, timestamp=timestamp or str(int(time.time())), delivery=delivery)


@pytest.fixture
def endpoint(org_a):
    return webhooks.create_endpoint(org_a, "Review site", FeedbackItem.Source.REVIEW)


def test_a_signed_body_becomes_an_item_of_the_endpoints_source_and_organization(client, endpoint, org_a):
    answer = _post(client, endpoint, {"text": "Lovely scooter, fast delivery", "source": "chat",
                                      "source_id": "r-1", "rating": 9, "customer_email": "ann@example.com"})
    assert answer.status_code == 201, answer.content
    item = FeedbackItem.objects.get()
    assert answer.json()["items"] == [{"id": item.pk, "created": True}]
    assert item.organization == org_a and item.source == "review"  # the endpoint decides, not the body
    assert item.source_id == "r-1" and item.rating == 9 and item.customer.email == "ann@example.com"
    endpoint.refresh_from_db()
    assert endpoint.received == 1 and endpoint.last_received_at is not None


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "nonsense"])
def test_a_missing_or_wrong_signature_is_refused_and_creates_nothing(client, endpoint, signature):
    answer = _post(client, endpoint, {"text": "Hello"}, signature=signature or "")
    assert answer.status_code == 401
    assert "signature" in answer.json()["detail"].lower()
    assert not FeedbackItem.objects.exists()
    endpoint.refresh_from_db()
    assert endpoint.received == 0


def test_a_non_ascii_signature_is_refused_not_a_server_error(client, endpoint):
    answer = _post(client, endpoint, {"text": "Hello"}, signature="sha256=\u00e9t\u00e9")
    assert answer.status_code == 401 and not FeedbackItem.objects.exists()


def test_a_signature_of_another_body_is_refused(client, endpoint):
    now = str(int(time.time()))
    signature = _sign(endpoint.secret, b'{"text": "Something harmless"}', now, "d-1")
    answer = _post(client, endpoint, {"text": "Something else"}, signature=signature, timestamp=now, delivery="d-1")
    assert answer.status_code == 401 and not FeedbackItem.objects.exists()


def test_a_signature_made_with_another_secret_is_refused(client, endpoint, org_a):
    other = webhooks.create_endpoint(org_a, "Chat", FeedbackItem.Source.CHAT)
    body = json.dumps({"text": "Hi"}).encode()
    now = str(int(time.time()))
    answer = _post(client, endpoint, None, raw=body, signature=_sign(other.secret, body, now, "d-1"), timestamp=now,
                   delivery="d-1")
    assert answer.status_code == 401 and not FeedbackItem.objects.exists()


def test_an_unknown_or_inactive_key_is_404(client, endpoint):
    body = json.dumps({"text": "Hi"}).encode()
    unknown = client.post("/hooks/feedback/no-such-key/", body, content_type="application/json",
                          HTTP_X_CX_SIGNATURE=_sign(endpoint.secret, body))
    too_long = client.post(f"/hooks/feedback/{'k' * 65}/", body, content_type="application/json")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    inactive = _post(client, endpoint, {"text": "Hi"})
    assert unknown.status_code == too_long.status_code == inactive.status_code == 404
    assert not FeedbackItem.objects.exists()


def test_an_unsigned_endpoint_accepts_a_body_without_a_signature(client, org_a):
    endpoint = webhooks.create_endpoint(org_a, "Zapier", FeedbackItem.Source.SOCIAL, signed=False)
    assert endpoint.secret == ""
    answer = _post(client, endpoint, {"text": "Tweet about the app"})
    assert answer.status_code == 201
    assert FeedbackItem.objects.get().source == "social"


def test_a_batch_creates_every_item(client, endpoint):
    batch = [{"text": f"Review {n}", "source_id": f"b-{n}"} for n in range(3)]
    answer = _post(client, endpoint, batch)
    assert answer.status_code == 201
    assert sorted(FeedbackItem.objects.values_list("source_id", flat=True)) == ["b-0", "b-1", "b-2"]
    assert [r["created"] for r in answer.json()["items"]] == [True, True, True]
    endpoint.refresh_from_db()
    assert endpoint.received == 3


def test_a_batch_with_one_bad_entry_creates_nothing_and_names_the_error(client, endpoint):
    batch = [{"text": "Fine"}, {"text": "Also fine", "rating": 11}, {"text": "Fine too"}]
    answer = _post(client, endpoint, batch)
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"1": {"rating": ["Ensure this value is less than or equal to 10."]}}
    assert not FeedbackItem.objects.exists()
    endpoint.refresh_from_db()
    assert endpoint.received == 0


@pytest.mark.parametrize("payload", [[], [{"text": "x"}] * 101])
def test_an_empty_batch_or_more_than_100_entries_is_refused(client, endpoint, payload):
    answer = _post(client, endpoint, payload)
    assert answer.status_code == 400
    assert "100" in json.dumps(answer.json())
    assert not FeedbackItem.objects.exists()


def test_exactly_100_entries_are_accepted(client, endpoint):
    answer = _post(client, endpoint, [{"text": f"Entry {n}", "source_id": f"e-{n}"} for n in range(100)])
    assert answer.status_code == 201 and FeedbackItem.objects.count() == 100


@pytest.mark.parametrize("payload", [{"text": "   "}, {}, {"text": "ok", "language": "xx"},
                                     {"text": "ok", "customer_email": "not-an-address"}, "just a string", None,
                                     [None], [[{"text": "nested"}]], {"text": "ok", "source_id": "s" * 201}])
def test_bad_entries_are_400_and_change_nothing(client, endpoint, payload):
    answer = _post(client, endpoint, payload)
    assert answer.status_code == 400
    assert answer.json()["errors"]
    assert not FeedbackItem.objects.exists()


def test_malformed_json_is_400(client, endpoint):
    answer = _post(client, endpoint, None, raw=b'{"text": "unterminated')
    assert answer.status_code == 400 and not FeedbackItem.objects.exists()


def test_the_same_source_id_twice_is_one_item(client, endpoint):
    first = _post(client, endpoint, {"text": "Slow app", "source_id": "review-7"})
    again = _post(client, endpoint, {"text": "Slow app", "source_id": "review-7"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["items"][0]["id"] == again.json()["items"][0]["id"]
    assert again.json()["items"][0]["created"] is False
    assert FeedbackItem.objects.count() == 1


def test_a_reply_to_adds_the_customers_message_and_reopens_a_resolved_item(client, endpoint, org_a):
    first = _post(client, endpoint, {"text": "My order never came", "source_id": "chat-55"})
    item = FeedbackItem.objects.get(pk=first.json()["items"][0]["id"])
    FeedbackItem.objects.filter(pk=item.pk).update(status=FeedbackItem.Status.RESOLVED)
    answer = _post(client, endpoint, {"text": "Still nothing, please help", "reply_to": "chat-55",
                                      "source_id": "chat-55-msg-2"})
    assert answer.status_code == 200
    assert answer.json()["items"] == [{"id": item.pk, "created": False}]
    assert FeedbackItem.objects.count() == 1
    message = Message.objects.get(item=item)
    assert message.direction == "in" and message.text == "Still nothing, please help"
    assert message.organization_id == org_a.pk
    item.refresh_from_db()
    assert item.status == FeedbackItem.Status.OPEN and item.resolved_at is None
    assert ItemEvent.objects.filter(item=item, action="reopened").count() == 1
    again = _post(client, endpoint, {"text": "Still nothing, please help", "reply_to": "chat-55",
                                     "source_id": "chat-55-msg-2"})  # the tool retried its delivery
    assert again.status_code == 200 and Message.objects.filter(item=item).count() == 1


def test_a_reply_to_an_item_waiting_on_the_customer_opens_it(client, endpoint):
    first = _post(client, endpoint, {"text": "Which size fits me?", "source_id": "chat-56"})
    item_id = first.json()["items"][0]["id"]
    FeedbackItem.objects.filter(pk=item_id).update(status=FeedbackItem.Status.WAITING)
    assert _post(client, endpoint, {"text": "I am 180 cm", "reply_to": "chat-56"}).status_code == 200
    item = FeedbackItem.objects.get(pk=item_id)
    assert item.status == FeedbackItem.Status.OPEN and item.messages.get().direction == "in"
    assert list(item.events.values_list("action", flat=True)) == ["received", "customer_replied"]


def test_a_reply_to_an_unknown_conversation_starts_a_new_item(client, endpoint):
    answer = _post(client, endpoint, {"text": "Hello again", "reply_to": "never-seen"})
    assert answer.status_code == 201
    assert FeedbackItem.objects.get().text == "Hello again" and not Message.objects.exists()


def test_a_reply_to_never_reaches_another_organizations_item(client, endpoint, org_a, org_b):
    theirs, _ = services.ingest(org_b, services.Voice(source="chat", source_id="chat-99", text="Their chat"))
    FeedbackItem.objects.filter(pk=theirs.pk).update(status=FeedbackItem.Status.RESOLVED)
    answer = _post(client, endpoint, {"text": "Hijack", "reply_to": "chat-99"})
    assert answer.status_code == 201
    assert not Message.objects.exists()
    theirs.refresh_from_db()
    assert theirs.status == FeedbackItem.Status.RESOLVED
    mine = FeedbackItem.objects.get(pk=answer.json()["items"][0]["id"])
    assert mine.organization == org_a and mine.text == "Hijack"


def test_a_foreign_touchpoint_is_400_and_an_own_one_is_kept(client, endpoint, org_a, org_b):
    foreign = factories.touchpoint(org_b)
    refused = _post(client, endpoint, {"text": "Hi", "touchpoint": foreign.pk})
    assert refused.status_code == 400 and "touchpoint" in refused.json()["errors"]["0"]
    assert not FeedbackItem.objects.exists()
    own = factories.touchpoint(org_a)
    accepted = _post(client, endpoint, {"text": "Hi", "touchpoint": own.pk, "channel": own.channel_id})
    assert accepted.status_code == 201
    item = FeedbackItem.objects.get()
    assert item.touchpoint_id == own.pk and item.channel_id == own.channel_id


def test_a_foreign_channel_is_400(client, endpoint, org_b):
    answer = _post(client, endpoint, {"text": "Hi", "channel": factories.channel(org_b).pk})
    assert answer.status_code == 400 and "channel" in answer.json()["errors"]["0"]
    assert not FeedbackItem.objects.exists()


# --- The endpoints' admin API -------------------------------------------------------------------

def test_an_admin_creates_an_endpoint_and_gets_its_url_and_secret(org_a, make_member, client_for, client):
    admin = client_for(make_member(org_a, Role.ADMIN))
    answer = admin.post("/api/v1/feedback/webhooks/", {"name": "Trustpilot", "source": "review"},
                        content_type="application/json")
    assert answer.status_code == 201, answer.content
    data = answer.json()
    endpoint = WebhookEndpoint.objects.get(pk=data["id"])
    assert endpoint.organization == org_a and endpoint.source == "review" and endpoint.secret
    assert data["secret"] == endpoint.secret
    assert data["url"].endswith(f"/hooks/feedback/{endpoint.key}/")
    # The URL and secret it handed out really work.
    assert _post(client, endpoint, {"text": "Five stars"}).status_code == 201
    assert FeedbackItem.objects.get().organization == org_a


def test_an_admin_creates_an_unsigned_endpoint(org_a, make_member, client_for):
    admin = client_for(make_member(org_a, Role.ADMIN))
    answer = admin.post("/api/v1/feedback/webhooks/", {"name": "Widget", "signed": False},
                        content_type="application/json")
    assert answer.status_code == 201
    assert answer.json()["secret"] == "" and WebhookEndpoint.objects.get().source == "api"


def test_an_endpoint_with_a_bad_source_is_refused(org_a, make_member, client_for):
    admin = client_for(make_member(org_a, Role.ADMIN))
    answer = admin.post("/api/v1/feedback/webhooks/", {"name": "Fax", "source": "fax"},
                        content_type="application/json")
    assert answer.status_code == 400 and "source" in error_fields(answer)
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_list_shows_only_the_organizations_endpoints(org_a, org_b, make_member, client_for, endpoint):
    webhooks.create_endpoint(org_b, "Theirs", "review")
    rows = client_for(make_member(org_a, Role.ADMIN)).get("/api/v1/feedback/webhooks/").json()["results"]
    assert [r["id"] for r in rows] == [endpoint.pk]


@pytest.mark.parametrize("role", [Role.CX_MANAGER, Role.AGENT, Role.VIEWER])
def test_non_admins_cannot_list_or_create_endpoints(role, org_a, make_member, client_for, endpoint):
    client = client_for(make_member(org_a, role))
    assert client.get("/api/v1/feedback/webhooks/").status_code == 403
    assert client.get(f"/api/v1/feedback/webhooks/{endpoint.pk}/").status_code == 403
    created = client.post("/api/v1/feedback/webhooks/", {"name": "Mine"}, content_type="application/json")
    assert created.status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_an_admin_deactivates_an_endpoint_and_it_stops_receiving(org_a, make_member, client_for, client, endpoint):
    admin = client_for(make_member(org_a, Role.ADMIN))
    answer = admin.patch(f"/api/v1/feedback/webhooks/{endpoint.pk}/", {"active": False},
                         content_type="application/json")
    assert answer.status_code == 200
    assert _post(client, endpoint, {"text": "Hi"}).status_code == 404
    assert not FeedbackItem.objects.exists()


def test_another_organizations_endpoint_is_404_in_the_api(org_a, org_b, make_member, client_for):
    theirs = webhooks.create_endpoint(org_b, "Theirs", "review")
    admin = client_for(make_member(org_a, Role.ADMIN))
    assert admin.get(f"/api/v1/feedback/webhooks/{theirs.pk}/").status_code == 404
    assert admin.patch(f"/api/v1/feedback/webhooks/{theirs.pk}/", {"active": False},
                       content_type="application/json").status_code == 404
    theirs.refresh_from_db()
    assert theirs.active


# --- Replays: the signature covers the time and the delivery id, each id is taken once -------------

def test_a_captured_request_sent_again_adds_nothing(client, endpoint):
    first = _post(client, endpoint, {"text": "Battery died on day two"}, delivery="evt-1")
    again = _post(client, endpoint, {"text": "Battery died on day two"}, delivery="evt-1")
    assert first.status_code == 201 and again.status_code == 200
    assert "received before" in again.json()["detail"] and again.json()["items"] == []
    assert FeedbackItem.objects.count() == 1
    endpoint.refresh_from_db()
    assert endpoint.received == 1


@pytest.mark.parametrize("age", [-310, 310, 3600 * 24 * 365])  # clear of the second the server reads its clock in
def test_a_request_signed_more_than_five_minutes_away_is_refused(client, endpoint, age):
    then = str(int(time.time()) - age)
    answer = _post(client, endpoint, {"text": "Old news"}, timestamp=then)
    assert answer.status_code == 401 and "five minutes" in answer.json()["detail"]
    assert not FeedbackItem.objects.exists()


def test_the_body_signature_alone_no_longer_passes(client, endpoint):
    """The old scheme signed the body only, so a captured request could be replayed forever."""
    import hashlib
    import hmac

    body = json.dumps({"text": "Replayed"}).encode()
    body_only = "sha256=" + hmac.new(endpoint.secret.encode(), body, hashlib.sha256).hexdigest()
    answer = client.post(f"/hooks/feedback/{endpoint.key}/", body, content_type="application/json",
                         HTTP_X_CX_SIGNATURE=body_only)
    assert answer.status_code == 401 and not FeedbackItem.objects.exists()


@pytest.mark.parametrize("header", ["timestamp", "delivery"])
def test_a_timestamp_or_delivery_id_changed_after_signing_is_refused(client, endpoint, header):
    now, body = str(int(time.time())), json.dumps({"text": "Hi"}).encode()
    signature = _sign(endpoint.secret, body, now, "evt-9")
    changed = {"timestamp": str(int(now) + 1), "delivery": "evt-9"} if header == "timestamp" else \
        {"timestamp": now, "delivery": "evt-10"}
    answer = _post(client, endpoint, None, raw=body, signature=signature, **changed)
    assert answer.status_code == 401 and not FeedbackItem.objects.exists()


@pytest.mark.parametrize("timestamp", ["", "yesterday", "1e9", "٣٣٣", "9" * 5000])
def test_a_missing_or_malformed_timestamp_is_refused(client, endpoint, timestamp):
    answer = _post(client, endpoint, {"text": "Hi"}, timestamp=timestamp)
    assert answer.status_code == 401 and not FeedbackItem.objects.exists()


def test_a_delivery_whose_batch_was_refused_can_be_sent_again_fixed(client, endpoint):
    bad = _post(client, endpoint, [{"text": "ok"}, {"text": "x", "rating": 11}], delivery="evt-2")
    fixed = _post(client, endpoint, [{"text": "ok"}, {"text": "x", "rating": 10}], delivery="evt-2")
    assert bad.status_code == 400 and fixed.status_code == 201
    assert FeedbackItem.objects.count() == 2


def test_delivery_ids_are_remembered_per_endpoint_and_forgotten_after_the_window(client, endpoint, org_a):
    import time_machine

    from feedback.models import WebhookDelivery

    other = webhooks.create_endpoint(org_a, "Chat", FeedbackItem.Source.CHAT)
    assert _post(client, endpoint, {"text": "One"}, delivery="same").status_code == 201
    assert _post(client, other, {"text": "Two"}, delivery="same").status_code == 201
    with time_machine.travel(time.time() + 11 * 60):
        assert _post(client, endpoint, {"text": "Three"}, delivery="later").status_code == 201
    assert set(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("delivery_id", flat=True)) == {"later"}
