"""What the inbox writes is kept as a message id with parameters, shown in the reader's language
(docs/adr/0015): the activity log's entries (`message`) and a text the platform wrote for an
unhappy answer without a comment (`text_message`). Existing score-only items get their message
now; existing activity entries keep reading through their action and details."""

from django.db import migrations, models


def score_only_items(apps, schema_editor):
    FeedbackItem = apps.get_model("feedback", "FeedbackItem")
    items = (FeedbackItem.objects.filter(source="survey", response__isnull=False, response__comment="",
                                         rating__isnull=False, text_message={})
             .values_list("pk", "rating"))
    for pk, rating in items.iterator(chunk_size=1000):
        FeedbackItem.objects.filter(pk=pk).update(
            text_message={"id": "feedback.score_no_comment", "params": {"score": rating}})


class Migration(migrations.Migration):

    dependencies = [
        ("feedback", "0019_names_per_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="feedbackitem",
            name="text_message",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="itemevent",
            name="message",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(score_only_items, migrations.RunPython.noop),
    ]
