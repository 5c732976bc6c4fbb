"""Moving notifications to the platform keeps every existing one: its text, link, read state and
time, shown in the bell as before."""

from datetime import UTC, datetime

import pytest

from tests.migrating import migrate_to, migrate_to_latest

BEFORE = [("actions", "0002_versions"), ("cxplatform", "0013_notifications")]


@pytest.mark.django_db(transaction=True)
def test_existing_notifications_are_kept_when_they_move_to_the_platform(org_a, make_member):
    user = make_member(org_a)
    old_apps = migrate_to(BEFORE)
    try:
        Old = old_apps.get_model("actions", "Notification")
        written = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
        read = Old.objects.create(organization_id=org_a.pk, user_id=user.pk, text="Overdue: “Courier SMS”",
                                  link="/actions/items/7/", read_at=written)
        unread = Old.objects.create(organization_id=org_a.pk, user_id=user.pk, text="Ivan gave you an action")
        Old.objects.filter(pk__in=[read.pk, unread.pk]).update(created_at=written)
    finally:
        new_apps = migrate_to_latest()
    New = new_apps.get_model("cxplatform", "Notification")
    rows = {n.text: n for n in New.objects.filter(user_id=user.pk)}
    assert set(rows) == {"Overdue: “Courier SMS”", "Ivan gave you an action"}
    assert rows["Overdue: “Courier SMS”"].read_at == written and rows["Ivan gave you an action"].read_at is None
    assert rows["Overdue: “Courier SMS”"].link == "/actions/items/7/"
    assert all(n.created_at == written and n.in_bell and n.message_id == "" for n in rows.values())

    from cxplatform.models import Notification

    # Without a message id the frozen text is what it says, in the bell and its count.
    kept = Notification.objects.get(text="Ivan gave you an action")
    assert kept.rendered() == "Ivan gave you an action"
