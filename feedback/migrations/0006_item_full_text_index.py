"""A GIN index for the inbox's full-text search (Russian and English stemming), on PostgreSQL
only: the embedded SQLite default searches with a plain substring match instead."""

from django.db import migrations

INDEX = ("CREATE INDEX IF NOT EXISTS feedback_item_fulltext ON feedback_feedbackitem USING gin "
         "((to_tsvector('russian', text) || to_tsvector('english', text)))")


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS feedback_item_fulltext")


class Migration(migrations.Migration):
    dependencies = [("feedback", "0005_sla")]
    operations = [migrations.RunPython(create, drop)]
