# Built CONCURRENTLY on PostgreSQL by hand (as surveys 0012): a campaign's table can be large.

from django.db import migrations, models

INDEX = models.Index(fields=["organization", "sent_at"], name="invitation_org_sent_at")


def build(apps, schema_editor):
    """The response-rate figures read an organization's invitations sent in a period: without this
    they read every invitation of the organization. On PostgreSQL without holding the sending
    (a plain CREATE INDEX blocks its writes for the whole scan)."""
    model = apps.get_model("invitations", "Invitation")
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(model._meta.db_table)
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS invitation_org_sent_at ON {table} "
                              "(organization_id, sent_at)")
    else:
        schema_editor.add_index(model, INDEX)


def drop(apps, schema_editor):
    model = apps.get_model("invitations", "Invitation")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS invitation_org_sent_at")
    else:
        schema_editor.remove_index(model, INDEX)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("invitations", "0004_campaign_runs_finished"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="invitation", index=INDEX)],
            database_operations=[migrations.RunPython(build, drop)],
        ),
    ]
