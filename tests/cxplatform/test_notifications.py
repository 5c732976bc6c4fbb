"""Notifications, a platform service: an @mention in a note tells the person — in the bell, by
e-mail after the commit, both or neither, as they chose — in their own language; never across
organizations, never oneself, once per note. The bell's list marks one or all read; the old
notifications of actions were kept by the migration."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone, translation

from cxplatform import services as platform
from cxplatform import tasks, wording
from cxplatform.models import Notification, NotificationPreference, PersonalSettings, Role
from feedback import services as inbox
from feedback import wordings
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(org_a):
    return factories.feedback_item(org_a, text="The scooter arrived scratched")


@pytest.fixture
def anna(org_a, make_member):
    user = make_member(org_a, Role.AGENT, username="anna")
    user.first_name, user.last_name, user.email = "Anna", "Ozola", "anna@alpha.example"
    user.save()
    return user


@pytest.fixture
def author(org_a, make_member):
    user = make_member(org_a, Role.AGENT, username="boris")
    user.first_name, user.last_name = "Boris", "Petrov"
    user.save()
    return user


def _note(item, author, text, capture):
    with capture(execute=True):
        return inbox.add_note(item, author, text)


def test_a_mention_rings_the_bell_and_emails_after_the_commit(item, anna, author, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        inbox.add_note(item, author, "@anna please call the customer back")
        assert not mail.outbox  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    notice = Notification.objects.get(user=anna)
    assert (notice.kind, notice.in_bell, notice.link) == ("mention", True, f"/inbox/items/{item.pk}/")
    assert notice.message_id == wordings.MENTION and notice.params == {"who": "Boris Petrov", "item": item.pk}
    assert notice.rendered() == f"Boris Petrov mentioned you in a note on item #{item.pk}."
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["anna@alpha.example"]
    assert f"Boris Petrov mentioned you in a note on item #{item.pk}." in mail.outbox[0].subject
    assert f"/inbox/items/{item.pk}/" in mail.outbox[0].body
    assert Notification.objects.get(pk=notice.pk).mailed_at is not None


@pytest.mark.parametrize(("delivery", "bell", "mails"), [
    ("both", True, 1), ("bell", True, 0), ("email", False, 1), ("none", None, 0)])
def test_a_mention_follows_the_persons_preference(item, anna, author, delivery, bell, mails,
                                                  django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=anna, kind="mention", delivery=delivery)
    _note(item, author, "@anna see this", django_capture_on_commit_callbacks)
    notice = Notification.objects.filter(user=anna).first()
    assert (notice.in_bell if notice else None) == bell
    assert len(mail.outbox) == mails


def test_the_email_is_in_the_recipients_language_whatever_the_writers(
        org_a, item, anna, author, django_capture_on_commit_callbacks):
    org_a.default_language = "ru"
    org_a.save()
    PersonalSettings.objects.create(user=anna, language="lv")
    with translation.override("en"):
        _note(item, author, "@anna", django_capture_on_commit_callbacks)
    assert f"Boris Petrov pieminēja jūs piezīmē pie ieraksta #{item.pk}." in mail.outbox[0].subject


def test_nobody_of_another_organization_and_not_oneself_is_notified(
        org_a, org_b, item, anna, author, make_member, django_capture_on_commit_callbacks):
    make_member(org_b, Role.AGENT, username="stranger").email = "s@beta.example"
    _note(item, anna, "@stranger @anna look", django_capture_on_commit_callbacks)
    assert not Notification.objects.exists() and not mail.outbox
    # Nor does the service itself tell a non-member, whoever calls it.
    stranger = type(anna).objects.get(username="stranger")
    assert platform.notify(user=stranger, organization=org_a, kind="mention",
                           message=wording.message(wordings.MENTION, who="x", item=item.pk)) is None
    assert not Notification.objects.exists()


def test_a_note_notifies_once_whatever_runs_again(item, anna, author, django_capture_on_commit_callbacks):
    note = _note(item, author, "@anna @anna twice in one note", django_capture_on_commit_callbacks)
    message = wording.message(wordings.MENTION, who="Boris Petrov", item=item.pk)
    # Writing the same note's mention again (an edit, a retried request) tells nobody again.
    assert platform.notify(user=anna, organization=item.organization, kind="mention", message=message,
                           key=f"mention:note:{note.pk}") is None
    assert Notification.objects.filter(user=anna).count() == 1 and len(mail.outbox) == 1


def test_a_failed_email_is_sent_by_the_retry_and_never_twice(item, anna, author, django_capture_on_commit_callbacks):
    with mock.patch("cxplatform.services.send_mail", side_effect=OSError("smtp down")):
        _note(item, author, "@anna", django_capture_on_commit_callbacks)
    notice = Notification.objects.get(user=anna)
    assert notice.mailed_at is None and not mail.outbox  # released for the retry
    assert platform.mail_notification(notice.pk) is True
    assert platform.mail_notification(notice.pk) is False  # a duplicated task
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_email_goes_out_outside_the_transaction(org_a, make_member):
    anna = make_member(org_a, Role.AGENT, username="anna")
    anna.email = "anna@alpha.example"
    anna.save()
    author = make_member(org_a, Role.AGENT, username="boris")
    item = factories.feedback_item(org_a)
    seen = {}

    def record(*args, **kwargs):
        seen["in_transaction"] = connection.in_atomic_block
        seen["stored"] = Notification.objects.filter(user=anna).exists()

    with mock.patch("cxplatform.services.send_mail", side_effect=record):
        inbox.add_note(item, author, "@anna")
    assert seen == {"in_transaction": False, "stored": True}


def test_a_lost_email_task_is_handed_on_by_housekeeping(item, anna, author):
    with mock.patch("cxplatform.services.enqueue_mail", return_value=False):
        inbox.add_note(item, author, "@anna")  # the broker was down
    Notification.objects.update(created_at=timezone.now() - timedelta(days=3))
    assert platform.requeue_unmailed() == 0  # given up on: older than two days
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    assert tasks.prune_housekeeping()["notification_mails"] == 1
    assert len(mail.outbox) == 1


def test_the_bell_counts_unread_and_marks_one_or_all_read(
        org_a, org_b, item, anna, author, make_member, client_for, django_capture_on_commit_callbacks):
    other_item = factories.feedback_item(org_a)
    _note(item, author, "@anna first", django_capture_on_commit_callbacks)
    _note(other_item, author, "@anna second", django_capture_on_commit_callbacks)
    _note(item, author, "@anna third", django_capture_on_commit_callbacks)
    client = client_for(anna)
    page = client.get("/inbox/").content.decode()
    assert 'id="bell"' in page and '<span class="count">3</span>' in page
    listed = client.get("/notifications/").content.decode()
    assert listed.count("mentioned you in a note") == 3
    first = Notification.objects.filter(user=anna).last()
    answer = client.post(f"/notifications/{first.pk}/read/")
    assert answer.status_code == 302 and answer["Location"] == f"/inbox/items/{item.pk}/"
    # Read with it: the other notice of the same item, which she is about to see; not the other item's.
    assert '<span class="count">1</span>' in client.get("/inbox/").content.decode()
    assert Notification.objects.get(user=anna, read_at__isnull=True).link == f"/inbox/items/{other_item.pk}/"
    # A colleague cannot mark Anna's read; another organization's member gets a 404.
    assert client_for(author).post(f"/notifications/{first.pk}/read/").status_code == 302
    other = factories.notification(org_b)
    assert client.post(f"/notifications/{other.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=other.pk).read_at is None
    assert client.post("/notifications/read/").status_code == 302
    assert not Notification.objects.filter(user=anna, read_at__isnull=True).exists()
    assert '<span class="count">' not in client.get("/inbox/").content.decode()


def test_my_notification_settings_page_saves_each_kind_and_the_language(anna, client_for):
    client = client_for(anna)
    page = client.get("/notifications/settings/")
    assert page.status_code == 200 and "Someone mentions me in a note" in page.content.decode()
    data = {"kind_mention": "email", "kind_assigned": "none", "kind_comment": "bell", "kind_reminder": "both",
            "kind_item_assigned": "bell", "kind_sla": "email", "language": "lv"}
    assert client.post("/notifications/settings/", data).status_code == 302
    assert dict(NotificationPreference.objects.filter(user=anna).values_list("kind", "delivery")) == {
        "mention": "email", "assigned": "none", "comment": "bell", "reminder": "both", "item_assigned": "bell",
        "sla": "email"}
    assert PersonalSettings.objects.get(user=anna).language == "lv"
    refused = client.post("/notifications/settings/", {**data, "kind_mention": "pigeon"})
    assert refused.status_code == 200
    assert NotificationPreference.objects.get(user=anna, kind="mention").delivery == "email"


def test_a_viewer_may_keep_their_own_settings(org_a, make_member, client_for):
    viewer = make_member(org_a, Role.VIEWER)
    from cxplatform.models import CHOSEN_KINDS

    data = {f"kind_{k}": "none" for k in CHOSEN_KINDS}
    assert client_for(viewer).post("/notifications/settings/", {**data, "language": ""}).status_code == 302
    assert NotificationPreference.objects.filter(user=viewer, delivery="none").count() == len(CHOSEN_KINDS) == 6


def test_a_notification_of_actions_follows_the_preference_too(org_a, anna, author):
    from actions import services as actions

    NotificationPreference.objects.create(user=anna, kind="assigned", delivery="none")
    actions.create_action(org_a, author, title="Call back", owner=anna, due_date=timezone.now().date())
    assert not Notification.objects.filter(user=anna).exists()


def test_the_api_lists_ones_own_notifications_with_their_message_and_text(
        org_a, org_b, item, anna, author, make_member, client_for, django_capture_on_commit_callbacks):
    _note(item, author, "@anna", django_capture_on_commit_callbacks)
    factories.notification(org_b)  # another organization's
    client = client_for(anna)
    listed = client.get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE="ru").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert len(rows) == 1 and rows[0]["message_id"] == wordings.MENTION
    assert rows[0]["params"] == {"who": "Boris Petrov", "item": item.pk}
    assert rows[0]["text"] == f"Boris Petrov упомянул(а) вас в заметке к записи #{item.pk}."
    assert client_for(author).get("/api/v1/notifications/").json() in ([], {"next": None, "previous": None,
                                                                             "results": []})
    assert client.post("/api/v1/notifications/read/", {}, content_type="application/json").json() == {"marked": 1}
    assert Notification.objects.get(user=anna).read_at is not None
