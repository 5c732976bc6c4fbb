"""The conversation on an item: a reply is e-mailed once whatever the retries, never lost when
the mail server fails, and what the customer writes back lands on the same item and reopens it."""

from datetime import timedelta
from smtplib import SMTPException

import pytest
from django.core import mail
from django.utils import timezone

from cxplatform.models import Customer, Role
from feedback import conversation, services
from feedback.models import CannedReply, FeedbackItem, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(org_a):
    return Customer.objects.create(organization=org_a, name="Ieva Ozola", email="ieva@example.lv", language="lv")


@pytest.fixture
def item(org_a, customer):
    item, _ = services.ingest(org_a, services.Voice(source="email", source_id="<first@mail.example>",
                                                   text="Kur ir mans pasūtījums?", customer=customer))
    return item


@pytest.fixture
def agent(org_a, make_member):
    user = make_member(org_a, Role.AGENT, username="laura")
    user.first_name, user.last_name = "Laura", "Kalniņa"
    user.save()
    return user


def test_a_reply_is_mailed_once_and_takes_a_new_item_on(item, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = conversation.reply(item, agent, "Labdien! Pasūtījums ir ceļā.")
    item.refresh_from_db()
    assert item.status == "open" and item.first_responded_at is not None and item.version == 2
    message.refresh_from_db()
    assert message.status == "sent" and message.to_address == "ieva@example.lv"
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ieva@example.lv"] and sent.body == "Labdien! Pasūtījums ir ceļā."
    assert f"#{item.pk}" in sent.subject and sent.extra_headers["Message-ID"] == conversation.message_id(message)
    # A duplicated task, or the beat's hand-on, finds it sent and mails nothing more.
    assert conversation.send(message.pk) is False
    assert conversation.requeue_lost(now=timezone.now() + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1


def test_the_first_response_time_is_the_earliest_whatever_the_agents_copy_says(item, agent):
    stale_copy = FeedbackItem.objects.get(pk=item.pk)
    conversation.reply(item, agent, "First answer")
    first = FeedbackItem.objects.get(pk=item.pk).first_responded_at
    conversation.reply(stale_copy, agent, "Second answer")
    assert FeedbackItem.objects.get(pk=item.pk).first_responded_at == first


def test_reply_and_status_on_a_stale_version_saves_nothing(item, agent):
    seen = item.version
    services.triage(item, agent, seen, priority=FeedbackItem.Priority.HIGH)  # a colleague, meanwhile
    with pytest.raises(conversation.StaleItem):
        conversation.reply(item, agent, "Resolved for you", status="resolved", version=seen)
    assert not Message.objects.exists()
    assert FeedbackItem.objects.get(pk=item.pk).status == "new"


def test_reply_can_set_waiting_or_resolved(item, agent):
    conversation.reply(item, agent, "Could you send the order number?", status="waiting", version=item.version)
    item.refresh_from_db()
    assert item.status == "waiting" and item.resolved_at is None
    conversation.reply(item, agent, "Done", status="resolved", version=item.version)
    item.refresh_from_db()
    assert item.status == "resolved" and item.resolved_at is not None


@pytest.mark.parametrize(("text", "email", "message"), [
    ("   ", "ieva@example.lv", "The reply is empty."),
    ("Hello", "", "no e-mail address"),
])
def test_a_reply_that_cannot_go_out_is_refused_clearly(item, agent, text, email, message):
    Customer.objects.filter(pk=item.customer_id).update(email=email)
    item.refresh_from_db()
    with pytest.raises(conversation.ReplyError, match=message):
        conversation.reply(item, agent, text)
    assert not Message.objects.exists() and FeedbackItem.objects.get(pk=item.pk).status == "new"


def test_a_failing_mail_server_keeps_the_reply_and_retries_then_gives_up(item, agent, monkeypatch):
    message = conversation.reply(item, agent, "Labdien!")  # no on-commit here: the task never ran

    def broken(self, fail_silently=False):
        raise SMTPException("421 try later")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    with pytest.raises(SMTPException):
        conversation.send(message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error) == ("queued", 1, "SMTPException('421 try later')")
    for _ in range(conversation.MAX_ATTEMPTS - 2):
        with pytest.raises(SMTPException):
            conversation.send(message.pk)
    assert conversation.send(message.pk) is False  # the last attempt: marked failed, logged on the item
    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == conversation.MAX_ATTEMPTS
    assert item.events.filter(action="reply_failed").exists()
    assert mail.outbox == []


def test_a_lost_task_is_handed_on_by_the_beat(item, agent):
    message = conversation.reply(item, agent, "Labdien!")  # committed, but its task was lost
    assert conversation.requeue_lost() == 0  # too young to be called lost
    assert conversation.requeue_lost(now=timezone.now() + timedelta(minutes=2)) == 1  # eager: sent now
    message.refresh_from_db()
    assert message.status == "sent" and len(mail.outbox) == 1


def test_a_worker_that_died_mid_send_frees_the_reply_after_its_claim(item, agent):
    message = conversation.reply(item, agent, "Labdien!")
    Message.objects.filter(pk=message.pk).update(status="sending", claimed_until=timezone.now() + timedelta(minutes=5))
    assert conversation.send(message.pk) is False  # still claimed by the dead worker
    Message.objects.filter(pk=message.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert conversation.send(message.pk) is True
    assert len(mail.outbox) == 1


def test_the_customer_writing_again_reopens_the_item_once(org_a, item, agent):
    services.triage(item, agent, item.version, status="resolved")
    item.refresh_from_db()
    assert item.resolved_at is not None
    voice = services.Voice(source="email", source_id="<second@mail.example>", text="Joprojām nav atnācis!",
                           reply_to="<first@mail.example>")
    same, created = services.ingest(org_a, voice)
    again, created_again = services.ingest(org_a, voice)  # the mail connector delivers it twice
    assert same.pk == item.pk == again.pk and not created and not created_again
    item.refresh_from_db()
    assert item.status == "open" and item.resolved_at is None and item.sla_state == ""
    assert list(item.messages.values_list("direction", "text")) == [("in", "Joprojām nav atnācis!")]
    assert item.events.filter(action="reopened").count() == 1
    assert FeedbackItem.objects.filter(organization=org_a).count() == 1


def test_an_answer_to_our_reply_finds_the_item_by_its_message_id(org_a, item, agent):
    message = conversation.reply(item, agent, "Could you send a photo?", status="waiting", version=item.version)
    services.ingest(org_a, services.Voice(source="email", text="Here it is", reply_to=conversation.message_id(message)))
    item.refresh_from_db()
    assert item.status == "open"  # waiting on the customer → the customer answered
    assert item.events.filter(action="customer_replied").exists()
    assert not item.events.filter(action="reopened").exists()


def test_a_thread_of_another_organization_is_never_continued(org_a, org_b, item):
    theirs, created = services.ingest(org_b, services.Voice(source="email", text="Hi", reply_to="<first@mail.example>"))
    assert created and theirs.organization == org_b and theirs.pk != item.pk
    assert not item.messages.exists()


def test_canned_replies_fill_in_only_their_placeholders(org_a, item, agent):
    canned = CannedReply.objects.create(organization=org_a, title="Late",
                                        text="Dear {customer}, {agent} here about {item}. {item.__class__} {0}")
    assert conversation.fill(canned, item, agent) == (
        f"Dear Ieva Ozola, Laura Kalniņa here about #{item.pk}. {{item.__class__}} {{0}}")
    CannedReply.objects.create(organization=org_a, title="Russian", text="…", language="ru")
    CannedReply.objects.create(organization=org_a, title="Any", text="…")
    item.language = "lv"
    assert [c.title for c in conversation.canned_for(item)] == ["Any", "Late"]


def test_the_reply_form_on_the_item_page(item, agent, client_for, django_capture_on_commit_callbacks):
    client = client_for(agent)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/inbox/items/{item.pk}/reply/", {"text": "Labdien!", "status": "waiting",
                                                                "version": item.version})
    assert answer.status_code == 302 and len(mail.outbox) == 1
    page = client.get(f"/inbox/items/{item.pk}/").content.decode()
    assert "Labdien!" in page and "ieva@example.lv" in page
    # A stale form: 409, the reply not sent, the agent's text kept in the box to send again.
    stale = client.post(f"/inbox/items/{item.pk}/reply/", {"text": "Vēl kas?", "status": "resolved", "version": 1})
    assert stale.status_code == 409 and "Vēl kas?" in stale.content.decode()
    assert Message.objects.count() == 1


def test_a_viewer_cannot_reply(org_a, item, make_member, client_for):
    viewer = client_for(make_member(org_a, Role.VIEWER))
    assert viewer.post(f"/inbox/items/{item.pk}/reply/", {"text": "x", "version": 1}).status_code == 403
    assert not Message.objects.exists()


def test_a_canned_reply_is_served_filled_for_the_item(org_a, org_b, item, agent, client_for):
    canned = CannedReply.objects.create(organization=org_a, title="Hi", text="Hello {customer} <b>")
    client = client_for(agent)
    answer = client.get(f"/inbox/items/{item.pk}/canned/{canned.pk}/")
    assert answer["Content-Type"].startswith("text/plain") and answer.content.decode() == "Hello Ieva Ozola <b>"
    foreign = CannedReply.objects.create(organization=org_b, title="Theirs", text="secret")
    assert client.get(f"/inbox/items/{item.pk}/canned/{foreign.pk}/").status_code == 404
