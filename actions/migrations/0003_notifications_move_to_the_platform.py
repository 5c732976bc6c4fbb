"""Notifications are a platform service (cxplatform.Notification, docs/adr/0015): every existing
row is copied there — its frozen text kept, read or unread as it was — before the old table goes.
A goal's generated title is kept as a message too (`title_message`), read in the reader's language;
existing titles stay as they were written."""

from django.db import migrations, models

BATCH = 1000


def copy_to_platform(apps, schema_editor):
    Old = apps.get_model("actions", "Notification")
    New = apps.get_model("cxplatform", "Notification")
    rows = Old.objects.order_by("pk").values("organization_id", "user_id", "text", "link", "read_at", "created_at")
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        batch.append(New(kind="other", in_bell=True, **row))
        if len(batch) >= BATCH:
            _save(New, batch)
            batch = []
    _save(New, batch)


def _save(New, batch):
    written = [row.created_at for row in batch]
    New.objects.bulk_create(batch)
    # auto_now_add stamped them "now": each keeps the time it was written.
    for row, at in zip(batch, written, strict=True):
        New.objects.filter(pk=row.pk).update(created_at=at)


def copy_back(apps, schema_editor):
    Old = apps.get_model("actions", "Notification")
    New = apps.get_model("cxplatform", "Notification")
    for row in New.objects.filter(in_bell=True).order_by("pk").iterator(chunk_size=BATCH):
        old = Old.objects.create(organization_id=row.organization_id, user_id=row.user_id,
                                 text=(row.text or row.message_id)[:300], link=row.link, read_at=row.read_at)
        Old.objects.filter(pk=old.pk).update(created_at=row.created_at)


class Migration(migrations.Migration):

    dependencies = [
        ("actions", "0002_versions"),
        ("cxplatform", "0013_notifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="goal",
            name="title_message",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(copy_to_platform, copy_back),
        migrations.DeleteModel(name="Notification"),
    ]
