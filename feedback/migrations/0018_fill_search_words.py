"""The search words of the items written before 0017 (`manage.py reindex_search` does the same
at any later time, e.g. after the normaliser changes)."""

from django.db import migrations


def fill(apps, schema_editor):
    from feedback.services import reindex_search

    reindex_search(items=apps.get_model("feedback", "FeedbackItem").objects.filter(search_words=""))
    if schema_editor is not None and schema_editor.connection.vendor == "postgresql":
        # Statistics of the rewritten rows, so the planner asks the new index for rare words.
        schema_editor.execute("ANALYZE feedback_feedbackitem")


class Migration(migrations.Migration):
    dependencies = [("feedback", "0017_item_search_words")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
