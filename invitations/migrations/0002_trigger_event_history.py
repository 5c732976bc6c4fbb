from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("invitations", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="triggerevent",
            index=models.Index(fields=["organization", "event", "id"], name="trigger_event_history"),
        ),
    ]
