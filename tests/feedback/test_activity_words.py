"""The item's activity log and the texts the platform writes are read in the reader's language,
with what changed — never a raw code, never frozen in the language of whoever caused them — and
entries written before messages existed still read as sentences."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from cxplatform import wording
from cxplatform.models import Role
from feedback import activity, conversation, loop, routing, services, sla
from feedback import wordings as w
from feedback.models import FeedbackItem, ItemEvent, RootCause, RoutingRule, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(org_a, make_member):
    user = make_member(org_a, Role.AGENT, username="anna")
    user.first_name, user.last_name = "Anna", "Ozola"
    user.save()
    return user


def _texts(item, language):
    with translation.override(language):
        return [activity.describe(e) for e in ItemEvent.objects.filter(item=item).order_by("at", "id")]


def test_every_action_of_an_items_life_reads_with_its_detail_in_three_languages(org_a, anna):
    logistics = Team.objects.create(organization=org_a, name="Logistics")
    RoutingRule.objects.create(organization=org_a, name="Delivery", keywords="scratched", team=logistics,
                               set_priority=FeedbackItem.Priority.HIGH)
    item, _ = services.ingest(org_a, services.Voice(source="email", text="The scooter arrived scratched"))
    routing.route(item.pk)
    item.refresh_from_db()
    item = services.triage(item, anna, item.version, status="open", assignee=anna)
    services.add_note(item, anna, "Called the warehouse, @anna will follow up")
    loop.log_call(item, anna, "Left a voicemail", reached=False)
    cause = RootCause.objects.create(organization=org_a, name="Packaging")
    FeedbackItem.objects.filter(pk=item.pk).update(kind=FeedbackItem.Kind.CASE)
    item.refresh_from_db()
    loop.resolve_case(item, anna, item.version, root_cause=cause, note="Sent a new one")
    due = datetime(2027, 3, 9, 14, 0, tzinfo=UTC)
    activity.log(item, "sla_breached", wording.message(w.SLA_BREACHED, due=due.isoformat()))

    assert _texts(item, "en") == [
        "Received from E-mail.",
        "Routed by rule “Delivery”: to team Logistics, priority High.",
        "Status: New → Open, Assigned to Anna Ozola.",
        "Added an internal note mentioning Anna Ozola.",
        "Called the customer: nobody answered.",
        "Loop closed: root cause “Packaging”.",
        "Breached its SLA (it was due 03/09/2027 2 p.m.).",  # the reader's date format
    ]
    assert _texts(item, "ru")[:3] == [
        "Получено из канала: Эл. почта.",
        "Направлено правилом «Delivery»: команде Logistics, приоритет Высокая.",
        "Статус: Новое → В работе, назначено: Anna Ozola.",
    ]
    assert _texts(item, "lv")[:3] == [
        "Saņemts no: E-pasts.",
        "Novirzīts ar noteikumu “Delivery”: komandai Logistics, prioritāte Augsts.",
        "Statuss: Jauns → Atvērts, piešķirts: Anna Ozola.",
    ]
    for language in ("en", "ru", "lv"):
        assert all(t and "feedback." not in t and "%(" not in t for t in _texts(item, language))


def test_the_api_gives_the_message_and_its_text_in_the_requests_language(org_a, anna, client_for):
    item, _ = services.ingest(org_a, services.Voice(source="email", text="Hello"))
    services.triage(item, anna, item.version, status="open")
    client = client_for(anna)
    entries = client.get(f"/api/v1/feedback/items/{item.pk}/activity/", HTTP_ACCEPT_LANGUAGE="lv").json()
    triaged = entries[-1]
    assert triaged["action"] == "triaged" and triaged["message"]["id"] == w.TRIAGED
    assert triaged["message"]["params"]["changes"] == [
        {"id": w.CHANGE_STATUS, "params": {"before": "new", "after": "open"}}]
    assert triaged["text"] == "Statuss: Jauns → Atvērts."


def test_a_score_without_a_comment_reads_in_the_readers_language(org_a, anna, client_for):
    org_a.default_language = "lv"
    org_a.save()
    item = FeedbackItem.objects.create(
        organization=org_a, source="survey", text="Vērtējums 2, bez komentāra.", received_at=datetime.now(UTC),
        text_message=wording.message(w.SCORE_NO_COMMENT, score=2), rating=2)
    with translation.override("en"):
        assert item.display_text == "Score 2, no comment."
    with translation.override("ru"):
        assert item.display_text == "Оценка 2, без комментария."
    page = client_for(anna).get(f"/inbox/items/{item.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Score 2, no comment." in page and "bez komentāra" not in page
    api = client_for(anna).get(f"/api/v1/feedback/items/{item.pk}/", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert api["text"] == "Оценка 2, без комментария." and api["text_message"]["id"] == w.SCORE_NO_COMMENT


OLD_ROWS = [
    ("received", {"source": "chat"}, "Received from Chat transcript."),
    ("text_updated", {}, "The source changed the text."),
    ("triaged", {"status": "resolved", "priority": "2", "assignee": "7"}, "Status: — → Resolved, Priority: — → High."),
    ("triaged", {"team": "3"}, "Triaged."),
    ("routed", {"rule": "Delivery", "team": 3, "tags": ["complaint"]}, "Routed by rule “Delivery”: tagged complaint."),
    ("noted", {"note": 4}, "Added an internal note."),
    ("replied", {"message": 5}, "Replied to the customer."),
    ("replied", {"message": 5, "status": "waiting"}, "Replied to the customer; status: Waiting on customer."),
    ("reply_failed", {"message": 5}, "The reply could not be sent to the customer, even after several tries."),
    ("customer_replied", {"message": 6}, "The customer wrote again."),
    ("reopened", {"message": 6, "was": "resolved"}, "The customer wrote again: reopened (it was Resolved)."),
    ("loop_opened", {"rule": "Unhappy"}, "Call-back case opened (rule “Unhappy”)."),
    ("loop_withdrawn", {"score": 10, "was": "case"}, "Withdrawn: the customer changed the score to 10."),
    ("called", {"reached": True, "message": 8}, "Called the customer and reached them."),
    ("loop_closed", {"root_cause": "Packaging", "follow_up": True},
     "Loop closed: root cause “Packaging”; the customer will be asked again."),
    ("follow_up_sent", {"to": "c@example.com"}, "Follow-up question sent to c@example.com."),
    ("follow_up_answered", {"score": 9, "recovered": True}, "Follow-up answered with 9: the customer is recovered."),
    ("sla_at_risk", {}, "About to breach its SLA."),
    ("something_new", {}, "Changed (something new)."),
]


@pytest.mark.parametrize(("action", "details", "expected"), OLD_ROWS, ids=[r[0] for r in OLD_ROWS])
def test_entries_written_before_messages_existed_read_as_sentences(org_a, action, details, expected):
    item = FeedbackItem.objects.create(organization=org_a, source="manual", text="x", received_at=datetime.now(UTC))
    event = ItemEvent.objects.create(item=item, action=action, details=details)
    assert activity.describe(event) == expected
    with translation.override("lv"):
        assert activity.describe(event) != action


WORDING_IDS = sorted(i for i in dir(w) if i.isupper() and isinstance(getattr(w, i), str))


@pytest.mark.parametrize("name", WORDING_IDS)
def test_every_inbox_wording_is_translated(name):
    message_id = getattr(w, name)
    params = {"score": 3, "who": "Anna", "item": 7, "source": "email", "changes": [], "before": "new",
              "after": "open", "assignee": "Anna", "tags": ["x"], "team": "T", "rule": "R", "priority": 1,
              "people": ["Anna"], "status": "open", "was": "resolved", "root_cause": "P", "to": "a@b.c",
              "due": "2027-03-09T14:00:00+00:00", "offer": {"en": "Pause"}, "items": "#7, #8"}
    texts = {lang: wording.render(message_id, params, language=lang) for lang in ("en", "ru", "lv")}
    assert all(texts.values()) and "%(" not in "".join(texts.values())
    if message_id != w.TRIAGED:  # only its parts have words
        assert texts["ru"] != texts["en"] and texts["lv"] != texts["en"], texts


def test_conversation_and_sla_entries_carry_their_message(org_a, anna):
    customer = services.match_or_create_customer(org_a, email="c@example.com")
    item, _ = services.ingest(org_a, services.Voice(source="email", text="Where is my order?", customer=customer))
    conversation.reply(item, anna, "It is on its way.", status="waiting", version=item.version)
    FeedbackItem.objects.filter(pk=item.pk).update(resolution_due=datetime(2020, 1, 1, tzinfo=UTC),
                                                   first_response_due=datetime(2020, 1, 1, tzinfo=UTC))
    sla.check()
    with translation.override("en"):
        texts = _texts(item, "en")
    assert "Replied to the customer; status: Waiting on customer." in texts
    assert any(t.startswith("Breached its SLA (it was due") for t in texts)


def test_an_accepted_retention_offer_reads_in_the_readers_language(org_a):
    from surveys.models import OfferAcceptance
    from tests import factories

    org_a.default_language = "lv"
    org_a.save()
    offer = factories.retention_offer(org_a)
    offer.text = {"en": "Pause for three months", "lv": "Pauze uz trim mēnešiem"}
    offer.save()
    acceptance = OfferAcceptance.objects.create(organization=org_a, offer=offer,
                                                response=factories.response(org_a, score=3))
    item = services.from_offer_acceptance(acceptance.pk)
    assert "Pauze uz trim mēnešiem" in item.text  # the organization's language, for search
    item.refresh_from_db()
    with translation.override("en"):
        assert item.display_text == ("Accepted a retention offer instead of leaving: “Pause for three months”. "
                                     "Make it happen and confirm it.")
    with translation.override("ru"):  # no Russian offer text: the English one, in a Russian sentence
        assert item.display_text.startswith("Вместо ухода клиент принял предложение для удержания: "
                                            "«Pause for three months».")
