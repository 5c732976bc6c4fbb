"""Every voice becomes exactly one inbox item: survey comments automatically, other sources
through the API, idempotent on the source's id; customer text is always shown escaped."""

import uuid

import pytest
from django.db.models.query import QuerySet

from cxplatform.models import Role
from feedback import services
from feedback.models import FeedbackItem, Tag
from surveys import services as survey_services
from tests import factories

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _answer(link, score, comment, token):
    sub = survey_services.clean_submission(link.survey, {"score": score, "comment": comment}, complete=True)
    return survey_services.record_response(survey=link.survey, submission=sub, complete=True, language="ru",
                                           distribution=link, token=token)[0]


def test_a_survey_comment_becomes_one_item_and_follows_edits(org_a, django_capture_on_commit_callbacks):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    token = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        response = _answer(link, 2, "Курьер опоздал и нагрубил", token)
    item = FeedbackItem.objects.get(response=response)
    assert item.source == "survey" and item.rating == 2 and item.sentiment == -1
    assert item.touchpoint_id == link.touchpoint_id and item.language == "ru"
    with django_capture_on_commit_callbacks(execute=True):
        _answer(link, 2, "Курьер опоздал на три часа и нагрубил", token)  # the customer edits the comment
    services.from_survey_response(response.pk)  # a redelivered event
    assert FeedbackItem.objects.filter(response=response).count() == 1
    assert FeedbackItem.objects.get(response=response).text.startswith("Курьер опоздал на три часа")
    assert [e.action for e in item.events.all()] == ["received", "text_updated"]


def test_a_failing_settlement_never_holds_the_comment_back_from_the_inbox(org_a, monkeypatch):
    """The inbox item and the loop's settlement are two subscribers: a rule that keeps failing
    leaves its own delivery to back off, and the customer's comment still reaches the inbox."""
    from cxplatform import events
    from cxplatform.models import EventDelivery, OutboxEvent
    from feedback import loop
    from surveys.services import RESPONSE_RECORDED

    def broken(*args, **kwargs):
        raise RuntimeError("a rule's bug")

    monkeypatch.setattr(loop, "run_rules", broken)
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    response = _answer(link, 3, "Курьер опоздал", uuid.uuid4())  # events written, not delivered
    event = OutboxEvent.objects.get(name=RESPONSE_RECORDED, payload__response_id=response.pk)
    events.deliver(event.pk)
    assert FeedbackItem.objects.filter(response=response).count() == 1
    settlement = event.deliveries.get(subscriber="feedback.close_loop")
    assert (settlement.status, settlement.attempts) == (EventDelivery.Status.PENDING, 1)
    assert "a rule's bug" in settlement.last_error
    assert event.deliveries.get(subscriber="feedback.inbox_item").status == EventDelivery.Status.DELIVERED


def test_an_answer_without_a_comment_makes_no_item(org_a, django_capture_on_commit_callbacks):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    with django_capture_on_commit_callbacks(execute=True):
        _answer(link, 9, "", uuid.uuid4())
    assert not FeedbackItem.objects.exists()


def test_default_tags_are_seeded_once_in_the_organizations_language(org_a):
    org_a.default_language = "ru"
    org_a.save()
    services.ingest(org_a, services.Voice(source="manual", text="Позвонил клиент"))
    services.ingest(org_a, services.Voice(source="manual", text="Ещё звонок"))
    names = set(Tag.objects.filter(organization=org_a).values_list("name", flat=True))
    assert len(names) == 7 and "жалоба" in names


@pytest.mark.parametrize("source", ["email", "chat", "social", "review", "call", "manual", "api", "import"])
def test_every_source_comes_in_through_the_api_once(source, org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.AGENT))
    body = {"source": source, "source_id": f"{source}-42", "text": "The app is awful, it keeps crashing",
            "rating": 2, "customer_email": "Ann@Example.com", "language": "en"}
    first = client.post("/api/v1/feedback/items/", body, content_type="application/json")
    again = client.post("/api/v1/feedback/items/", body, content_type="application/json")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    item = FeedbackItem.objects.get(organization=org_a)
    assert item.source == source and item.customer.email.lower() == "ann@example.com"
    assert item.sentiment is None and not item.text_read  # read by the worker, not in the request
    services.read_item(item_id=item.pk)
    item.refresh_from_db()
    assert item.sentiment == -1


def test_bad_items_are_refused_clearly_and_change_nothing(org_a, org_b, make_member, client_for):
    client = client_for(make_member(org_a, Role.AGENT))
    foreign_touchpoint = factories.touchpoint(org_b)
    for body in ({"text": "   "}, {"text": "ok", "source": "survey"}, {"text": "ok", "rating": 99},
                 {"text": "ok", "touchpoint": foreign_touchpoint.pk}, {"text": "x" * 20_001}):
        answer = client.post("/api/v1/feedback/items/", body, content_type="application/json")
        assert answer.status_code == 400, body
    assert not FeedbackItem.objects.exists()


def test_a_viewer_cannot_send_items(org_a, make_member, client_for):
    answer = client_for(make_member(org_a, Role.VIEWER)).post(
        "/api/v1/feedback/items/", {"text": "hello"}, content_type="application/json")
    assert answer.status_code == 403 and not FeedbackItem.objects.exists()


def test_customer_text_is_inert_in_the_list_and_the_item_page(org_a, make_member, client_for):
    item, _ = services.ingest(org_a, services.Voice(source="review", text=XSS))
    client = client_for(make_member(org_a, Role.AGENT))
    for url in ("/inbox/", f"/inbox/items/{item.pk}/"):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body, url
        assert "&lt;script&gt;" in body, url


def test_inbox_lists_only_the_organizations_items_with_filters(org_a, org_b, make_member, client_for):
    mine, _ = services.ingest(org_a, services.Voice(source="email", text="Где мой заказ?"))
    services.ingest(org_a, services.Voice(source="review", text="Great scooter"))
    theirs, _ = services.ingest(org_b, services.Voice(source="email", text="Their item"))
    client = client_for(make_member(org_a, Role.AGENT))
    page = client.get("/inbox/", {"source": "email"})
    assert [i.pk for i in page.context["rows"]] == [mine.pk]
    assert client.get(f"/inbox/items/{theirs.pk}/").status_code == 404


def test_a_concurrent_ingest_of_the_same_source_id_is_found_not_doubled(org_a, monkeypatch):
    """Two workers ingest the same source id at once (an answer's inbox part and its settlement):
    the one that loses the INSERT's race takes the winner's item, in a transaction that goes on
    (the INSERT's own savepoint is the only one the ingest keeps)."""
    voice = services.Voice(source=FeedbackItem.Source.EMAIL, source_id="msg-1", text="Where is my order?")
    first, created = services.ingest(org_a, voice)
    assert created
    looks = {"n": 0}
    real_first = QuerySet.first

    def not_yet_committed(queryset):  # the loser's lookup ran before the winner's commit
        looks["n"] += 1
        return None if looks["n"] == 1 else real_first(queryset)

    monkeypatch.setattr(QuerySet, "first", not_yet_committed)
    second, created = services.ingest(org_a, voice)
    monkeypatch.undo()
    assert (second.pk, created) == (first.pk, False)
    assert FeedbackItem.objects.filter(organization=org_a, source_id="msg-1").count() == 1  # the transaction goes on
    assert first.events.filter(action="received").count() == 1
