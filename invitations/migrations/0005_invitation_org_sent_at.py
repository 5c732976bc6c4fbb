from django.db import migrations, models

from cxplatform.migration_operations import AddIndexWithoutBlocking


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("invitations", "0004_campaign_runs_finished"),
    ]

    operations = [
        # The response-rate figures: an organization's invitations sent in a period. Without it they
        # read every invitation of the organization; built without holding the sending.
        AddIndexWithoutBlocking(model_name="invitation",
                                index=models.Index(fields=["organization", "sent_at"], name="invitation_org_sent_at")),
    ]
